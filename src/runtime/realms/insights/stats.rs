//! One-pass column statistics in bounded memory.
//!
//! - Moments: Welford's algorithm (count, mean, sample standard deviation), min, max.
//! - Quantiles: exact (linear interpolation between order statistics, as numpy's default) while
//!   a column has at most `EXACT_LIMIT` values; beyond, a DDSketch with 1% relative accuracy
//!   (every reported quantile is within ±1% of a true value at that rank), whose memory is
//!   bounded by its bin count.
//! - Text: exact counts of up to `DISTINCT_LIMIT` distinct values per column; values first seen
//!   after that are not counted (the result says so).
//! - Both limits may be lowered per column (`with_limit`) to share one analysis's budget.
//! - Correlation: Pearson's r for pairs of numeric columns from streaming co-moments.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sketches_ddsketch::{Config, DDSketch};

use super::clip::clip_str;

pub const EXACT_LIMIT: usize = 100_000;
pub const DISTINCT_LIMIT: usize = 10_000;
pub const QUANTILES: [(&str, f64); 5] = [
    ("p5", 0.05),
    ("p25", 0.25),
    ("p50", 0.5),
    ("p75", 0.75),
    ("p95", 0.95),
];

pub struct Numeric {
    /// Values kept for exact quantiles before the sketch takes over.
    exact_limit: usize,
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    exact: Vec<f64>,
    sketch: Option<DDSketch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Sample standard deviation (n − 1); null for a single value.
    pub std: Option<f64>,
    pub quantiles: std::collections::BTreeMap<String, f64>,
    /// Exact quantiles, or DDSketch estimates within 1% relative error.
    pub exact_quantiles: bool,
}

impl Default for Numeric {
    fn default() -> Self {
        Numeric::with_limit(EXACT_LIMIT)
    }
}

