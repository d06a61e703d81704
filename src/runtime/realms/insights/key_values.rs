//! The distinct values of files' columns as join keys, sampled within fixed caps, and how many
//! two columns share. One pass per file. Each distinct text is stored once (interned) and a
//! column keeps the sorted ids of its values, so the overlap of two columns is a merge of two
//! sorted lists of integers.
//!
//! Memory is bounded by the caps, not by the files: at most `MAX_SAMPLED_VALUES` values are
//! kept over all the sampled columns together (each column takes an equal share, at most
//! `DISTINCT_LIMIT`), and a value longer than `MAX_KEY_BYTES` is not a key and is not kept.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::budget::per_column;
use super::over_parsed::each_record;
use super::stats::DISTINCT_LIMIT;
use crate::runtime::engine::handler::{StepContext, StepError};

/// Distinct values kept over all the sampled columns together.
pub const MAX_SAMPLED_VALUES: usize = 500_000;
/// A longer value (in bytes, as text) is not taken as a join key.
pub const MAX_KEY_BYTES: usize = 128;

/// A value as join-key text (numbers and strings alike; null is no key).
pub(crate) fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    }
}

/// Distinct values kept per column when `columns` columns are sampled together.
pub fn per_column_limit(columns: usize) -> usize {
    per_column(DISTINCT_LIMIT, MAX_SAMPLED_VALUES, columns)
}

/// One file's sampled columns.
#[derive(Debug, Clone)]
pub struct Sampled {
    pub parsed_file_id: String,
    /// The sampled columns, in the order asked.
    pub columns: Vec<String>,
    /// Per column, the sorted ids of its distinct values (at most the per-column limit).
    pub values: Vec<Vec<u32>>,
}

/// Samples the named columns of each parsed file: `(parsed file id, columns)`. Returns the
/// samples and the per-column limit that applied.
pub async fn sample(
    ctx: &StepContext,
    files: &[(String, Vec<String>)],
) -> Result<(Vec<Sampled>, usize), StepError> {
    let limit = per_column_limit(files.iter().map(|(_, c)| c.len()).sum());
    let mut interned: HashMap<String, u32> = HashMap::new();
    let mut out = Vec::with_capacity(files.len());
    for (id, columns) in files {
        let mut sets: Vec<HashSet<u32>> = vec![HashSet::new(); columns.len()];
        each_record(ctx, id, |record| {
            for (name, set) in columns.iter().zip(sets.iter_mut()) {
                if set.len() >= limit {
                    continue;
                }
                let Some(text) = record.get(name).and_then(key_text) else {
                    continue;
                };
                if text.len() > MAX_KEY_BYTES {
                    continue;
                }
                let next = interned.len() as u32;
                let id = *interned.entry(text).or_insert(next);
                set.insert(id);
            }
        })
        .await?;
        let values = sets
            .into_iter()
            .map(|s| {
                let mut v: Vec<u32> = s.into_iter().collect();
                v.sort_unstable();
                v
            })
            .collect();
        out.push(Sampled {
            parsed_file_id: id.clone(),
            columns: columns.clone(),
            values,
        });
    }
    Ok((out, limit))
}

/// How many values two sorted, distinct lists share.
pub fn shared(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shared_values_of_sorted_lists() {
        assert_eq!(shared(&[1, 2, 3, 4], &[1, 2, 3, 5]), 3);
        assert_eq!(shared(&[], &[1]), 0);
        assert_eq!(shared(&[2, 4, 6], &[1, 3, 5]), 0);
    }

    #[test]
    fn keys_are_text_and_the_limit_is_shared_among_columns() {
        assert_eq!(key_text(&json!(7)).as_deref(), Some("7"));
        assert_eq!(key_text(&json!(" 7 ")).as_deref(), Some("7"));
        assert_eq!(key_text(&Value::Null), None);
        assert_eq!(per_column_limit(0), DISTINCT_LIMIT);
        assert_eq!(per_column_limit(50), DISTINCT_LIMIT);
        // 500,000 values over 1,000 columns: 500 each.
        assert_eq!(per_column_limit(1000), 500);
    }
}
