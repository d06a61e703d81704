//! A Word document (docx): its body's paragraphs in order, each a record `{paragraph, style,
//! text}` (`style` is the paragraph style, e.g. `Heading1`, `Normal` when none), and each
//! table row a record of style `table_row` whose text is its cells joined by ` | `. Read from
//! `word/document.xml` with a streaming XML reader.

use std::io::Read;

use quick_xml::events::Event;
use serde_json::{Map, Value};

use super::{guarded, open_zip, MAX_UNZIPPED_BYTES};
use crate::runtime::realms::content::parsing::{ColumnsInfer, ParseError, ParseSummary, Sink};

/// The text of one paragraph or table row, at most (the rest is cut).
pub const MAX_TEXT_CHARS: usize = 64 * 1024;

pub fn parse(bytes: &[u8], sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
    let xml = guarded("Word document", || {
        let mut zip = open_zip(bytes)?;
        let mut entry = zip
            .by_name("word/document.xml")
            .map_err(|_| ParseError::new("the Word document has no body (word/document.xml)"))?;
        let mut xml = Vec::new();
        (&mut entry)
            .take(MAX_UNZIPPED_BYTES)
            .read_to_end(&mut xml)
            .map_err(|e| ParseError::new(format!("the Word document cannot be read: {e}")))?;
        Ok(xml)
    })?;
    let mut paragraphs = Body::default();
    guarded("Word document", || paragraphs.read(&xml))?;
    let mut stats = ColumnsInfer::with_names(&["paragraph".into(), "style".into(), "text".into()]);
    let mut count = 0u64;
    for (style, text) in paragraphs.out {
        count += 1;
        let mut record = Map::new();
        record.insert("paragraph".into(), Value::from(count));
        record.insert("style".into(), Value::String(style));
        record.insert("text".into(), Value::String(text));
        stats.observe_record(&record);
        sink(record)?;
    }
    Ok(ParseSummary {
        parsing_type: "docx",
        record_count: count,
        columns: stats.finish(),
    })
}

/// The paragraphs and table rows read so far, as `(style, text)`.
#[derive(Default)]
struct Body {
    out: Vec<(String, String)>,
    /// The paragraph being read: its style and text.
    style: Option<String>,
    text: String,
    in_text: bool,
    /// Table nesting, and the current row's cells.
    tables: usize,
    cells: Vec<String>,
    cell: String,
}

fn push_limited(into: &mut String, s: &str) {
    for c in s.chars() {
        if into.len() >= MAX_TEXT_CHARS {
            return;
        }
        into.push(c);
    }
}

impl Body {
    fn read(&mut self, xml: &[u8]) -> Result<(), ParseError> {
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut buf = Vec::new();
        loop {
            let event = reader
                .read_event_into(&mut buf)
                .map_err(|e| ParseError::new(format!("the Word document's XML is damaged: {e}")))?;
            match event {
                Event::Eof => return Ok(()),
                Event::Start(e) => match e.local_name().as_ref() {
                    b"p" => {
                        self.style = None;
                        self.text.clear();
                    }
                    b"t" => self.in_text = true,
                    b"tbl" => self.tables += 1,
                    b"tr" => self.cells.clear(),
                    b"tc" => self.cell.clear(),
                    _ => {}
                },
                Event::Empty(e) => match e.local_name().as_ref() {
                    b"pStyle" => {
                        self.style = e
                            .attributes()
                            .flatten()
                            .find(|a| a.key.local_name().as_ref() == b"val")
                            .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                    }
                    b"tab" => push_limited(&mut self.text, "\t"),
                    b"br" => push_limited(&mut self.text, "\n"),
                    _ => {}
                },
                Event::Text(t) if self.in_text => {
                    let s = t.decode().map_err(|e| ParseError::new(e.to_string()))?;
                    push_limited(&mut self.text, &s);
                }
                Event::GeneralRef(r) if self.in_text => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => match &*r.into_inner() {
                            b"amp" => Some('&'),
                            b"lt" => Some('<'),
                            b"gt" => Some('>'),
                            b"quot" => Some('"'),
                            b"apos" => Some('\''),
                            _ => None,
                        },
                    };
                    if let Some(c) = c {
                        push_limited(&mut self.text, c.encode_utf8(&mut [0; 4]));
                    }
                }
                Event::End(e) => match e.local_name().as_ref() {
                    b"t" => self.in_text = false,
                    b"p" => self.end_paragraph(),
                    b"tc" => self.cells.push(std::mem::take(&mut self.cell)),
                    b"tr" if self.tables > 0 => {
                        let row = std::mem::take(&mut self.cells).join(" | ");
                        if !row.trim().is_empty() {
                            self.out.push(("table_row".into(), row));
                        }
                    }
                    b"tbl" => self.tables = self.tables.saturating_sub(1),
                    _ => {}
                },
                _ => {}
            }
            buf.clear();
        }
    }

    fn end_paragraph(&mut self) {
        let text = std::mem::take(&mut self.text);
        if self.tables > 0 {
            // A paragraph of a table cell: part of the cell's text.
            if !self.cell.is_empty() && !text.is_empty() {
                push_limited(&mut self.cell, " ");
            }
            push_limited(&mut self.cell, &text);
        } else if !text.trim().is_empty() {
            let style = self.style.take().unwrap_or_else(|| "Normal".into());
            self.out.push((style, text));
        }
    }
}
