//! The offline scorer: a message's words against each pillar's vocabulary and against the
//! registered intents (their names and descriptions). Deterministic, explained in `reasoning`.

use std::collections::BTreeMap;

use super::reasoning::Understanding;
use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::intent_info::IntentInfo;

fn vocabulary(p: Pillar) -> &'static [&'static str] {
    match p {
        Pillar::Content => &[
            "file",
            "files",
            "upload",
            "uploaded",
            "document",
            "documents",
            "csv",
            "tsv",
            "json",
            "parse",
            "parsed",
            "parsing",
            "ingest",
            "dataset",
            "datasets",
            "spreadsheet",
            "records",
            "rows",
            "columns",
            "column",
            "delete",
            "archive",
            "save",
            "content",
            "materialize",
            "list",
        ],
        Pillar::Insights => &[
            "analyze",
            "analyse",
            "analysis",
            "quality",
            "clean",
            "cleanliness",
            "statistics",
            "stats",
            "insight",
            "insights",
            "correlation",
            "correlations",
            "trend",
            "trends",
            "mash",
            "combine",
            "merge",
            "join",
            "relationship",
            "relationships",
            "profile",
            "distribution",
            "outlier",
            "outliers",
            "mean",
            "average",
            "interpret",
        ],
        Pillar::Operations => &[
            "workflow",
            "workflows",
            "process",
            "processes",
            "sop",
            "procedure",
            "procedures",
            "automate",
            "automation",
            "operations",
            "operational",
            "journey",
            "steps",
            "coexistence",
            "blueprint",
            "handoff",
        ],
        Pillar::BusinessOutcomes => &[
            "roadmap",
            "proposal",
            "poc",
            "outcome",
            "outcomes",
            "strategy",
            "strategic",
            "kpi",
            "kpis",
            "roi",
            "business",
            "value",
            "pitch",
            "plan",
            "planning",
            "goals",
        ],
    }
}

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "to", "of", "in", "on", "for", "with", "my", "me", "i", "is",
    "it", "this", "that", "can", "you", "please", "what", "how", "do", "does", "be", "are", "at",
    "by", "from", "we", "our", "your", "about", "some", "any", "all", "show", "tell", "want",
    "would", "like", "could", "should", "into", "up", "so",
];

/// Lower-case words of letters and digits, without stop words. File names keep their dots
/// (`sales.csv`) so they can be looked up; their extensions also count as words.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || ",;:!?()\"'".contains(c)) {
        let w = raw
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if w.is_empty() || STOPWORDS.contains(&w.as_str()) {
            continue;
        }
        if let Some((_, ext)) = w.rsplit_once('.') {
            if !ext.is_empty() {
                out.push(ext.to_string());
            }
        }
        out.push(w);
    }
    out
}

