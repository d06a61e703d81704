//! A COBOL copybook read into a flat record layout: each elementary item's name, offset,
//! length and how its bytes are encoded. Understood: level numbers and groups, `PIC`/`PICTURE`
//! (`X`, `A`, `9`, `S`, `V`, repeat counts like `9(5)`), `USAGE` `DISPLAY`, `COMP-3` /
//! `PACKED-DECIMAL`, `COMP` / `COMP-4` / `COMP-5` / `BINARY`, `OCCURS n [TIMES]` (items
//! repeated with `_1`, `_2`, … suffixes), and `REDEFINES` (the redefining item is skipped:
//! the first definition is read). Level 88 condition names are kept as the allowed values of
//! their field; level 66 is ignored. Fixed-format sequence areas (columns 1–6, 73–80) and
//! comment lines (`*` in column 7, or a line starting with `*`) are dropped.

use std::fmt;

/// One record's fields at most, and its length in bytes.
pub const MAX_FIELDS: usize = 2_000;
pub const MAX_RECORD_BYTES: usize = 64 * 1024;
/// Digits of a number at most (they fit a 128-bit integer).
pub const MAX_DIGITS: usize = 36;
/// A copybook's text at most.
pub const MAX_COPYBOOK_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// Text (`X`, `A`).
    Text,
    /// Zoned decimal: one digit per byte, the sign in the last byte's zone.
    Zoned,
    /// Packed decimal (`COMP-3`): two digits per byte, the sign in the last nibble.
    Packed,
    /// Big-endian binary (`COMP`, `COMP-4`, `COMP-5`, `BINARY`).
    Binary,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub offset: usize,
    pub length: usize,
    pub usage: Usage,
    /// Digits after the implied decimal point (`V`).
    pub scale: u32,
    pub signed: bool,
    /// Level-88 values that name this field's allowed values.
    pub conditions: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub fields: Vec<Field>,
    pub record_length: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LayoutError(pub String);

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "copybook: {}", self.0)
    }
}

/// One statement: `level name clauses…`.
#[derive(Debug, Clone)]
struct Item {
    level: u32,
    name: String,
    pic: Option<String>,
    usage: Option<String>,
    occurs: usize,
    redefines: bool,
    value: Option<String>,
}

