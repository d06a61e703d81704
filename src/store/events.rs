//! The session event log, written as a transactional outbox: an event and the state change it
//! reports (an [`Effect`]: on an execution or step, or a conversation turn) commit together or
//! not at all, and many appends share one transaction (group commit).

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use super::batch;
use super::cluster::{announce, fenced_begin, Fence};
use super::db::Backend;
use super::error::StoreError;
use super::event_model::{AppendOutcome, Effect, NewEvent};
use super::event_sql::{
    apply_effect, holds_epoch, next_seq, stored, EVENT_COLUMNS, INSERT_EVENTS, UNLESS_REPEATED,
};
use super::executions::{insert_rows, NewExecution};
use super::rows::EventRow;
use super::runtime_store::RuntimeStore;
use super::write::Detached;

impl RuntimeStore {
    /// Appends a batch in one transaction (in a task of its own: see `write`). `last_seq`
    /// caches each session's latest `seq` (filled from the database on a miss); it is only
    /// updated when the transaction commits. The batch and the cache come back with the result.
    ///
    /// `intake` are new executions (without idempotency keys) stored in the same transaction,
    /// before the events: one commit carries the intake of many intents with the events of
    /// others (group commit for the whole hot path).
    ///
    /// `fence` (a cluster node's): the partitions of the batch's sessions at the epochs the
    /// node holds them; a batch for a partition it no longer holds writes nothing and answers
    /// [`StoreError::Moved`].
    pub async fn append_events(
        &self,
        fence: Option<Fence>,
        intake: Vec<NewExecution>,
        items: Vec<(NewEvent, Option<Effect>)>,
        mut last_seq: HashMap<String, i64>,
    ) -> Appended {
        let run = self.store.detached(move |w| async move {
            let mut careful = false;
            let result = append_in(
                &w,
                fence.as_ref(),
                &intake,
                &items,
                &mut last_seq,
                &mut careful,
            )
            .await;
            Ok::<_, StoreError>(Appended {
                result,
                intake,
                items,
                last_seq,
                careful,
            })
        });
        run.await.unwrap_or_else(|e| Appended {
            result: Err(e),
            intake: Vec::new(),
            items: Vec::new(),
            last_seq: HashMap::new(),
            careful: false,
        })
    }

    /// The session's latest `seq` (0 when it has no events).
    pub async fn max_seq(&self, session_id: &str) -> Result<i64, StoreError> {
        let mut conn = self.store.pool.acquire().await?;
        let row =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) AS s FROM events WHERE session_id = $1")
                .bind(session_id)
                .fetch_one(&mut *conn)
                .await?;
        row.try_get::<i64, _>("s").map_err(StoreError::from)
    }

    /// Stored events of a session with `seq > after_seq`, in order, at most `limit`.
    pub async fn events_after(
        &self,
        session_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(session_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(EventRow::from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// An execution's latest event of one type, if any.
    pub async fn latest_event_of_execution(
        &self,
        execution_id: &str,
        event_type: &str,
    ) -> Result<Option<EventRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE execution_id = $1 AND event_type = $2 \
             ORDER BY seq DESC LIMIT 1"
        ))
        .bind(execution_id)
        .bind(event_type)
        .fetch_optional(&self.store.pool)
        .await?;
        row.as_ref()
            .map(EventRow::from_row)
            .transpose()
            .map_err(StoreError::from)
    }

    pub async fn events_of_execution(
        &self,
        execution_id: &str,
    ) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE execution_id = $1 ORDER BY seq"
        ))
        .bind(execution_id)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(EventRow::from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}

/// What an append did, with the batch and the cache it was given.
pub struct Appended {
    pub result: Result<Vec<AppendOutcome>, StoreError>,
    pub intake: Vec<NewExecution>,
    pub items: Vec<(NewEvent, Option<Effect>)>,
    pub last_seq: HashMap<String, i64>,
    /// The batch was appended event by event (it held a repeat or a stale effect).
    pub careful: bool,
}

