//! The store's one error. It keeps the driver's error as its source (the chain is there for
//! whoever logs or inspects it) and says in its kind what the caller may do about it: wait for
//! the database to come back, or treat the request as failed.

/// A failed store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot serve now (no connection, I/O, a full disk, a read-only or locked
    /// file, a server shutting down): the same request may succeed later.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a failed statement, a row that does not decode.
    #[error("a database operation failed: {0}")]
    Failed(#[source] sqlx::Error),
    /// A cluster node wrote for a partition it no longer holds (another node took it over):
    /// nothing was written.
    #[error("{0}")]
    Moved(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if super::health::is_unavailable(&e) {
            StoreError::Unavailable(e)
        } else {
            StoreError::Failed(e)
        }
    }
}

impl StoreError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// This error and its sources, `: `-separated, each once (sqlx often repeats its source).
    pub fn chain(&self) -> String {
        cause_chain(self)
    }
}

/// An error and its sources, `: `-separated, each once.
pub(crate) fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use std::error::Error as _;

    #[test]
    fn the_kind_follows_the_cause_and_the_cause_stays_the_source() {
        let down = StoreError::from(sqlx::Error::PoolTimedOut);
        assert!(down.is_unavailable());
        assert!(matches!(
            down.source().and_then(|s| s.downcast_ref::<sqlx::Error>()),
            Some(sqlx::Error::PoolTimedOut)
        ));
        let bad = StoreError::from(sqlx::Error::RowNotFound);
        assert!(!bad.is_unavailable());
        assert_eq!(
            bad.chain(),
            "a database operation failed: no rows returned by a query that expected to return at least one row"
        );
    }
}
