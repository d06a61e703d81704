//! One analysis's memory budget: the values it keeps (exact numbers for quantiles, distinct
//! texts for counts), shared equally among the columns it tracks, so that a wide file gets a
//! smaller share per column instead of more memory. Each column's share is also at most the
//! limit it had alone (`EXACT_LIMIT`, `DISTINCT_LIMIT`), so narrow files are unchanged.

/// Values one analysis of one file keeps in memory, over all its columns together.
pub const MAX_TRACKED_VALUES: usize = 2_000_000;

/// A column's share of `budget` values among `columns` columns: at most `limit`, at least 1.
pub fn per_column(limit: usize, budget: usize, columns: usize) -> usize {
    (budget / columns.max(1)).min(limit).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_among_columns() {
        // Alone or among few, a column keeps its own limit; among many, an equal share.
        assert_eq!(per_column(10_000, MAX_TRACKED_VALUES, 0), 10_000);
        assert_eq!(per_column(10_000, MAX_TRACKED_VALUES, 200), 10_000);
        assert_eq!(per_column(10_000, MAX_TRACKED_VALUES, 1_000), 2_000);
        assert_eq!(per_column(100_000, MAX_TRACKED_VALUES, 40), 50_000);
        assert_eq!(per_column(10, 5, 1_000), 1);
    }
}