/// The text's statements, comments and sequence areas removed.
fn statements(text: &str) -> Vec<String> {
    let mut code = String::new();
    for line in text.lines() {
        let fixed = line
            .get(..6)
            .is_some_and(|area| area.chars().all(|c| c.is_ascii_digit() || c == ' '))
            && matches!(line.as_bytes().get(6), Some(b' ' | b'*' | b'-'));
        let body = if fixed {
            if line.as_bytes()[6] == b'*' {
                continue;
            }
            let mut end = line.len().min(72);
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.get(7..end).unwrap_or("")
        } else {
            if line.trim_start().starts_with('*') {
                continue;
            }
            line
        };
        code.push_str(body);
        code.push(' ');
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let chars: Vec<char> = code.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            // A period ends a statement when whitespace (or the end) follows: `9(5)V99.` does,
            // the decimal point inside `PIC 9.99` does not.
            None if c == '.' && chars.get(i + 1).is_none_or(|n| n.is_whitespace()) => {
                let s = current.trim().to_string();
                if !s.is_empty() {
                    out.push(s);
                }
                current.clear();
                continue;
            }
            None => {}
        }
        current.push(c);
    }
    let s = current.trim().to_string();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// Words, keeping a quoted literal whole.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                cur.push(c);
                quote = Some(c);
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn item(statement: &str) -> Result<Option<Item>, LayoutError> {
    let w = words(statement);
    let Some(level) = w.first().and_then(|l| l.parse::<u32>().ok()) else {
        // Not a data description (e.g. a `COPY` or a section header): ignored.
        return Ok(None);
    };
    let name = w.get(1).cloned().unwrap_or_else(|| "FILLER".into());
    let mut it = Item {
        level,
        name,
        pic: None,
        usage: None,
        occurs: 1,
        redefines: false,
        value: None,
    };
    let upper: Vec<String> = w.iter().map(|s| s.to_ascii_uppercase()).collect();
    let mut i = 2;
    while i < w.len() {
        match upper[i].as_str() {
            "PIC" | "PICTURE" => {
                i += 1;
                if upper.get(i).is_some_and(|s| s == "IS") {
                    i += 1;
                }
                it.pic = upper.get(i).cloned();
            }
            "USAGE" => {
                i += 1;
                if upper.get(i).is_some_and(|s| s == "IS") {
                    i += 1;
                }
                it.usage = upper.get(i).cloned();
            }
            "COMP" | "COMP-3" | "COMP-4" | "COMP-5" | "COMPUTATIONAL" | "COMPUTATIONAL-3"
            | "COMPUTATIONAL-4" | "COMPUTATIONAL-5" | "BINARY" | "PACKED-DECIMAL" | "DISPLAY" => {
                it.usage = Some(upper[i].clone())
            }
            "OCCURS" => {
                i += 1;
                it.occurs = upper
                    .get(i)
                    .and_then(|n| n.parse().ok())
                    .filter(|n| (1..=MAX_RECORD_BYTES).contains(n))
                    .ok_or_else(|| {
                        LayoutError(format!(
                            "{}: OCCURS needs a count from 1 to {MAX_RECORD_BYTES}",
                            it.name
                        ))
                    })?;
            }
            "REDEFINES" => it.redefines = true,
            "VALUE" | "VALUES" => {
                i += 1;
                if upper.get(i).is_some_and(|s| s == "IS" || s == "ARE") {
                    i += 1;
                }
                it.value = w.get(i).map(|v| v.trim_matches(['\'', '"']).to_string());
            }
            _ => {}
        }
        i += 1;
    }
    Ok(Some(it))
}

/// `X(3)9V99` → (kind, digits or characters, scale, signed).
fn picture(pic: &str) -> Result<(bool, usize, u32, bool), String> {
    let mut numeric = false;
    let mut text = false;
    let mut count = 0usize;
    let mut scale = 0u32;
    let mut after_v = false;
    let mut signed = false;
    let chars: Vec<char> = pic.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1usize;
        if chars.get(i + 1) == Some(&'(') {
            let close = chars[i..]
                .iter()
                .position(|&x| x == ')')
                .filter(|&c| c >= 2)
                .ok_or("an unclosed repeat count")?;
            let digits: String = chars[i + 2..i + close].iter().collect();
            n = digits
                .parse()
                .map_err(|_| format!("a bad repeat count ({digits})"))?;
            i += close;
        }
        match c {
            'X' | 'A' => {
                text = true;
                count += n;
            }
            '9' => {
                numeric = true;
                count += n;
                if after_v {
                    scale += n as u32;
                }
            }
            'S' => signed = true,
            'V' => after_v = true,
            'P' => {}
            other => return Err(format!("the picture symbol {other} is not supported")),
        }
        i += 1;
        if count > MAX_RECORD_BYTES {
            return Err("a field longer than a record may be".into());
        }
    }
    if count == 0 {
        return Err("an empty picture".into());
    }
    if numeric && !text && count > MAX_DIGITS {
        return Err(format!("more than {MAX_DIGITS} digits"));
    }
    Ok((numeric && !text, count, scale, signed))
}

/// Reads a copybook's text into the layout of one record.
pub fn layout(text: &str) -> Result<Layout, LayoutError> {
    if text.len() > MAX_COPYBOOK_BYTES {
        return Err(LayoutError("longer than 1 MiB".into()));
    }
    let mut items: Vec<Item> = Vec::new();
    for s in statements(text) {
        if let Some(it) = item(&s)? {
            // A second level-01 record is another record type: the first one is read.
            if it.level == 1 && !items.is_empty() {
                break;
            }
            items.push(it);
        }
    }
    if items.is_empty() {
        return Err(LayoutError(
            "no data description entries (level numbers) found".into(),
        ));
    }
    let mut fields = Vec::new();
    let mut offset = 0usize;
    let end = expand(&items, 0, &mut fields, &mut offset, "")?;
    debug_assert_eq!(end, items.len());
    if fields.is_empty() {
        return Err(LayoutError("no elementary items with a PIC clause".into()));
    }
    Ok(Layout {
        record_length: offset,
        fields,
    })
}

