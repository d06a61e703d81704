//! Fixed-width records described by a COBOL copybook (mainframe data): the copybook gives the
//! layout (`layout`), each record's bytes are decoded field by field (`decode`): EBCDIC or
//! ASCII text, zoned and packed decimals, binary integers. EBCDIC is assumed unless the data
//! reads as ASCII (or `parse_options.encoding` says); ASCII records may end with a line break.
//! Read one record at a time, so memory stays bounded.

pub mod decode;
pub mod layout;

use std::io::{BufRead, BufReader, Read};

use serde_json::{Map, Value};

use super::{ColumnsInfer, ParseError, ParseSummary, Sink};
use decode::Encoding;

pub fn parse(
    reader: impl Read,
    copybook: &str,
    encoding: Option<Encoding>,
    sink: &mut Sink<'_>,
) -> Result<ParseSummary, ParseError> {
    let layout = layout::layout(copybook).map_err(|e| ParseError::new(e.to_string()))?;
    let len = layout.record_length;
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let sample = reader
        .fill_buf()
        .map_err(|e| ParseError::new(format!("cannot read the file: {e}")))?;
    let enc = encoding.unwrap_or(if decode::looks_ebcdic(sample) {
        Encoding::Ebcdic
    } else {
        Encoding::Ascii
    });
    // ASCII records one per line: a line break right after the first record says so.
    let lines = enc == Encoding::Ascii && matches!(sample.get(len), Some(b'\n' | b'\r'));
    let names: Vec<String> = layout.fields.iter().map(|f| f.name.clone()).collect();
    let mut stats = ColumnsInfer::with_names(&names);
    let mut record = vec![0u8; len];
    let mut count = 0u64;
    let mut invalid = 0u64;
    loop {
        let got = read_full(&mut reader, &mut record)?;
        if got == 0 {
            break;
        }
        if got < len {
            return Err(ParseError::new(format!(
                "record {}: the file ends with {got} bytes, less than a record ({len} bytes, \
                 from the copybook)",
                count + 1
            )));
        }
        let mut out = Map::new();
        for f in &layout.fields {
            let v = decode::value(f, &record[f.offset..f.offset + f.length], enc);
            if v.is_none() {
                invalid += 1;
            }
            out.insert(f.name.clone(), v.unwrap_or(Value::Null));
        }
        stats.observe_record(&out);
        sink(out)?;
        count += 1;
        if lines {
            skip_line_break(&mut reader)?;
        }
    }
    if count == 0 {
        return Err(ParseError::new("the file holds no record"));
    }
    if invalid > 0 {
        tracing::info!(
            invalid,
            "copybook fields whose bytes did not fit their picture: null"
        );
    }
    Ok(ParseSummary {
        parsing_type: "copybook",
        record_count: count,
        columns: stats.finish(),
    })
}

/// Fills `buf` unless the input ends first; how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, ParseError> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ParseError::new(format!("cannot read the file: {e}"))),
        }
    }
    Ok(got)
}

fn skip_line_break(reader: &mut impl BufRead) -> Result<(), ParseError> {
    for _ in 0..2 {
        let next = reader
            .fill_buf()
            .map_err(|e| ParseError::new(format!("cannot read the file: {e}")))?;
        match next.first() {
            Some(b'\r' | b'\n') => {
                let was_lf = next[0] == b'\n';
                reader.consume(1);
                if was_lf {
                    return Ok(());
                }
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}
