//! The join of a mash, one record at a time. The first source (the anchor) streams through;
//! the others are held in memory, indexed by key, up to `MAX_HELD_ROWS` records in all — put
//! the largest source first. Keys are compared as text (trimmed), so `7` and `"7"` match;
//! empty keys match nothing. One key matching several records in a source gives every
//! combination (as SQL does). A unified column takes the first non-empty value among its
//! source columns, in source order; differing non-empty values are counted as conflicts.
//!
//! Before anything is produced, the join's size can be counted exactly from the held sources'
//! key index and one pass over the anchor's keys (`count_anchor`, then `planned`), in memory
//! bounded by the held records' keys; the phase checks it against its cap (`cap`).

use super::report::{ConflictKind, MashConflict};
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Map, Value};

use super::options::JoinKind;
use crate::runtime::realms::insights::clip::clip;

/// Records of the non-anchor sources held in memory, at most.
pub const MAX_HELD_ROWS: usize = 500_000;
/// Cells (a record's values) of the non-anchor sources held in memory, at most.
pub const MAX_HELD_CELLS: usize = 5_000_000;
/// Examples of value conflicts kept per column, and over all columns, at most (every conflict
/// is still counted).
const EXAMPLES: usize = 5;
pub const MAX_CONFLICT_EXAMPLES: usize = 100;

/// A unified column: its name and `(source index, column)` feeding it.
#[derive(Debug, Clone)]
pub struct Feed {
    pub name: String,
    pub from: Vec<(usize, String)>,
    pub is_key: bool,
}

#[derive(Debug, Default)]
struct Conflict {
    count: u64,
    examples: Vec<Value>,
}

pub struct Combiner {
    join: JoinKind,
    keys: Vec<String>,
    labels: Vec<String>,
    feeds: Vec<Feed>,
    /// Per non-anchor source (index 0 unused): its records, by-key index and matched marks.
    held: Vec<Vec<Map<String, Value>>>,
    by_key: Vec<HashMap<String, Vec<usize>>>,
    matched: Vec<Vec<bool>>,
    held_total: usize,
    held_cells: usize,
    /// `(records, cells)` that may be held.
    held_limits: (usize, usize),
    conflicts: BTreeMap<String, Conflict>,
    conflict_examples: usize,
    pub anchor_rows: u64,
    pub anchor_unmatched: u64,
    pub output_rows: u64,
    /// Records the join may produce (checked beforehand; this is the last guard).
    max_output: u64,
}

/// The combinations of one anchor record (or, after the anchor, of one unmatched key) still to
/// be produced: one choice per source, `None` for a source without a match.
#[derive(Debug)]
pub struct Pending {
    anchor: Option<Map<String, Value>>,
    choices: Vec<Vec<Option<usize>>>,
    at: Vec<usize>,
    done: bool,
}

impl Pending {
    fn new(anchor: Option<Map<String, Value>>, choices: Vec<Vec<Option<usize>>>) -> Self {
        let at = vec![0; choices.len()];
        Pending {
            anchor,
            choices,
            at,
            done: false,
        }
    }
}

/// What `count_anchor` gathers: per key value held in another source, how many anchor records
/// have it; and how many anchor records the join keeps without a match.
#[derive(Debug, Default)]
pub struct Plan {
    anchor_keys: HashMap<String, u64>,
    unmatched: u64,
}

/// The size of a join, counted before it runs, and the key value that gives most of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub total: u64,
    pub top: Option<FanOut>,
}

/// One key value's share of a join: its records, and how many records of each source have it.
#[derive(Debug, Clone, PartialEq)]
pub struct FanOut {
    pub key: String,
    pub records: u64,
    pub per_source: Vec<u64>,
}

fn key_text(v: Option<&Value>) -> Option<String> {
    v.and_then(crate::runtime::realms::insights::key_values::key_text)
        .filter(|s| !s.is_empty())
}