/// Lays out the items from `start` that belong to the group opened before it (a level above
/// `items[start]`'s), appending fields; returns where the group ends.
fn expand(
    items: &[Item],
    start: usize,
    fields: &mut Vec<Field>,
    offset: &mut usize,
    suffix: &str,
) -> Result<usize, LayoutError> {
    let Some(first) = items.get(start) else {
        return Ok(start);
    };
    let level = first.level;
    let mut i = start;
    while i < items.len() && items[i].level >= level {
        let it = &items[i];
        if it.level == 66 || it.level == 88 {
            // A condition of a group, or a RENAMES: nothing to read.
            i += 1;
            continue;
        }
        // The item's children: the items after it at a deeper level.
        let children_end = {
            let mut j = i + 1;
            while j < items.len() && (items[j].level > it.level || items[j].level == 88) {
                j += 1;
            }
            j
        };
        if it.redefines {
            i = children_end;
            continue;
        }
        for k in 1..=it.occurs {
            let before = (fields.len(), *offset);
            let sfx = if it.occurs > 1 {
                format!("{suffix}_{k}")
            } else {
                suffix.to_string()
            };
            match &it.pic {
                Some(pic) => {
                    let (numeric, digits, scale, signed) = picture(pic)
                        .map_err(|e| LayoutError(format!("{} PIC {pic}: {e}", it.name)))?;
                    let usage = match (numeric, it.usage.as_deref()) {
                        (false, _) => Usage::Text,
                        (true, Some("COMP-3" | "COMPUTATIONAL-3" | "PACKED-DECIMAL")) => {
                            Usage::Packed
                        }
                        (
                            true,
                            Some(
                                "COMP" | "COMP-4" | "COMP-5" | "COMPUTATIONAL" | "COMPUTATIONAL-4"
                                | "COMPUTATIONAL-5" | "BINARY",
                            ),
                        ) => Usage::Binary,
                        (true, _) => Usage::Zoned,
                    };
                    let length = match usage {
                        Usage::Text | Usage::Zoned => digits,
                        Usage::Packed => digits / 2 + 1,
                        Usage::Binary => match digits {
                            1..=4 => 2,
                            5..=9 => 4,
                            _ => 8,
                        },
                    };
                    let name = if it.name.eq_ignore_ascii_case("FILLER") {
                        None
                    } else {
                        Some(format!("{}{sfx}", it.name))
                    };
                    let name_kept = name.is_some();
                    if let Some(name) = name {
                        fields.push(Field {
                            name,
                            offset: *offset,
                            length,
                            usage,
                            scale,
                            signed,
                            conditions: Vec::new(),
                        });
                    }
                    *offset += length;
                    // The level-88 entries right after name this field's values.
                    if name_kept {
                        let mut j = i + 1;
                        while j < children_end && items[j].level == 88 {
                            if let (Some(field), Some(v)) = (fields.last_mut(), &items[j].value) {
                                field.conditions.push((items[j].name.clone(), v.clone()));
                            }
                            j += 1;
                        }
                    }
                }
                None => {
                    // A group: its members, laid out in turn.
                    let first_child = (i + 1..children_end).find(|&j| items[j].level != 88);
                    if let Some(c) = first_child {
                        expand(&items[..children_end], c, fields, offset, &sfx)?;
                    }
                }
            }
            if k == 1 && it.occurs > 1 && (fields.len(), *offset) == before {
                return Err(LayoutError(format!(
                    "{}: a repeated group with nothing in it",
                    it.name
                )));
            }
            if fields.len() > MAX_FIELDS || *offset > MAX_RECORD_BYTES {
                return Err(LayoutError(format!(
                    "a record of more than {MAX_FIELDS} fields or {MAX_RECORD_BYTES} bytes"
                )));
            }
        }
        i = children_end;
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUSTOMER: &str = "\
      * A customer record.
       01  CUSTOMER-RECORD.
           05  CUST-ID          PIC 9(5).
           05  CUST-NAME        PIC X(10).
           05  BALANCE          PIC S9(5)V99 COMP-3.
           05  STATUS-CODE      PIC X.
               88  ACTIVE       VALUE 'A'.
               88  CLOSED       VALUE 'C'.
           05  PHONES OCCURS 2 TIMES.
               10  PHONE        PIC 9(4) COMP.
           05  FILLER           PIC X(2).
           05  ALT-ID REDEFINES CUST-ID PIC X(5).
";

    #[test]
    fn a_copybook_becomes_offsets_lengths_and_encodings() {
        let l = layout(CUSTOMER).unwrap();
        let got: Vec<(&str, usize, usize, Usage, u32, bool)> = l
            .fields
            .iter()
            .map(|f| {
                (
                    f.name.as_str(),
                    f.offset,
                    f.length,
                    f.usage,
                    f.scale,
                    f.signed,
                )
            })
            .collect();
        // 5 zoned digits; 10 characters; 7 digits packed into 4 bytes; 1 character;
        // two 2-byte binaries; 2 bytes of filler: 5 + 10 + 4 + 1 + 4 + 2 = 26.
        assert_eq!(
            got,
            [
                ("CUST-ID", 0, 5, Usage::Zoned, 0, false),
                ("CUST-NAME", 5, 10, Usage::Text, 0, false),
                ("BALANCE", 15, 4, Usage::Packed, 2, true),
                ("STATUS-CODE", 19, 1, Usage::Text, 0, false),
                ("PHONE_1", 20, 2, Usage::Binary, 0, false),
                ("PHONE_2", 22, 2, Usage::Binary, 0, false),
            ]
        );
        assert_eq!(l.record_length, 26);
        assert_eq!(
            l.fields[3].conditions,
            [("ACTIVE".into(), "A".into()), ("CLOSED".into(), "C".into())]
        );
    }

    #[test]
    fn crafted_copybooks_are_refused_not_run() {
        // A repeated group with nothing in it would loop 10^14 times.
        let e = layout("01 R. 05 G OCCURS 500. 05 F PIC X.").unwrap_err().0;
        assert!(e.contains("G: a repeated group with nothing in it"), "{e}");
        let e = layout("01 R. 05 G OCCURS 99999999999999. 10 F PIC X.")
            .unwrap_err()
            .0;
        assert!(e.contains("OCCURS needs a count from 1 to 65536"), "{e}");
        // Multi-byte characters where the sequence area would be, a bad repeat count, too
        // many digits: errors, not panics.
        assert!(layout("     é 01 A PIC X.")
            .unwrap_err()
            .0
            .contains("level numbers"));
        let e = layout("01 A PIC )(.").unwrap_err().0;
        assert!(e.contains("unclosed repeat count"), "{e}");
        let e = layout("01 A PIC 9(40)V99.").unwrap_err().0;
        assert!(e.contains("more than 36 digits"), "{e}");
        // A RENAMES (level 66) in the middle is skipped; what follows is read.
        let l = layout("01 R. 05 A PIC X. 66 B RENAMES A. 05 C PIC X(2).").unwrap();
        assert_eq!(l.record_length, 3);
    }

    #[test]
    fn what_cannot_be_laid_out_is_named() {
        assert!(layout("just some text")
            .unwrap_err()
            .0
            .contains("level numbers"));
        let e = layout("01 A PIC Z(3).").unwrap_err().0;
        assert!(
            e.contains("A PIC Z(3)") && e.contains("not supported"),
            "{e}"
        );
        let e = layout("01 A PIC X(70000).").unwrap_err().0;
        assert!(e.contains("longer than a record"), "{e}");
    }
}
