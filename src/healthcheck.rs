//! `symphainy healthcheck` without `--url`: probe the planes configured in this environment
//! (`SYMPHAINY_RUNTIME_ADDR`, `SYMPHAINY_HTTP_ADDR`, as the server reads them), so one image
//! health check fits every role. A container runs one process: its plane listens, the other
//! address has nothing behind it. Healthy when at least one plane answers 200 and none answers
//! anything else; a plane that answers non-200 (the runtime without its database: 503) makes
//! the check fail even if the other answers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::probe::{probe_status, Probed};

/// The health URL of a listener address: an unspecified IP (`0.0.0.0`, `::`) is probed on
/// loopback; port 0 (a port picked at start) cannot be probed and gives `None`.
pub fn health_url(addr: &str) -> Option<String> {
    let addr = addr.trim();
    match addr.parse::<SocketAddr>() {
        Ok(sa) if sa.port() == 0 => None,
        Ok(mut sa) => {
            if sa.ip().is_unspecified() {
                sa.set_ip(match sa.ip() {
                    IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
                });
            }
            Some(format!("http://{sa}/readyz"))
        }
        // A host name: probe it as given.
        Err(_) if !addr.is_empty() && !addr.ends_with(":0") => {
            Some(format!("http://{addr}/readyz"))
        }
        Err(_) => None,
    }
}

/// Probes every configured plane at once; `Ok` when healthy as described above.
pub async fn check_planes(addrs: &[&str], timeout: Duration) -> anyhow::Result<()> {
    let urls: Vec<String> = addrs.iter().filter_map(|a| health_url(a)).collect();
    if urls.is_empty() {
        anyhow::bail!(
            "no address to probe: SYMPHAINY_RUNTIME_ADDR and SYMPHAINY_HTTP_ADDR use port 0 \
             (pass --url)"
        );
    }
    let results = futures::future::join_all(urls.iter().map(|u| probe_status(u, timeout))).await;
    let mut healthy = 0;
    let mut unreachable = Vec::new();
    for (url, result) in urls.iter().zip(results) {
        match result {
            Probed::Answered(code) if code == "200" => healthy += 1,
            Probed::Answered(code) => anyhow::bail!("{url} answered {code}"),
            Probed::Unreachable(e) => unreachable.push(format!("{e}")),
        }
    }
    if healthy == 0 {
        anyhow::bail!("no plane answers: {}", unreachable.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::health_url;

    #[test]
    fn listener_addresses_become_probe_urls() {
        assert_eq!(
            health_url("0.0.0.0:8080").as_deref(),
            Some("http://127.0.0.1:8080/readyz")
        );
        assert_eq!(
            health_url("[::]:8000").as_deref(),
            Some("http://[::1]:8000/readyz")
        );
        assert_eq!(
            health_url("10.0.0.5:8000").as_deref(),
            Some("http://10.0.0.5:8000/readyz")
        );
        assert_eq!(
            health_url("runtime:8000").as_deref(),
            Some("http://runtime:8000/readyz")
        );
        assert_eq!(health_url("127.0.0.1:0"), None);
    }
}
