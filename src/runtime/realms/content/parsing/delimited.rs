//! CSV and TSV through the `csv` crate: quoted fields (with delimiters and newlines inside),
//! strict field counts (a ragged row fails with its line number), header detection.

use std::collections::HashSet;
use std::io::Read;

use serde_json::{Map, Value};

use super::infer::{typed_cell, ColumnsInfer};
use super::{ParseError, ParseOptions, ParseSummary, Sink};

pub fn parse(
    reader: impl Read,
    delimiter: u8,
    options: &ParseOptions,
    sink: &mut Sink<'_>,
) -> Result<ParseSummary, ParseError> {
    let parsing_type = if delimiter == b'\t' { "tsv" } else { "csv" };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(false)
        .from_reader(reader);
    let mut records = rdr.records();
    let first = match records.next() {
        None => {
            return Ok(ParseSummary {
                parsing_type,
                record_count: 0,
                columns: Vec::new(),
            })
        }
        Some(r) => r.map_err(csv_error)?,
    };
    let header = options.header.unwrap_or_else(|| looks_like_header(&first));
    let names = if header {
        column_names(&first)
    } else {
        (1..=first.len()).map(|i| format!("column_{i}")).collect()
    };
    let mut stats = ColumnsInfer::with_names(&names);
    let mut count = 0u64;
    let mut emit = |rec: &csv::StringRecord| -> Result<(), ParseError> {
        if rec.iter().any(|cell| cell.contains('\0')) {
            let line = rec.position().map_or(0, |p| p.line());
            return Err(ParseError::at_line(line, "binary content (a NUL byte)"));
        }
        let mut record = Map::with_capacity(names.len());
        for (name, cell) in names.iter().zip(rec.iter()) {
            record.insert(name.clone(), typed_cell(cell));
        }
        stats.observe_record(&record);
        count += 1;
        sink(record)
    };
    if !header {
        emit(&first)?;
    }
    for rec in records {
        emit(&rec.map_err(csv_error)?)?;
    }
    Ok(ParseSummary {
        parsing_type,
        record_count: count,
        columns: stats.finish(),
    })
}

/// A first row is a header when every cell is distinct, non-empty text (no numbers, booleans).
fn looks_like_header(first: &csv::StringRecord) -> bool {
    let mut seen = HashSet::new();
    first.iter().all(|c| {
        let t = c.trim();
        matches!(typed_cell(t), Value::String(_)) && seen.insert(t.to_string())
    })
}

/// Header names, trimmed; blanks named `column_N`, repeats suffixed `_2`, `_3`, ...
fn column_names(first: &csv::StringRecord) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(first.len());
    let mut taken: HashSet<String> = HashSet::with_capacity(first.len());
    let mut next_suffix: std::collections::HashMap<String, usize> = Default::default();
    for (i, c) in first.iter().enumerate() {
        let base = match c.trim() {
            "" => format!("column_{}", i + 1),
            t => t.to_string(),
        };
        let mut name = base.clone();
        if taken.contains(&name) {
            let n = next_suffix.entry(base.clone()).or_insert(2);
            loop {
                name = format!("{base}_{n}");
                *n += 1;
                if !taken.contains(&name) {
                    break;
                }
            }
        }
        taken.insert(name.clone());
        names.push(name);
    }
    names
}

fn csv_error(e: csv::Error) -> ParseError {
    let line = e.position().map(|p| p.line());
    let what = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        csv::ErrorKind::Utf8 { .. } => "the text is not valid UTF-8".to_string(),
        csv::ErrorKind::Io(io) => format!("cannot read the file: {io}"),
        other => format!("{other:?}"),
    };
    match line {
        Some(l) => ParseError::at_line(l, what),
        None => ParseError::new(what),
    }
}
