//! The pairs the mash's key is chosen from: the anchor's columns against the columns of every
//! other source (not the other sources among themselves), with the values sampled and the
//! columns capped as for `map_relationships` (the first `MAX_COLUMNS` of each source, or only
//! the columns `options.join_keys` names). Only the best pair of each anchor column in each
//! source is kept — all the model's choice looks at — by the model's own score, so the memory
//! is one pair per anchor column and source however many pairs qualify.

use std::cmp::Ordering;

use super::model::{Pair, SourceShape};
use crate::runtime::engine::handler::{StepContext, StepError};
use crate::runtime::realms::insights::key_values::sample;
use crate::runtime::realms::insights::relationships::{each_candidate, MAX_COLUMNS};
use crate::runtime::realms::insights::topk::TopK;

/// A pair ranked as the model chooses: score, then shared values, then the later found (as
/// `Iterator::max_by` keeps the last of equals).
struct ByScore {
    score: f64,
    seq: u64,
    pair: Pair,
}

impl PartialEq for ByScore {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for ByScore {}
impl PartialOrd for ByScore {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByScore {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.pair.shared.cmp(&other.pair.shared))
            .then(self.seq.cmp(&other.seq))
    }
}

/// The best pair of each anchor column in each other source, and how many column pairs were
/// compared.
pub async fn key_pairs(
    ctx: &StepContext,
    parsed_ids: &[String],
    shapes: &[SourceShape],
    explicit: Option<&[String]>,
) -> Result<(Vec<Pair>, u64), StepError> {
    let asked: Vec<(String, Vec<String>)> = parsed_ids
        .iter()
        .zip(shapes)
        .enumerate()
        .map(|(i, (id, shape))| {
            let columns = match explicit {
                Some(keys) => keys.get(i).into_iter().cloned().collect(),
                None => shape
                    .columns
                    .iter()
                    .take(MAX_COLUMNS)
                    .map(|(c, _)| c.clone())
                    .collect(),
            };
            (id.clone(), columns)
        })
        .collect();
    let (files, _) = sample(ctx, &asked).await?;
    let anchor_columns = files.first().map_or(0, |f| f.columns.len());
    let mut best: Vec<TopK<ByScore>> = (0..anchor_columns * files.len())
        .map(|_| TopK::new(1))
        .collect();
    let pairs: Vec<(usize, usize)> = (1..files.len()).map(|j| (0, j)).collect();
    let compared = each_candidate(&files, &pairs, |c| {
        let pair = Pair {
            source: c.right.0,
            anchor_column: files[0].columns[c.left.1].clone(),
            column: files[c.right.0].columns[c.right.1].clone(),
            overlap: c.overlap,
            similarity: c.similarity,
            shared: c.shared as u64,
        };
        best[c.left.1 * files.len() + c.right.0].offer(ByScore {
            score: pair.score(shapes),
            seq: c.seq,
            pair,
        });
    });
    let best = best
        .into_iter()
        .flat_map(TopK::into_sorted)
        .map(|b| b.pair)
        .collect();
    Ok((best, compared))
}
