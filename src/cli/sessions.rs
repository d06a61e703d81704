//! `symphainy sessions list|show`.

use clap::{Args, Subcommand};

use super::table::render;
use super::{print_json, Connection};
use crate::runtime::contract::client::RuntimeClient;
use crate::runtime::contract::listing::{ExecutionQuery, SessionQuery};
use crate::runtime::contract::model::Scope;

#[derive(Subcommand, Debug)]
pub enum Sessions {
    /// List sessions, newest first.
    List(ListArgs),
    /// One session, with its latest executions.
    Show(ShowArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    conn: Connection,
    /// Only this tenant's.
    #[arg(long)]
    tenant: Option<String>,
    /// Only this user's.
    #[arg(long)]
    user: Option<String>,
    /// Created at or after this RFC 3339 time.
    #[arg(long)]
    since: Option<String>,
    /// Created before this RFC 3339 time.
    #[arg(long)]
    until: Option<String>,
    /// Rows per page (1 to 500).
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// The page after this cursor.
    #[arg(long)]
    cursor: Option<String>,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    conn: Connection,
    /// The session's id.
    id: String,
}

pub async fn run(cmd: Sessions) -> anyhow::Result<()> {
    execute(cmd).await.map_err(super::explain)
}

async fn execute(cmd: Sessions) -> anyhow::Result<()> {
    match cmd {
        Sessions::List(a) => {
            let page = a
                .conn
                .client()?
                .list_sessions(
                    &Scope::Any,
                    SessionQuery {
                        tenant_id: a.tenant,
                        user_id: a.user,
                        status: None,
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
                .sessions
                .iter()
                .map(|s| {
                    vec![
                        s.session_id.clone(),
                        s.tenant_id.clone().unwrap_or_else(|| "-".into()),
                        s.user_id.clone().unwrap_or_else(|| "-".into()),
                        s.status.clone(),
                        s.created_at.clone(),
                    ]
                })
                .collect();
            print!(
                "{}",
                render(&["SESSION", "TENANT", "USER", "STATUS", "CREATED"], &rows)
            );
            if let Some(c) = page.next_cursor {
                println!("more: --cursor {c}");
            }
            Ok(())
        }
        Sessions::Show(a) => {
            let client = a.conn.client()?;
            let s = client.get_session(&Scope::Any, &a.id).await?;
            let recent = client
                .list_executions(
                    &Scope::Any,
                    ExecutionQuery {
                        session_id: Some(a.id.clone()),
                        limit: Some(10),
                        ..Default::default()
                    },
                )
                .await?;
            if a.conn.json {
                return print_json(
                    &serde_json::json!({"session": s, "executions": recent.executions}),
                );
            }
            for (k, v) in [
                ("session", s.session_id.clone()),
                ("tenant", s.tenant_id.clone().unwrap_or_else(|| "-".into())),
                ("user", s.user_id.clone().unwrap_or_else(|| "-".into())),
                ("status", s.status.clone()),
                ("created", s.created_at.clone()),
                ("updated", s.updated_at.clone()),
            ] {
                println!("{k:<8} {v}");
            }
            let rows: Vec<Vec<String>> = recent
                .executions
                .iter()
                .map(|e| {
                    vec![
                        e.execution_id.clone(),
                        e.intent_type.clone(),
                        e.status.clone(),
                        e.created_at.clone(),
                    ]
                })
                .collect();
            print!(
                "\n{}",
                render(&["EXECUTION", "INTENT", "STATUS", "CREATED"], &rows)
            );
            Ok(())
        }
    }
}