impl Combiner {
    pub fn new(join: JoinKind, keys: Vec<String>, labels: Vec<String>, feeds: Vec<Feed>) -> Self {
        let n = keys.len();
        Combiner {
            join,
            keys,
            labels,
            feeds,
            held: vec![Vec::new(); n],
            by_key: vec![HashMap::new(); n],
            matched: vec![Vec::new(); n],
            held_total: 0,
            held_cells: 0,
            held_limits: (MAX_HELD_ROWS, MAX_HELD_CELLS),
            conflicts: BTreeMap::new(),
            conflict_examples: 0,
            anchor_rows: 0,
            anchor_unmatched: 0,
            output_rows: 0,
            max_output: u64::MAX,
        }
    }

    /// The most `(records, cells)` `hold` takes (`MAX_HELD_ROWS`, `MAX_HELD_CELLS` unless set).
    #[cfg(test)]
    fn set_held_limits(&mut self, records: usize, cells: usize) {
        self.held_limits = (records, cells);
    }

    /// The most records `anchor` and `finish` may produce before they fail.
    pub fn set_max_output(&mut self, max: u64) {
        self.max_output = max;
    }

    /// Counts one anchor record into `plan` (after every other source is held).
    pub fn count_anchor(&self, record: &Map<String, Value>, plan: &mut Plan) {
        match key_text(record.get(&self.keys[0]))
            .filter(|k| self.by_key.iter().skip(1).any(|m| m.contains_key(k)))
        {
            Some(k) => *plan.anchor_keys.entry(k).or_default() += 1,
            None if self.join != JoinKind::Inner => plan.unmatched += 1,
            None => {}
        }
    }

    /// How many records `anchor` (for the anchor counted in `plan`) and `finish` will
    /// produce, exactly as they produce them; and the key value that gives the most (ties:
    /// the smaller text).
    pub fn planned(&self, plan: &Plan) -> Planned {
        let mut total = plan.unmatched;
        let mut top: Option<FanOut> = None;
        let mut seen: HashSet<&str> = HashSet::new();
        for index in self.by_key.iter().skip(1) {
            for key in index.keys() {
                if !seen.insert(key) {
                    continue;
                }
                let mut per_source = vec![plan.anchor_keys.get(key).copied().unwrap_or(0)];
                per_source.extend(
                    self.by_key
                        .iter()
                        .skip(1)
                        .map(|m| m.get(key).map_or(0, |v| v.len() as u64)),
                );
                let records = self.records_of(&per_source);
                total = total.saturating_add(records);
                let better = top.as_ref().is_none_or(|t| {
                    records > t.records || (records == t.records && key.as_str() < t.key.as_str())
                });
                if records > 0 && better {
                    top = Some(FanOut {
                        key: key.clone(),
                        records,
                        per_source,
                    });
                }
            }
        }
        if self.join == JoinKind::Outer {
            // Held records without a key come out alone.
            for (records, index) in self.held.iter().zip(&self.by_key).skip(1) {
                let keyed: usize = index.values().map(Vec::len).sum();
                total = total.saturating_add((records.len() - keyed) as u64);
            }
        }
        Planned { total, top }
    }

    /// The records one key value gives, from how many records of each source have it (the
    /// anchor first): every combination of them, as `next_row` makes them.
    fn records_of(&self, per_source: &[u64]) -> u64 {
        let product = |counts: &[u64]| {
            counts
                .iter()
                .fold(1u64, |p, n| p.saturating_mul((*n).max(1)))
        };
        match (per_source[0], self.join) {
            (0, JoinKind::Outer) => product(&per_source[1..]),
            (0, _) => 0,
            (_, JoinKind::Inner) if per_source.contains(&0) => 0,
            _ => product(per_source),
        }
    }

    /// Holds a record of a non-anchor source.
    pub fn hold(&mut self, source: usize, record: Map<String, Value>) -> Result<(), String> {
        let (max_rows, max_cells) = self.held_limits;
        if self.held_total >= max_rows || self.held_cells + record.len() > max_cells {
            return Err(format!(
                "the sources after the first hold more than {max_rows} records or {max_cells} cells \
                 (at record {} of {}: {} records, {} cells so far); put the largest source first",
                self.held[source].len() + 1,
                self.labels[source],
                self.held_total + 1,
                self.held_cells + record.len()
            ));
        }
        let idx = self.held[source].len();
        if let Some(k) = key_text(record.get(&self.keys[source])) {
            self.by_key[source].entry(k).or_default().push(idx);
        }
        self.held_cells += record.len();
        self.held[source].push(record);
        self.matched[source].push(false);
        self.held_total += 1;
        Ok(())
    }

