//! The web frontend's views of the insights reports (FRONTEND.md §2: Quality, Analysis,
//! Interpretation, Relationships). Each is computed from the real report, with no figure of
//! its own invention: the report stays the record, the view is what the UI's components
//! render. They are stored beside the reports, under the keys the UI reads
//! (`quality_assessment`, `structured_analysis`, `discovery`, `relationships`).

use serde_json::{json, Map, Value};

use super::analysis_report::AnalysisReport;
use super::names::normalise;
use super::quality_report::QualityReport;

/// Issues listed at most in a view (the report has them all).
pub const MAX_ISSUES: usize = 50;

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        1.0
    } else {
        round(1.0 - part as f64 / whole as f64)
    }
}

/// low under 5 %, medium under 20 %, high from there.
fn severity(share: f64) -> &'static str {
    if share >= 0.2 {
        "high"
    } else if share >= 0.05 {
        "medium"
    } else {
        "low"
    }
}

/// Quality as the UI shows it: `quality_score` (the report's score / 100), `completeness`
/// (1 − empty cells / cells), `accuracy` (1 − values that break their column's type /
/// non-empty cells), `consistency` (1 − duplicate rows / rows), and one issue per finding.
pub fn quality_assessment(q: &QualityReport) -> Value {
    let cells = q.record_count * q.columns.len() as u64;
    let empty: u64 = q.columns.values().map(|c| c.null_count).sum();
    let breaks: u64 = q.columns.values().map(|c| c.type_breaks).sum();
    let mut issues = Vec::new();
    let rows = q.record_count.max(1) as f64;
    for (name, c) in &q.columns {
        if c.null_count > 0 {
            issues.push(json!({"type": "missing_values", "column": name,
                "severity": severity(c.null_count as f64 / rows),
                "message": format!("{name}: {} of {} values are empty", c.null_count, q.record_count),
                "recommendation": format!("fill or drop the empty {name} values before relying on {name}")}));
        }
        if c.type_breaks > 0 {
            let t = c.column_type.as_deref().unwrap_or("its type");
            issues.push(json!({"type": "type_mismatch", "column": name,
                "severity": severity(c.type_breaks as f64 / rows),
                "message": format!("{name}: {} values are not {t}", c.type_breaks),
                "recommendation": format!("correct the {name} values that are not {t}")}));
        }
        if let Some(o) = c.outliers.as_ref().filter(|o| o.count > 0) {
            issues.push(json!({"type": "outliers", "column": name,
                "severity": severity(o.count as f64 / rows),
                "message": format!("{name}: {} values lie outside [{}, {}] ({})", o.count,
                    o.lower_bound, o.upper_bound, o.rule),
                "recommendation": format!("check the extreme {name} values")}));
        }
    }
    if q.duplicate_rows > 0 {
        issues.push(json!({"type": "duplicate_rows",
            "severity": severity(q.duplicate_rows as f64 / rows),
            "message": format!("{} rows repeat an earlier row{}", q.duplicate_rows,
                if q.duplicates_approximate { " (among the first rows checked)" } else { "" }),
            "recommendation": "remove the repeated rows"}));
    }
    let found = issues.len();
    issues.truncate(MAX_ISSUES);
    json!({
        "parsed_file_id": q.parsed_file_id,
        "file_id": q.file_id,
        "quality_score": round(q.score / 100.0),
        "completeness": ratio(empty, cells),
        "accuracy": ratio(breaks, cells.saturating_sub(empty)),
        "consistency": ratio(q.duplicate_rows, q.record_count),
        "issues": issues,
        "issues_found": found,
        "record_count": q.record_count,
    })
}

/// Analysis as the UI shows it: a textual and a tabular summary (one row per numeric column)
/// and the insights the figures support: spread, dominant values, strong correlations.
pub fn structured_analysis(a: &AnalysisReport) -> Value {
    let mut insights = Vec::new();
    for (name, n) in &a.numeric {
        insights.push(
            json!({"type": "distribution", "column": name, "confidence": 1.0,
            "description": format!("{name} ranges from {} to {} (mean {})", n.min, n.max,
                round(n.mean))}),
        );
    }
    for (name, t) in &a.text {
        if let Some(top) = t.top_values.first().filter(|_| t.count > 0) {
            let share = top.count as f64 / t.count as f64;
            if share >= 0.5 {
                insights.push(json!({"type": "dominant_value", "column": name,
                    "confidence": round(share),
                    "description": format!("{:.0} % of {name} is {}", share * 100.0, top.value)}));
            }
        }
    }
    for c in &a.correlations {
        if c.pearson.abs() >= 0.7 {
            let way = if c.pearson > 0.0 { "rises" } else { "falls" };
            insights.push(json!({"type": "correlation", "columns": [c.a, c.b],
                "confidence": round(c.pearson.abs()),
                "description": format!("{} {way} with {} (Pearson {}, {} records)", c.b, c.a,
                    round(c.pearson), c.n)}));
        }
    }
    let rows: Vec<Value> = a
        .numeric
        .iter()
        .map(|(name, n)| json!([name, n.count, n.min, n.max, round(n.mean), n.std.map(round)]))
        .collect();
    let textual =
        format!(
        "{} records; {} numeric and {} other columns analyzed; {} correlation{} of 0.7 or more.",
        a.record_count,
        a.numeric.len(),
        a.text.len(),
        a.correlations.iter().filter(|c| c.pearson.abs() >= 0.7).count(),
        if a.correlations.iter().filter(|c| c.pearson.abs() >= 0.7).count() == 1 {
            ""
        } else {
            "s"
        },
    );
    json!({
        "parsed_file_id": a.parsed_file_id,
        "file_id": a.file_id,
        "summary": {
            "textual": textual,
            "tabular": {
                "columns": ["column", "count", "min", "max", "mean", "std"],
                "rows": rows,
                "summary_stats": {"record_count": a.record_count},
            },
        },
        "insights": insights,
    })
}

