//! The canonical model of a mash, from the sources' shapes alone (no I/O):
//!
//! - **The join key.** A column of the first source (the anchor) and, in every other source,
//!   the column that best joins it. A pair scores its value overlap, plus 0.5 × its name
//!   similarity, plus 0.25 when either side is a candidate key (no empty, no repeated value),
//!   plus 0.5 when a column names the other source (`customer_id` in sales for
//!   customers.csv); ties go to more shared values. The anchor column whose weakest pair scores highest wins.
//!   `options.join_keys` names the key columns instead.
//! - **The unified columns.** The key, then every other column in source order. Columns of
//!   different sources whose names agree (ignoring case and separators) become one column when
//!   their types are compatible (integers and floats; dates and datetimes; empty columns with
//!   anything); otherwise that is a type conflict and the later column is kept apart as
//!   `<column>_<source label>`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::runtime::realms::insights::names::normalise;

/// What the model needs to know of a source.
#[derive(Debug, Clone, Default)]
pub struct SourceShape {
    pub label: String,
    /// `(name, storage type)` in the file's order.
    pub columns: Vec<(String, String)>,
    /// Column → semantic type.
    pub semantic: BTreeMap<String, String>,
    /// Columns with no empty and no repeated value.
    pub unique: BTreeSet<String>,
}

impl SourceShape {
    fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|(c, _)| c == column)
    }

    fn column_type(&self, column: &str) -> &str {
        self.columns
            .iter()
            .find(|(c, _)| c == column)
            .map_or("null", |(_, t)| t.as_str())
    }
}

/// A candidate join between a column of the anchor (source 0) and a column of `source`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub source: usize,
    pub anchor_column: String,
    pub column: String,
    pub overlap: f64,
    pub similarity: f64,
    pub shared: u64,
}

impl Pair {
    pub fn score(&self, sources: &[SourceShape]) -> f64 {
        let keyish = sources[0].unique.contains(&self.anchor_column)
            || sources[self.source].unique.contains(&self.column);
        let refers = names_source(&self.anchor_column, &sources[self.source].label)
            || names_source(&self.column, &sources[0].label);
        self.overlap
            + 0.5 * self.similarity
            + if keyish { 0.25 } else { 0.0 }
            + if refers { 0.5 } else { 0.0 }
    }

    fn evidence(&self, sources: &[SourceShape]) -> Value {
        json!({"source": sources[self.source].label, "source_index": self.source,
            "column": self.column, "anchor_column": self.anchor_column,
            "overlap_ratio": self.overlap, "name_similarity": self.similarity,
            "shared_values": self.shared, "score": (self.score(sources) * 1000.0).round() / 1000.0})
    }
}

/// A column that names the other source: `customer_id` in sales, for customers.csv.
fn names_source(column: &str, label: &str) -> bool {
    let label = normalise(label);
    let stem = label
        .strip_suffix('s')
        .filter(|s| s.len() >= 3)
        .unwrap_or(&label);
    stem.len() >= 3 && normalise(column).contains(stem)
}

pub const KEY_RULE: &str = "a pair scores its value overlap + 0.5 × name similarity + 0.25 when \
    either side is a candidate key + 0.5 when a column names the other source (customer_id for \
    customers); the anchor column whose weakest pair scores highest is the key";

/// The key column of each source, with the pairs that chose them.
pub fn choose_keys(
    sources: &[SourceShape],
    pairs: &[Pair],
    explicit: Option<&[String]>,
) -> Result<(Vec<String>, Vec<Value>), String> {
    if let Some(keys) = explicit {
        for (s, k) in sources.iter().zip(keys) {
            if !s.has(k) {
                return Err(format!(
                    "options.join_keys names '{k}', which {} does not have",
                    s.label
                ));
            }
        }
        let evidence = pairs
            .iter()
            .filter(|p| p.anchor_column == keys[0] && keys.get(p.source) == Some(&p.column))
            .map(|p| p.evidence(sources))
            .collect();
        return Ok((keys.to_vec(), evidence));
    }
    let mut best: Option<(f64, u64, Vec<&Pair>)> = None;
    for (anchor, _) in &sources[0].columns {
        let mut chosen = Vec::new();
        for j in 1..sources.len() {
            let top = pairs
                .iter()
                .filter(|p| p.source == j && &p.anchor_column == anchor)
                .max_by(|x, y| {
                    x.score(sources)
                        .total_cmp(&y.score(sources))
                        .then(x.shared.cmp(&y.shared))
                });
            match top {
                Some(p) => chosen.push(p),
                None => break,
            }
        }
        if chosen.len() + 1 != sources.len() {
            continue;
        }
        let weakest = chosen
            .iter()
            .map(|p| p.score(sources))
            .fold(f64::INFINITY, f64::min);
        let shared: u64 = chosen.iter().map(|p| p.shared).sum();
        if best
            .as_ref()
            .is_none_or(|(w, s, _)| weakest > *w || (weakest == *w && shared > *s))
        {
            best = Some((weakest, shared, chosen));
        }
    }
    let Some((_, _, chosen)) = best else {
        let lonely = (1..sources.len()).find(|j| !pairs.iter().any(|p| p.source == *j));
        return Err(match lonely {
            Some(j) => format!(
                "no column of {} shares values with a column of {}; name the key columns with options.join_keys",
                sources[0].label, sources[j].label
            ),
            None => format!(
                "no one column of {} joins every other source; name the key columns with options.join_keys",
                sources[0].label
            ),
        });
    };
    let mut keys = vec![chosen[0].anchor_column.clone()];
    keys.extend(chosen.iter().map(|p| p.column.clone()));
    Ok((keys, chosen.iter().map(|p| p.evidence(sources)).collect()))
}