    /// Starts joining one anchor record: its combinations, produced one at a time by
    /// `next_row` (none when an inner join drops it).
    pub fn start_anchor(&mut self, record: Map<String, Value>) -> Option<Pending> {
        self.anchor_rows += 1;
        let key = key_text(record.get(&self.keys[0]));
        let mut choices: Vec<Vec<Option<usize>>> = vec![vec![None]];
        let mut all_found = true;
        for j in 1..self.keys.len() {
            let found = key
                .as_ref()
                .and_then(|k| self.by_key[j].get(k))
                .cloned()
                .unwrap_or_default();
            if found.is_empty() {
                all_found = false;
                choices.push(vec![None]);
            } else {
                for &i in &found {
                    self.matched[j][i] = true;
                }
                choices.push(found.into_iter().map(Some).collect());
            }
        }
        let any_found = choices.iter().skip(1).any(|c| c[0].is_some());
        if !any_found {
            self.anchor_unmatched += 1;
        }
        if self.join == JoinKind::Inner && !all_found {
            return None;
        }
        Some(Pending::new(Some(record), choices))
    }

    /// After the anchor: for an outer join, the held records no anchor record matched, joined
    /// among themselves by key — one pending product per key (or per record without a key).
    pub fn start_finish(&mut self) -> Vec<Pending> {
        let mut pending = Vec::new();
        if self.join != JoinKind::Outer {
            return pending;
        }
        let mut done_keys: HashSet<String> = HashSet::new();
        for j in 1..self.keys.len() {
            for i in 0..self.held[j].len() {
                if self.matched[j][i] {
                    continue;
                }
                let key = key_text(self.held[j][i].get(&self.keys[j]));
                let mut choices: Vec<Vec<Option<usize>>> = vec![vec![None]; self.keys.len()];
                match &key {
                    None => choices[j] = vec![Some(i)],
                    Some(k) => {
                        if !done_keys.insert(k.clone()) {
                            continue;
                        }
                        for (jj, choice) in choices.iter_mut().enumerate().skip(j) {
                            if let Some(found) = self.by_key[jj].get(k) {
                                *choice = found.iter().copied().map(Some).collect();
                            }
                        }
                    }
                }
                pending.push(Pending::new(None, choices));
            }
        }
        pending
    }

    /// The next combined record of `p` (every combination of one choice per source, in
    /// odometer order), or `None` once they are all out; fails past `max_output`.
    pub fn next_row(&mut self, p: &mut Pending) -> Result<Option<Map<String, Value>>, String> {
        if p.done {
            return Ok(None);
        }
        if self.output_rows >= self.max_output {
            return Err(format!(
                "the combination exceeds {} records; check that the key is right",
                self.max_output
            ));
        }
        let parts: Vec<Option<usize>> = p.choices.iter().zip(&p.at).map(|(c, a)| c[*a]).collect();
        let row = self.merge(p.anchor.as_ref(), &parts);
        self.output_rows += 1;
        let mut j = p.choices.len();
        loop {
            if j == 0 {
                p.done = true;
                break;
            }
            j -= 1;
            p.at[j] += 1;
            if p.at[j] < p.choices[j].len() {
                break;
            }
            p.at[j] = 0;
        }
        Ok(Some(row))
    }

