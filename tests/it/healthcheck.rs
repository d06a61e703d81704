//! `symphainy healthcheck` without `--url` (the image's health check) probes the planes this
//! environment configures, so one image check fits `serve`, `runtime` and `experience`: an
//! Experience container is healthy though no runtime listens beside it.

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

    // An Experience Plane alone (its runtime not even up): healthy on its own port.
    let runtime_url = format!("http://{nothing}");
    let mut experience = start_plane(
        &db,
        TOKEN,
        "experience",
        &[("SYMPHAINY_RUNTIME_URL", runtime_url.as_str())],
    )
    .await;
    let ran = run_binary(
        &["healthcheck"],
        &[
            ("SYMPHAINY_HTTP_ADDR", addr_of(&experience.exp)),
            ("SYMPHAINY_RUNTIME_ADDR", &nothing),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(0), "{ran}");
    experience.child.kill().await.unwrap();

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
    runtime.child.kill().await.unwrap();

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
            "error: no plane answers: cannot reach http://{nothing_else}/health: Connection \
             refused (os error 111); cannot reach http://{nothing}/health: Connection refused \
             (os error 111)\n"
        ),
        "{ran}"
    );
}
