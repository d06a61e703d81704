//! An outcome as a Word document (docx-rs): a title, then one section per field of its
//! payload, in the payload's order — text as paragraphs, lists as bullets, lists of records
//! as tables, records as two-column tables (nested lists of records as tables under them),
//! and every `workflow_chart.image_base64` as its picture. Bounded: at most [`MAX_ROWS`]
//! rows a table, [`MAX_COLUMNS`] columns, [`MAX_CELL_CHARS`] characters a cell, three levels.

use base64::Engine;
use docx_rs::{Docx, Paragraph, Pic, Run, Style, StyleType, Table, TableCell, TableRow};
use serde_json::Value;

pub const MAX_ROWS: usize = 500;
pub const MAX_COLUMNS: usize = 8;
pub const MAX_CELL_CHARS: usize = 1_000;
/// Fields that are the machine's, not the reader's.
const SKIPPED: &[&str] = &["workflow", "image_base64", "rules", "procedure"];

fn title_of(key: &str) -> String {
    let words = key.replace('_', " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The text without the characters XML 1.0 forbids (control characters other than tab,
/// newline and carriage return; U+FFFE, U+FFFF), which would make Word refuse the file.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
        })
        .collect()
}

fn scalar(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        _ => return None,
    };
    Some(s.chars().take(MAX_CELL_CHARS).collect())
}

fn heading(level: usize, text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(Run::new().add_text(clean(text)))
        .style(&format!("Heading{}", level.min(3)))
}

fn text(t: &str) -> Paragraph {
    Paragraph::new().add_run(Run::new().add_text(clean(t)))
}

fn cell(t: &str, bold: bool) -> TableCell {
    let run = Run::new().add_text(clean(t));
    TableCell::new().add_paragraph(Paragraph::new().add_run(if bold { run.bold() } else { run }))
}

/// A list of records as a table: the columns are their scalar (or list-of-text) fields.
fn records_table(items: &[Value]) -> Option<Table> {
    let mut columns: Vec<String> = Vec::new();
    for item in items.iter().take(MAX_ROWS) {
        for (k, v) in item.as_object()? {
            let listable = scalar(v).is_some()
                || v.as_array()
                    .is_some_and(|a| a.iter().all(|x| scalar(x).is_some()));
            if listable
                && !columns.contains(k)
                && columns.len() < MAX_COLUMNS
                && !SKIPPED.contains(&k.as_str())
            {
                columns.push(k.clone());
            }
        }
    }
    if columns.is_empty() {
        return None;
    }
    let mut rows = vec![TableRow::new(
        columns.iter().map(|c| cell(&title_of(c), true)).collect(),
    )];
    for item in items.iter().take(MAX_ROWS) {
        rows.push(TableRow::new(
            columns
                .iter()
                .map(|c| {
                    let v = &item[c.as_str()];
                    let t = match v.as_array() {
                        Some(a) => a.iter().filter_map(scalar).collect::<Vec<_>>().join("; "),
                        None => scalar(v).unwrap_or_default(),
                    };
                    cell(&t.chars().take(MAX_CELL_CHARS).collect::<String>(), false)
                })
                .collect(),
        ));
    }
    Some(Table::new(rows))
}

fn chart(doc: Docx, v: &Value) -> Docx {
    let Some(b64) = v["image_base64"].as_str() else {
        return doc;
    };
    let Ok(png) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return doc;
    };
    let Ok((w, h)) = png_size(&png) else {
        return doc;
    };
    // At most 16 cm wide (9525 EMU a pixel at 96 dpi), the height in proportion.
    let max_w = 16 * 360_000u64;
    let (ew, eh) = (w as u64 * 9525, h as u64 * 9525);
    let (ew, eh) = if ew > max_w {
        (max_w, eh * max_w / ew)
    } else {
        (ew, eh)
    };
    doc.add_paragraph(Paragraph::new().add_run(
        Run::new().add_image(Pic::new_with_dimensions(png, w, h).size(ew as u32, eh as u32)),
    ))
}