    fn merge(
        &mut self,
        anchor: Option<&Map<String, Value>>,
        parts: &[Option<usize>],
    ) -> Map<String, Value> {
        let mut row = Map::new();
        for f in &self.feeds {
            let mut first: Option<(usize, &Value)> = None;
            let mut differing: Vec<Value> = Vec::new();
            for (s, c) in &f.from {
                let record = if *s == 0 {
                    anchor
                } else {
                    parts[*s].map(|i| &self.held[*s][i])
                };
                let Some(v) = record.and_then(|r| r.get(c)).filter(|v| !v.is_null()) else {
                    continue;
                };
                match first {
                    None => first = Some((*s, v)),
                    Some((s0, v0)) => {
                        if !f.is_key && key_text(Some(v0)) != key_text(Some(v)) {
                            if differing.is_empty() {
                                differing
                                    .push(json!({"source": self.labels[s0], "value": clip(v0)}));
                            }
                            differing.push(json!({"source": self.labels[*s], "value": clip(v)}));
                        }
                    }
                }
            }
            if !differing.is_empty() {
                let c = self.conflicts.entry(f.name.clone()).or_default();
                c.count += 1;
                if c.examples.len() < EXAMPLES && self.conflict_examples < MAX_CONFLICT_EXAMPLES {
                    c.examples.push(json!({"values": differing}));
                    self.conflict_examples += 1;
                }
            }
            row.insert(
                f.name.clone(),
                first.map_or(Value::Null, |(_, v)| v.clone()),
            );
        }
        row
    }

    /// Value conflicts found, one per column, with a few examples.
    pub fn value_conflicts(&self) -> Vec<MashConflict> {
        self.conflicts
            .iter()
            .map(|(column, c)| MashConflict {
                kind: ConflictKind::Value,
                column: column.clone(),
                detail: "different non-empty values for one key; the first source's value is kept"
                    .into(),
                count: Some(c.count),
                examples: Some(c.examples.clone()),
            })
            .collect()
    }

    /// Per non-anchor source: how many of its records some anchor record matched.
    pub fn matched_counts(&self) -> Vec<u64> {
        self.matched
            .iter()
            .map(|m| m.iter().filter(|x| **x).count() as u64)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Combiner {
        /// Joins one anchor record, emitting every combined record.
        fn anchor(
            &mut self,
            record: &Map<String, Value>,
            emit: &mut impl FnMut(Map<String, Value>),
        ) -> Result<(), String> {
            if let Some(mut p) = self.start_anchor(record.clone()) {
                while let Some(row) = self.next_row(&mut p)? {
                    emit(row);
                }
            }
            Ok(())
        }

        /// Emits what `start_finish` gives.
        fn finish(&mut self, emit: &mut impl FnMut(Map<String, Value>)) -> Result<(), String> {
            for mut p in self.start_finish() {
                while let Some(row) = self.next_row(&mut p)? {
                    emit(row);
                }
            }
            Ok(())
        }
    }

    #[test]
    fn a_key_that_fans_out_gives_its_combinations_one_at_a_time() {
        // Customer 1 twice more: the sale of customer 1 has three combinations, produced one
        // per call, so the writer can flush between them.
        let mut c = combiner(JoinKind::Inner);
        c.hold(1, rec(json!({"id": 1, "city": "Bergen"}))).unwrap();
        c.hold(1, rec(json!({"id": 1, "city": "Narvik"}))).unwrap();
        let mut p = c
            .start_anchor(rec(json!({"cid": 1, "amount": 10})))
            .unwrap();
        let mut cities = Vec::new();
        while let Some(row) = c.next_row(&mut p).unwrap() {
            cities.push(row["city"].clone());
            assert_eq!(c.output_rows as usize, cities.len());
        }
        assert_eq!(cities, [json!("Oslo"), json!("Bergen"), json!("Narvik")]);
        assert!(c.start_anchor(rec(json!({"cid": 5}))).is_none());
    }

    fn rec(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn combiner(join: JoinKind) -> Combiner {
        let feeds = vec![
            Feed {
                name: "cid".into(),
                from: vec![(0, "cid".into()), (1, "id".into())],
                is_key: true,
            },
            Feed {
                name: "amount".into(),
                from: vec![(0, "amount".into())],
                is_key: false,
            },
            Feed {
                name: "city".into(),
                from: vec![(0, "city".into()), (1, "city".into())],
                is_key: false,
            },
        ];
        let mut c = Combiner::new(
            join,
            vec!["cid".into(), "id".into()],
            vec!["sales".into(), "customers".into()],
            feeds,
        );
        c.hold(1, rec(json!({"id": 1, "city": "Oslo"}))).unwrap();
        c.hold(1, rec(json!({"id": "2", "city": "Rome"}))).unwrap();
        c.hold(1, rec(json!({"id": 9, "city": "Lima"}))).unwrap();
        c
    }

    fn run(mut c: Combiner) -> (Vec<Value>, Combiner) {
        let mut out = Vec::new();
        for r in [
            json!({"cid": 1, "amount": 10, "city": null}),
            json!({"cid": 2, "amount": 20, "city": "Paris"}),
            json!({"cid": 1, "amount": 30, "city": "Oslo"}),
            json!({"cid": 5, "amount": 50, "city": null}),
        ] {
            c.anchor(&rec(r), &mut |row| out.push(Value::Object(row)))
                .unwrap();
        }
        c.finish(&mut |row| out.push(Value::Object(row))).unwrap();
        (out, c)
    }

    #[test]
    fn outer_keeps_every_record_and_counts_conflicts() {
        let (out, c) = run(combiner(JoinKind::Outer));
        assert_eq!(
            out,
            [
                json!({"cid": 1, "amount": 10, "city": "Oslo"}),
                json!({"cid": 2, "amount": 20, "city": "Paris"}),
                json!({"cid": 1, "amount": 30, "city": "Oslo"}),
                json!({"cid": 5, "amount": 50, "city": null}),
                json!({"cid": 9, "amount": null, "city": "Lima"}),
            ]
        );
        assert_eq!(
            (c.anchor_rows, c.anchor_unmatched, c.output_rows),
            (4, 1, 5)
        );
        assert_eq!(c.matched_counts(), [0, 2]);
        let conflicts = c.value_conflicts();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].column, "city");
        assert_eq!(conflicts[0].count, Some(1));
        assert_eq!(
            conflicts[0].examples.as_ref().unwrap()[0]["values"],
            json!([{"source": "sales", "value": "Paris"}, {"source": "customers", "value": "Rome"}])
        );
    }

