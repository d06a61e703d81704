//! Documents that are not text: spreadsheets (xlsx, xls, ods), Word documents (docx) and PDF.
//! They are recognised by their first bytes (a zip's entries, the OLE signature, `%PDF-`),
//! read whole into memory up to [`MAX_DOCUMENT_BYTES`] (a zip's declared content is checked
//! against [`MAX_UNZIPPED_BYTES`] before anything is inflated), and turned into records: a
//! sheet's rows, a document's paragraphs and table rows, a PDF's lines.

mod docx;
mod pdf;
mod spreadsheet;

use std::io::{Cursor, Read};

use super::{ParseError, ParseSummary, Sink};

/// The largest document read into memory.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;
/// The most a zip-based document (xlsx, ods, docx) may declare it holds, unzipped.
pub const MAX_UNZIPPED_BYTES: u64 = 128 * 1024 * 1024;

/// What kind of document the first bytes (and, for a zip, its entries) say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Spreadsheet,
    Docx,
    Pdf,
}

impl DocKind {
    pub fn name(self) -> &'static str {
        match self {
            DocKind::Spreadsheet => "spreadsheet",
            DocKind::Docx => "docx",
            DocKind::Pdf => "pdf",
        }
    }
}

/// A document signature at the start of `head`: `Some(None)` is a zip whose kind its entries
/// tell (read later), `Some(Some(kind))` a known kind, `None` not a document.
pub fn signature(head: &[u8]) -> Option<Option<DocKind>> {
    if head.starts_with(b"%PDF-") {
        Some(Some(DocKind::Pdf))
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE compound file: an old Excel workbook (xls).
        Some(Some(DocKind::Spreadsheet))
    } else if head.starts_with(b"PK\x03\x04") {
        Some(None)
    } else {
        None
    }
}

/// Reads the whole document (refusing one over [`MAX_DOCUMENT_BYTES`]), decides its kind when
/// `kind` is not given, and parses it.
pub fn parse(
    reader: impl Read,
    kind: Option<DocKind>,
    sink: &mut Sink<'_>,
) -> Result<ParseSummary, ParseError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ParseError::new(format!("cannot read the file: {e}")))?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(ParseError::new(format!(
            "the document is larger than {} MiB, the most read as a document",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        )));
    }
    let kind = match kind.or(signature(&bytes).flatten()) {
        Some(k) => k,
        None => zip_kind(&bytes)?,
    };
    if bytes.starts_with(b"PK\x03\x04") {
        check_unzipped_size(&bytes)?;
    }
    match kind {
        DocKind::Spreadsheet => spreadsheet::parse(bytes, sink),
        DocKind::Docx => docx::parse(&bytes, sink),
        DocKind::Pdf => pdf::parse(&bytes, sink),
    }
}

fn open_zip(bytes: &[u8]) -> Result<zip::ZipArchive<Cursor<&[u8]>>, ParseError> {
    zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ParseError::new(format!("the document is not a readable zip: {e}")))
}

/// A zip's kind from its entries: a workbook (`xl/workbook.xml`, or an OpenDocument
/// spreadsheet's `mimetype`) or a Word document (`word/document.xml`).
fn zip_kind(bytes: &[u8]) -> Result<DocKind, ParseError> {
    let mut zip = open_zip(bytes)?;
    if zip.by_name("word/document.xml").is_ok() {
        return Ok(DocKind::Docx);
    }
    if zip.by_name("xl/workbook.xml").is_ok() {
        return Ok(DocKind::Spreadsheet);
    }
    if let Ok(mut m) = zip.by_name("mimetype") {
        let mut mime = String::new();
        let _ = (&mut m).take(100).read_to_string(&mut mime);
        if mime.contains("opendocument.spreadsheet") {
            return Ok(DocKind::Spreadsheet);
        }
    }
    Err(ParseError::new(
        "a zip that is neither a workbook (xlsx, ods) nor a Word document (docx)",
    ))
}

/// Refuses a zip that unzips to more than [`MAX_UNZIPPED_BYTES`] in all. What its directory
/// declares is checked first (nothing inflated); then every entry is inflated into a counter,
/// never into memory, and stopped past the cap or past its declared size, since a deflate
/// stream may hold more than its entry says. The parsers that follow inflate the same bytes.
fn check_unzipped_size(bytes: &[u8]) -> Result<(), ParseError> {
    let too_big = |total: u64| {
        ParseError::new(format!(
            "the document unzips to {} MiB, more than the {} MiB allowed",
            total / (1024 * 1024),
            MAX_UNZIPPED_BYTES / (1024 * 1024)
        ))
    };
    let damaged =
        |e: &dyn std::fmt::Display| ParseError::new(format!("the document's zip is damaged: {e}"));
    let mut zip = open_zip(bytes)?;
    let mut declared = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| damaged(&e))?;
        declared = declared.saturating_add(entry.size());
    }
    if declared > MAX_UNZIPPED_BYTES {
        return Err(too_big(declared));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| damaged(&e))?;
        let says = entry.size();
        let room = MAX_UNZIPPED_BYTES - total;
        let got = std::io::copy(
            &mut (&mut entry).take(room.min(says) + 1),
            &mut std::io::sink(),
        )
        .map_err(|e| damaged(&e))?;
        if got > says {
            return Err(ParseError::new(format!(
                "the document's zip is damaged: an entry holds more than the {says} bytes it declares"
            )));
        }
        total += got;
        if total > MAX_UNZIPPED_BYTES {
            return Err(too_big(total));
        }
    }
    Ok(())
}