/// A column of the combined dataset and the source columns that feed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unified {
    pub name: String,
    pub column_type: String,
    pub semantic_type: String,
    pub role: &'static str,
    /// `(source index, column)`, in source order.
    pub from: Vec<(usize, String)>,
}

impl Unified {
    pub fn to_json(&self, sources: &[SourceShape]) -> Value {
        json!({
            "name": self.name,
            "type": self.column_type,
            "semantic_type": self.semantic_type,
            "role": self.role,
            "sources": self.from.iter().map(|(i, c)| json!({"source": sources[*i].label,
                "source_index": i, "column": c})).collect::<Vec<_>>(),
        })
    }
}

fn numeric(t: &str) -> bool {
    matches!(t, "integer" | "float")
}

fn temporal(t: &str) -> bool {
    matches!(t, "date" | "datetime")
}

/// The merged type when compatible.
fn merge_types(a: &str, b: &str) -> Option<String> {
    Some(
        if a == b || b == "null" {
            a
        } else if a == "null" {
            b
        } else if numeric(a) && numeric(b) {
            "float"
        } else if temporal(a) && temporal(b) {
            "datetime"
        } else {
            return None;
        }
        .to_string(),
    )
}

/// The unified columns and the type conflicts found.
pub fn unify(sources: &[SourceShape], keys: &[String]) -> (Vec<Unified>, Vec<Value>) {
    let mut conflicts = Vec::new();
    let mut key_type = sources[0].column_type(&keys[0]).to_string();
    for (i, s) in sources.iter().enumerate().skip(1) {
        let t = s.column_type(&keys[i]);
        match merge_types(&key_type, t) {
            Some(m) => key_type = m,
            None => {
                conflicts.push(json!({"kind": "type", "column": keys[0],
                    "detail": format!("the key is {key_type} in {} but {t} in {}; keys are matched by their text",
                        sources[0].label, s.label)}));
                key_type = "string".into();
            }
        }
    }
    let mut columns = vec![Unified {
        name: keys[0].clone(),
        column_type: key_type,
        semantic_type: sources[0]
            .semantic
            .get(&keys[0])
            .cloned()
            .unwrap_or_else(|| "identifier".into()),
        role: "key",
        from: keys.iter().cloned().enumerate().collect(),
    }];
    for (i, s) in sources.iter().enumerate() {
        for (name, t) in &s.columns {
            if *name == keys[i] {
                continue;
            }
            let norm = normalise(name);
            let same = columns.iter().position(|u| {
                u.role == "attribute"
                    && normalise(&u.name) == norm
                    && u.from.iter().all(|(j, _)| *j != i)
            });
            if let Some(u) = same {
                if let Some(merged) = merge_types(&columns[u].column_type, t) {
                    columns[u].column_type = merged;
                    columns[u].from.push((i, name.clone()));
                    continue;
                }
                let apart = fresh_name(&columns, &format!("{name}_{}", s.label));
                conflicts.push(json!({"kind": "type", "column": columns[u].name,
                    "detail": format!("{}.{name} is {t} but {} is {}; kept apart as {apart}",
                        s.label, columns[u].name, columns[u].column_type)}));
                columns.push(attribute(apart, t, s, i, name));
                continue;
            }
            let fresh = if columns.iter().any(|u| u.name == *name) {
                fresh_name(&columns, &format!("{name}_{}", s.label))
            } else {
                name.clone()
            };
            columns.push(attribute(fresh, t, s, i, name));
        }
    }
    (columns, conflicts)
}

