//! A workbook's first sheet with content (xlsx, xls, ods, through calamine): one record per
//! row. An xlsx sheet is read a cell at a time (memory holds one row); an xls or ods sheet is
//! read whole by calamine, one at a time, an ods only once its laid-out size is checked. The
//! first row names the columns when its non-empty cells are all text (else `column_1` …);
//! numbers stay numbers (a whole float becomes an integer), dates become ISO 8601 text
//! (`2026-01-05`, or with the time), booleans stay booleans, empty and error cells are null.

use std::io::{Cursor, Read};

use calamine::{Data, Reader};

use serde_json::{Map, Value};

use super::guarded;
use crate::runtime::realms::content::parsing::{ColumnsInfer, ParseError, ParseSummary, Sink};

/// Rows read from one sheet at most.
pub const MAX_ROWS: usize = 1_000_000;
/// Columns of one sheet at most.
pub const MAX_COLUMNS: usize = 1_000;

pub fn parse(bytes: Vec<u8>, sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
    let mut rows = Rows::new(sink);
    if is_xlsx(&bytes) {
        guarded("workbook", || xlsx_rows(bytes, &mut rows))?;
    } else {
        if is_ods(&bytes) {
            check_ods_cells(&bytes)?;
        }
        // An xls or ods sheet is read whole (calamine builds its grid): one at a time.
        let _one = WHOLE_SHEETS.lock();
        guarded("workbook", || whole_sheet_rows(bytes, &mut rows))?;
    }
    rows.finish()
}

/// Cells of an ods sheet at most, counted as calamine lays them out (repeats expanded,
/// trailing empty cells and rows not).
pub const MAX_ODS_CELLS: u64 = 10_000_000;

/// xls and ods sheets being read whole: one at a time (an xls grid is at most 65,536 × 256
/// cells by its format, an ods one at most `MAX_ODS_CELLS`).
static WHOLE_SHEETS: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        && super::open_zip(bytes).is_ok_and(|mut z| z.by_name("xl/workbook.xml").is_ok())
}

fn is_ods(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        && super::open_zip(bytes).is_ok_and(|mut z| z.by_name("content.xml").is_ok())
}

/// The rows of a sheet, handed on as records: the first row names the columns when its
/// non-empty cells are all text.
struct Rows<'s, 'a> {
    sink: &'s mut Sink<'a>,
    names: Option<Vec<String>>,
    stats: ColumnsInfer,
    count: u64,
    rows_seen: usize,
}

impl<'s, 'a> Rows<'s, 'a> {
    fn new(sink: &'s mut Sink<'a>) -> Self {
        Rows {
            sink,
            names: None,
            stats: ColumnsInfer::default(),
            count: 0,
            rows_seen: 0,
        }
    }

    fn row(&mut self, cells: &[Data]) -> Result<(), ParseError> {
        if cells.iter().all(|c| matches!(c, Data::Empty)) {
            return Ok(());
        }
        self.rows_seen += 1;
        if self.rows_seen > MAX_ROWS {
            return Err(ParseError::new(format!(
                "the sheet has more than {MAX_ROWS} rows, the most read"
            )));
        }
        if cells.len() > MAX_COLUMNS {
            return Err(ParseError::new(format!(
                "the sheet has more than {MAX_COLUMNS} columns, the most read"
            )));
        }
        if self.names.is_none() {
            let header = cells
                .iter()
                .all(|c| matches!(c, Data::Empty | Data::String(_)))
                && cells
                    .iter()
                    .any(|c| matches!(c, Data::String(s) if !s.trim().is_empty()));
            if header {
                let names = unique_names(cells.iter().map(|c| c.to_string().trim().to_string()));
                self.stats = ColumnsInfer::with_names(&names);
                self.names = Some(names);
                return Ok(());
            }
            self.names = Some(Vec::new());
        }
        let names = self.names.get_or_insert_with(Vec::new);
        while names.len() < cells.len() {
            let next = format!("column_{}", names.len() + 1);
            names.push(next);
        }
        let mut record = Map::new();
        for (name, cell) in names.iter().zip(cells.iter()) {
            record.insert(name.clone(), value(cell));
        }
        self.stats.observe_record(&record);
        (self.sink)(record)?;
        self.count += 1;
        Ok(())
    }

    fn finish(self) -> Result<ParseSummary, ParseError> {
        if self.names.is_none() {
            return Err(ParseError::new("the workbook has no sheet with content"));
        }
        Ok(ParseSummary {
            parsing_type: "spreadsheet",
            record_count: self.count,
            columns: self.stats.finish(),
        })
    }
}

