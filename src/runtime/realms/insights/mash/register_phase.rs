//! Phase 4, `registered`: joins the sources by the canonical model into a new `parsed_file`
//! (parents: every source's parsed file), written in batches as it is produced, and registers
//! the `mash` artifact describing it. The execution's artifacts are `mash` and `parsed_file`.
//! The join's size is counted first (one pass over the anchor's keys) and checked against the
//! mash's cap (`cap`): over it, the phase fails before writing anything.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::cap::OutputCap;
use super::combine::{Combiner, Feed, Plan};
use super::writer::Writer;
use std::sync::Arc;

use super::{earlier, ids_in, mash_id, register, undo_on_error, MashOptions, MashParams, PHASES};
use crate::runtime::engine::handler::{artifact, SagaStep, StepContext, StepError, StepOutput};
use crate::runtime::realms::content::common::{derived_id, internal};
use crate::runtime::realms::content::parsed_file::ParsedFileDescriptor;
use crate::runtime::realms::insights::over_parsed::{each_record, page_size, try_each_record};
use crate::store::time::now_micros;

use super::report::{MashConflict, MashJoin, MashReport, MashSource};

/// An earlier phase's stored output, read back as the type it was written from.
fn decode<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T, StepError> {
    serde_json::from_value(v.clone())
        .map_err(|e| internal(format!("the mash's {what} cannot be read back: {e}")))
}

pub struct Registered(pub Arc<MashParams>);

#[async_trait]
impl SagaStep for Registered {
    fn name(&self) -> &str {
        "registered"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let mut made = Vec::new();
        let result = combine(ctx, &self.0.options, &mut made).await;
        undo_on_error(ctx, &made, result).await
    }
}

