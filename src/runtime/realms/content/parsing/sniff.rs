//! Format detection from the first bytes: BOM, binary content, JSON, JSON Lines, delimiters.

use std::io::{Cursor, Read};

use super::{ParseError, ParsingType};

const HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Delimited(u8),
    Json,
    Jsonl,
    Text,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Delimited(b'\t') => "tsv",
            Format::Delimited(_) => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Text => "text",
        }
    }
}

/// Reads the head of the file, decides the format, and returns a reader over the whole
/// content (BOM removed).
pub fn detect(
    mut reader: impl Read,
    requested: ParsingType,
) -> Result<(Format, impl Read), ParseError> {
    let mut head = Vec::with_capacity(HEAD);
    (&mut reader)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|e| ParseError::new(format!("cannot read the file: {e}")))?;
    let bom = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let body = &head[bom..];
    if body.contains(&0) {
        return Err(ParseError::new(
            "the file is binary (it contains NUL bytes), not text that can be parsed",
        ));
    }
    // The head may end inside a multi-byte character: only the prefix must be valid UTF-8.
    if let Err(e) = std::str::from_utf8(body) {
        if e.error_len().is_some() {
            return Err(ParseError::new(format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to() + bom
            )));
        }
    }
    let format = match requested {
        ParsingType::Csv => Format::Delimited(
            sniff_delimiter(body)
                .filter(|d| *d != b'\t')
                .unwrap_or(b','),
        ),
        ParsingType::Tsv => Format::Delimited(b'\t'),
        ParsingType::Json => Format::Json,
        ParsingType::Jsonl => Format::Jsonl,
        ParsingType::Text => Format::Text,
        // Documents and data models never get here (`parse` sends them elsewhere).
        ParsingType::Auto
        | ParsingType::Spreadsheet
        | ParsingType::Docx
        | ParsingType::Pdf
        | ParsingType::DataModel => auto(body),
    };
    let rest = Cursor::new(head).chain(reader);
    let mut rest = rest;
    if bom > 0 {
        let mut skip = [0u8; 3];
        rest.read_exact(&mut skip)
            .map_err(|e| ParseError::new(format!("cannot read the file: {e}")))?;
    }
    Ok((format, rest))
}

fn auto(body: &[u8]) -> Format {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return Format::Json;
    }
    if trimmed.starts_with('{') {
        let lines: Vec<&str> = trimmed
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(5)
            .collect();
        let all_objects = lines
            .iter()
            .all(|l| l.trim_start().starts_with('{') && l.trim_end().ends_with('}'));
        return if lines.len() > 1 && all_objects {
            Format::Jsonl
        } else {
            Format::Json
        };
    }
    match sniff_delimiter(body) {
        Some(d) => Format::Delimited(d),
        None => Format::Text,
    }
}

/// The delimiter that splits the first records into the same number (> 1) of fields.
/// Records, not lines: a quoted field may span lines.
fn sniff_delimiter(body: &[u8]) -> Option<u8> {
    let mut best: Option<(u8, usize)> = None;
    for d in [b'\t', b',', b';', b'|'] {
        let counts = counts_per_record(body, d);
        let Some(first) = counts.first().copied() else {
            continue;
        };
        if first == 0 || counts.iter().any(|c| *c != first) {
            continue;
        }
        if best.is_none_or(|(_, n)| first > n) {
            best = Some((d, first));
        }
    }
    best.map(|(d, _)| d)
}

/// Delimiters outside quotes in each complete record of the head (at most 20; the last,
/// possibly cut-short record is left out when there are others).
fn counts_per_record(body: &[u8], d: u8) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut quoted = false;
    let mut n = 0;
    let mut blank = true;
    for &b in body {
        match b {
            b'"' => {
                quoted = !quoted;
                blank = false;
            }
            b'\n' if !quoted => {
                if !blank {
                    counts.push(n);
                }
                n = 0;
                blank = true;
                if counts.len() == 20 {
                    return counts;
                }
            }
            b'\r' => {}
            _ if b == d && !quoted => {
                n += 1;
                blank = false;
            }
            _ => blank = false,
        }
    }
    if !blank && counts.is_empty() {
        counts.push(n);
    }
    counts
}