/// Runs a parser of untrusted documents, turning a panic in a library into an error.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, ParseError>) -> Result<T, ParseError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(ParseError::new(format!(
            "the {what} could not be read (its structure is damaged or unsupported)"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::read(path).unwrap()
    }

    fn records(bytes: &[u8]) -> Result<(ParseSummary, Vec<Value>), ParseError> {
        let mut out = Vec::new();
        let summary = parse(bytes, None, &mut |r| {
            out.push(Value::Object(r));
            Ok(())
        })?;
        Ok((summary, out))
    }

    use serde_json::Value;

    #[test]
    fn a_workbook_s_first_sheet_becomes_its_rows() {
        let (summary, rows) = records(&fixture("sales.xlsx")).unwrap();
        // (The records' keys print sorted; the columns keep the sheet's order.)
        assert_eq!(summary.parsing_type, "spreadsheet");
        assert_eq!(
            rows,
            [
                json!({"id": 1, "region": "north", "amount": 10.5, "sold_on": "2026-01-05"}),
                json!({"id": 2, "region": "south", "amount": 20, "sold_on": "2026-02-10"}),
                json!({"id": 3, "region": "east", "amount": null, "sold_on": "2026-03-15"}),
            ]
        );
        let types: Vec<(&str, &str)> = summary
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.column_type.as_str()))
            .collect();
        assert_eq!(
            types,
            [
                ("id", "integer"),
                ("region", "string"),
                ("amount", "float"),
                ("sold_on", "date")
            ]
        );
    }

    #[test]
    fn a_word_document_becomes_its_paragraphs_and_table_rows() {
        let (summary, rows) = records(&fixture("approval.docx")).unwrap();
        assert_eq!(summary.parsing_type, "docx");
        let got: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                (
                    r["style"].as_str().unwrap().to_string(),
                    r["text"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want = [
            ("Heading1", "Invoice approval"),
            ("Normal", "Role: Accounts payable clerk"),
            ("Normal", "1. The clerk receives the invoice."),
            (
                "Normal",
                "2. If the amount exceeds 500 EUR, the manager approves it.",
            ),
            ("Normal", "3. The clerk pays the invoice."),
            ("table_row", "Amount | Approver"),
            ("table_row", "over 500 EUR | Manager"),
        ];
        assert_eq!(
            got,
            want.map(|(s, t)| (s.to_string(), t.to_string())).to_vec()
        );
        assert_eq!(rows[6]["paragraph"], 7);
    }

    #[test]
    fn a_pdf_becomes_its_lines_page_by_page() {
        let (summary, rows) = records(&fixture("report.pdf")).unwrap();
        assert_eq!(summary.parsing_type, "pdf");
        assert_eq!(
            rows,
            [
                json!({"page": 1, "line": 1, "text": "Quarterly report"}),
                json!({"page": 1, "line": 2, "text": "Revenue grew 12 percent."}),
                json!({"page": 2, "line": 1, "text": "Risks: supplier delays."}),
            ]
        );
    }

    /// A Word document whose body holds `content` but declares, in both its local header and
    /// the zip's directory, that it unzips to `declared` bytes.
    fn zip_declaring(content: &[u8], declared: u32) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("word/document.xml", deflated).unwrap();
        zip.write_all(content).unwrap();
        let mut bytes = zip.finish().unwrap().into_inner();
        // The uncompressed size: offset 22 of the local header, 24 of the directory's.
        for (signature, offset) in [
            ([0x50, 0x4b, 0x03, 0x04], 22),
            ([0x50, 0x4b, 0x01, 0x02], 24),
        ] {
            let at = bytes.windows(4).position(|w| w == signature).unwrap();
            bytes[at + offset..at + offset + 4].copy_from_slice(&declared.to_le_bytes());
        }
        bytes
    }

    fn lying_zip() -> Vec<u8> {
        zip_declaring(b"<w:document/>", 200 * 1024 * 1024)
    }

    fn understated_zip() -> Vec<u8> {
        zip_declaring(&[b'a'; 100_000], 10)
    }

    #[test]
    fn an_entry_holding_more_than_it_declares_is_refused() {
        let err = records(&understated_zip()).unwrap_err();
        assert!(err.message.contains("damaged"), "{err}");
    }

    #[test]
    fn a_pdf_whose_streams_inflate_past_the_cap_is_refused_before_it_is_loaded() {
        // 3 MiB of zeros deflate to a few KB; against a 2 MiB cap (the real one is 256 MiB).
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&vec![0u8; 3 * 1024 * 1024]).unwrap();
        let deflated = z.finish().unwrap();
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Length 0 /Filter /FlateDecode >>\nstream\n".to_vec();
        pdf.extend(&deflated);
        pdf.extend(b"\nendstream\nendobj\n%%EOF\n");
        let err = pdf::check_streams_within(&pdf, 2 * 1024 * 1024).unwrap_err();
        assert!(err.message.contains("inflate to more than 2 MiB"), "{err}");
        // The real document passes.
        assert!(pdf::check_streams_within(&fixture("report.pdf"), 2 * 1024 * 1024).is_ok());
    }

    #[test]
    fn damaged_and_oversized_documents_are_refused_with_a_reason() {
        let err = records(&lying_zip()).unwrap_err();
        assert!(err.message.contains("unzips to 200 MiB"), "{err}");
        let err = records(b"PK\x03\x04 not really a zip").unwrap_err();
        assert!(err.message.contains("not a readable zip"), "{err}");
        let err = records(b"%PDF-1.4 and nothing else").unwrap_err();
        assert!(err.message.contains("the PDF cannot be read"), "{err}");
    }
}