impl Numeric {
    /// Exact quantiles up to `exact_limit` values, then the sketch.
    pub fn with_limit(exact_limit: usize) -> Self {
        Numeric {
            exact_limit,
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: 0.0,
            max: 0.0,
            exact: Vec::new(),
            sketch: None,
        }
    }

    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.n += 1;
        if self.n == 1 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        match &mut self.sketch {
            Some(s) => s.add(x),
            None if self.exact.len() < self.exact_limit => self.exact.push(x),
            None => {
                let mut s = DDSketch::new(Config::new(0.01, 4096, 1e-9));
                for v in self.exact.drain(..) {
                    s.add(v);
                }
                s.add(x);
                self.exact = Vec::new();
                self.sketch = Some(s);
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn finish(mut self) -> Option<NumericSummary> {
        if self.n == 0 {
            return None;
        }
        let mut quantiles = std::collections::BTreeMap::new();
        let exact = self.sketch.is_none();
        if exact {
            self.exact.sort_by(|a, b| a.total_cmp(b));
        }
        for (name, q) in QUANTILES {
            let v = match &self.sketch {
                Some(s) => s.quantile(q).ok().flatten().unwrap_or(self.mean),
                None => interpolate(&self.exact, q),
            };
            quantiles.insert(name.to_string(), round(v));
        }
        Some(NumericSummary {
            count: self.n,
            min: self.min,
            max: self.max,
            mean: round(self.mean),
            std: (self.n > 1).then(|| round((self.m2 / (self.n - 1) as f64).sqrt())),
            quantiles,
            exact_quantiles: exact,
        })
    }
}

/// Linear interpolation between the closest ranks (numpy's default, "type 7").
pub fn interpolate(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Ten significant decimals: enough for any report, and stable in JSON.
pub fn round(x: f64) -> f64 {
    (x * 1e10).round() / 1e10
}

#[derive(Debug)]
pub struct Text {
    /// Distinct values counted, at most.
    limit: usize,
    counts: HashMap<String, u64>,
    uncounted: u64,
    n: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopValue {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextSummary {
    pub count: u64,
    pub distinct: u64,
    pub top_values: Vec<TopValue>,
    /// True when the column had more than `DISTINCT_LIMIT` distinct values (counts of values
    /// first seen after that were not kept).
    pub approximate: bool,
}

impl Default for Text {
    fn default() -> Self {
        Text::with_limit(DISTINCT_LIMIT)
    }
}

impl Text {
    /// Counts up to `limit` distinct values.
    pub fn with_limit(limit: usize) -> Self {
        Text {
            limit,
            counts: HashMap::new(),
            uncounted: 0,
            n: 0,
        }
    }

    pub fn add(&mut self, v: &str) {
        self.n += 1;
        if let Some(c) = self.counts.get_mut(v) {
            *c += 1;
        } else if self.counts.len() < self.limit {
            self.counts.insert(v.to_string(), 1);
        } else {
            self.uncounted += 1;
        }
    }

    pub fn finish(self, k: usize) -> Option<TextSummary> {
        if self.n == 0 {
            return None;
        }
        let mut top: Vec<TopValue> = self
            .counts
            .iter()
            .map(|(v, c)| TopValue {
                value: v.clone(),
                count: *c,
            })
            .collect();
        top.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
        top.truncate(k);
        for t in &mut top {
            t.value = clip_str(&t.value);
        }
        Some(TextSummary {
            count: self.n,
            distinct: self.counts.len() as u64,
            top_values: top,
            approximate: self.uncounted > 0,
        })
    }
}

/// Streaming Pearson correlation of two variables (rows where both are present).
#[derive(Debug, Default, Clone)]
pub struct Correlation {
    n: u64,
    mean_x: f64,
    mean_y: f64,
    m2x: f64,
    m2y: f64,
    c: f64,
}

impl Correlation {
    pub fn add(&mut self, x: f64, y: f64) {
        self.n += 1;
        let n = self.n as f64;
        let dx = x - self.mean_x;
        self.mean_x += dx / n;
        let dy = y - self.mean_y;
        self.mean_y += dy / n;
        self.m2x += dx * (x - self.mean_x);
        self.m2y += dy * (y - self.mean_y);
        self.c += dx * (y - self.mean_y);
    }

    /// Pearson's r, or `None` with fewer than two pairs or a constant variable.
    pub fn r(&self) -> Option<f64> {
        (self.n > 1 && self.m2x > 0.0 && self.m2y > 0.0)
            .then(|| round(self.c / (self.m2x * self.m2y).sqrt()))
    }

    pub fn n(&self) -> u64 {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_and_exact_quantiles_match_hand_computed_values() {
        let mut acc = Numeric::default();
        for x in [7.0, 1.0, 10.0, 3.0, 5.0, 2.0, 9.0, 4.0, 8.0, 6.0] {
            acc.add(x);
        }
        let s = acc.finish().unwrap();
        // 1..10: mean 5.5; sum of squared deviations 82.5; sample variance 82.5/9.
        assert_eq!((s.count, s.min, s.max, s.mean), (10, 1.0, 10.0, 5.5));
        assert_eq!(s.std, Some(round((82.5f64 / 9.0).sqrt())));
        // Type 7: h = 9q; p25 → 3 + 0.25·1, p5 → 1 + 0.45·1, p95 → 9 + 0.55·1.
        assert_eq!(s.quantiles["p5"], 1.45);
        assert_eq!(s.quantiles["p25"], 3.25);
        assert_eq!(s.quantiles["p50"], 5.5);
        assert_eq!(s.quantiles["p75"], 7.75);
        assert_eq!(s.quantiles["p95"], 9.55);
        assert!(s.exact_quantiles);
        let mut one = Numeric::default();
        one.add(4.0);
        assert_eq!(one.finish().unwrap().std, None);
        assert!(Numeric::default().finish().is_none());
    }

    #[test]
    fn past_the_exact_limit_quantiles_are_within_one_percent() {
        let mut acc = Numeric::default();
        let n = EXACT_LIMIT + 50_000;
        for i in 1..=n {
            acc.add(i as f64);
        }
        let s = acc.finish().unwrap();
        assert!(!s.exact_quantiles);
        let true_median = (n as f64 + 1.0) / 2.0;
        let err = (s.quantiles["p50"] - true_median).abs() / true_median;
        assert!(
            err <= 0.011,
            "median {} vs {true_median}",
            s.quantiles["p50"]
        );
        assert_eq!(s.mean, true_median);
    }

    #[test]
    fn lowered_limits_bound_what_is_kept() {
        // Four values kept exactly at most: the fifth hands over to the sketch.
        let mut acc = Numeric::with_limit(4);
        for x in [1.0, 2.0, 3.0, 4.0] {
            acc.add(x);
        }
        assert!(acc.exact.len() == 4 && acc.sketch.is_none());
        acc.add(5.0);
        assert!(acc.exact.is_empty() && acc.sketch.is_some());
        let s = acc.finish().unwrap();
        assert_eq!((s.count, s.mean, s.exact_quantiles), (5, 3.0, false));
        // Two distinct values counted at most: c is seen but not counted.
        let mut t = Text::with_limit(2);
        for v in ["a", "b", "a", "c"] {
            t.add(v);
        }
        assert_eq!(t.counts.len(), 2);
        let s = t.finish(5).unwrap();
        assert_eq!((s.count, s.distinct, s.approximate), (4, 2, true));
    }

    #[test]
    fn text_top_values_and_correlation() {
        let mut t = Text::default();
        for v in ["b", "a", "b", "c", "b", "a"] {
            t.add(v);
        }
        let s = t.finish(2).unwrap();
        assert_eq!((s.count, s.distinct, s.approximate), (6, 3, false));
        assert_eq!(
            s.top_values,
            vec![
                TopValue {
                    value: "b".into(),
                    count: 3
                },
                TopValue {
                    value: "a".into(),
                    count: 2
                }
            ]
        );
        let (mut up, mut down, mut flat) = (
            Correlation::default(),
            Correlation::default(),
            Correlation::default(),
        );
        for i in 1..=10 {
            let x = i as f64;
            up.add(x, 2.0 * x + 1.0);
            down.add(x, 11.0 - x);
            flat.add(x, 3.0);
        }
        assert_eq!((up.r(), down.r(), flat.r()), (Some(1.0), Some(-1.0), None));
        // x = 1,2,3; y = 1,3,2: r = 0.5 (hand-computed: cov 0.5, var 1 and 1).
        let mut c = Correlation::default();
        for (x, y) in [(1.0, 1.0), (2.0, 3.0), (3.0, 2.0)] {
            c.add(x, y);
        }
        assert_eq!(c.r(), Some(0.5));
    }
}
