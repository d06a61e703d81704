//! Logging: `RUST_LOG` filters (default `info`), `SYMPHAINY_LOG_FORMAT=json` for JSON lines.
//! Logs go to stderr; stdout carries only the `listening ...` line.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,ractor=warn"));
    let json = std::env::var("SYMPHAINY_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}