/// An xlsx workbook's first sheet with content, a cell at a time: memory holds one row, and
/// a cell beyond the caps fails the parse before anything is allocated for it.
fn xlsx_rows(bytes: Vec<u8>, rows: &mut Rows<'_, '_>) -> Result<(), ParseError> {
    let bad = |e: calamine::XlsxError| ParseError::new(format!("the workbook cannot be read: {e}"));
    let mut book = calamine::Xlsx::new(Cursor::new(bytes)).map_err(bad)?;
    for name in book.sheet_names() {
        let mut cells = book.worksheet_cells_reader(&name).map_err(bad)?;
        let mut current: Option<u32> = None;
        let mut row: Vec<Data> = Vec::new();
        while let Some(cell) = cells.next_cell().map_err(bad)? {
            let (r, c) = cell.get_position();
            if c as usize >= MAX_COLUMNS || r as usize >= MAX_ROWS {
                return Err(ParseError::new(format!(
                    "the sheet has a cell beyond row {MAX_ROWS} or column {MAX_COLUMNS}, the most read"
                )));
            }
            if current != Some(r) {
                if current.is_some() {
                    rows.row(&row)?;
                }
                row.clear();
                current = Some(r);
            }
            if row.len() <= c as usize {
                row.resize(c as usize + 1, Data::Empty);
            }
            row[c as usize] = cell.get_value().clone().into();
        }
        if current.is_some() {
            rows.row(&row)?;
        }
        if rows.names.is_some() {
            return Ok(());
        }
    }
    Ok(())
}

/// An xls or ods workbook's first sheet with content, read whole.
fn whole_sheet_rows(bytes: Vec<u8>, rows: &mut Rows<'_, '_>) -> Result<(), ParseError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| ParseError::new(format!("the workbook cannot be read: {e}")))?;
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| ParseError::new(format!("sheet {name} cannot be read: {e}")))?;
        for row in range.rows() {
            rows.row(row)?;
        }
        if rows.names.is_some() {
            return Ok(());
        }
    }
    Ok(())
}

/// Refuses an ods whose sheets, laid out, would hold more than [`MAX_ODS_CELLS`] cells:
/// repeated rows and columns (`number-rows-repeated`, `number-columns-repeated`) are counted
/// as calamine expands them, trailing empty ones not.
fn check_ods_cells(bytes: &[u8]) -> Result<(), ParseError> {
    use quick_xml::events::Event;
    let mut zip = super::open_zip(bytes)?;
    let mut entry = zip
        .by_name("content.xml")
        .map_err(|_| ParseError::new("the spreadsheet has no content"))?;
    let mut xml = Vec::new();
    (&mut entry)
        .take(super::MAX_UNZIPPED_BYTES)
        .read_to_end(&mut xml)
        .map_err(|e| ParseError::new(format!("the spreadsheet cannot be read: {e}")))?;
    let repeat = |e: &quick_xml::events::BytesStart<'_>, name: &[u8]| -> u64 {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .and_then(|a| std::str::from_utf8(&a.value).ok()?.parse().ok())
            .unwrap_or(1)
    };
    let (mut cells, mut width, mut pending_empty_rows) = (0u64, 0u64, 0u64);
    let (mut row_repeat, mut at, mut row_width) = (1u64, 0u64, 0u64);
    let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| ParseError::new(format!("the spreadsheet's XML is damaged: {e}")))?;
        match event {
            Event::Eof => break,
            Event::Start(e) if e.local_name().as_ref() == b"table-row" => {
                row_repeat = repeat(&e, b"table:number-rows-repeated");
                (at, row_width) = (0, 0);
            }
            Event::Empty(e) if e.local_name().as_ref() == b"table-row" => {
                pending_empty_rows =
                    pending_empty_rows.saturating_add(repeat(&e, b"table:number-rows-repeated"));
            }
            Event::Start(e) | Event::Empty(e)
                if matches!(
                    e.local_name().as_ref(),
                    b"table-cell" | b"covered-table-cell"
                ) =>
            {
                let n = repeat(&e, b"table:number-columns-repeated");
                at = at.saturating_add(n);
                let valued = e
                    .attributes()
                    .flatten()
                    .any(|a| a.key.as_ref() == b"office:value-type");
                if valued {
                    row_width = at;
                }
            }
            Event::End(e) if e.local_name().as_ref() == b"table-row" => {
                if row_width == 0 {
                    pending_empty_rows = pending_empty_rows.saturating_add(row_repeat);
                } else {
                    width = width.max(row_width);
                    let rows = pending_empty_rows.saturating_add(row_repeat);
                    cells = cells.saturating_add(rows.saturating_mul(width));
                    pending_empty_rows = 0;
                }
                if cells > MAX_ODS_CELLS {
                    return Err(ParseError::new(format!(
                        "the spreadsheet lays out more than {MAX_ODS_CELLS} cells, the most read"
                    )));
                }
            }
            Event::End(e) if e.local_name().as_ref() == b"table" => {
                (width, pending_empty_rows) = (0, 0);
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(())
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