/// A PNG's width and height, from its header.
fn png_size(png: &[u8]) -> Result<(u32, u32), ()> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" {
        return Err(());
    }
    let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let h = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    Ok((w, h))
}

fn section(mut doc: Docx, key: &str, v: &Value, level: usize) -> Docx {
    if SKIPPED.contains(&key) || level > 3 {
        return doc;
    }
    if key == "workflow_chart" {
        return chart(doc, v);
    }
    match v {
        Value::Null => doc,
        Value::Array(items) if items.is_empty() => doc,
        Value::Array(items) if items.iter().all(|i| scalar(i).is_some()) => {
            doc = doc.add_paragraph(heading(level, &title_of(key)));
            for i in items.iter().take(MAX_ROWS) {
                doc = doc.add_paragraph(text(&format!("• {}", scalar(i).unwrap_or_default())));
            }
            doc
        }
        Value::Array(items) => {
            doc = doc.add_paragraph(heading(level, &title_of(key)));
            match records_table(items) {
                Some(t) => doc.add_table(t),
                None => doc,
            }
        }
        Value::Object(map) => {
            doc = doc.add_paragraph(heading(level, &title_of(key)));
            fields(doc, map, level + 1)
        }
        other => {
            doc = doc.add_paragraph(heading(level, &title_of(key)));
            doc.add_paragraph(text(&scalar(other).unwrap_or_default()))
        }
    }
}

fn styles(doc: Docx) -> Docx {
    [(1, 32), (2, 26), (3, 22)]
        .into_iter()
        .fold(doc, |d, (level, size)| {
            d.add_style(
                Style::new(format!("Heading{level}"), StyleType::Paragraph)
                    .name(format!("Heading {level}"))
                    .size(size)
                    .bold(),
            )
        })
}

/// A record's fields: its scalar ones as one two-column table, then a section (at `level`)
/// for each of the rest.
fn fields(mut doc: Docx, map: &serde_json::Map<String, Value>, level: usize) -> Docx {
    let pairs: Vec<(&String, String)> = map
        .iter()
        .filter(|(k, _)| !SKIPPED.contains(&k.as_str()))
        .filter_map(|(k, v)| scalar(v).map(|s| (k, s)))
        .take(MAX_ROWS)
        .collect();
    if !pairs.is_empty() {
        doc = doc.add_table(Table::new(
            pairs
                .iter()
                .map(|(k, s)| TableRow::new(vec![cell(&title_of(k), true), cell(s, false)]))
                .collect(),
        ));
    }
    // Sections in reading order: the ones a reader expects first, then the rest by name.
    let mut rest: Vec<(&String, &Value)> =
        map.iter().filter(|(_, v)| scalar(v).is_none()).collect();
    rest.sort_by_key(|(k, _)| {
        (
            FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()),
            k.as_str(),
        )
    });
    for (k, v) in rest {
        doc = section(doc, k, v, level);
    }
    doc
}

/// Sections shown first, in this order (as is today, then with Symphainy, then the plan).
const FIRST: &[&str] = &[
    "current_state",
    "coexistence_state",
    "strategic_plan",
    "roadmap",
    "phases",
    "objectives",
    "scope",
    "timeline",
    "responsibility_matrix",
    "obligations",
];

/// The document's bytes: `title`, then the payload's fields.
pub fn document(title: &str, payload: &Value) -> Result<Vec<u8>, String> {
    let mut doc = styles(Docx::new()).add_paragraph(heading(1, title));
    if let Some(map) = payload.as_object() {
        doc = fields(doc, map, 2);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut out).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn control_characters_never_reach_the_xml() {
        let bytes = document(
            "Roadmap: Q3\u{7}plan",
            &serde_json::json!({"description": "a\u{1}b", "phases": [{"name": "x\u{FFFF}y"}]}),
        )
        .unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(xml.contains("Roadmap: Q3plan") && xml.contains(">ab<") && xml.contains(">xy<"));
        assert!(!xml
            .chars()
            .any(|c| matches!(c, '\u{1}' | '\u{7}' | '\u{FFFF}')));
    }
}
