//! `symphainy serve | runtime | experience | migrate | healthcheck`.
//!
//! `serve` and `runtime` (and `migrate` on SQLite) hold the data directory's lock for their
//! lifetime (`store::dir_lock`); `experience` does not: it uses the data directory only to read
//! or generate the shared secrets, and may run beside the runtime on the same directory.

use std::io::Write;

use clap::{CommandFactory, Parser, Subcommand};
use symphainy::app::{App, ExperienceApp, Listeners};
use symphainy::config::{ServeArgs, StoreArgs};
use symphainy::store::dir_lock::lock_store;
use symphainy::store::Store;
use tokio::net::TcpListener;

/// mimalloc instead of the system allocator: the runtime allocates and frees many small,
/// short-lived buffers across threads (messages, JSON values, rows), where glibc's malloc took
/// a fifth of the request threads' time. It costs about 8 % more memory per idle socket
/// (BENCHMARKS.md, issue 21). Without transparent huge pages (`no_thp`): they would back
/// mostly empty pages with 2 MiB each. Like the bundled SQLite, it needs only a C compiler.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "symphainy",
    version,
    about = "Symphainy runtime: actor-system runtime for an agentic platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run both planes in one process.
    Serve(ServeArgs),
    /// Run the Runtime Plane alone (internal API).
    Runtime(ServeArgs),
    /// Run the Experience Plane alone, its runtime at SYMPHAINY_RUNTIME_URL.
    Experience(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(StoreArgs),
    /// Probe health endpoints; exit 0 when healthy (for container health checks). Without
    /// --url: every plane configured here (SYMPHAINY_RUNTIME_ADDR, SYMPHAINY_HTTP_ADDR); at
    /// least one must answer 200 and none anything else.
    Healthcheck {
        /// Probe this URL alone (e.g. http://127.0.0.1:8000/readyz).
        #[arg(long)]
        url: Option<String>,
        /// The Runtime Plane's listener, as `serve` and `runtime` read it.
        #[arg(long, env = "SYMPHAINY_RUNTIME_ADDR", default_value = "127.0.0.1:8000")]
        runtime_addr: String,
        /// The Experience Plane's listener, as `serve` and `experience` read it.
        #[arg(long, env = "SYMPHAINY_HTTP_ADDR", default_value = "0.0.0.0:8080")]
        http_addr: String,
    },
    /// Executions on a running server (over its Runtime API): list, show, events, cancel,
    /// approve, retry.
    Executions {
        #[command(subcommand)]
        cmd: symphainy::cli::executions::Executions,
    },
    /// Sessions on a running server (over its Runtime API): list, show.
    Sessions {
        #[command(subcommand)]
        cmd: symphainy::cli::sessions::Sessions,
    },
}

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => symphainy::env_errors::name_env_source(e, &Cli::command(), &argv).exit(),
    };
    let outcome = run_command(cli);
    symphainy::telemetry::flush();
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_command(cli: Cli) -> anyhow::Result<()> {
    // Operator commands print only their answer (their own log lines would mix into it).
    if !matches!(
        cli.command,
        Command::Healthcheck { .. } | Command::Executions { .. } | Command::Sessions { .. }
    ) {
        symphainy::telemetry::init();
    }
    // Failpoints named in FAILPOINTS (builds with the `failpoints` feature only).
    #[cfg(feature = "failpoints")]
    let _failpoints = fail::FailScenario::setup();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve(args) => run(args, true).await,
            Command::Runtime(args) => run(args, false).await,
            Command::Experience(args) => run_experience(args).await,
            Command::Migrate(args) => {
                // Not on an SQLite file while a server runs on it.
                let url = args.database_url()?;
                let _locks = lock_store(&args.data_dir, &url, "migrate", false)?;
                let store = Store::open(&url, args.durability).await?;
                store.migrate().await?;
                store.close().await;
                println!("migrations applied");
                Ok(())
            }
            Command::Executions { cmd } => symphainy::cli::executions::run(cmd).await,
            Command::Sessions { cmd } => symphainy::cli::sessions::run(cmd).await,
            Command::Healthcheck {
                url,
                runtime_addr,
                http_addr,
            } => {
                let timeout = std::time::Duration::from_secs(3);
                match url {
                    Some(url) => symphainy::probe::probe(&url, timeout).await,
                    None => {
                        symphainy::healthcheck::check_planes(&[&runtime_addr, &http_addr], timeout)
                            .await
                    }
                }
            }
        }
    })
}

/// Binds `addr`, read from the variable `var`, which a failure names.
async fn bind(addr: &str, var: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} ({var}): {e}"))
}

async fn run(args: ServeArgs, with_experience: bool) -> anyhow::Result<()> {
    args.validate()?;
    // Held until the process ends: one server per data directory (its SQLite file, its
    // blobs). On PostgreSQL the nodes of a cluster may share one (its blobs, its generated
    // secrets): the partitions' leases keep each session on one node.
    let command = if with_experience { "serve" } else { "runtime" };
    let url = args.store.database_url()?;
    let clustered = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let _locks = lock_store(&args.store.data_dir, &url, command, !clustered)?;
    let config = args.resolve()?;
    tracing::debug!(?config, "configuration");
    let listeners = Listeners {
        runtime: bind(&config.runtime_addr, "SYMPHAINY_RUNTIME_ADDR").await?,
        experience: if with_experience {
            Some(bind(&config.http_addr, "SYMPHAINY_HTTP_ADDR").await?)
        } else {
            None
        },
    };
    let app = App::start(&config, symphainy::runtime::realms::builtin(), listeners).await?;
    let shutdown = shutdown_signal();
    println!("{}", app.listening_line());
    std::io::stdout().flush()?;
    tracing::info!(
        runtime = %app.runtime_addr,
        experience = app.experience_addr.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
        "symphainy started"
    );

    let failed = tokio::select! {
        _ = shutdown => false,
        _ = app.failed() => true,
    };
    if failed {
        anyhow::bail!("the runtime's supervision tree failed; exiting");
    }
    tracing::info!("shutting down");
    app.shutdown().await;
    Ok(())
}

async fn run_experience(args: ServeArgs) -> anyhow::Result<()> {
    let runtime_url = args.runtime_url()?;
    let config = args.resolve()?;
    tracing::debug!(?config, "configuration");
    let listener = bind(&config.http_addr, "SYMPHAINY_HTTP_ADDR").await?;
    let app = ExperienceApp::start(&config, &runtime_url, listener).await?;
    let shutdown = shutdown_signal();
    println!("{}", app.listening_line());
    std::io::stdout().flush()?;
    tracing::info!(experience = %app.addr, runtime = %symphainy::config::redact_url(&runtime_url), "symphainy experience started");
    shutdown.await;
    tracing::info!("shutting down");
    app.shutdown().await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called (not when
/// it is first awaited), so a signal that arrives right after the listening line — which
/// scripts and orchestrators may send at once — is a graceful stop, not the default death.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