fn attribute(name: String, t: &str, s: &SourceShape, i: usize, column: &str) -> Unified {
    Unified {
        name,
        column_type: t.to_string(),
        semantic_type: s
            .semantic
            .get(column)
            .cloned()
            .unwrap_or_else(|| "text".into()),
        role: "attribute",
        from: vec![(i, column.to_string())],
    }
}

fn fresh_name(columns: &[Unified], wanted: &str) -> String {
    let mut name = wanted.to_string();
    let mut n = 2;
    while columns.iter().any(|u| u.name == name) {
        name = format!("{wanted}_{n}");
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(label: &str, columns: &[(&str, &str)], unique: &[&str]) -> SourceShape {
        SourceShape {
            label: label.into(),
            columns: columns
                .iter()
                .map(|(c, t)| (c.to_string(), t.to_string()))
                .collect(),
            semantic: BTreeMap::new(),
            unique: unique.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn pair(source: usize, a: &str, b: &str, overlap: f64, similarity: f64, shared: u64) -> Pair {
        Pair {
            source,
            anchor_column: a.into(),
            column: b.into(),
            overlap,
            similarity,
            shared,
        }
    }

    #[test]
    fn the_key_is_the_pair_that_overlaps_and_reads_as_a_key() {
        let sales = shape(
            "sales",
            &[
                ("order", "integer"),
                ("customer_id", "integer"),
                ("qty", "integer"),
            ],
            &["order"],
        );
        let customers = shape(
            "customers",
            &[("id", "integer"), ("name", "string")],
            &["id"],
        );
        // qty ~ id and order ~ id overlap fully too (small numbers): 1 + 0 + 0.25 = 1.25;
        // customer_id ~ id overlaps less but names customers: 0.75 + 0.5·0.5 + 0.25 + 0.5 = 1.75.
        let pairs = [
            pair(1, "qty", "id", 1.0, 0.0, 3),
            pair(1, "customer_id", "id", 0.75, 0.5, 3),
            pair(1, "order", "id", 1.0, 0.0, 3),
        ];
        let (keys, evidence) =
            choose_keys(&[sales.clone(), customers.clone()], &pairs, None).unwrap();
        assert_eq!(keys, ["customer_id", "id"]);
        assert_eq!(evidence[0]["score"], json!(1.75));
        // Otherwise ties go to more shared values.
        let plain = [
            pair(1, "qty", "id", 1.0, 0.0, 3),
            pair(1, "order", "id", 1.0, 0.0, 4),
        ];
        let (keys, _) = choose_keys(&[sales.clone(), customers.clone()], &plain, None).unwrap();
        assert_eq!(keys, ["order", "id"]);

        let err = choose_keys(&[sales.clone(), customers.clone()], &[], None).unwrap_err();
        assert!(
            err.contains("no column of sales shares values with a column of customers"),
            "{err}"
        );

        let explicit = ["order".to_string(), "id".to_string()];
        let (keys, _) =
            choose_keys(&[sales.clone(), customers.clone()], &pairs, Some(&explicit)).unwrap();
        assert_eq!(keys, explicit);
        let wrong = ["order".to_string(), "nope".to_string()];
        let err = choose_keys(&[sales, customers], &pairs, Some(&wrong)).unwrap_err();
        assert_eq!(
            err,
            "options.join_keys names 'nope', which customers does not have"
        );
    }

    #[test]
    fn columns_with_the_same_name_merge_when_their_types_agree() {
        let a = shape(
            "a",
            &[
                ("ID", "integer"),
                ("Amount", "integer"),
                ("city", "string"),
                ("note", "string"),
            ],
            &[],
        );
        let b = shape(
            "b",
            &[
                ("id", "string"),
                ("amount", "float"),
                ("City", "string"),
                ("note", "integer"),
            ],
            &[],
        );
        let (cols, conflicts) = unify(&[a, b], &["ID".into(), "id".into()]);
        let names: Vec<_> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["ID", "Amount", "city", "note", "note_b"]);
        assert_eq!(cols[0].from, [(0, "ID".to_string()), (1, "id".to_string())]);
        assert_eq!(cols[0].column_type, "string");
        assert_eq!(cols[1].column_type, "float");
        assert_eq!(
            cols[2].from,
            [(0, "city".to_string()), (1, "City".to_string())]
        );
        assert_eq!(cols[4].from, [(1, "note".to_string())]);
        assert_eq!(conflicts.len(), 2, "{conflicts:?}");
        assert_eq!(conflicts[0]["column"], "ID");
        assert_eq!(
            conflicts[1]["detail"],
            "b.note is integer but note is string; kept apart as note_b"
        );
    }
}