/// A column that names another entity: `customer_id` → `customer`.
fn referenced(column: &str) -> Option<String> {
    let n = normalise(column);
    let stem = n.strip_suffix("id")?;
    (stem.len() >= 2).then(|| stem.to_string())
}

/// Self-discovery as the UI shows it: the dataset and its columns as entities (each column
/// typed by its meaning), `has_attribute` from the dataset to each column, `identifies` from a
/// candidate key, `references` from a `<thing>_id` column to the thing it names.
pub fn discovery(interpretation: &Value, dataset: &str) -> Value {
    let empty = Map::new();
    let columns = interpretation["columns"].as_object().unwrap_or(&empty);
    let keys: Vec<&str> = interpretation["candidate_keys"]
        .as_array()
        .map(|k| k.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut entities = vec![json!({"name": dataset, "type": "dataset",
        "attributes": {"record_count": interpretation["record_count"]}})];
    let mut relationships = Vec::new();
    let mut confidence = 0.0;
    let mut decided = 0;
    for (name, c) in columns {
        let semantic = c["semantic_type"].as_str().unwrap_or("text");
        confidence += c["confidence"].as_f64().unwrap_or(0.0);
        if semantic != "text" {
            decided += 1;
        }
        entities.push(json!({"name": name, "type": semantic,
            "attributes": {"confidence": c["confidence"], "unique": c["unique"]}}));
        relationships.push(json!({"source": dataset, "target": name, "type": "has_attribute"}));
        if keys.contains(&name.as_str()) {
            relationships.push(json!({"source": name, "target": dataset, "type": "identifies"}));
        } else if let Some(thing) = referenced(name) {
            relationships.push(json!({"source": name, "target": thing, "type": "references"}));
            if !entities.iter().any(|e| e["name"] == thing.as_str()) {
                entities.push(json!({"name": thing, "type": "referenced_entity"}));
            }
        }
    }
    let n = columns.len().max(1) as f64;
    json!({
        "interpretation_type": "self_discovery",
        "parsed_file_id": interpretation["parsed_file_id"],
        "entities": entities,
        "relationships": relationships,
        "confidence_score": round(confidence / n),
        "coverage_score": round(decided as f64 / n),
    })
}

/// A relationship map (candidate joins between files) as the UI's graph: each file's joined
/// columns as entities, `joins` between them with the value overlap as confidence.
pub fn relationships(map: &Value, names: &dyn Fn(&str) -> String) -> Value {
    let mut entities: Vec<Value> = Vec::new();
    let mut add = |e: Value| {
        if !entities.iter().any(|x| x["name"] == e["name"]) {
            entities.push(e);
        }
    };
    let mut relationships = Vec::new();
    for c in map["candidates"].as_array().into_iter().flatten() {
        let side = |s: &Value| {
            format!(
                "{}.{}",
                names(s["parsed_file_id"].as_str().unwrap_or_default()),
                s["column"].as_str().unwrap_or_default()
            )
        };
        let (l, r) = (side(&c["left"]), side(&c["right"]));
        add(json!({"name": l, "type": "column"}));
        add(json!({"name": r, "type": "column"}));
        relationships.push(json!({"source": l, "target": r, "type": "joins",
            "confidence": c["overlap_ratio"]}));
    }
    json!({"entities": entities, "relationships": relationships})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thing_id_column_references_the_thing() {
        assert_eq!(referenced("customer_id").as_deref(), Some("customer"));
        assert_eq!(referenced("CustomerId").as_deref(), Some("customer"));
        assert_eq!(referenced("id"), None);
        assert_eq!(referenced("amount"), None);
    }

    #[test]
    fn discovery_types_columns_and_links_keys_and_references() {
        let i = json!({"parsed_file_id": "p", "record_count": 2, "candidate_keys": ["id"],
            "columns": {
                "id": {"semantic_type": "identifier", "confidence": 1.0, "unique": true},
                "customer_id": {"semantic_type": "identifier", "confidence": 0.5, "unique": false},
                "note": {"semantic_type": "text", "confidence": 0.5, "unique": false}}});
        let d = discovery(&i, "sales.csv");
        let rel = |s: &str, t: &str, k: &str| json!({"source": s, "target": t, "type": k});
        let rels = d["relationships"].as_array().unwrap();
        assert!(rels.contains(&rel("id", "sales.csv", "identifies")));
        assert!(rels.contains(&rel("customer_id", "customer", "references")));
        assert!(rels.contains(&rel("sales.csv", "note", "has_attribute")));
        // 4 entities: the dataset, 3 columns, and the referenced customer.
        assert_eq!(d["entities"].as_array().unwrap().len(), 5);
        // Mean confidence (1 + 0.5 + 0.5) / 3; two of three columns have a meaning.
        assert_eq!(d["confidence_score"], 0.667);
        assert_eq!(d["coverage_score"], 0.667);
    }
}
