//! A workbook's first sheet with content (xlsx, xls, ods, through calamine): one record per
//! row. The first row names the columns when every cell of it is text (else `column_1` …);
//! numbers stay numbers (a whole float becomes an integer), dates become ISO 8601 text
//! (`2026-01-05`, or with the time), booleans stay booleans, empty and error cells are null.

use std::io::Cursor;

use calamine::{Data, Reader};
use serde_json::{Map, Value};

use super::guarded;
use crate::runtime::realms::content::parsing::{ColumnsInfer, ParseError, ParseSummary, Sink};

/// Rows read from one sheet at most.
pub const MAX_ROWS: usize = 1_000_000;
/// Columns of one sheet at most.
pub const MAX_COLUMNS: usize = 1_000;

pub fn parse(bytes: Vec<u8>, sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
    let range = guarded("workbook", || {
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| ParseError::new(format!("the workbook cannot be read: {e}")))?;
        for name in book.sheet_names() {
            let range = book
                .worksheet_range(&name)
                .map_err(|e| ParseError::new(format!("sheet {name} cannot be read: {e}")))?;
            if !range.is_empty() {
                return Ok(Some(range));
            }
        }
        Ok(None)
    })?;
    let Some(range) = range else {
        return Err(ParseError::new("the workbook has no sheet with content"));
    };
    let (rows, width) = range.get_size();
    if rows > MAX_ROWS || width > MAX_COLUMNS {
        return Err(ParseError::new(format!(
            "the sheet has {rows} rows and {width} columns; at most {MAX_ROWS} rows and \
             {MAX_COLUMNS} columns are read"
        )));
    }
    let mut all = range.rows();
    let first: Vec<Data> = all.next().map(<[Data]>::to_vec).unwrap_or_default();
    let header = first
        .iter()
        .all(|c| matches!(c, Data::String(s) if !s.trim().is_empty()));
    let names: Vec<String> = if header {
        unique_names(first.iter().map(|c| c.to_string().trim().to_string()))
    } else {
        (1..=width).map(|i| format!("column_{i}")).collect()
    };
    let mut stats = ColumnsInfer::with_names(&names);
    let mut count = 0u64;
    let body = (!header).then_some(first.as_slice()).into_iter();
    for row in body.chain(all) {
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let mut record = Map::new();
        for (name, cell) in names.iter().zip(row.iter()) {
            record.insert(name.clone(), value(cell));
        }
        stats.observe_record(&record);
        sink(record)?;
        count += 1;
    }
    Ok(ParseSummary {
        parsing_type: "spreadsheet",
        record_count: count,
        columns: stats.finish(),
    })
}

/// Header names made unique (`amount`, `amount_2`), empty ones named by position.
fn unique_names(raw: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, n) in raw.enumerate() {
        let base = if n.is_empty() {
            format!("column_{}", i + 1)
        } else {
            n
        };
        let mut name = base.clone();
        let mut k = 2;
        while names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        names.push(name);
    }
    names
}

fn value(cell: &Data) -> Value {
    match cell {
        Data::Empty | Data::Error(_) => Value::Null,
        Data::Int(i) => Value::from(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(*f as i64),
        Data::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Data::Bool(b) => Value::Bool(*b),
        Data::String(s) => Value::String(s.clone()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Value::String(s.clone()),
        Data::DateTime(d) => {
            let (y, mo, day, h, mi, s, ms) = d.to_ymd_hms_milli();
            Value::String(if (h, mi, s, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{mo:02}-{day:02}")
            } else {
                format!("{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}")
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::unique_names;

    #[test]
    fn header_names_are_unique_and_never_empty() {
        let names = unique_names(
            ["amount", "", "amount", "amount"]
                .into_iter()
                .map(String::from),
        );
        assert_eq!(names, ["amount", "column_2", "amount_2", "amount_3"]);
    }
}
