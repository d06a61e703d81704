//! The most records one mash's join may write, proportional to its inputs: the larger of
//! `MIN_RECORDS` and `PER_INPUT_RECORD` × the inputs' records, and never more than
//! `HARD_MAX_RECORDS`; or `options.max_records` instead (lower, or higher up to the same
//! ceiling). The join's size is counted before anything is written (`Combiner::count_anchor`
//! and `planned`); over the cap the phase fails, naming the cap, the inputs' sizes and the key
//! value that fans out most.

use super::combine::Planned;
use super::options::HARD_MAX_RECORDS;

/// The default cap is never below this.
pub const MIN_RECORDS: u64 = 10_000;
/// The default cap: this many records per input record.
pub const PER_INPUT_RECORD: u64 = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct OutputCap {
    pub records: u64,
    /// How the cap was set, for the error.
    reason: String,
}

impl OutputCap {
    /// The cap for inputs of `(name, records)`, or the one `options.max_records` sets.
    pub fn new(option: Option<u64>, inputs: &[(String, u64)]) -> Self {
        if let Some(m) = option {
            return OutputCap {
                records: m.min(HARD_MAX_RECORDS),
                reason: "options.max_records".into(),
            };
        }
        let total: u64 = inputs.iter().map(|(_, n)| n).sum();
        let sizes: Vec<String> = inputs.iter().map(|(s, n)| format!("{s} {n}")).collect();
        let proportional = MIN_RECORDS.max(total.saturating_mul(PER_INPUT_RECORD));
        let mut reason = format!(
            "the larger of {MIN_RECORDS} and {PER_INPUT_RECORD} × its inputs' {total} records: {}",
            sizes.join(", ")
        );
        if proportional > HARD_MAX_RECORDS {
            reason += &format!(", at most {HARD_MAX_RECORDS}");
        }
        OutputCap {
            records: proportional.min(HARD_MAX_RECORDS),
            reason,
        }
    }

    /// `Err` with the message when the planned join is over the cap.
    pub fn check(
        &self,
        planned: &Planned,
        key_column: &str,
        names: &[String],
    ) -> Result<(), String> {
        if planned.total <= self.records {
            return Ok(());
        }
        let mut message = format!(
            "the join would write {} records, over the mash's cap of {} ({})",
            planned.total, self.records, self.reason
        );
        if let Some(top) = &planned.top {
            let factors: Vec<String> = top
                .per_source
                .iter()
                .zip(names)
                .filter(|(n, _)| **n > 0)
                .map(|(n, s)| format!("{n} in {s}"))
                .collect();
            message += &format!(
                "; key value {:?} (column {key_column}) alone gives {} records: {}",
                top.key,
                top.records,
                factors.join(" × ")
            );
        }
        message +=
            &format!(". Check the key, or set options.max_records (at most {HARD_MAX_RECORDS})");
        Err(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(sizes: &[u64]) -> Vec<(String, u64)> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("s{i}"), *n))
            .collect()
    }

    #[test]
    fn the_cap_follows_the_inputs_up_to_the_ceiling() {
        // 4 × 2,000 = 8,000 is below the floor; 4 × 30,000 = 120,000 is not.
        assert_eq!(OutputCap::new(None, &inputs(&[1000, 1000])).records, 10_000);
        assert_eq!(
            OutputCap::new(None, &inputs(&[10_000, 20_000])).records,
            120_000
        );
        assert_eq!(
            OutputCap::new(None, &inputs(&[1_000_000, 500_000])).records,
            HARD_MAX_RECORDS
        );
        assert_eq!(OutputCap::new(Some(3), &inputs(&[1000])).records, 3);
        assert_eq!(
            OutputCap::new(Some(u64::MAX), &inputs(&[1])).records,
            HARD_MAX_RECORDS
        );
        let planned = Planned {
            total: 10_000,
            top: None,
        };
        assert!(OutputCap::new(None, &inputs(&[1, 1]))
            .check(&planned, "k", &[])
            .is_ok());
        let over = Planned {
            total: 10_001,
            top: None,
        };
        assert_eq!(
            OutputCap::new(None, &inputs(&[1, 1])).check(&over, "k", &[]),
            Err(
                "the join would write 10001 records, over the mash's cap of 10000 (the larger \
                 of 10000 and 4 × its inputs' 2 records: s0 1, s1 1). Check the key, or set \
                 options.max_records (at most 5000000)"
                    .into()
            )
        );
    }
}
