//! Who this node is on its machine: the host name, and its process as boot id, pid namespace,
//! pid and start time. A predecessor registered from this machine and boot whose process is gone is known
//! dead at once, so a node restarted after a crash need not wait for its old leases to run out.
//! (Linux; elsewhere the process is unknown and such a predecessor waits out its lease.)

/// This machine's host name.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// This process: `boot:namespace:pid:start`, empty where unknown.
pub fn this_process() -> String {
    let pid = std::process::id();
    match (boot_id(), pid_namespace(), start_time(pid)) {
        (Some(boot), Some(ns), Some(start)) => format!("{boot}:{ns}:{pid}:{start}"),
        _ => String::new(),
    }
}

/// True when `process` (as [`this_process`] wrote it, on this machine) is certainly not
/// running: same boot and pid namespace, and its pid is free or taken by a process started at
/// another time. Anything unknown (another boot or namespace, say a container sharing the
/// host's name; an empty value) is not known to be gone.
pub fn is_gone(process: &str) -> bool {
    let mut parts = process.split(':');
    let (Some(boot), Some(ns), Some(pid), Some(start), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if boot_id().as_deref() != Some(boot) || pid_namespace().as_deref() != Some(ns) {
        return false;
    }
    match start_time(pid) {
        None => std::path::Path::new("/proc/self").exists(),
        Some(now) => now != start,
    }
}

/// The pid namespace's inode (`/proc/self/ns/pid` is `pid:[N]`).
fn pid_namespace() -> Option<String> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let text = link.to_string_lossy();
    let n = text.strip_prefix("pid:[")?.strip_suffix(']')?;
    n.parse::<u64>().ok().map(|n| n.to_string())
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty() && !b.contains(':'))
}

/// The process's start time (clock ticks since boot, field 22 of `/proc/PID/stat`).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (in parentheses, which may hold anything).
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(19).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_running_and_a_finished_one_is_gone() {
        let me = this_process();
        if me.is_empty() {
            return; // not Linux
        }
        assert!(!is_gone(&me));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start = start_time(pid);
        child.wait().unwrap();
        if let Some(start) = start {
            let (boot, ns) = (boot_id().unwrap(), pid_namespace().unwrap());
            assert!(is_gone(&format!("{boot}:{ns}:{pid}:{start}")));
            // Another boot, another pid namespace: not known.
            assert!(!is_gone(&format!("other-boot:{ns}:{pid}:{start}")));
            assert!(!is_gone(&format!("{boot}:1:{pid}:{start}")));
        }
        assert!(!is_gone(""));
        assert!(!is_gone("a:b"));
    }
}
