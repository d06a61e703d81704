//! The web console (`/console`): its files come from the binary with a strict content policy,
//! every module it imports is served, and — where Chromium is installed (CI installs it) — a
//! person's whole journey is driven in a real browser against the real binary
//! (`tests/console/e2e.mjs`), failing on any browser console error.

use std::path::{Path, PathBuf};

use crate::common::*;

const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/experience/console/assets");

fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, root, out);
        } else {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// The relative modules a script imports (`from "./x.js"`, `from "../y.js"`), resolved
/// against its own folder.
fn imports(name: &str, source: &str) -> Vec<String> {
    let dir = Path::new(name).parent().unwrap_or(Path::new(""));
    source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("import ").map(|_| l))
        .filter_map(|l| l.split("from \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(|spec| {
            let mut parts: Vec<String> = dir
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            for seg in spec.split('/') {
                match seg {
                    "." => {}
                    ".." => {
                        parts.pop();
                    }
                    s => parts.push(s.to_string()),
                }
            }
            parts.join("/")
        })
        .collect()
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_strict_policy() {
    let db = sqlite_db();
    let t = spawn_app(&db).await;
    let served = symphainy::experience::console::asset_names();
    let mut on_disk = Vec::new();
    files_under(Path::new(ASSETS), Path::new(ASSETS), &mut on_disk);
    on_disk.sort();
    let mut listed: Vec<String> = served.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        listed, on_disk,
        "every file of the console is compiled in, and only those"
    );

    let page = t
        .http
        .get(format!("{}/console", t.exp))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    for outside in ["http://", "https://", "//cdn"] {
        assert!(
            !html.contains(outside),
            "the page loads nothing from elsewhere ({outside})"
        );
    }
    for name in &served {
        let path = if *name == "index.html" {
            "/console".to_string()
        } else {
            format!("/console/{name}")
        };
        let resp = t.http.get(format!("{}{path}", t.exp)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
        let want = match name.rsplit('.').next().unwrap() {
            "js" => "text/javascript",
            "css" => "text/css",
            _ => "text/html",
        };
        assert!(kind.starts_with(want), "{path}: {kind}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        let body = resp.text().await.unwrap();
        assert_eq!(
            body,
            std::fs::read_to_string(PathBuf::from(ASSETS).join(name)).unwrap()
        );
        if name.ends_with(".js") {
            for import in imports(name, &body) {
                assert!(
                    served.contains(&import.as_str()),
                    "{name} imports {import}, which is not served"
                );
            }
            assert!(
                !body.contains("innerHTML"),
                "{name}: pages are built from nodes, never from HTML text"
            );
        }
    }
    let resp = t
        .http
        .get(format!("{}/console/secret.js", t.exp))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_error(status, &resp.json().await.unwrap(), 404, "file_not_found");
    let resp = t
        .http
        .get(format!("{}/console/..%2Fmod.rs", t.exp))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    t.app.shutdown().await;
    db.cleanup().await;
}

/// What the browser test needs, or why it cannot run here.
fn browser() -> Result<(PathBuf, PathBuf), String> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return Err(format!("no Chromium at {}", chromium.display()));
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/console");
    if !dir.join("node_modules/playwright-core").exists() {
        return Err("playwright-core is not installed (npm ci in tests/console)".into());
    }
    match std::process::Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => Ok((chromium, dir)),
        _ => Err("no node".into()),
    }
}

#[tokio::test]
async fn a_person_uses_the_console_in_a_real_browser() {
    let (chromium, dir) = match browser() {
        Ok(found) => found,
        Err(why) if std::env::var_os("SYMPHAINY_REQUIRE_BROWSER").is_some() => {
            panic!("the browser test must run here: {why}")
        }
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    let db = sqlite_db();
    let mut server = start_binary(&db, "console-e2e-token", &[]).await;
    let mut cmd = tokio::process::Command::new("node");
    cmd.current_dir(&dir)
        .arg("e2e.mjs")
        .arg(&server.exp)
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true);
    // `SYMPHAINY_CONSOLE_SHOTS=<dir>` keeps a screenshot of each page (docs/console/).
    if let Some(shots) = std::env::var_os("SYMPHAINY_CONSOLE_SHOTS") {
        cmd.arg(shots);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(240), cmd.output())
        .await
        .expect("the browser journey ends in time")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("console e2e: ok"),
        "the browser journey failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        server.log.lock()
    );
    server.child.kill().await.unwrap();
    let _ = server.final_log().await;
    db.cleanup().await;
}