async fn append_in(
    w: &Detached,
    fence: Option<&Fence>,
    intake: &[NewExecution],
    items: &[(NewEvent, Option<Effect>)],
    last_seq: &mut HashMap<String, i64>,
    careful: &mut bool,
) -> Result<Vec<AppendOutcome>, StoreError> {
    let backend = w.store().backend();
    if items.is_empty() && fence.is_none() {
        // Intake alone: one statement per 256 rows, each atomic on its own, no transaction to
        // open and close (a failure is retried row by row; a row already there is skipped).
        let mut conn = w.store().writer.acquire().await?;
        crate::failpoint!(crate::failpoints::EVENTS_BEFORE_COMMIT);
        insert_rows(&mut conn, backend, intake).await?;
        return Ok(Vec::new());
    }
    let mut tx = fenced_begin(w, fence).await?;
    let mut seqs: HashMap<String, i64> = HashMap::new();
    let outcomes =
        match batch::append_batch(&mut tx, backend, intake, items, last_seq, &mut seqs).await? {
            Some(outcomes) => outcomes,
            None => {
                // A repeat or a stale epoch in the batch: start over, one event at a time.
                *careful = true;
                tx.rollback().await?;
                // Fenced again: the rollback let the partitions' rows go.
                tx = fenced_begin(w, fence).await?;
                insert_rows(&mut tx, backend, intake).await?;
                seqs.clear();
                one_by_one(&mut tx, backend, items, last_seq, &mut seqs).await?
            }
        };
    if fence.is_some_and(|f| f.announce) {
        announce(&mut tx, &seqs).await?;
    }
    crate::failpoint!(crate::failpoints::EVENTS_BEFORE_COMMIT);
    tx.commit().await?;
    last_seq.extend(seqs);
    Ok(outcomes)
}

/// The careful path: each event on its own, so that a repeated key or a stale epoch affects
/// only its own event.
async fn one_by_one(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    items: &[(NewEvent, Option<Effect>)],
    last_seq: &HashMap<String, i64>,
    seqs: &mut HashMap<String, i64>,
) -> Result<Vec<AppendOutcome>, sqlx::Error> {
    let mut outcomes = Vec::with_capacity(items.len());
    for (event, effect) in items {
        let seq = next_seq(tx, &event.session_id, last_seq, seqs).await?;
        // The event first: its key tells in the same statement whether it is a repeat.
        let inserted = sqlx::query(&format!(
            "{INSERT_EVENTS} ($1, $2, $3, $4, $5, $6, $7, $8) {UNLESS_REPEATED}"
        ))
        .bind(&event.event_id)
        .bind(&event.session_id)
        .bind(seq)
        .bind(&event.event_type)
        .bind(&event.execution_id)
        .bind(&event.event_key)
        .bind(event.data.to_string())
        .bind(event.created_at)
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            outcomes.push(repeated(tx, event, effect.as_ref()).await?);
            continue;
        }
        if let Some(effect) = effect {
            if !apply_effect(tx, backend, event, effect).await? {
                // Fenced out: the event goes too (its `seq` is free again).
                sqlx::query("DELETE FROM events WHERE event_id = $1")
                    .bind(&event.event_id)
                    .execute(&mut **tx)
                    .await?;
                outcomes.push(AppendOutcome::Fenced);
                continue;
            }
        }
        seqs.insert(event.session_id.clone(), seq);
        outcomes.push(AppendOutcome::Appended(stored(event, seq)));
    }
    Ok(outcomes)
}

/// The outcome for an event whose key is already in the log: the stored event, or `Fenced`
/// when the appender no longer holds its execution (a stale driver must learn it is fenced
/// even when its event exists already). Its effect is not applied again.
async fn repeated(
    tx: &mut Transaction<'_, Any>,
    event: &NewEvent,
    effect: Option<&Effect>,
) -> Result<AppendOutcome, sqlx::Error> {
    if let Some(effect) = effect {
        if !holds_epoch(tx, effect).await? {
            return Ok(AppendOutcome::Fenced);
        }
    }
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE session_id = $1 AND event_key = $2"
    ))
    .bind(&event.session_id)
    .bind(&event.event_key)
    .fetch_one(&mut **tx)
    .await?;
    Ok(AppendOutcome::Duplicate(EventRow::from_row(&row)?))
}
