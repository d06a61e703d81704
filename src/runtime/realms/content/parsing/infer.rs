//! Column type inference with null counting, one value at a time.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    Integer,
    Float,
    Boolean,
    Date,
    Datetime,
    String,
    /// Only nulls were seen.
    Null,
    /// JSON objects or arrays.
    Json,
}

impl ColumnType {
    /// The name stored and sent (`integer`, `float`, …), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Float => "float",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
            ColumnType::Datetime => "datetime",
            ColumnType::String => "string",
            ColumnType::Null => "null",
            ColumnType::Json => "json",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    pub null_count: u64,
}

#[derive(Debug, Default, Clone)]
struct Seen {
    ints: u64,
    floats: u64,
    bools: u64,
    dates: u64,
    datetimes: u64,
    strings: u64,
    json: u64,
}

impl Seen {
    fn non_null(&self) -> u64 {
        self.ints
            + self.floats
            + self.bools
            + self.dates
            + self.datetimes
            + self.strings
            + self.json
    }
}

/// Columns tracked at most; keys beyond are left out of the column list (a file whose records
/// each bring new keys would otherwise grow the list without bound).
pub const MAX_COLUMNS: usize = 1000;

/// Columns in order of first appearance, with what was seen in each. Each record costs only
/// its own keys: a column's nulls are the records in which it had no non-null value.
#[derive(Debug, Default)]
pub struct ColumnsInfer {
    names: Vec<String>,
    index: std::collections::HashMap<String, usize>,
    seen: Vec<Seen>,
    records: u64,
    /// Columns beyond the header's (or beyond `MAX_COLUMNS` without one) are not tracked.
    extra_allowed: usize,
}

impl ColumnsInfer {
    /// Columns known in advance (a header): all tracked, and up to `MAX_COLUMNS` more.
    pub fn with_names(names: &[String]) -> Self {
        let mut c = Self {
            extra_allowed: names.len(),
            ..Self::default()
        };
        for n in names {
            c.column(n);
        }
        c
    }

    fn column(&mut self, name: &str) -> Option<usize> {
        if let Some(i) = self.index.get(name) {
            return Some(*i);
        }
        if self.names.len() >= MAX_COLUMNS.max(self.extra_allowed) {
            return None;
        }
        self.names.push(name.to_string());
        self.seen.push(Seen::default());
        self.index.insert(name.to_string(), self.names.len() - 1);
        Some(self.names.len() - 1)
    }

    pub fn observe_record(&mut self, record: &Map<String, Value>) {
        for (k, v) in record {
            let Some(i) = self.column(k) else { continue };
            let s = &mut self.seen[i];
            match v {
                Value::Null => {}
                Value::Bool(_) => s.bools += 1,
                Value::Number(n) if n.is_i64() || n.is_u64() => s.ints += 1,
                Value::Number(_) => s.floats += 1,
                Value::String(text) => match classify_text(text) {
                    ColumnType::Date => s.dates += 1,
                    ColumnType::Datetime => s.datetimes += 1,
                    _ => s.strings += 1,
                },
                Value::Array(_) | Value::Object(_) => s.json += 1,
            }
        }
        self.records += 1;
    }

    pub fn finish(self) -> Vec<ColumnStats> {
        let records = self.records;
        self.names
            .into_iter()
            .zip(self.seen)
            .map(|(name, s)| ColumnStats {
                name,
                column_type: decide(&s),
                null_count: records - s.non_null(),
            })
            .collect()
    }
}

/// A column takes the type of its dominant kind when at least this share of its non-null
/// values have it; the others are "breaks" (reported by the quality assessment).
pub const DOMINANT_SHARE: f64 = 0.9;

fn decide(s: &Seen) -> ColumnType {
    let non_null = s.non_null();
    if non_null == 0 {
        return ColumnType::Null;
    }
    let share = |n: u64| n as f64 / non_null as f64;
    let dominant = |n: u64| n > 0 && share(n) >= DOMINANT_SHARE;
    if s.json > 0 {
        ColumnType::Json
    } else if s.bools == non_null {
        ColumnType::Boolean
    } else if s.ints == non_null {
        ColumnType::Integer
    } else if s.ints + s.floats == non_null {
        ColumnType::Float
    } else if s.dates == non_null {
        ColumnType::Date
    } else if s.dates + s.datetimes == non_null && s.datetimes > 0 {
        ColumnType::Datetime
    } else if dominant(s.ints) && s.floats == 0 {
        ColumnType::Integer
    } else if dominant(s.ints + s.floats) {
        ColumnType::Float
    } else if dominant(s.bools) {
        ColumnType::Boolean
    } else if dominant(s.dates) && s.datetimes == 0 {
        ColumnType::Date
    } else if dominant(s.dates + s.datetimes) {
        ColumnType::Datetime
    } else {
        ColumnType::String
    }
}

/// Whether a value fits a column type (nulls always fit).
pub fn fits(t: ColumnType, v: &Value) -> bool {
    match (t, v) {
        (_, Value::Null) => true,
        (ColumnType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (ColumnType::Float, Value::Number(_)) => true,
        (ColumnType::Boolean, Value::Bool(_)) => true,
        (ColumnType::Date, Value::String(s)) => classify_text(s) == ColumnType::Date,
        (ColumnType::Datetime, Value::String(s)) => {
            matches!(classify_text(s), ColumnType::Date | ColumnType::Datetime)
        }
        (ColumnType::String, Value::String(_)) => true,
        (ColumnType::String, _) => true,
        (ColumnType::Json, _) => true,
        _ => false,
    }
}

/// A cell of a delimited file as a typed JSON value: empty and common null spellings become
/// null, numbers and booleans their JSON kind, anything else stays text.
pub fn typed_cell(cell: &str) -> Value {
    let t = cell.trim();
    if t.is_empty() || matches!(t, "null" | "NULL" | "NaN" | "N/A" | "n/a" | "NA") {
        return Value::Null;
    }
    // Identifiers with leading zeros ("007", "0123.5" is not a price) stay text.
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    let digits = unsigned.as_bytes();
    if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
        return Value::String(cell.to_string());
    }
    if let Ok(i) = t.parse::<i64>() {
        return Value::from(i);
    }
    // An integer too large for 64 bits is an identifier, not a float to round.
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        return Value::String(cell.to_string());
    }
    if looks_like_float(t) {
        if let Ok(f) = t.parse::<f64>() {
            if f.is_finite() {
                return Value::from(f);
            }
        }
    }
    match t.to_ascii_lowercase().as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    Value::String(cell.to_string())
}

fn looks_like_float(t: &str) -> bool {
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    digits > 0
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
}

fn classify_text(t: &str) -> ColumnType {
    let b = t.as_bytes();
    let is_date = |b: &[u8]| {
        b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
            && chrono::NaiveDate::parse_from_str(std::str::from_utf8(b).unwrap_or(""), "%Y-%m-%d")
                .is_ok()
    };
    if is_date(b) {
        return ColumnType::Date;
    }
    if b.len() >= 16 && is_date(&b[..10]) && (b[10] == b'T' || b[10] == b' ') {
        let rest = &t[11..];
        let ok = chrono::DateTime::parse_from_rfc3339(t).is_ok()
            || chrono::NaiveTime::parse_from_str(rest, "%H:%M:%S").is_ok()
            || chrono::NaiveTime::parse_from_str(rest, "%H:%M:%S%.f").is_ok()
            || chrono::NaiveTime::parse_from_str(rest, "%H:%M").is_ok();
        if ok {
            return ColumnType::Datetime;
        }
    }
    ColumnType::String
}
