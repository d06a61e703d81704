//! Field values from a record's bytes: EBCDIC (code page 037) or ASCII text, zoned decimal,
//! packed decimal (`COMP-3`) and big-endian binary, with the implied decimal point applied.
//! A value whose bytes do not fit its encoding is null, and counted.

use serde_json::{Number, Value};

use super::layout::{Field, Usage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Ebcdic,
    Ascii,
}

/// EBCDIC code page 037 → Unicode, for the bytes 0x40..=0xFF (below is control: a space).
const CP037_HIGH: &str = " \u{a0}âäàáãåçñ¢.<(+|&éêëèíîïìß!$*);¬-/ÂÄÀÁÃÅÇÑ¦,%_>?øÉÊËÈÍÎÏÌ`:#@'=\"Øabcdefghi«»ðýþ±°jklmnopqrªºæ¸Æ¤µ~stuvwxyz¡¿ÐÝÞ®^£¥·©§¶¼½¾[]¯¨´×{ABCDEFGHI\u{ad}ôöòóõ}JKLMNOPQR¹ûüùúÿ\\÷STUVWXYZ²ÔÖÒÓÕ0123456789³ÛÜÙÚ\u{9f}";

fn cp037(b: u8) -> char {
    if b < 0x40 {
        return ' ';
    }
    CP037_HIGH.chars().nth((b - 0x40) as usize).unwrap_or(' ')
}

/// A field's value; `None` when its bytes are not valid for its encoding.
pub fn value(field: &Field, bytes: &[u8], enc: Encoding) -> Option<Value> {
    match field.usage {
        Usage::Text => {
            let s: String = match enc {
                Encoding::Ebcdic => bytes.iter().map(|&b| cp037(b)).collect(),
                Encoding::Ascii => bytes
                    .iter()
                    .map(|&b| {
                        if b.is_ascii() && !b.is_ascii_control() {
                            b as char
                        } else {
                            ' '
                        }
                    })
                    .collect(),
            };
            Some(Value::String(s.trim_end().to_string()))
        }
        Usage::Zoned => zoned(bytes, enc).map(|n| number(n, field.scale)),
        Usage::Packed => packed(bytes).map(|n| number(n, field.scale)),
        Usage::Binary => Some(number(binary(bytes, field.signed), field.scale)),
    }
}

fn number(n: i128, scale: u32) -> Value {
    if scale == 0 {
        return i64::try_from(n).map_or(Value::Null, Value::from);
    }
    let f = n as f64 / 10f64.powi(scale as i32);
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// One digit per byte; the sign in the last byte: EBCDIC zone `D` (or ASCII overpunch
/// `}`, `J`–`R`, or a `p`–`y` byte) is negative. All spaces: zero is not assumed (null).
fn zoned(bytes: &[u8], enc: Encoding) -> Option<i128> {
    let mut n: i128 = 0;
    let mut negative = false;
    for (i, &b) in bytes.iter().enumerate() {
        let last = i + 1 == bytes.len();
        let digit = match enc {
            Encoding::Ebcdic => {
                let (zone, d) = (b >> 4, b & 0x0F);
                if d > 9 {
                    return None;
                }
                match (zone, last) {
                    (0xF, _) => {}
                    (0xC, true) => {}
                    (0xD, true) => negative = true,
                    _ => return None,
                }
                d
            }
            Encoding::Ascii => match b {
                b'0'..=b'9' => b - b'0',
                b'{' if last => 0,
                b'A'..=b'I' if last => b - b'A' + 1,
                b'}' if last => {
                    negative = true;
                    0
                }
                b'J'..=b'R' if last => {
                    negative = true;
                    b - b'J' + 1
                }
                b'p'..=b'y' if last => {
                    negative = true;
                    b - b'p'
                }
                _ => return None,
            },
        };
        n = n.checked_mul(10)?.checked_add(digit as i128)?;
    }
    Some(if negative { -n } else { n })
}

/// Two digits per byte, the last nibble the sign (`D` or `B` negative; `C`, `F`, `A`, `E`
/// positive).
fn packed(bytes: &[u8]) -> Option<i128> {
    let mut n: i128 = 0;
    let last = bytes.len().checked_sub(1)?;
    for (i, &b) in bytes.iter().enumerate() {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(hi as i128)?;
        if i == last {
            return match lo {
                0xD | 0xB => Some(-n),
                0xA | 0xC | 0xE | 0xF => Some(n),
                _ => None,
            };
        }
        if lo > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(lo as i128)?;
    }
    None
}

fn binary(bytes: &[u8], signed: bool) -> i128 {
    let mut n: i128 = 0;
    for &b in bytes {
        n = (n << 8) | b as i128;
    }
    let bits = 8 * bytes.len() as u32;
    if signed && bits > 0 && bits < 128 && n >= 1i128 << (bits - 1) {
        n -= 1i128 << bits;
    }
    n
}

/// Whether a sample of the data reads as EBCDIC rather than ASCII: EBCDIC text and zoned
/// digits live at 0x40 and above (a space is 0x40, digits 0xF0–0xF9), where ASCII text has
/// none.
pub fn looks_ebcdic(sample: &[u8]) -> bool {
    let high = sample.iter().filter(|&&b| b >= 0x80).count();
    let ebcdic_space_or_digit = sample
        .iter()
        .filter(|&&b| b == 0x40 || (0xF0..=0xF9).contains(&b))
        .count();
    ebcdic_space_or_digit > 0 && high * 4 >= sample.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_page_037_spells_letters_digits_and_punctuation() {
        let word: String = [0xC8, 0x85, 0x93, 0x93, 0x96, 0x6B, 0x40, 0xF4, 0xF2, 0x5A]
            .iter()
            .map(|&b| cp037(b))
            .collect();
        assert_eq!(word, "Hello, 42!");
        assert_eq!(CP037_HIGH.chars().count(), 0xC0);
    }

    #[test]
    fn numbers_in_every_encoding() {
        // Zoned: F1 F2 D3 is -123; ASCII overpunch "12L" is -123 too.
        assert_eq!(zoned(&[0xF1, 0xF2, 0xD3], Encoding::Ebcdic), Some(-123));
        assert_eq!(zoned(b"12L", Encoding::Ascii), Some(-123));
        assert_eq!(zoned(b"0042", Encoding::Ascii), Some(42));
        assert_eq!(zoned(&[0x40, 0x40], Encoding::Ebcdic), None);
        // Packed: 12 34 5C is +12345, 00 12 3D is -123; a bad sign nibble is invalid.
        assert_eq!(packed(&[0x12, 0x34, 0x5C]), Some(12345));
        assert_eq!(packed(&[0x00, 0x12, 0x3D]), Some(-123));
        assert_eq!(packed(&[0x12, 0x34]), None);
        // Binary: FF FE is 65534 unsigned, -2 signed.
        assert_eq!(binary(&[0xFF, 0xFE], false), 65534);
        assert_eq!(binary(&[0xFF, 0xFE], true), -2);
        assert_eq!(number(12345, 2), serde_json::json!(123.45));
    }
}
