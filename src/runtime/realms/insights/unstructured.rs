//! `analyze_unstructured_data {parsed_file_id, aar_specific_analysis?}` → artifact
//! `unstructured_analysis`: the text of a parsed document (its `text` column, or every text
//! value of a record) analysed by `text_analysis`, in the shape the web frontend's analysis
//! panel renders (`summary`, `insights[]`) with the figures beside it. With
//! `aar_specific_analysis` (an after-action review), the sentences that state lessons or
//! recommendations are listed too.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::over_parsed::{each_record, ready_parsed, ParsedFileParams};
use super::text_analysis::TextAnalysis;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};

/// Lesson and recommendation sentences listed at most.
const MAX_AAR_SENTENCES: usize = 20;
const LESSON_CUES: &[&str] = &["lesson", "learned", "learnt", "went well", "went wrong"];
const ADVICE_CUES: &[&str] = &["should", "recommend", "next time", "improve", "must"];

pub struct AnalyzeUnstructured;

pub struct UnstructuredParams {
    pub parsed: ParsedFileParams,
    pub aar: bool,
}

impl IntentParams for UnstructuredParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let parsed = ParsedFileParams::decode(p);
        let mut f = Fields::new(p);
        let aar = match p.get("aar_specific_analysis") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                f.error("aar_specific_analysis", "must be a boolean");
                false
            }
        };
        let checked = f.finish(|| Some(()));
        match (parsed, checked) {
            (Ok(parsed), Ok(())) => Ok(UnstructuredParams { parsed, aar }),
            (Err(mut a), Err(b)) => {
                a.extend(b);
                Err(a)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }
}

impl TypedIntent for AnalyzeUnstructured {
    type Params = UnstructuredParams;

    fn intent_type(&self) -> &str {
        "analyze_unstructured_data"
    }

    fn description(&self) -> &str {
        "Read a document's text: key terms, topics, names, amounts and dates, and its sentiment."
    }

    fn steps(&self, params: Arc<UnstructuredParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Read(params))]
    }
}

struct Read(Arc<UnstructuredParams>);

fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive(['.', '!', '?'])
        .map(str::trim)
        .filter(|s| s.len() > 3)
}

#[async_trait]
impl SagaStep for Read {
    fn name(&self) -> &str {
        "read"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let parsed = ready_parsed(ctx, &self.0.parsed).await?;
        let mut analysis = TextAnalysis::default();
        let (mut lessons, mut advice) = (Vec::new(), Vec::new());
        let aar = self.0.aar;
        let records = each_record(ctx, &parsed.artifact_id, |record| {
            let texts: Vec<&str> = match record.get("text").and_then(Value::as_str) {
                Some(t) => vec![t],
                None => record
                    .as_object()
                    .map(|o| o.values().filter_map(Value::as_str).collect())
                    .unwrap_or_default(),
            };
            for t in texts {
                analysis.feed(t);
                if aar {
                    for s in sentences(t) {
                        let lower = s.to_lowercase();
                        if LESSON_CUES.iter().any(|c| lower.contains(c))
                            && lessons.len() < MAX_AAR_SENTENCES
                        {
                            lessons.push(s.to_string());
                        } else if ADVICE_CUES.iter().any(|c| lower.contains(c))
                            && advice.len() < MAX_AAR_SENTENCES
                        {
                            advice.push(s.to_string());
                        }
                    }
                }
            }
        })
        .await?;
        if analysis.words() == 0 {
            return Err(StepError::new(format!(
                "parsed file {} has no text to analyse",
                parsed.artifact_id
            )));
        }
        let score = analysis.sentiment();
        let label = if score > 0.2 {
            "positive"
        } else if score < -0.2 {
            "negative"
        } else {
            "neutral"
        };
        let (pos, neg) = analysis.opinion_words();
        let terms = analysis.key_terms();
        let topics = analysis.topics();
        let entities = analysis.entities();
        let mut insights = Vec::new();
        if !terms.is_empty() {
            let list: Vec<String> = terms
                .iter()
                .take(5)
                .map(|(t, n)| format!("{t} ({n})"))
                .collect();
            insights.push(json!({"type": "key_terms", "confidence": 1.0,
                "description": format!("Most used terms: {}", list.join(", "))}));
        }
        for (phrase, n) in &topics {
            insights.push(json!({"type": "topic", "confidence": 1.0,
                "description": format!("\"{phrase}\" comes up {n} times")}));
        }
        let by_kind = |kind: &str| -> Vec<String> {
            entities
                .iter()
                .filter(|((_, k), _)| *k == kind)
                .map(|((e, _), _)| e.clone())
                .collect()
        };
        for (kind, label_text) in [
            ("name", "Names"),
            ("money", "Amounts"),
            ("date", "Dates"),
            ("percentage", "Percentages"),
            ("email", "E-mail addresses"),
        ] {
            let found = by_kind(kind);
            if !found.is_empty() {
                insights.push(
                    json!({"type": "entities", "entity_type": kind, "confidence": 1.0,
                    "description": format!("{label_text}: {}", found.join(", "))}),
                );
            }
        }
        insights.push(json!({"type": "sentiment", "confidence": 1.0,
            "description": format!("The tone is {label} ({pos} positive and {neg} negative opinion words, score {score})")}));
        let summary = format!(
            "{} words in {records} records; tone {label}; {} key terms, {} topics, {} entities.",
            analysis.words(),
            terms.len(),
            topics.len(),
            entities.len()
        );
        let mut payload = json!({
            "parsed_file_id": parsed.artifact_id,
            "summary": summary,
            "insights": insights,
            "key_terms": terms.iter().map(|(t, n)| json!({"term": t, "count": n})).collect::<Vec<_>>(),
            "topics": topics.iter().map(|(t, n)| json!({"phrase": t, "count": n})).collect::<Vec<_>>(),
            "entities": entities.iter().map(|((e, k), n)| json!({"name": e, "type": k, "count": n})).collect::<Vec<_>>(),
            "sentiment": {"score": score, "label": label, "positive_words": pos, "negative_words": neg,
                "rule": "(positive − negative) / opinion words, from fixed word lists"},
            "metadata": {"aar_analysis": aar, "words": analysis.words(), "records": records,
                "chars_not_read": analysis.chars_skipped(),
                "max_chars": super::text_analysis::MAX_CHARS},
        });
        if aar {
            payload["aar"] = json!({"lessons_learned": lessons, "recommendations": advice});
        }
        super::findings::record(
            ctx,
            "unstructured_analysis",
            std::slice::from_ref(&parsed.artifact_id),
            &payload,
            json!({}),
        )
        .await?;
        let mut artifacts = Map::new();
        artifacts.insert(
            "unstructured_analysis".into(),
            artifact("unstructured_analysis", payload),
        );
        Ok(StepOutput {
            output: json!({"parsed_file_id": parsed.artifact_id}),
            artifacts,
        })
    }
}
