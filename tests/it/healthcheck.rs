//! `symphainy healthcheck` without `--url` (the image's health check) probes the readiness of
//! the planes this environment configures, so one image check fits `serve`, `runtime` and
//! `experience`: an Experience container is healthy though no runtime listens beside it, and
//! unhealthy once the runtime it uses is unreachable.

use crate::common::cli::{dead_port, run_binary};
use crate::common::*;

const TOKEN: &str = "healthcheck-token";

/// `host:port` of a plane's base URL.
fn addr_of(base: &str) -> &str {
    base.strip_prefix("http://").unwrap()
}

#[tokio::test]
async fn the_healthcheck_probes_the_plane_this_environment_runs() {
    let db = sqlite_db();
    let nothing = format!("127.0.0.1:{}", dead_port());

    // A Runtime Plane alone: healthy on the runtime's port.
    let mut runtime = start_plane(&db, TOKEN, "runtime", &[]).await;
    let ran = run_binary(
        &["healthcheck"],
        &[
            ("SYMPHAINY_HTTP_ADDR", &nothing),
            ("SYMPHAINY_RUNTIME_ADDR", addr_of(&runtime.base)),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(0), "{ran}");

    // An Experience Plane in a container of its own (no runtime beside it), its runtime
    // reachable: healthy on its own port.
    let mut experience = start_plane(
        &db,
        TOKEN,
        "experience",
        &[("SYMPHAINY_RUNTIME_URL", runtime.base.as_str())],
    )
    .await;
    let env = [
        ("SYMPHAINY_HTTP_ADDR", addr_of(&experience.exp).to_string()),
        ("SYMPHAINY_RUNTIME_ADDR", nothing.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ran = run_binary(&["healthcheck"], &env).await;
    assert_eq!(ran.code, Some(0), "{ran}");

    // Its runtime gone: not ready, so unhealthy, saying which probe answered what.
    runtime.child.kill().await.unwrap();
    let _ = runtime.child.wait().await;
    let ran = eventually(std::time::Duration::from_secs(20), || async {
        let ran = run_binary(&["healthcheck"], &env).await;
        (ran.code == Some(1)).then_some(ran)
    })
    .await;
    assert_eq!(
        ran.stderr,
        format!("error: {}/readyz answered 503\n", experience.exp),
        "{ran}"
    );
    experience.child.kill().await.unwrap();

    // Nothing listening: unhealthy, naming every URL it tried.
    let nothing_else = format!("127.0.0.1:{}", dead_port());
    let ran = run_binary(
        &["healthcheck"],
        &[
            ("SYMPHAINY_HTTP_ADDR", &nothing),
            ("SYMPHAINY_RUNTIME_ADDR", &nothing_else),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert_eq!(
        ran.stderr,
        format!(
            "error: no plane answers: cannot reach http://{nothing_else}/readyz: Connection \
             refused (os error 111); cannot reach http://{nothing}/readyz: Connection refused \
             (os error 111)\n"
        ),
        "{ran}"
    );
}
