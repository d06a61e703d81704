//! `interpret_data_self_discovery {parsed_file_id}` → artifact `interpretation`: a semantic
//! type per column — identifier, email, phone, date, datetime, currency, number, boolean,
//! category, free_text or text — with the share of values supporting it (`confidence`) and the
//! `evidence`; and the candidate keys (columns with no empty and no repeated value). One pass;
//! distinct values are tracked up to a fixed limit.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::budget::{per_column, MAX_TRACKED_VALUES};
use super::over_parsed::{
    analyzed_columns, columns_note, each_record, ready_parsed, OverParsedFile, ParsedFileParams,
};
use super::stats::{round, DISTINCT_LIMIT};
use crate::runtime::engine::handler::{artifact, SagaStep, StepContext, StepError, StepOutput};
use crate::runtime::realms::content::parsing::{fits, ColumnType};
use crate::security::inputs::Email;
use crate::store::artifacts::ArtifactRow;

pub fn handler() -> OverParsedFile {
    OverParsedFile {
        intent: "interpret_data_self_discovery",
        description: "Find what each column means (identifier, email, phone, date, amount, category, text) and the candidate keys.",
        step: |params| Arc::new(Interpret(params)),
    }
}

struct Interpret(Arc<ParsedFileParams>);

#[derive(Default)]
struct Kinds {
    values: u64,
    nulls: u64,
    emails: u64,
    phones: u64,
    dates: u64,
    datetimes: u64,
    currency: u64,
    numbers: u64,
    integers: u64,
    booleans: u64,
    spaced_text: u64,
    text_chars: u64,
    texts: u64,
    distinct: HashSet<String>,
    distinct_limit: usize,
    distinct_capped: bool,
}

/// `+1 555 123 4567`, `(555) 123-4569`, `555.123.4567`: 7 to 15 digits and phone punctuation.
fn is_phone(s: &str) -> bool {
    let t = s.trim();
    let b = t.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        return false; // YYYY-MM-DD
    }
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b" +-().".contains(&b))
        && t.bytes().filter(|b| !b.is_ascii_digit()).count() > 0
        || (t.len() >= 10
            && t.len() <= 15
            && t.bytes().all(|b| b.is_ascii_digit())
            && !t.starts_with('0'))
}

/// `$10.00`, `€3`, `12.50 USD`, `-£4.99`.
fn is_currency(s: &str) -> bool {
    let t = s.trim().trim_start_matches('-');
    let number = |x: &str| {
        let x = x.trim().replace(',', "");
        !x.is_empty() && x.parse::<f64>().is_ok()
    };
    if let Some(rest) = t.strip_prefix(['$', '€', '£', '¥']) {
        return number(rest);
    }
    ["USD", "EUR", "GBP", "JPY", "CHF"].iter().any(|code| {
        t.strip_suffix(code).is_some_and(number) || t.strip_prefix(code).is_some_and(number)
    })
}

const AMOUNT_WORDS: [&str; 9] = [
    "amount", "price", "total", "cost", "revenue", "sales", "fee", "balance", "salary",
];
const ID_WORDS: [&str; 5] = ["id", "key", "code", "number", "no"];

