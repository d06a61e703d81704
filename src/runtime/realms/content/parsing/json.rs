//! JSON: an array of objects streamed element by element (never the whole array in memory), a
//! single object as one record, and JSON Lines.

use std::fmt;
use std::io::{BufRead, BufReader, Read};

use serde::de::{self, Deserializer as _, SeqAccess, Visitor};
use serde_json::Value;

use super::infer::ColumnsInfer;
use super::{ParseError, ParseSummary, Sink};

pub fn parse_array(reader: impl Read, sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    // Leading whitespace is skipped here, so its newlines are added to reported lines.
    let mut skipped_lines = 0u64;
    let first = loop {
        let buf = reader
            .fill_buf()
            .map_err(|e| ParseError::new(format!("cannot read the file: {e}")))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                skipped_lines += buf[..i].iter().filter(|c| **c == b'\n').count() as u64;
                reader.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                skipped_lines += buf.iter().filter(|c| **c == b'\n').count() as u64;
                reader.consume(n);
            }
        }
    };
    let mut stats = ColumnsInfer::default();
    let mut count = 0u64;
    let mut de = serde_json::Deserializer::from_reader(reader);
    match first {
        None => {}
        Some(b'{') => {
            let v: Value = serde::Deserialize::deserialize(&mut de)
                .map_err(|e| json_error(e, skipped_lines))?;
            let Value::Object(m) = v else {
                unreachable!("starts with {{")
            };
            stats.observe_record(&m);
            sink(m)?;
            count = 1;
        }
        Some(b'[') => {
            let mut stopped = None;
            let visitor = Elements {
                sink,
                stats: &mut stats,
                count: &mut count,
                stopped: &mut stopped,
            };
            if let Err(e) = (&mut de).deserialize_seq(visitor) {
                return Err(stopped.unwrap_or_else(|| json_error(e, skipped_lines)));
            }
        }
        Some(_) => {
            return Err(ParseError::at_line(
                skipped_lines + 1,
                "expected a JSON array of objects or a JSON object",
            ))
        }
    }
    de.end().map_err(|e| json_error(e, skipped_lines))?;
    Ok(ParseSummary {
        parsing_type: "json",
        record_count: count,
        columns: stats.finish(),
    })
}

struct Elements<'a, 'b> {
    sink: &'a mut Sink<'b>,
    stats: &'a mut ColumnsInfer,
    count: &'a mut u64,
    stopped: &'a mut Option<ParseError>,
}

impl<'de> Visitor<'de> for Elements<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            let Value::Object(m) = v else {
                return Err(de::Error::custom(format_args!(
                    "element {} of the array is not an object",
                    *self.count + 1
                )));
            };
            self.stats.observe_record(&m);
            *self.count += 1;
            if let Err(e) = (self.sink)(m) {
                *self.stopped = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

pub fn parse_lines(reader: impl Read, sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
    let mut stats = ColumnsInfer::default();
    let mut count = 0u64;
    for (i, line) in BufReader::with_capacity(256 * 1024, reader)
        .lines()
        .enumerate()
    {
        let n = i as u64 + 1;
        let line = line.map_err(|e| ParseError::at_line(n, e))?;
        if line.trim().is_empty() {
            continue;
        }
        if line.contains('\0') {
            return Err(ParseError::at_line(n, "binary content (a NUL byte)"));
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| ParseError::at_line(n, clean(&e.to_string())))?;
        let Value::Object(m) = value else {
            return Err(ParseError::at_line(n, "expected a JSON object"));
        };
        stats.observe_record(&m);
        sink(m)?;
        count += 1;
    }
    Ok(ParseSummary {
        parsing_type: "jsonl",
        record_count: count,
        columns: stats.finish(),
    })
}

fn json_error(e: serde_json::Error, skipped_lines: u64) -> ParseError {
    ParseError::at_line(e.line() as u64 + skipped_lines, clean(&e.to_string()))
}

/// serde_json appends " at line L column C"; the line is reported separately.
fn clean(msg: &str) -> String {
    msg.split(" at line ").next().unwrap_or(msg).to_string()
}
