//! A document's text analysed deterministically: its key terms (word frequencies without
//! stop words), its topics (the terms' most frequent two-word phrases), entities found by
//! their shape (people's and organisations' capitalised names, e-mail addresses, amounts of
//! money, percentages, dates), and its sentiment by a word list (positive minus negative words
//! over all opinion words, in −1..1). Fed a piece of text at a time, with every count bounded.

use std::collections::HashMap;

/// Characters analysed at most; the rest is counted, not read.
pub const MAX_CHARS: usize = 5_000_000;
/// Distinct terms (and phrases, and entities) counted at most each; later new ones are not.
pub const MAX_DISTINCT: usize = 50_000;
/// How many of each are reported.
pub const TOP: usize = 10;

const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "being", "but", "by", "can", "could", "did", "do", "does", "each", "for", "from",
    "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "may", "more", "most", "must", "no", "not", "of", "on", "one", "or", "other", "our", "out",
    "over", "per", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them",
    "then", "there", "these", "they", "this", "those", "to", "under", "up", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "will", "with", "would", "you", "your",
];

const POSITIVE: &[&str] = &[
    "benefit",
    "best",
    "better",
    "clear",
    "complete",
    "completed",
    "efficient",
    "excellent",
    "good",
    "great",
    "grew",
    "grow",
    "growth",
    "improve",
    "improved",
    "improvement",
    "increase",
    "increased",
    "positive",
    "profit",
    "profitable",
    "reliable",
    "resolved",
    "satisfied",
    "strong",
    "success",
    "successful",
    "win",
];

const NEGATIVE: &[&str] = &[
    "bad",
    "breach",
    "complaint",
    "decline",
    "declined",
    "decrease",
    "delay",
    "delayed",
    "delays",
    "error",
    "errors",
    "fail",
    "failed",
    "failure",
    "fraud",
    "late",
    "loss",
    "losses",
    "negative",
    "poor",
    "problem",
    "problems",
    "risk",
    "risks",
    "shortage",
    "slow",
    "weak",
    "worse",
];

#[derive(Default)]
pub struct TextAnalysis {
    chars: usize,
    chars_skipped: usize,
    words: u64,
    terms: HashMap<String, u64>,
    phrases: HashMap<String, u64>,
    entities: HashMap<(String, &'static str), u64>,
    positive: u64,
    negative: u64,
}

fn bump<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u64>, key: K) {
    if let Some(n) = map.get_mut(&key) {
        *n += 1;
    } else if map.len() < MAX_DISTINCT {
        map.insert(key, 1);
    }
}

fn top<K: Clone + Ord>(map: &HashMap<K, u64>, n: usize) -> Vec<(K, u64)> {
    let mut all: Vec<(K, u64)> = map.iter().map(|(k, c)| (k.clone(), *c)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(n);
    all
}

/// A word's shape, for entities: money (`€1,200`, `$5`, `500 EUR` is found by its unit),
/// a percentage, a date (`2026-01-05`, `05/01/2026`), an e-mail address.
fn shape_entity(token: &str) -> Option<&'static str> {
    let t = token.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '"' | '\''));
    let t = t.strip_suffix('.').unwrap_or(t);
    if t.len() < 2 {
        return None;
    }
    let digits = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    };
    if t.contains('@') && t.contains('.') && !t.starts_with('@') {
        return Some("email");
    }
    if let Some(rest) = t.strip_prefix(['$', '€', '£']) {
        if digits(rest) {
            return Some("money");
        }
    }
    if let Some(rest) = t.strip_suffix('%') {
        if digits(rest) {
            return Some("percentage");
        }
    }
    let parts: Vec<&str> = t.split(['-', '/']).collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("date");
    }
    None
}

const CURRENCIES: &[&str] = &["eur", "usd", "gbp", "euro", "euros", "dollars", "pounds"];