    /// The planned size of `run`'s anchor records.
    fn planned(c: &Combiner) -> Planned {
        let mut plan = Plan::default();
        for cid in [json!(1), json!(2), json!(1), json!(5)] {
            c.count_anchor(&rec(json!({"cid": cid})), &mut plan);
        }
        c.planned(&plan)
    }

    #[test]
    fn the_planned_size_is_what_the_join_writes() {
        // Outer: 1 twice, 2, 5 unmatched, and 9 that no sale has: 5; inner 3 (1, 2, 1);
        // left 4. Key 1 gives most: 2 sales × 1 customer.
        for (join, total) in [
            (JoinKind::Outer, 5),
            (JoinKind::Inner, 3),
            (JoinKind::Left, 4),
        ] {
            let c = combiner(join);
            let p = planned(&c);
            assert_eq!(p.total, total, "{join:?}");
            assert_eq!(run(c).1.output_rows, total, "{join:?}");
            assert_eq!(
                p.top,
                Some(FanOut {
                    key: "1".into(),
                    records: 2,
                    per_source: vec![2, 1]
                })
            );
        }
        // Three more customers with key 1 and one without a key: key 1 gives 2 × 4 = 8, and
        // the outer join 8 + 1 (2) + 1 (5) + 1 (9) + 1 (no key) = 12.
        let mut c = combiner(JoinKind::Outer);
        for _ in 0..3 {
            c.hold(1, rec(json!({"id": 1, "city": "Bergen"}))).unwrap();
        }
        c.hold(1, rec(json!({"id": null, "city": "Nowhere"})))
            .unwrap();
        let p = planned(&c);
        assert_eq!((p.total, p.top.unwrap().records), (12, 8));
        assert_eq!(run(c).1.output_rows, 12);
    }

