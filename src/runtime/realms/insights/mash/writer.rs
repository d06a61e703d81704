//! The combined records of a mash on their way to the store: written in batches of `BATCH` as
//! they come (so at most one batch is buffered however far a key fans out), their column types
//! inferred, and the first few kept as samples — as many of the first `SAMPLE` as fit in
//! `MAX_SAMPLE_BYTES` of JSON.

use serde_json::{Map, Value};

use super::combine::{Combiner, Pending};
use crate::runtime::engine::handler::{StepContext, StepError};
use crate::runtime::realms::content::common::internal;
use crate::runtime::realms::content::parsing::{ColumnStats, ColumnsInfer};

/// Records written per insert, and buffered at most.
pub const BATCH: usize = 1000;
/// Sample records kept, at most.
pub const SAMPLE: usize = 5;
/// The sample records' JSON, at most: the first records that fit are shown.
pub const MAX_SAMPLE_BYTES: usize = 16 * 1024;

pub struct Writer {
    dataset_id: String,
    infer: ColumnsInfer,
    buffer: Vec<String>,
    pub written: i64,
    pub sample: Vec<Value>,
    sample_bytes: usize,
    pub sample_truncated: bool,
}

impl Writer {
    /// A writer of the records of `dataset_id`, whose columns are `names`.
    pub fn new(dataset_id: &str, names: &[String]) -> Self {
        Writer {
            dataset_id: dataset_id.to_string(),
            infer: ColumnsInfer::with_names(names),
            buffer: Vec::new(),
            written: 0,
            sample: Vec::new(),
            sample_bytes: 0,
            sample_truncated: false,
        }
    }

    /// Writes every record of `pending`, flushing each full batch.
    pub async fn drain(
        &mut self,
        ctx: &StepContext,
        combiner: &mut Combiner,
        pending: &mut Pending,
    ) -> Result<(), StepError> {
        while let Some(row) = combiner.next_row(pending).map_err(StepError::new)? {
            self.take(row);
            if self.buffer.len() >= BATCH {
                self.flush(ctx).await?;
            }
        }
        Ok(())
    }

    fn take(&mut self, row: Map<String, Value>) {
        self.infer.observe_record(&row);
        let row = Value::Object(row);
        let text = row.to_string();
        if self.sample.len() < SAMPLE && !self.sample_truncated {
            if self.sample_bytes + text.len() <= MAX_SAMPLE_BYTES {
                self.sample_bytes += text.len();
                self.sample.push(row);
            } else {
                self.sample_truncated = true;
            }
        }
        self.buffer.push(text);
    }

    /// Writes what is buffered.
    pub async fn flush(&mut self, ctx: &StepContext) -> Result<(), StepError> {
        let batch = std::mem::take(&mut self.buffer);
        let len = batch.len() as i64;
        ctx.services
            .store
            .insert_parsed_records(&self.dataset_id, self.written, batch)
            .await
            .map_err(internal)?;
        self.written += len;
        Ok(())
    }

    /// The columns of what was written (after the last `flush`).
    pub fn columns(self) -> Vec<ColumnStats> {
        self.infer.finish()
    }
}