/// Scores `text` against the pillars and the `(intent_type, description)` pairs.
pub fn understand(text: &str, intents: &[IntentInfo]) -> Understanding {
    let words = words(text);
    let mut pillar_hits: BTreeMap<&'static str, (Pillar, Vec<String>)> = BTreeMap::new();
    for p in Pillar::ALL {
        let hits: Vec<String> = words
            .iter()
            .filter(|w| vocabulary(p).contains(&w.as_str()))
            .cloned()
            .collect();
        pillar_hits.insert(p.as_str(), (p, hits));
    }
    // Intents: a word in the intent's name counts twice, one in its description once.
    let mut best_intent: Option<(String, usize, Vec<String>, Option<Pillar>)> = None;
    for IntentInfo {
        intent_type: name,
        description,
        pillar,
    } in intents
    {
        let name_words: Vec<String> = name.split(['_', '.']).map(str::to_string).collect();
        let desc_words = self::words(description);
        let mut score = 0;
        let mut matched = Vec::new();
        for w in &words {
            if name_words
                .iter()
                .any(|n| n == w || singular(n) == singular(w))
            {
                score += 2;
                matched.push(w.clone());
            } else if desc_words.iter().any(|d| singular(d) == singular(w)) {
                score += 1;
                matched.push(w.clone());
            }
        }
        if score > 0 && best_intent.as_ref().is_none_or(|(_, s, _, _)| score > *s) {
            best_intent = Some((name.clone(), score, matched, *pillar));
        }
    }
    // The best intent's pillar gets its score too.
    let mut scores: Vec<(Pillar, usize)> = pillar_hits
        .values()
        .map(|(p, hits)| {
            let bonus = best_intent
                .as_ref()
                .filter(|(_, _, _, pillar)| *pillar == Some(*p))
                .map_or(0, |(_, s, _, _)| *s);
            (*p, hits.len() + bonus)
        })
        .collect();
    scores.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_str().cmp(b.0.as_str())));
    let (top, top_score) = scores[0];
    let second = scores[1].1;
    let target_domain = (top_score > 0 && top_score > second).then_some(top);
    let confidence = if top_score == 0 {
        0.0
    } else {
        let c = (top_score - second) as f64 / (top_score as f64 + 1.0);
        (c * 100.0).round() / 100.0
    };
    let mut reasoning = Vec::new();
    for (p, hits) in pillar_hits.values() {
        if !hits.is_empty() {
            reasoning.push(format!(
                "{} matched the {} vocabulary",
                quote(hits),
                p.title()
            ));
        }
    }
    if let Some((name, score, matched, _)) = &best_intent {
        reasoning.push(format!(
            "closest intent: {name} (score {score}: {})",
            quote(matched)
        ));
    }
    let reasoning = match (&target_domain, reasoning.is_empty()) {
        (_, true) => "no word matched a pillar or an intent".to_string(),
        (Some(p), false) => format!(
            "{}; so the {} pillar (confidence {confidence})",
            reasoning.join("; "),
            p.title()
        ),
        (None, false) => format!("{}; no single pillar stands out", reasoning.join("; ")),
    };
    Understanding {
        primary_intent: best_intent.map(|(n, _, _, _)| n),
        target_domain,
        confidence,
        reasoning,
        words,
    }
}

fn singular(w: &str) -> &str {
    w.strip_suffix('s').filter(|s| s.len() > 2).unwrap_or(w)
}

fn quote(words: &[String]) -> String {
    let mut ws: Vec<&str> = words.iter().map(String::as_str).collect();
    ws.dedup();
    ws.iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intents() -> Vec<IntentInfo> {
        let info = |name: &str, description: &str, pillar| IntentInfo {
            intent_type: name.into(),
            description: description.into(),
            pillar,
        };
        vec![
            info(
                "parse_content",
                "Read a file's records and columns.",
                Some(Pillar::Content),
            ),
            info("list_files", "List your files.", Some(Pillar::Content)),
            info("echo", "Echo a message back.", None),
        ]
    }

    #[test]
    fn scores_pillars_and_intents_and_explains() {
        let u = understand("Please parse sales.csv for me", &intents());
        assert_eq!(u.target_domain, Some(Pillar::Content));
        assert_eq!(u.primary_intent.as_deref(), Some("parse_content"));
        assert!(u.confidence > 0.5, "{}", u.confidence);
        assert!(u.reasoning.contains("'parse'"), "{}", u.reasoning);
        assert!(u.words.contains(&"sales.csv".to_string()));

        let u = understand("How clean is my data? Any outliers?", &intents());
        assert_eq!(u.target_domain, Some(Pillar::Insights));
        assert_eq!(u.primary_intent, None);

        let u = understand("hello there", &intents());
        assert_eq!((u.target_domain, u.confidence), (None, 0.0));
        assert_eq!(u.reasoning, "no word matched a pillar or an intent");

        let u = understand("roadmap for the workflow", &intents());
        assert_eq!(u.target_domain, None, "a tie: {}", u.reasoning);
        assert!(u.reasoning.contains("no single pillar stands out"));
    }

    #[test]
    fn is_deterministic() {
        let a = understand("list my files and analyze quality", &intents());
        let b = understand("list my files and analyze quality", &intents());
        assert_eq!(a, b);
    }
}
