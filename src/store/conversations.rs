//! Agent conversations: the owning agent of each conversation and its turns.

use serde_json::Value;
use sqlx::Row;

use super::db::is_unique_violation;
use super::error::StoreError;
use super::runtime_store::RuntimeStore;

/// A stored turn with its conversation, its agent and its time.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRecord {
    pub conversation_id: String,
    pub agent_kind: String,
    pub role: String,
    pub content: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub role: String,
    pub content: String,
    pub data: Value,
}

impl RuntimeStore {
    /// The agent that owns a conversation: the stored one, or `proposed` for a new one.
    pub async fn conversation_owner(
        &self,
        session_id: &str,
        conversation_id: &str,
        proposed: &str,
        at: i64,
    ) -> Result<String, StoreError> {
        let insert = sqlx::query(
            "INSERT INTO conversations (session_id, conversation_id, agent_kind, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(session_id)
        .bind(conversation_id)
        .bind(proposed)
        .bind(at)
        .execute(&self.store.writer)
        .await;
        match insert {
            Ok(_) => Ok(proposed.to_string()),
            Err(e) if is_unique_violation(&e) => {
                let row = sqlx::query(
                    "SELECT agent_kind FROM conversations WHERE session_id = $1 AND conversation_id = $2",
                )
                .bind(session_id)
                .bind(conversation_id)
                .fetch_one(&self.store.pool)
                .await?;
                Ok(row.try_get("agent_kind")?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// How many conversations the session has.
    pub async fn session_conversation_count(&self, session_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM conversations WHERE session_id = $1")
            .bind(session_id)
            .fetch_one(&self.store.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The session's last `limit` turns with agents whose kind is `agent_kind` or starts with
    /// it (`liaison.` for every liaison), oldest first.
    pub async fn session_turns(
        &self,
        session_id: &str,
        agent_kind: &str,
        limit: i64,
    ) -> Result<Vec<TurnRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.conversation_id, c.agent_kind, t.role, t.content, t.created_at \
             FROM conversation_turns t JOIN conversations c \
             ON c.session_id = t.session_id AND c.conversation_id = t.conversation_id \
             WHERE t.session_id = $1 AND (c.agent_kind = $2 OR c.agent_kind LIKE $3) \
             ORDER BY t.created_at DESC, t.turn_idx DESC LIMIT $4",
        )
        .bind(session_id)
        .bind(agent_kind)
        .bind(format!("{}%", agent_kind.replace('%', "")))
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        let mut turns = rows
            .iter()
            .map(|r| {
                Ok(TurnRecord {
                    conversation_id: r.try_get("conversation_id")?,
                    agent_kind: r.try_get("agent_kind")?,
                    role: r.try_get("role")?,
                    content: r.try_get("content")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        turns.reverse();
        Ok(turns)
    }

    /// The last `limit` turns, oldest first.
    pub async fn recent_turns(
        &self,
        session_id: &str,
        conversation_id: &str,
        limit: i64,
    ) -> Result<Vec<Turn>, StoreError> {
        let rows = sqlx::query(
            "SELECT role, content, data FROM conversation_turns \
             WHERE session_id = $1 AND conversation_id = $2 ORDER BY turn_idx DESC LIMIT $3",
        )
        .bind(session_id)
        .bind(conversation_id)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        let mut turns = rows
            .iter()
            .map(|r| {
                let data: String = r.try_get("data")?;
                Ok(Turn {
                    role: r.try_get("role")?,
                    content: r.try_get("content")?,
                    data: serde_json::from_str(&data)
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        turns.reverse();
        Ok(turns)
    }
}
