//! A PDF's text: one record per non-empty line, `{page, line, text}`, pages in order, read
//! with lopdf's text extraction (the text operators of each page's content streams), once
//! its compressed streams are known to inflate to a bounded size.

use serde_json::{Map, Value};

use super::guarded;
use crate::runtime::realms::content::parsing::{ColumnsInfer, ParseError, ParseSummary, Sink};

/// Pages read at most.
pub const MAX_PAGES: usize = 2_000;

/// What a PDF's compressed streams may inflate to, in all.
pub const MAX_INFLATED_BYTES: u64 = 256 * 1024 * 1024;

/// Refuses a PDF whose compressed streams inflate to more than [`MAX_INFLATED_BYTES`]: each
/// `stream … endstream` is inflated into a counter (never into memory) before the PDF
/// library, which inflates them without a limit, sees the file.
fn check_streams(bytes: &[u8]) -> Result<(), ParseError> {
    check_streams_within(bytes, MAX_INFLATED_BYTES)
}

pub(super) fn check_streams_within(bytes: &[u8], cap: u64) -> Result<(), ParseError> {
    use std::io::Read;
    let mut total = 0u64;
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], b"stream") {
        let start = at + found + b"stream".len();
        at = start;
        // The keyword, not `endstream`: a line break follows it.
        let body = match bytes.get(start..) {
            Some([b'\r', b'\n', rest @ ..]) | Some([b'\n', rest @ ..]) => rest,
            _ => continue,
        };
        let end = find(body, b"endstream").unwrap_or(body.len());
        let room = cap - total;
        let inflated = std::io::copy(
            &mut flate2::read::ZlibDecoder::new(&body[..end]).take(room + 1),
            &mut std::io::sink(),
        )
        .unwrap_or(0);
        total += inflated;
        if total > cap {
            return Err(ParseError::new(format!(
                "the PDF's streams inflate to more than {} MiB, the most read",
                cap / (1024 * 1024)
            )));
        }
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn parse(bytes: &[u8], sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
    check_streams(bytes)?;
    let doc = guarded("PDF", || {
        lopdf::Document::load_mem(bytes)
            .map_err(|e| ParseError::new(format!("the PDF cannot be read: {e}")))
    })?;
    if doc.is_encrypted() {
        return Err(ParseError::new(
            "the PDF is encrypted; its text cannot be read",
        ));
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    if pages.len() > MAX_PAGES {
        return Err(ParseError::new(format!(
            "the PDF has {} pages; at most {MAX_PAGES} are read",
            pages.len()
        )));
    }
    let mut stats = ColumnsInfer::with_names(&["page".into(), "line".into(), "text".into()]);
    let mut count = 0u64;
    for page in pages {
        let text = guarded("PDF", || {
            doc.extract_text(&[page]).map_err(|e| {
                ParseError::new(format!("the text of page {page} cannot be read: {e}"))
            })
        })?;
        let mut line_no = 0u64;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            line_no += 1;
            count += 1;
            let mut record = Map::new();
            record.insert("page".into(), Value::from(page));
            record.insert("line".into(), Value::from(line_no));
            record.insert("text".into(), Value::String(line.to_string()));
            stats.observe_record(&record);
            sink(record)?;
        }
    }
    if count == 0 {
        return Err(ParseError::new(
            "the PDF has no extractable text (a scanned image needs OCR, which is not done here)",
        ));
    }
    Ok(ParseSummary {
        parsing_type: "pdf",
        record_count: count,
        columns: stats.finish(),
    })
}