async fn combine(
    ctx: &StepContext,
    options: &MashOptions,
    made: &mut Vec<String>,
) -> Result<StepOutput, StepError> {
    let quality = earlier(ctx, "data_quality");
    let meaning = earlier(ctx, "semantic_interpretation");
    let mapping = earlier(ctx, "semantic_mapping");
    let model = &mapping["model"];
    let parsed_ids = ids_in(&quality, "sources", "parsed_file_id");
    let labels: Vec<String> = quality["sources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["label"].as_str().unwrap_or("source").to_string())
                .collect()
        })
        .unwrap_or_default();
    let keys = ids_in(&model["join"], "keys", "column");
    let feeds: Vec<Feed> = model["columns"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| Feed {
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    is_key: c["role"] == "key",
                    from: c["sources"]
                        .as_array()
                        .map(|ss| {
                            ss.iter()
                                .filter_map(|s| {
                                    Some((
                                        s["source_index"].as_u64()? as usize,
                                        s["column"].as_str()?.to_string(),
                                    ))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    if keys.len() != parsed_ids.len() || feeds.is_empty() {
        return Err(StepError::new(
            "the canonical model of the mapping phase is incomplete",
        ));
    }
    let names: Vec<String> = feeds.iter().map(|f| f.name.clone()).collect();
    let mut combiner = Combiner::new(options.join, keys, labels.clone(), feeds);
    for (j, id) in parsed_ids.iter().enumerate().skip(1) {
        try_each_record(ctx, id, |record| match record {
            Value::Object(r) => combiner.hold(j, r).map_err(StepError::new),
            _ => Ok(()),
        })
        .await?;
    }

    // The join's size, before anything is written.
    let inputs: Vec<(String, u64)> = quality["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(&labels)
        .map(|(s, label)| {
            let name = s["filename"].as_str().unwrap_or(label).to_string();
            (name, s["record_count"].as_u64().unwrap_or(0))
        })
        .collect();
    let cap = OutputCap::new(options.max_records, &inputs);
    let mut plan = Plan::default();
    each_record(ctx, &parsed_ids[0], |record| {
        if let Value::Object(r) = record {
            combiner.count_anchor(r, &mut plan);
        }
    })
    .await?;
    let input_names: Vec<String> = inputs.into_iter().map(|(n, _)| n).collect();
    let key = model["join"]["key"].as_str().unwrap_or_default();
    let planned = combiner.planned(&plan);
    cap.check(&planned, key, &input_names)
        .map_err(StepError::new)?;
    let own = derived_id(&ctx.execution_id, "mash:dataset");
    let room = crate::runtime::realms::quota::room(ctx, Some(&own)).await?;
    if planned.total > room.records {
        return Err(room.records_error(planned.total));
    }
    combiner.set_max_output(cap.records);

    let dataset_id = derived_id(&ctx.execution_id, "mash:dataset");
    let mash = mash_id(&ctx.execution_id);
    made.push(dataset_id.clone());
    register(
        ctx,
        &dataset_id,
        "parsed_file",
        parsed_ids.clone(),
        json!({"parsed_file_id": dataset_id, "mash_id": mash, "parsing_status": "parsing"}),
        "parsing",
    )
    .await?;

    // The anchor streams through a page at a time; combined records are written in batches
    // as they come.
    let store = &ctx.services.store;
    let mut writer = Writer::new(&dataset_id, &names);
    let page_len = page_size(names.len()) as i64;
    let mut offset = 0i64;
    loop {
        let page = store
            .parsed_records(&parsed_ids[0], offset, page_len)
            .await
            .map_err(internal)?;
        let n = page.len() as i64;
        for record in page {
            if let Value::Object(r) = record {
                if let Some(mut pending) = combiner.start_anchor(r) {
                    writer.drain(ctx, &mut combiner, &mut pending).await?;
                }
            }
        }
        if n < page_len {
            for mut pending in combiner.start_finish() {
                writer.drain(ctx, &mut combiner, &mut pending).await?;
            }
            break;
        }
        offset += n;
    }
    writer.flush(ctx).await?;
    let (written, sample, sample_truncated) = (
        writer.written,
        std::mem::take(&mut writer.sample),
        writer.sample_truncated,
    );
    let columns = writer.columns();
    let column_stats = columns.clone();
    let descriptor = ParsedFileDescriptor {
        parsed_file_id: dataset_id.clone(),
        file_id: None,
        parsing_status: "parsed".into(),
        parsing_type: Some("mash".into()),
        record_count: Some(u64::try_from(written).unwrap_or(0)),
        columns,
        mash_id: Some(mash.clone()),
        source_parsed_file_ids: Some(parsed_ids.clone()),
    }
    .to_value();
    store
        .update_artifact(&dataset_id, &descriptor, "active", now_micros())
        .await
        .map_err(internal)?;

    let matched = combiner.matched_counts();
    let text = |v: &Value| v.as_str().map(str::to_string);
    let sources: Vec<MashSource> = quality["sources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, s)| MashSource {
            label: text(&s["label"]).unwrap_or_default(),
            content_ref: text(&s["content_ref"]).unwrap_or_default(),
            file_id: text(&s["file_id"]),
            filename: text(&s["filename"]),
            parsed_file_id: text(&s["parsed_file_id"]).unwrap_or_default(),
            record_count: s["record_count"].as_u64().unwrap_or(0),
            matched_records: if i == 0 {
                combiner.anchor_rows - combiner.anchor_unmatched
            } else {
                matched.get(i).copied().unwrap_or(0)
            },
            quality_report_id: text(&s["quality_report_id"]).unwrap_or_default(),
            quality_score: s["quality_score"].as_f64().unwrap_or(0.0),
            interpretation_id: text(&meaning["interpretations"][i]["interpretation_id"]),
        })
        .collect();
    let mut conflicts: Vec<MashConflict> = decode(&model["conflicts"], "conflicts")?;
    conflicts.extend(combiner.value_conflicts());
    let report = MashReport {
        mash_id: mash.clone(),
        name: options.name.clone().unwrap_or_else(|| labels.join(" + ")),
        status: "registered".into(),
        phases: PHASES.iter().map(|p| p.to_string()).collect(),
        parsed_file_id: dataset_id.clone(),
        record_count: u64::try_from(written).unwrap_or(0),
        columns: column_stats,
        canonical_model: model.clone(),
        canonical_model_id: text(&mapping["canonical_model_id"]).unwrap_or_default(),
        join: MashJoin {
            kind: options.join,
            key: text(&model["join"]["key"]).unwrap_or_default(),
            keys: decode(&model["join"]["keys"], "join keys")?,
        },
        sources,
        conflicts,
        sample_records: sample,
        sample_truncated,
    };
    let payload = serde_json::to_value(&report).map_err(internal)?;
    made.push(mash.clone());
    register(ctx, &mash, "mash", parsed_ids, payload.clone(), "active").await?;
    let mut artifacts = Map::new();
    artifacts.insert("mash".into(), artifact("mash", payload));
    artifacts.insert("parsed_file".into(), artifact("parsed_file", descriptor));
    Ok(StepOutput {
        output: json!({"mash_id": mash, "parsed_file_id": dataset_id, "record_count": written}),
        artifacts,
    })
}
