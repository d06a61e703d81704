//! Parsers for uploaded files: CSV/TSV (delimiter sniffing, quoted fields, header detection,
//! BOM), JSON arrays of objects, JSON Lines and plain text, streamed, so memory stays bounded
//! whatever the file's size; and documents (spreadsheets, Word, PDF: `documents`), read whole
//! up to their own cap. Records are handed to a sink one at a time; column types are inferred
//! on the way.

pub mod copybook;
pub mod data_model;
mod delimited;
pub mod documents;
mod infer;
mod json;
mod sniff;

use std::io::Read;

use serde_json::{Map, Value};

pub use infer::{fits, ColumnStats, ColumnType, ColumnsInfer, DOMINANT_SHARE};
pub use sniff::Format;

use documents::DocKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParsingType {
    Auto,
    Csv,
    Tsv,
    Json,
    Jsonl,
    Text,
    /// xlsx, xls or ods.
    Spreadsheet,
    /// A data model: its fields become the records.
    DataModel,
    Docx,
    Pdf,
}

impl ParsingType {
    /// The names `parsing_type` takes.
    pub const NAMES: &'static str =
        "auto, csv, tsv, json, jsonl, text, spreadsheet (xlsx, xls, ods), docx, pdf, data_model";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "auto" => Self::Auto,
            "csv" => Self::Csv,
            "tsv" => Self::Tsv,
            "json" => Self::Json,
            "jsonl" => Self::Jsonl,
            "text" => Self::Text,
            "spreadsheet" | "xlsx" | "xls" | "ods" | "excel" => Self::Spreadsheet,
            "docx" | "word" => Self::Docx,
            "pdf" => Self::Pdf,
            "data_model" => Self::DataModel,
            _ => return None,
        })
    }

    fn document(self) -> Option<DocKind> {
        match self {
            Self::Spreadsheet => Some(DocKind::Spreadsheet),
            Self::Docx => Some(DocKind::Docx),
            Self::Pdf => Some(DocKind::Pdf),
            _ => None,
        }
    }
}

/// Choices a caller may make (`parse_options`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParseOptions {
    /// Whether a delimited file's first row is a header; `None` detects it.
    pub header: Option<bool>,
    /// A COBOL copybook's text: the file is fixed-width records it describes.
    pub copybook: Option<String>,
    /// The records' text encoding (copybook data); `None` detects it.
    pub encoding: Option<copybook::decode::Encoding>,
}

/// What a parse found.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseSummary {
    pub parsing_type: &'static str,
    pub record_count: u64,
    pub columns: Vec<ColumnStats>,
}

/// A parse failure, with the line it happened on when there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
}

impl ParseError {
    pub fn at_line(line: u64, what: impl std::fmt::Display) -> Self {
        ParseError {
            message: format!("line {line}: {what}"),
        }
    }

    pub fn new(what: impl Into<String>) -> Self {
        ParseError {
            message: what.into(),
        }
    }
}

/// Where records go. Returning `Err` stops the parse (e.g. the consumer is gone).
pub type Sink<'a> = dyn FnMut(Map<String, Value>) -> Result<(), ParseError> + 'a;

/// Parses `reader` as `requested` (or sniffs the format for `Auto`), handing each record to
/// `sink` as a JSON object.
pub fn parse(
    mut reader: impl Read,
    requested: ParsingType,
    options: &ParseOptions,
    sink: &mut Sink<'_>,
) -> Result<ParseSummary, ParseError> {
    if let Some(text) = &options.copybook {
        return copybook::parse(reader, text, options.encoding, sink);
    }
    if requested == ParsingType::DataModel {
        return data_model::parse(reader, sink);
    }
    // A document is known by its first bytes, whatever was asked for `auto`.
    let mut head = Vec::with_capacity(8);
    (&mut reader)
        .take(8)
        .read_to_end(&mut head)
        .map_err(|e| ParseError::new(format!("cannot read the file: {e}")))?;
    let reader = std::io::Cursor::new(head.clone()).chain(reader);
    match (requested.document(), documents::signature(&head)) {
        (Some(kind), Some(_)) => return documents::parse(reader, Some(kind), sink),
        (Some(kind), None) => {
            return Err(ParseError::new(format!(
                "the file is not a {} document",
                kind.name()
            )))
        }
        (None, Some(found)) if requested == ParsingType::Auto => {
            return documents::parse(reader, found, sink)
        }
        _ => {}
    }
    let (format, reader) = sniff::detect(reader, requested)?;
    match format {
        Format::Delimited(delimiter) => delimited::parse(reader, delimiter, options, sink),
        Format::Json => json::parse_array(reader, sink),
        Format::Jsonl => json::parse_lines(reader, sink),
        Format::Text => parse_text(reader, sink),
    }
}

fn parse_text(reader: impl Read, sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
    use std::io::BufRead;
    let mut count = 0u64;
    let mut stats = infer::ColumnsInfer::default();
    for (i, line) in std::io::BufReader::new(reader).lines().enumerate() {
        let line = line.map_err(|e| ParseError::at_line(i as u64 + 1, e))?;
        if line.contains('\0') {
            return Err(ParseError::at_line(
                i as u64 + 1,
                "binary content (a NUL byte)",
            ));
        }
        let line = line.strip_suffix('\r').unwrap_or(&line).to_string();
        let mut record = Map::new();
        record.insert("text".into(), Value::String(line));
        stats.observe_record(&record);
        sink(record)?;
        count += 1;
    }
    Ok(ParseSummary {
        parsing_type: "text",
        record_count: count,
        columns: stats.finish(),
    })
}

#[cfg(test)]
mod tests;