impl TextAnalysis {
    /// Reads one piece of text (a line, a paragraph).
    pub fn feed(&mut self, text: &str) {
        if self.chars >= MAX_CHARS {
            self.chars_skipped += text.chars().count();
            return;
        }
        let text: String = text.chars().take(MAX_CHARS - self.chars).collect();
        self.chars += text.chars().count();
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let mut previous: Option<String> = None;
        let mut name: Vec<&str> = Vec::new();
        for (i, raw) in tokens.iter().enumerate() {
            if let Some(kind) = shape_entity(raw) {
                bump(
                    &mut self.entities,
                    (raw.trim_end_matches(['.', ',', ';']).to_string(), kind),
                );
            }
            let word: String = raw
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            // "500 EUR": a number and its currency.
            if CURRENCIES.contains(&word.as_str()) && i > 0 {
                let amount = tokens[i - 1].trim_matches(|c: char| !c.is_ascii_digit());
                if !amount.is_empty() {
                    bump(
                        &mut self.entities,
                        (
                            format!(
                                "{amount} {}",
                                raw.trim_end_matches(['.', ',']).to_uppercase()
                            ),
                            "money",
                        ),
                    );
                }
            }
            // Capitalised words in a row (not the first word of the text): a name.
            let capitalised = raw.chars().next().is_some_and(char::is_uppercase)
                && raw.chars().skip(1).any(char::is_lowercase)
                && !STOP_WORDS.contains(&word.as_str());
            let sentence_start = i == 0 || tokens[i - 1].ends_with(['.', '!', '?', ':']);
            if capitalised && (!sentence_start || !name.is_empty()) {
                name.push(raw.trim_matches(|c: char| !c.is_alphanumeric()));
            }
            if !capitalised || raw.ends_with(['.', ',', ';', ':']) {
                if name.len() >= 2 {
                    bump(&mut self.entities, (name.join(" "), "name"));
                }
                name.clear();
            }
            // A word has letters: numbers, amounts and addresses are not terms.
            if !word.chars().any(char::is_alphabetic) || word.contains('@') {
                previous = None;
                continue;
            }
            self.words += 1;
            if POSITIVE.contains(&word.as_str()) {
                self.positive += 1;
            }
            if NEGATIVE.contains(&word.as_str()) {
                self.negative += 1;
            }
            if STOP_WORDS.contains(&word.as_str()) || word.len() < 3 {
                previous = None;
                continue;
            }
            bump(&mut self.terms, word.clone());
            if let Some(p) = previous.take() {
                bump(&mut self.phrases, format!("{p} {word}"));
            }
            // A phrase does not cross a sentence or a clause.
            previous = (!raw.ends_with(['.', ',', ';', ':', '!', '?'])).then_some(word);
        }
        if name.len() >= 2 {
            bump(&mut self.entities, (name.join(" "), "name"));
        }
    }

    /// −1 (all opinion words negative) to 1 (all positive); 0 without opinion words.
    pub fn sentiment(&self) -> f64 {
        let opinion = self.positive + self.negative;
        if opinion == 0 {
            return 0.0;
        }
        let s = (self.positive as f64 - self.negative as f64) / opinion as f64;
        (s * 1000.0).round() / 1000.0
    }

    pub fn key_terms(&self) -> Vec<(String, u64)> {
        top(&self.terms, TOP)
    }

    /// Phrases seen at least twice.
    pub fn topics(&self) -> Vec<(String, u64)> {
        top(&self.phrases, TOP)
            .into_iter()
            .filter(|(_, n)| *n >= 2)
            .collect()
    }

    pub fn entities(&self) -> Vec<((String, &'static str), u64)> {
        top(&self.entities, 3 * TOP)
    }

    pub fn words(&self) -> u64 {
        self.words
    }

    pub fn chars_skipped(&self) -> usize {
        self.chars_skipped
    }

    pub fn opinion_words(&self) -> (u64, u64) {
        (self.positive, self.negative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_phrases_entities_and_sentiment_are_counted_by_hand() {
        let mut a = TextAnalysis::default();
        a.feed("Quarterly report for Acme Corp.");
        a.feed("Revenue grew 12% and supplier delays remain a risk.");
        a.feed("Supplier delays cost €1,200 in March; contact jane.doe@acme.com by 2026-04-01.");
        a.feed("The board approved 500 EUR for supplier delays.");
        // supplier ×3, delays ×3; "supplier delays" three times: the one topic.
        assert_eq!(
            a.key_terms()[..2],
            [("delays".to_string(), 3), ("supplier".to_string(), 3)]
        );
        assert_eq!(a.topics(), [("supplier delays".to_string(), 3)]);
        let found: Vec<(String, &str)> = a.entities().into_iter().map(|(e, _)| e).collect();
        for want in [
            ("Acme Corp".to_string(), "name"),
            ("12%".to_string(), "percentage"),
            ("€1,200".to_string(), "money"),
            ("500 EUR".to_string(), "money"),
            ("jane.doe@acme.com".to_string(), "email"),
            ("2026-04-01".to_string(), "date"),
        ] {
            assert!(found.contains(&want), "{want:?} in {found:?}");
        }
        // Positive: grew. Negative: delays ×3, risk. (1 − 4) / 5.
        assert_eq!(a.opinion_words(), (1, 4));
        assert_eq!(a.sentiment(), -0.6);
    }
}
