//! A server that cannot start says what failed, in terms of what the operator set: the data
//! directory and its variable, the database (password hidden) and the real cause, the
//! environment variable a bad value came from. Each runs the real binary to its end.

use crate::common::cli::{dead_port, run_binary};

#[tokio::test]
async fn a_data_directory_that_cannot_be_created_is_named_with_its_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let data_dir = file.join("data");
    let data_dir = data_dir.display().to_string();
    for command in ["serve", "runtime", "experience"] {
        let ran = run_binary(
            &[command],
            &[
                ("SYMPHAINY_DATA_DIR", &data_dir),
                ("SYMPHAINY_RUNTIME_URL", "http://127.0.0.1:1"),
                ("SYMPHAINY_SERVICE_TOKEN", "given-service-token"),
            ],
        )
        .await;
        assert_eq!(ran.code, Some(1), "{command}: {ran}");
        assert_eq!(
            ran.stderr.lines().last().unwrap_or_default(),
            format!(
                "error: cannot create the data directory {data_dir} (SYMPHAINY_DATA_DIR): Not a \
                 directory (os error 20)"
            ),
            "{command}: {ran}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_database_is_named_with_the_cause_and_no_password() {
    let tmp = tempfile::tempdir().unwrap();
    let port = dead_port();
    let url = format!("postgres://symphainy:hunter2-db-password@127.0.0.1:{port}/symphainy");
    let ran = run_binary(
        &["serve"],
        &[
            ("SYMPHAINY_DATA_DIR", &tmp.path().display().to_string()),
            ("DATABASE_URL", &url),
            ("SYMPHAINY_RUNTIME_ADDR", "127.0.0.1:0"),
            ("SYMPHAINY_HTTP_ADDR", "127.0.0.1:0"),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert_eq!(
        ran.stderr.lines().last().unwrap_or_default(),
        format!(
            "error: cannot connect to the database \
             postgres://symphainy:***@127.0.0.1:{port}/symphainy (DATABASE_URL): error \
             communicating with database: Connection refused (os error 111)"
        ),
        "{ran}"
    );
    assert!(!ran.stderr.contains("hunter2"), "{ran}");
    // `migrate` says the same.
    let ran = run_binary(
        &["migrate"],
        &[
            ("SYMPHAINY_DATA_DIR", &tmp.path().display().to_string()),
            ("DATABASE_URL", &url),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert!(
        ran.stderr
            .contains("(DATABASE_URL): error communicating with database: Connection refused"),
        "{ran}"
    );
    assert!(!ran.stderr.contains("hunter2"), "{ran}");
}

#[tokio::test]
async fn a_bad_value_from_the_environment_names_the_variable_and_from_a_flag_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().display().to_string();
    let ran = run_binary(
        &["serve"],
        &[
            ("SYMPHAINY_DATA_DIR", &dir),
            ("SYMPHAINY_RATE_LIMIT_LOGIN", "five-a-minute"),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(2), "{ran}");
    assert_eq!(
        ran.stderr.lines().next().unwrap_or_default(),
        "error: invalid value 'five-a-minute' for 'SYMPHAINY_RATE_LIMIT_LOGIN (environment \
         variable; flag --rate-limit-login)': 'five-a-minute' is not N/SECONDS (e.g. 5/60)",
        "{ran}"
    );
    let ran = run_binary(
        &["serve", "--session-idle-secs", "soon"],
        &[("SYMPHAINY_DATA_DIR", &dir)],
    )
    .await;
    assert_eq!(ran.code, Some(2), "{ran}");
    assert!(
        ran.stderr.starts_with(
            "error: invalid value 'soon' for '--session-idle-secs <SESSION_IDLE_SECS>'"
        ),
        "{ran}"
    );
    let ran = run_binary(
        &["serve"],
        &[
            ("SYMPHAINY_DATA_DIR", &dir),
            ("SYMPHAINY_AUTH_STRICT", "yes"),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(2), "{ran}");
    assert!(
        ran.stderr.starts_with(
            "error: invalid value 'yes' for 'SYMPHAINY_AUTH_STRICT (environment variable; flag \
             --auth-strict)'"
        ),
        "{ran}"
    );
}

#[tokio::test]
async fn a_short_jwt_secret_is_refused_before_any_secret_is_generated() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let ran = run_binary(
        &["serve"],
        &[
            ("SYMPHAINY_DATA_DIR", &data_dir.display().to_string()),
            ("SYMPHAINY_JWT_SECRET", "short-secret-value"),
            ("SYMPHAINY_RUNTIME_ADDR", "127.0.0.1:0"),
            ("SYMPHAINY_HTTP_ADDR", "127.0.0.1:0"),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert_eq!(
        ran.stderr.lines().last().unwrap_or_default(),
        "error: SYMPHAINY_JWT_SECRET (or --jwt-secret) is too short: it must be at least 32 \
         characters",
        "{ran}"
    );
    assert!(!ran.stderr.contains("short-secret-value"), "{ran}");
    // Nothing was written: no generated service token, not even the directory.
    assert!(
        !data_dir.exists(),
        "{:?}",
        std::fs::read_dir(&data_dir).map(|d| d.count())
    );
}

#[tokio::test]
async fn a_failed_healthcheck_names_the_url() {
    let port = dead_port();
    let url = format!("http://127.0.0.1:{port}/health");
    let ran = run_binary(&["healthcheck", "--url", &url], &[]).await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert_eq!(
        ran.stderr,
        format!("error: cannot reach {url}: Connection refused (os error 111)\n"),
        "{ran}"
    );
}

#[tokio::test]
async fn an_address_in_use_is_named_with_its_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let ran = run_binary(
        &["serve"],
        &[
            ("SYMPHAINY_DATA_DIR", &tmp.path().display().to_string()),
            ("SYMPHAINY_RUNTIME_ADDR", "127.0.0.1:0"),
            ("SYMPHAINY_HTTP_ADDR", &addr),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(1), "{ran}");
    assert_eq!(
        ran.stderr.lines().last().unwrap_or_default(),
        format!(
            "error: cannot listen on {addr} (SYMPHAINY_HTTP_ADDR): Address already in use (os \
             error 98)"
        ),
        "{ran}"
    );
}
