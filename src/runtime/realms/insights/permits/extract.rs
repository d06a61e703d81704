//! A permit document read by rules, into a permit-structured object (PSO).
//!
//! **The permit.** Labelled lines give its fields, the first match of each kept: the id
//! (a line "Permit No./Number/ID/# <id>", the id holding a digit), the issuing authority ("Issuing Authority:", "Issued by:"),
//! the jurisdiction ("Jurisdiction:"), the effective period ("Effective Date:", "Valid from:";
//! "Expiration Date:", "Expires:", "Valid until:"), and the covered entities ("Permittee:",
//! "Facility:", "Operator:", "Owner:", every one). Its type is the first line that names a
//! permit with no colon and no digit ("Air Quality Operating Permit").
//!
//! **Sentences.** Lines are joined into paragraphs (a line continues the one before unless
//! that one ended with `.`, `;` or `:`, or this one starts a clause like "2.1" or "(a)"), then
//! split into sentences at `. ` and `; `. A line "Section N …" (or a Word heading) starts a
//! section.
//!
//! **Obligations** are the sentences with "shall", "must" or "is/are required to":
//! - type: `limit` (a comparison — not exceed, more/less than, at least/most, maximum,
//!   minimum, below, above — with a number and unit), else `prohibition` (shall/must/may not,
//!   prohibited), `reporting` (report, submit, notify, inform), `monitoring` (monitor,
//!   measure, sample, test, inspect), `recordkeeping` (records kept, retained, maintained),
//!   else `requirement`;
//! - action: the words after the modal, up to a deadline, condition or "as required";
//! - condition: the clause after "if", "unless" or "provided that"; trigger: after "upon",
//!   "in the event of", "when" or "whenever";
//! - deadline: "no later than …", "within N units (of/after …)", "by <date>";
//! - frequency: continuously, daily, weekly, monthly, quarterly, annually (also yearly, per
//!   year, each year), per month, per day, every N units;
//! - threshold and unit: the number and unit after the comparison; metric: what follows
//!   "<unit> of" (up to "per" or the sentence's end), else the sentence's subject unless it
//!   is the permit's holder;
//! - citation: the clause number ("§ 2.1"), else the section's; with the references the
//!   sentence makes ("40 CFR 60.7", "Section 4", "§ 4.2"), which are also the permit's
//!   `legal_citations`;
//! - confidence: 0.6 for the modal, + 0.1 each for a deadline or frequency, a threshold, and
//!   a citation;
//! - source_location: page (PDF), line (from 1) and section.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::runtime::realms::content::document_text::DocLine;
use crate::runtime::realms::insights::clip::clip_str;

/// The most obligations read from one permit.
pub const MAX_OBLIGATIONS: usize = 2_000;
/// The most legal citations and covered entities kept.
pub const MAX_CITATIONS: usize = 500;
pub const MAX_ENTITIES: usize = 200;
/// The most characters of a sentence considered.
const MAX_SENTENCE_CHARS: usize = 2_000;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a fixed pattern")
}