fn name_words(name: &str) -> Vec<String> {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

impl Kinds {
    fn observe(&mut self, v: &Value) {
        if v.is_null() {
            self.nulls += 1;
            return;
        }
        self.values += 1;
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if self.distinct.len() < self.distinct_limit {
            self.distinct.insert(text.clone());
        } else if !self.distinct.contains(&text) {
            self.distinct_capped = true;
        }
        match v {
            Value::Bool(_) => self.booleans += 1,
            Value::Number(n) => {
                self.numbers += 1;
                if n.is_i64() || n.is_u64() {
                    self.integers += 1;
                    // A bare 10-to-15-digit number may be a phone number the parser typed.
                    if is_phone(&text) {
                        self.phones += 1;
                    }
                }
            }
            Value::String(s) => {
                self.texts += 1;
                self.text_chars += s.chars().count() as u64;
                if s.contains(' ') {
                    self.spaced_text += 1;
                }
                if Email::parse(s).is_ok() {
                    self.emails += 1;
                } else if fits(ColumnType::Date, v) {
                    self.dates += 1;
                } else if fits(ColumnType::Datetime, v) {
                    self.datetimes += 1;
                } else if is_currency(s) {
                    self.currency += 1;
                } else if is_phone(s) {
                    self.phones += 1;
                }
            }
            _ => {}
        }
    }

    fn unique(&self) -> bool {
        self.nulls == 0
            && self.values > 0
            && !self.distinct_capped
            && self.distinct.len() as u64 == self.values
    }

    /// `(semantic type, confidence, evidence)`.
    fn decide(&self, name: &str) -> (&'static str, f64, Vec<String>) {
        let n = self.values.max(1) as f64;
        let share = |k: u64| round(k as f64 / n);
        let words = name_words(name);
        let named = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
        let distinct = self.distinct.len() as u64;
        let mut evidence = Vec::new();
        let best = [
            ("email", self.emails),
            ("phone", self.phones),
            ("date", self.dates),
            ("datetime", self.datetimes),
            ("currency", self.currency),
        ]
        .into_iter()
        .max_by_key(|(_, k)| *k)
        .filter(|(_, k)| *k as f64 / n >= 0.8);
        if let Some((kind, k)) = best {
            evidence.push(format!(
                "{k} of {} values look like {kind} values",
                self.values
            ));
            return (kind, share(k), evidence);
        }
        if self.values > 0 && self.booleans == self.values {
            evidence.push("every value is true or false".into());
            return ("boolean", 1.0, evidence);
        }
        if self.unique()
            && !named(&AMOUNT_WORDS)
            && (self.integers == self.values || named(&ID_WORDS))
        {
            evidence.push(format!(
                "all {} values are present and distinct",
                self.values
            ));
            if named(&ID_WORDS) {
                evidence.push(format!("the name '{name}' reads as an identifier"));
            }
            return ("identifier", 1.0, evidence);
        }
        if self.numbers == self.values && self.values > 0 {
            if named(&AMOUNT_WORDS) {
                evidence.push(format!("numbers in a column named '{name}'"));
                return ("currency", 1.0, evidence);
            }
            evidence.push("every value is a number".into());
            return ("number", 1.0, evidence);
        }
        if self.texts == self.values && self.values > 0 {
            let avg = self.text_chars as f64 / self.values as f64;
            if distinct * 2 <= self.values && distinct <= 50 {
                evidence.push(format!(
                    "{distinct} distinct values over {} rows",
                    self.values
                ));
                return ("category", round(1.0 - distinct as f64 / n), evidence);
            }
            if avg > 30.0 && self.spaced_text * 2 > self.values {
                evidence.push(format!("long sentences (average {avg:.0} characters)"));
                return ("free_text", share(self.spaced_text), evidence);
            }
        }
        evidence.push("no stronger pattern".into());
        ("text", 0.5, evidence)
    }
}

#[async_trait]
impl SagaStep for Interpret {
    fn name(&self) -> &str {
        "interpret"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let parsed = ready_parsed(ctx, &self.0).await?;
        let interpretation = interpretation(ctx, &parsed).await?;
        let name = dataset_name(ctx, &parsed).await?;
        let mut artifacts = Map::new();
        let view = super::views::discovery(&interpretation, &name);
        super::findings::record(
            ctx,
            "discovery",
            std::slice::from_ref(&parsed.artifact_id),
            &view,
            json!({}),
        )
        .await?;
        artifacts.insert("discovery".into(), artifact("discovery", view));
        artifacts.insert(
            "interpretation".into(),
            artifact("interpretation", interpretation),
        );
        Ok(StepOutput {
            output: json!({"parsed_file_id": parsed.artifact_id}),
            artifacts,
        })
    }
}

/// The interpretation of a parsed file (one pass over its records).
pub async fn interpretation(ctx: &StepContext, parsed: &ArtifactRow) -> Result<Value, StepError> {
    let (analyzed, columns_total) = analyzed_columns(parsed);
    let order: Vec<String> = analyzed.into_iter().map(|(name, _)| name).collect();
    let distinct_limit = per_column(DISTINCT_LIMIT, MAX_TRACKED_VALUES, order.len());
    let mut kinds: BTreeMap<String, Kinds> = order
        .iter()
        .map(|n| {
            let k = Kinds {
                distinct_limit,
                ..Default::default()
            };
            (n.clone(), k)
        })
        .collect();
    let rows = each_record(ctx, &parsed.artifact_id, |record| {
        for (name, k) in kinds.iter_mut() {
            k.observe(record.get(name).unwrap_or(&Value::Null));
        }
    })
    .await?;
    let mut columns = Map::new();
    let mut keys: Vec<(u8, String)> = Vec::new();
    for name in &order {
        let k = &kinds[name];
        let (semantic, confidence, evidence) = k.decide(name);
        if k.unique() {
            // Identifiers make the best keys, then emails and phones, then anything unique.
            let rank = match semantic {
                "identifier" => 0,
                "email" | "phone" => 1,
                _ => 2,
            };
            keys.push((rank, name.clone()));
        }
        columns.insert(
            name.clone(),
            json!({"semantic_type": semantic, "confidence": confidence, "evidence": evidence,
                    "unique": k.unique(), "null_count": k.nulls}),
        );
    }
    keys.sort();
    let interpretation = json!({
        "parsed_file_id": parsed.artifact_id,
        "file_id": parsed.semantic_descriptor["file_id"],
        "record_count": rows,
        "columns": columns,
        "candidate_keys": keys.into_iter().map(|(_, n)| n).collect::<Vec<_>>(),
        "analyzed_columns": columns_note(order.len(), columns_total),
        "limits": {"max_tracked_values": MAX_TRACKED_VALUES,
            "distinct_values_per_column": distinct_limit},
    });
    Ok(interpretation)
}

/// What a person calls a parsed file: its file's name (a mash's dataset: the mash's id).
pub async fn dataset_name(ctx: &StepContext, parsed: &ArtifactRow) -> Result<String, StepError> {
    let name = crate::runtime::realms::content::common::display_name(ctx, parsed).await?;
    Ok(match super::over_parsed::descriptor(parsed).mash_id {
        Some(mash) if name == parsed.artifact_id => mash,
        _ => name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_values_are_kept_up_to_the_column_share() {
        // Three distinct values with room for two: the column cannot be shown unique.
        let mut k = Kinds {
            distinct_limit: 2,
            ..Default::default()
        };
        for v in [json!(1), json!(2), json!(3)] {
            k.observe(&v);
        }
        assert_eq!((k.distinct.len(), k.distinct_capped), (2, true));
        assert!(!k.unique());
    }

    #[test]
    fn recognises_phones_and_currency() {
        for p in [
            "+1 555 123 4567",
            "(555) 123-4569",
            "555-123-4568",
            "5551234570",
        ] {
            assert!(is_phone(p), "{p}");
        }
        for not in ["12", "2024-01-01", "abc-def-ghij"] {
            assert!(!is_phone(not), "{not}");
        }
        for c in ["$10.00", "€3", "12.50 USD", "-£4.99", "$1,200"] {
            assert!(is_currency(c), "{c}");
        }
        assert!(!is_currency("$abc") && !is_currency("10"));
    }
}
