//! The event log's fast path: a whole batch of new events in multi-row inserts, and each
//! execution's fence checked once per transaction where it can be. It applies when no event of the batch is a
//! repeat and no effect is fenced out — the common case. Otherwise it answers `None`, and the
//! caller rolls the transaction back and appends event by event (`events::one_by_one`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use sqlx::{Any, Transaction};

use super::event_model::{AppendOutcome, Effect, NewEvent};
use super::event_sql::{apply_effect, next_seq, stored, INSERT_EVENTS, UNLESS_REPEATED};

/// Events per insert statement (8 parameters each: well under both backends' limits).
const ROWS: usize = 256;

pub(super) async fn append_batch(
    tx: &mut Transaction<'_, Any>,
    items: &[(NewEvent, Option<Effect>)],
    last_seq: &HashMap<String, i64>,
    seqs: &mut HashMap<String, i64>,
) -> Result<Option<Vec<AppendOutcome>>, sqlx::Error> {
    let mut numbered = Vec::with_capacity(items.len());
    for (event, _) in items {
        let seq = next_seq(tx, &event.session_id, last_seq, seqs).await?;
        seqs.insert(event.session_id.clone(), seq);
        numbered.push(seq);
    }
    for (chunk, seqs) in items.chunks(ROWS).zip(numbered.chunks(ROWS)) {
        let mut sql = String::from(INSERT_EVENTS);
        for i in 0..chunk.len() {
            let p = i * 8;
            let sep = if i == 0 { " " } else { ", " };
            let _ = write!(
                sql,
                "{sep}(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8
            );
        }
        sql.push(' ');
        sql.push_str(UNLESS_REPEATED);
        let mut query = sqlx::query(&sql);
        for ((event, _), seq) in chunk.iter().zip(seqs) {
            query = query
                .bind(&event.event_id)
                .bind(&event.session_id)
                .bind(*seq)
                .bind(&event.event_type)
                .bind(&event.execution_id)
                .bind(&event.event_key)
                .bind(event.data.to_string())
                .bind(event.created_at);
        }
        if query.execute(&mut **tx).await?.rows_affected() != chunk.len() as u64 {
            return Ok(None); // a repeated key
        }
    }
    // Effects that change an execution row first, each through its fence; then those that
    // change only a step row, which need no fence of their own once their execution's has
    // been passed in this transaction. (The two kinds touch different rows: their order
    // between kinds does not change the result.)
    let mut held: HashSet<(&str, i64)> = HashSet::new();
    for execution_first in [true, false] {
        for (event, effect) in items {
            let Some(effect) = effect
                .as_ref()
                .filter(|e| e.changes_execution() == execution_first)
            else {
                continue;
            };
            let target = effect.target();
            if !apply_effect(tx, effect, event.created_at, held.contains(&target)).await? {
                return Ok(None); // a stale epoch
            }
            held.insert(target);
        }
    }
    Ok(Some(
        items
            .iter()
            .zip(numbered)
            .map(|((event, _), seq)| AppendOutcome::Appended(stored(event, seq)))
            .collect(),
    ))
}
