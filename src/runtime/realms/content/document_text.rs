//! A document's text, line by line, for the realms that read prose (SOPs, permits): Word
//! paragraphs (headings marked; tables left out, they are reference material), PDF lines with
//! their page, and plain text lines. Whatever the parsers' caps allow; at most
//! [`MAX_LINES`] lines are kept.

use serde_json::Value;

use super::parsing::{self, documents, ParseOptions, ParsingType};

/// The most lines a document's text keeps.
pub const MAX_LINES: usize = 100_000;

/// One line of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocLine {
    pub text: String,
    /// The PDF page it is on (from 1), when the document has pages.
    pub page: Option<u64>,
    /// A Word heading or title.
    pub heading: bool,
}

/// The document's lines, in order.
pub fn document_lines(bytes: &[u8]) -> Result<Vec<DocLine>, String> {
    let requested = if documents::signature(bytes).is_some() {
        ParsingType::Auto
    } else {
        ParsingType::Text
    };
    let mut out = Vec::new();
    parsing::parse(bytes, requested, &ParseOptions::default(), &mut |r| {
        let style = r.get("style").and_then(Value::as_str).unwrap_or_default();
        if style == "table_row" || out.len() >= MAX_LINES {
            return Ok(());
        }
        out.push(DocLine {
            text: r
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            page: r.get("page").and_then(Value::as_u64),
            heading: style.starts_with("Heading") || style == "Title",
        });
        Ok(())
    })
    .map_err(|e| e.message)?;
    Ok(out)
}
