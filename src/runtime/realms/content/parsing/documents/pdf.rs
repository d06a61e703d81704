//! A PDF's text: one record per non-empty line, `{page, line, text}`, pages in order, read
//! with lopdf's text extraction (the text operators of each page's content streams).

use serde_json::{Map, Value};

use super::guarded;
use crate::runtime::realms::content::parsing::{ColumnsInfer, ParseError, ParseSummary, Sink};

/// Pages read at most.
pub const MAX_PAGES: usize = 2_000;

pub fn parse(bytes: &[u8], sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
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
