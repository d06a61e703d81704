//! Errors of the Runtime Plane, independent of HTTP. The HTTP layers map them to the contract's
//! error shape.

use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RuntimeError {
    /// Unknown, or not visible to the caller's tenant (never reveal which): what was not found
    /// (`session`, `execution`, …).
    #[error("{0} not found")]
    NotFound(Cow<'static, str>),
    #[error("unknown intent type '{0}'")]
    UnknownIntent(String),
    /// Field-level validation failures: field → what is wrong.
    #[error("the request is invalid")]
    Invalid(BTreeMap<String, String>),
    /// The request conflicts with the state: `code` says how (`execution_finished`, …).
    #[error("{message}")]
    Conflict {
        code: Cow<'static, str>,
        message: String,
    },
    #[error("the content exceeds {0} bytes")]
    TooLarge(u64),
    #[error("the runtime is unavailable")]
    Unavailable(String),
    /// Over an intake limit of `limit` per `window_secs`; `message` says which.
    #[error("{message}")]
    RateLimited {
        message: String,
        limit: u32,
        window_secs: u64,
        retry_after_secs: u64,
    },
    /// The database cannot serve now (no connection, a full disk, …); the text is for logs.
    #[error("the database is unavailable")]
    DatabaseUnavailable(String),
    /// Internal failure; the text is for logs only, never for clients.
    #[error("internal error")]
    Internal(String),
}

impl RuntimeError {
    pub fn invalid(field: &str, problem: impl Into<String>) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_string(), problem.into());
        RuntimeError::Invalid(fields)
    }

    /// Validation fields named as the caller's own (`parameters.content_refs` → `content_refs`),
    /// for endpoints whose body fields become an intent's parameters.
    pub fn top_level_fields(self) -> Self {
        match self {
            RuntimeError::Invalid(fields) => RuntimeError::Invalid(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.trim_start_matches("parameters.").to_string(), v))
                    .collect(),
            ),
            other => other,
        }
    }

    pub fn not_found(what: impl Into<Cow<'static, str>>) -> Self {
        RuntimeError::NotFound(what.into())
    }

    pub fn conflict(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        RuntimeError::Conflict {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Where a store failure crosses the seam it becomes text (the contract's errors are plain
/// data); the whole cause chain goes with it, for the log line that reports it.
impl From<crate::store::StoreError> for RuntimeError {
    fn from(e: crate::store::StoreError) -> Self {
        if let crate::store::StoreError::Moved(why) = e {
            RuntimeError::Unavailable(why)
        } else if e.is_unavailable() {
            RuntimeError::DatabaseUnavailable(e.chain())
        } else {
            RuntimeError::Internal(e.chain())
        }
    }
}
