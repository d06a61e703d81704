//! Example values shown in artifacts (type breaks, outliers, value conflicts, top values) are
//! clipped to `MAX_EXAMPLE_CHARS` characters, so an artifact's size is bounded by its count of
//! examples, not by the length of a cell.

use serde_json::Value;

/// Characters of an example shown, at most; a longer one ends with `…` after them.
pub const MAX_EXAMPLE_CHARS: usize = 200;

/// `s`, clipped.
pub fn clip_str(s: &str) -> String {
    match s.char_indices().nth(MAX_EXAMPLE_CHARS) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// `v` as an example: text clipped, other values as they are.
pub fn clip(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(clip_str(s)),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_text_is_clipped_and_the_rest_kept() {
        let long = "é".repeat(MAX_EXAMPLE_CHARS + 1);
        let clipped = clip_str(&long);
        assert_eq!(clipped.chars().count(), MAX_EXAMPLE_CHARS + 1);
        assert!(clipped.ends_with("é…"));
        let exact = "a".repeat(MAX_EXAMPLE_CHARS);
        assert_eq!(clip_str(&exact), exact);
        assert_eq!(clip(&json!(12.5)), json!(12.5));
        assert_eq!(clip(&json!("short")), json!("short"));
    }
}