    #[test]
    fn what_is_held_is_capped_in_records_and_cells() {
        // The fixture holds 3 records of 2 cells; room for 2 more cells, then none.
        let mut c = combiner(JoinKind::Outer);
        c.set_held_limits(10, 8);
        c.hold(1, rec(json!({"id": 4, "city": "Kyiv"}))).unwrap();
        assert_eq!(
            c.hold(1, rec(json!({"id": 5}))),
            Err(
                "the sources after the first hold more than 10 records or 8 cells (at record 5 \
                 of customers: 5 records, 9 cells so far); put the largest source first"
                    .into()
            )
        );
        let mut c = combiner(JoinKind::Outer);
        c.set_held_limits(3, 100);
        assert!(c.hold(1, rec(json!({"id": 4}))).is_err());
    }

    #[test]
    fn the_join_stops_at_its_maximum() {
        let mut c = combiner(JoinKind::Outer);
        c.set_max_output(2);
        let mut n = 0;
        assert!(c.anchor(&rec(json!({"cid": 1})), &mut |_| n += 1).is_ok());
        assert!(c.anchor(&rec(json!({"cid": 2})), &mut |_| n += 1).is_ok());
        assert_eq!(
            c.anchor(&rec(json!({"cid": 1})), &mut |_| n += 1),
            Err("the combination exceeds 2 records; check that the key is right".into())
        );
        assert_eq!(n, 2);
    }

    #[test]
    fn conflict_examples_are_capped_over_all_columns() {
        // 30 columns that disagree on each of 5 records: 150 conflicts, all counted; 100
        // examples kept, in order: 4 for a0..a9, 3 for a10..a29.
        let names: Vec<String> = (0..30).map(|i| format!("a{i:02}")).collect();
        let mut feeds = vec![Feed {
            name: "k".into(),
            from: vec![(0, "k".into()), (1, "k".into())],
            is_key: true,
        }];
        feeds.extend(names.iter().map(|n| Feed {
            name: n.clone(),
            from: vec![(0, n.clone()), (1, n.clone())],
            is_key: false,
        }));
        let mut c = Combiner::new(
            JoinKind::Inner,
            vec!["k".into(), "k".into()],
            vec!["a".into(), "b".into()],
            feeds,
        );
        let record = |v: &str| {
            let mut r = Map::new();
            r.insert("k".into(), json!(1));
            for n in &names {
                r.insert(n.clone(), json!(v));
            }
            r
        };
        c.hold(1, record("x")).unwrap();
        for _ in 0..5 {
            c.anchor(&record("y"), &mut |_| {}).unwrap();
        }
        let conflicts = c.value_conflicts();
        assert_eq!(conflicts.len(), 30);
        assert!(conflicts.iter().all(|k| k.count == Some(5)));
        let examples = |i: usize| conflicts[i].examples.as_ref().unwrap().len();
        assert_eq!(
            (examples(0), examples(9), examples(10), examples(29)),
            (4, 4, 3, 3)
        );
        assert_eq!((0..30).map(examples).sum::<usize>(), MAX_CONFLICT_EXAMPLES);
    }

    #[test]
    fn inner_and_left_drop_what_they_should() {
        let (inner, _) = run(combiner(JoinKind::Inner));
        assert_eq!(inner.len(), 3);
        assert!(inner
            .iter()
            .all(|r| r["cid"] != json!(5) && r["cid"] != json!(9)));
        let (left, _) = run(combiner(JoinKind::Left));
        assert_eq!(left.len(), 4);
        assert_eq!(left[3], json!({"cid": 5, "amount": 50, "city": null}));
    }

    #[test]
    fn one_key_with_several_matches_gives_every_combination() {
        let mut c = combiner(JoinKind::Inner);
        c.hold(1, rec(json!({"id": 1, "city": "Bergen"}))).unwrap();
        let mut out = Vec::new();
        c.anchor(&rec(json!({"cid": 1, "amount": 10})), &mut |r| out.push(r))
            .unwrap();
        let cities: Vec<_> = out.iter().map(|r| r["city"].clone()).collect();
        assert_eq!(cities, [json!("Oslo"), json!("Bergen")]);
    }
}
