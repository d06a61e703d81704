//! `symphainy executions list|show|events|cancel|approve|retry`.

use clap::{Args, Subcommand};
use futures::StreamExt;

use super::table::render;
use super::{print_json, Connection};
use crate::runtime::contract::client::RuntimeClient;
use crate::runtime::contract::listing::ExecutionQuery;
use crate::runtime::contract::model::{ApprovalDecision, Scope, StatusOptions};

#[derive(Subcommand, Debug)]
pub enum Executions {
    /// List executions, newest first.
    List(ListArgs),
    /// One execution's status, steps and artifacts.
    Show(IdArgs),
    /// One execution's events; with --follow, the new ones as they happen, until it ends.
    Events(EventsArgs),
    /// Cancel a running execution.
    Cancel(IdArgs),
    /// Answer an execution that awaits approval (approve, or --reject).
    Approve(ApproveArgs),
    /// Run a finished execution's intent again (a new execution, linked to it).
    Retry(IdArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    conn: Connection,
    /// Only this tenant's.
    #[arg(long)]
    tenant: Option<String>,
    /// Only this session's.
    #[arg(long)]
    session: Option<String>,
    /// pending, running, awaiting_approval, completed, failed or cancelled.
    #[arg(long)]
    status: Option<String>,
    /// Only this intent type's.
    #[arg(long)]
    intent: Option<String>,
    /// Created at or after this RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Created before this RFC 3339 time.
    #[arg(long)]
    until: Option<String>,
    /// Rows per page (1 to 500).
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// The page after this cursor (printed under the previous page).
    #[arg(long)]
    cursor: Option<String>,
}

#[derive(Args, Debug)]
pub struct IdArgs {
    #[command(flatten)]
    conn: Connection,
    /// The execution's id.
    id: String,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    conn: Connection,
    /// The execution's id.
    id: String,
    /// Keep printing new events until the execution ends.
    #[arg(long)]
    follow: bool,
}

#[derive(Args, Debug)]
pub struct ApproveArgs {
    #[command(flatten)]
    conn: Connection,
    /// The execution's id.
    id: String,
    /// Refuse instead of approving.
    #[arg(long)]
    reject: bool,
    /// Why (recorded with the answer).
    #[arg(long)]
    reason: Option<String>,
}

fn event_row(e: &crate::runtime::contract::model::RuntimeEvent) -> Vec<String> {
    let detail = e.data["step"]
        .as_str()
        .or(e.data["error"].as_str())
        .or(e.data["message"].as_str())
        .unwrap_or("")
        .to_string();
    vec![
        e.seq.to_string(),
        e.timestamp.clone(),
        e.event_type.clone(),
        detail,
    ]
}

pub async fn run(cmd: Executions) -> anyhow::Result<()> {
    execute(cmd).await.map_err(super::explain)
}

async fn execute(cmd: Executions) -> anyhow::Result<()> {
    match cmd {
        Executions::List(a) => {
            let client = a.conn.client()?;
            let page = client
                .list_executions(
                    &Scope::Any,
                    ExecutionQuery {
                        tenant_id: a.tenant,
                        session_id: a.session,
                        status: a.status,
                        intent_type: a.intent,
                        since: a.since,
                        until: a.until,
                        limit: Some(a.limit),
                        cursor: a.cursor,
                    },
                )
                .await?;
            if a.conn.json {
                return print_json(&page);
            }
            let rows: Vec<Vec<String>> = page
                .executions
                .iter()
                .map(|e| {
                    vec![
                        e.execution_id.clone(),
                        e.intent_type.clone(),
                        e.status.clone(),
                        e.session_id.clone(),
                        e.created_at.clone(),
                        e.error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print!(
                "{}",
                render(
                    &[
                        "EXECUTION",
                        "INTENT",
                        "STATUS",
                        "SESSION",
                        "CREATED",
                        "ERROR"
                    ],
                    &rows
                )
            );
            if let Some(c) = page.next_cursor {
                println!("more: --cursor {c}");
            }
            Ok(())
        }
        Executions::Show(a) => {
            let client = a.conn.client()?;
            // The table shows no events: only `--json` fetches them.
            let opts = StatusOptions {
                include_artifacts: true,
                include_events: a.conn.json,
            };
            let s = client.execution_status(&Scope::Any, &a.id, opts).await?;
            if a.conn.json {
                return print_json(&s);
            }
            let fields = [
                ("execution", s.execution_id.clone()),
                ("intent", s.intent_type.clone()),
                ("status", s.status.as_str().to_string()),
                ("session", s.session_id.clone()),
                ("tenant", s.tenant_id.clone().unwrap_or_else(|| "-".into())),
                ("created", s.created_at.clone()),
                (
                    "completed",
                    s.completed_at.clone().unwrap_or_else(|| "-".into()),
                ),
                ("error", s.error.clone().unwrap_or_else(|| "-".into())),
            ];
            for (k, v) in fields {
                println!("{k:<10} {v}");
            }
            let steps: Vec<Vec<String>> = s
                .steps
                .iter()
                .map(|st| {
                    vec![
                        st.name.clone(),
                        st.status.as_str().to_string(),
                        st.error.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print!("\n{}", render(&["STEP", "STATUS", "ERROR"], &steps));
            let keys: Vec<&String> = s.artifacts.iter().flat_map(|a| a.keys()).collect();
            if !keys.is_empty() {
                println!(
                    "\nartifacts: {}",
                    keys.iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(())
        }
        Executions::Events(a) => {
            let client = a.conn.client()?;
            let opts = StatusOptions {
                include_artifacts: false,
                include_events: true,
            };
            let s = client.execution_status(&Scope::Any, &a.id, opts).await?;
            let stored = s.events.clone().unwrap_or_default();
            let last = stored.iter().map(|e| e.seq).max().unwrap_or(0);
            if a.conn.json {
                for e in &stored {
                    println!("{}", serde_json::to_string(e)?);
                }
            } else {
                let rows: Vec<Vec<String>> = stored.iter().map(event_row).collect();
                print!("{}", render(&["SEQ", "TIME", "EVENT", "DETAIL"], &rows));
            }
            if !a.follow || s.status.is_terminal() {
                return Ok(());
            }
            let mut events = client.subscribe(&Scope::Any, &s.session_id, last).await?;
            while let Some(e) = events.next().await {
                let e = e?;
                if e.execution_id.as_deref() != Some(a.id.as_str()) {
                    continue;
                }
                if a.conn.json {
                    println!("{}", serde_json::to_string(&e)?);
                } else {
                    let row = event_row(&e).join("  ");
                    println!("{row}");
                }
                if e.kind()
                    .is_some_and(crate::runtime::contract::event_type::EventType::ends_execution)
                {
                    break;
                }
            }
            Ok(())
        }
        Executions::Cancel(a) => {
            a.conn
                .client()?
                .cancel_execution(&Scope::Any, &a.id)
                .await?;
            println!("cancelling {}", a.id);
            Ok(())
        }
        Executions::Approve(a) => {
            let client = a.conn.client()?;
            let opts = StatusOptions {
                include_artifacts: false,
                include_events: false,
            };
            let s = client.execution_status(&Scope::Any, &a.id, opts).await?;
            // The hook it waits on, as its status names it.
            let hook = s.hook.ok_or_else(|| {
                anyhow::anyhow!(
                    "execution {} is {}, not awaiting approval",
                    a.id,
                    s.status.as_str()
                )
            })?;
            client
                .decide_approval(
                    &Scope::Any,
                    &a.id,
                    ApprovalDecision {
                        hook_id: hook.hook_id,
                        approved: !a.reject,
                        reason: a.reason,
                    },
                )
                .await?;
            println!(
                "{} {}",
                if a.reject { "rejected" } else { "approved" },
                a.id
            );
            Ok(())
        }
        Executions::Retry(a) => {
            let accepted = a
                .conn
                .client()?
                .retry_execution(&Scope::Any, &a.id, None)
                .await?;
            if a.conn.json {
                return print_json(&accepted);
            }
            println!("retrying {} as {}", a.id, accepted.execution_id);
            Ok(())
        }
    }
}