static PERMIT_ID: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^\s*permit\s*(?:no\.|number|id|#|no\b)\s*[:.]?\s*([A-Z0-9][A-Z0-9\-/.]*[A-Z0-9])\s*$")
});
static AUTHORITY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(?:issuing authority|issued by)\s*:\s*(.+?)\s*$"));
static JURISDICTION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*jurisdiction\s*:\s*(.+?)\s*$"));
static ENTITY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(?:permittee|facility|operator|owner)\s*:\s*(.+?)\s*$"));
static EFFECTIVE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(?:effective date|effective|valid from)\s*:\s*(.+?)\s*$"));
static EXPIRES: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^\s*(?:expiration date|expiry date|expiration|expires|valid until)\s*:\s*(.+?)\s*$")
});
static SECTION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(?:section|part|article)\s+(\d+(?:\.\d+)*)\b"));
static CLAUSE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*(\d+(?:\.\d+)+|\([a-z0-9]+\)|\d+\))\s+"));
static MODAL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(shall|must|(?:is|are) required to)\b"));
const UNITS: &str = r"%|percent\b|tons?\b|tonnes?\b|kg\b|lbs?\b|pounds\b|mg/l\b|mg/m3\b|µg/m3|ug/m3\b|ppm\b|ppb\b|db\b|decibels\b|°c|°f|degrees\b|gallons\b|liters\b|litres\b|m3\b|hours\b|days\b";
static LIMIT: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b(?:not\s+exceed|exceed|more than|less than|at least|at most|maximum of|minimum of|below|above)\s+(\d+(?:\.\d+)?)\s*({UNITS})"
    ))
});
static METRIC_OF: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(?:{UNITS})\s+of\s+([a-z][a-z0-9 \-]*?)\s*(?:\bper\b|[.,;]|$)"
    ))
});
static PROHIBITION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:shall|must|may)\s+not\b|\bprohibited\b"));
static REPORTING: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:report|submit|notify|inform)\w*"));
static MONITORING: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:monitor|measure|sample|test|inspect)\w*"));
static RECORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\brecords?\b.*\b(?:kept|keep|retain\w*|maintain\w*)\b|\b(?:keep|retain|maintain)\w*\b.*\brecords?\b",
    )
});
static CONDITION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:if|unless|provided that)\s+([^,;]+)"));
static TRIGGER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:upon|in the event of|whenever|when)\s+([^,;.]+)"));
static DEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(no later than\s+[^,;]+?|within\s+\d+\s+\w+(?:\s+(?:of|after)\s+[^,;]+?)?|by\s+\d{4}-\d{2}-\d{2})\s*(?:[,;]|\.?$)",
    )
});
static FREQUENCY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(continuously|daily|weekly|monthly|quarterly|annually|yearly|per year|each year|per month|per day|every\s+\d+\s+\w+)\b",
    )
});
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(\d+\s+CFR\s+\d+(?:\.\d+)*|Section\s+\d+(?:\.\d+)*)|(§\s*\d+(?:\.\d+)*)")
});
static ACTION_END: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\s+(?:no later than|within\s+\d+|if|unless|provided that|as required)\b|[.;]\s*$")
});

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    pub page: Option<u64>,
    pub line: usize,
    pub section: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Obligation {
    pub obligation_id: String,
    pub obligation_type: &'static str,
    pub action: String,
    pub condition: Option<String>,
    pub trigger: Option<String>,
    pub deadline: Option<String>,
    pub frequency: Option<String>,
    pub metric: Option<String>,
    pub threshold: Option<f64>,
    pub unit: Option<String>,
    pub citation: Option<String>,
    pub confidence: f64,
    pub source_location: Location,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Permit {
    pub permit_id: Option<String>,
    pub permit_type: Option<String>,
    pub jurisdiction: Option<String>,
    pub issuing_authority: Option<String>,
    pub effective_start: Option<String>,
    pub effective_end: Option<String>,
    pub covered_entities: Vec<String>,
    pub obligations: Vec<Obligation>,
    pub legal_citations: Vec<String>,
    pub pages: Vec<u64>,
}

fn first(re: &Regex, text: &str) -> Option<String> {
    re.captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A paragraph: its text and where it starts.
struct Paragraph {
    text: String,
    at: Location,
    clause: Option<String>,
}

fn frequency(text: &str) -> Option<String> {
    let f = first(&FREQUENCY, text)?.to_lowercase();
    Some(match f.as_str() {
        "continuously" => "continuous".into(),
        "annually" | "yearly" | "per year" | "each year" => "annual".into(),
        "per month" => "monthly".into(),
        "per day" => "daily".into(),
        _ => f,
    })
}

fn obligation(n: usize, sentence: &str, p: &Paragraph, refs: &[String]) -> Option<Obligation> {
    let modal = MODAL.find(sentence)?;
    let limit = LIMIT.captures(sentence);
    let obligation_type = if limit.is_some() {
        "limit"
    } else if PROHIBITION.is_match(sentence) {
        "prohibition"
    } else if REPORTING.is_match(sentence) {
        "reporting"
    } else if MONITORING.is_match(sentence) {
        "monitoring"
    } else if RECORDS.is_match(sentence) {
        "recordkeeping"
    } else {
        "requirement"
    };
    let after = &sentence[modal.end()..];
    let action = match ACTION_END.find(after) {
        Some(m) => &after[..m.start()],
        None => after,
    }
    .trim()
    .to_string();
    let (threshold, unit) = match &limit {
        Some(c) => (
            c.get(1).and_then(|m| m.as_str().parse::<f64>().ok()),
            c.get(2).map(|m| m.as_str().to_lowercase()),
        ),
        None => (None, None),
    };
    let subject = sentence[..modal.start()]
        .trim()
        .trim_start_matches("The ")
        .trim_start_matches("the ")
        .trim();
    let metric = if threshold.is_some() {
        first(&METRIC_OF, sentence).or_else(|| {
            let holder = ["permittee", "operator", "owner", "facility", "licensee"];
            (!subject.is_empty() && !holder.contains(&subject.to_lowercase().as_str()))
                .then(|| subject.to_string())
        })
    } else {
        None
    };
    let deadline = first(&DEADLINE, sentence);
    let frequency = frequency(sentence);
    let mut cites: Vec<String> = Vec::new();
    if let Some(c) = &p.clause {
        cites.push(format!("§ {c}"));
    } else if let Some(s) = &p.at.section {
        if let Some(n) = first(&SECTION, s) {
            cites.push(format!("Section {n}"));
        }
    }
    cites.extend(refs.iter().cloned());
    let citation = (!cites.is_empty()).then(|| cites.join("; "));
    let mut confidence: f64 = 0.6;
    for found in [
        deadline.is_some() || frequency.is_some(),
        threshold.is_some(),
        citation.is_some(),
    ] {
        if found {
            confidence += 0.1;
        }
    }
    Some(Obligation {
        obligation_id: format!("OBL-{n:03}"),
        obligation_type,
        action,
        condition: first(&CONDITION, sentence),
        trigger: first(&TRIGGER, sentence),
        deadline,
        frequency,
        metric,
        threshold,
        unit,
        citation,
        confidence: (confidence * 100.0).round() / 100.0,
        source_location: p.at.clone(),
        text: sentence.to_string(),
    })
}

/// Splits a paragraph into sentences at `. ` and `; ` (a number's point is not followed by a
/// space, so "60.7" stays whole).
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().take(MAX_SENTENCE_CHARS * 20).collect();
    for (i, c) in chars.iter().enumerate() {
        current.push(*c);
        let next_space = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if (*c == '.' || *c == ';') && next_space {
            let s = current.trim().to_string();
            if !s.is_empty() {
                out.push(s.chars().take(MAX_SENTENCE_CHARS).collect());
            }
            current.clear();
        }
    }
    let s = current.trim();
    if !s.is_empty() {
        out.push(s.chars().take(MAX_SENTENCE_CHARS).collect());
    }
    out
}

/// The permit a document's lines hold.
pub fn extract(lines: &[DocLine]) -> Permit {
    let mut permit = Permit::default();
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    let mut section: Option<String> = None;
    let mut open = false;
    // Seen entities and citations, so each is kept once without scanning the lists.
    let mut entities: std::collections::HashSet<String> = Default::default();
    let mut citations: std::collections::HashSet<String> = Default::default();
    for (i, l) in lines.iter().enumerate() {
        let text = l.text.trim();
        if let Some(p) = l.page {
            // Lines come page by page: the last page seen is almost always this one.
            if permit.pages.last() != Some(&p) && !permit.pages.contains(&p) {
                permit.pages.push(p);
            }
        }
        if text.is_empty() {
            open = false;
            continue;
        }
        let labelled = [
            (&*AUTHORITY, &mut permit.issuing_authority),
            (&*JURISDICTION, &mut permit.jurisdiction),
            (&*EFFECTIVE, &mut permit.effective_start),
            (&*EXPIRES, &mut permit.effective_end),
        ];
        let mut is_label = false;
        for (re, slot) in labelled {
            if let Some(v) = first(re, text) {
                is_label = true;
                slot.get_or_insert(v);
            }
        }
        if let Some(e) = first(&ENTITY, text) {
            is_label = true;
            if permit.covered_entities.len() < MAX_ENTITIES && entities.insert(e.clone()) {
                permit.covered_entities.push(e);
            }
        }
        if let Some(id) =
            first(&PERMIT_ID, text).filter(|id| id.chars().any(|c| c.is_ascii_digit()))
        {
            permit.permit_id.get_or_insert(id);
            is_label = true;
        }
        if permit.permit_type.is_none()
            && text.to_lowercase().contains("permit")
            && !text.contains(':')
            && !text.chars().any(|c| c.is_ascii_digit())
            && !MODAL.is_match(text)
        {
            permit.permit_type = Some(text.to_string());
            open = false;
            continue;
        }
        if is_label {
            open = false;
            continue;
        }
        if l.heading || SECTION.is_match(text) {
            // Clipped: each paragraph after it carries a copy.
            section = Some(clip_str(text));
            open = false;
            continue;
        }
        let clause = CLAUSE.captures(text).and_then(|c| c.get(1)).map(|m| {
            m.as_str()
                .trim_matches(|c| c == '(' || c == ')')
                .to_string()
        });
        let body = match CLAUSE.find(text) {
            Some(m) => &text[m.end()..],
            None => text,
        };
        match paragraphs.last_mut() {
            Some(p) if open && clause.is_none() && p.text.len() < MAX_SENTENCE_CHARS * 20 => {
                p.text.push(' ');
                p.text.push_str(body);
            }
            _ => paragraphs.push(Paragraph {
                text: body.to_string(),
                at: Location {
                    page: l.page,
                    line: i + 1,
                    section: section.clone(),
                },
                clause,
            }),
        }
        open = !text.ends_with(['.', ';', ':']);
    }
    'paragraphs: for p in &paragraphs {
        for s in sentences(&p.text) {
            if permit.obligations.len() >= MAX_OBLIGATIONS {
                break 'paragraphs;
            }
            let refs: Vec<String> = REFERENCE
                .find_iter(&s)
                .take(20)
                .map(|m| m.as_str().split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            for r in &refs {
                if permit.legal_citations.len() < MAX_CITATIONS && citations.insert(r.clone()) {
                    permit.legal_citations.push(r.clone());
                }
            }
            let n = permit.obligations.len() + 1;
            if let Some(o) = obligation(n, &s, p, &refs) {
                permit.obligations.push(o);
            }
        }
    }
    permit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<DocLine> {
        text.lines()
            .map(|l| DocLine {
                text: l.to_string(),
                page: None,
                heading: false,
            })
            .collect()
    }

    #[test]
    fn a_wrapped_sentence_with_a_condition_a_deadline_and_a_reference() {
        let p = extract(&lines(
            "Discharge Permit\nPermit ID: WD-9\nIssued by: Lake Authority\n\
             Section 4 Reporting\n\
             (a) Whenever the pH falls below 6 units, the operator shall\n\
             inform the Authority within 2 days of the event, as required by Section 7.\n\
             The site is fenced.\n\
             (b) The operator must renew the permit no later than 2027-01-01.\n",
        ));
        assert_eq!(p.permit_type.as_deref(), Some("Discharge Permit"));
        assert_eq!(p.permit_id.as_deref(), Some("WD-9"));
        assert_eq!(p.issuing_authority.as_deref(), Some("Lake Authority"));
        // (b) mentions "permit no later than": an obligation, not the permit's id.
        assert_eq!(p.obligations.len(), 2);
        assert_eq!(
            p.obligations[1].deadline.as_deref(),
            Some("no later than 2027-01-01")
        );
        let o = &p.obligations[0];
        assert_eq!(o.obligation_type, "reporting");
        assert_eq!(o.action, "inform the Authority");
        assert_eq!(o.trigger.as_deref(), Some("the pH falls below 6 units"));
        assert_eq!(o.deadline.as_deref(), Some("within 2 days of the event"));
        assert_eq!(o.citation.as_deref(), Some("§ a; Section 7"));
        // 0.6 + deadline + citation (no threshold: "below 6 units" has no known unit).
        assert_eq!(o.confidence, 0.8);
        assert_eq!(o.source_location.line, 5);
        assert_eq!(
            o.source_location.section.as_deref(),
            Some("Section 4 Reporting")
        );
        assert_eq!(p.legal_citations, ["Section 7"]);
    }
}
