//! A batch's statements run as one: on SQLite a single script (one hand-off to the connection's
//! worker thread for the lot, instead of one per statement), on PostgreSQL one statement after
//! the other on the transaction's connection. Each statement may state how many rows it must
//! change; a script where one changed another number reports [`Ran::Short`] (the caller rolls
//! back). SQLite runs every statement of the script before the counts are checked; PostgreSQL
//! stops at the first short one.
//!
//! Rows go in multi-row statements of at most [`ROWS`] rows. Their parameters are anonymous
//! `?`s on SQLite, bound in order across the whole script, and `$1, $2, …` per statement on
//! PostgreSQL. (SQLite looks a named parameter up in a list of all the statement's names, when
//! it parses it and again when each is bound: a statement of 2,000 `$n`s spends most of its
//! preparation and binding there.)

use futures::TryStreamExt;
use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{Any, AnyConnection, Arguments, Encode, Executor, Type};

use super::db::Backend;

/// Rows per statement (at most 13 parameters each: well under both backends' limits).
pub(super) const ROWS: usize = 256;

/// What a script did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ran {
    /// Every statement changed the rows it had to.
    AsExpected,
    /// A statement changed another number of rows than it had to (on PostgreSQL the rest were
    /// not run).
    Short,
}

pub(super) struct Script<'q> {
    backend: Backend,
    /// SQLite: one entry, the whole script. PostgreSQL: one per statement.
    parts: Vec<(String, AnyArguments<'q>)>,
    /// Per statement: the rows it must change, if that is checked.
    expected: Vec<Option<u64>>,
    /// The first value that could not be encoded.
    bad: Option<BoxDynError>,
}

/// A statement's parameters, bound in order.
pub(super) struct Binds<'a, 'q> {
    args: &'a mut AnyArguments<'q>,
    bad: &'a mut Option<BoxDynError>,
}

impl<'q> Binds<'_, 'q> {
    pub fn bind<T: 'q + Encode<'q, Any> + Type<Any>>(&mut self, value: T) -> &mut Self {
        if let Err(e) = self.args.add(value) {
            self.bad.get_or_insert(e);
        }
        self
    }
}

impl<'q> Script<'q> {
    pub fn new(backend: Backend) -> Script<'q> {
        Script {
            backend,
            parts: Vec::new(),
            expected: Vec::new(),
            bad: None,
        }
    }

    /// Adds `sql(values)` for each chunk of at most [`ROWS`] rows, where `values` is `template`
    /// (a row with a `?` for each parameter) once per row, and `bind` binds one row's
    /// parameters in order. `every_row`: each statement must change as many rows as it carries.
    /// No rows, no statement.
    pub fn rows<T>(
        &mut self,
        rows: &'q [T],
        template: &str,
        sql: impl Fn(&str) -> String,
        bind: impl Fn(&mut Binds<'_, 'q>, &'q T),
        every_row: bool,
    ) {
        for chunk in rows.chunks(ROWS) {
            let text = sql(&values(self.backend, template, chunk.len()));
            let args = match self.backend {
                Backend::Sqlite => match self.parts.first_mut() {
                    Some((script, args)) => {
                        script.push_str(";\n");
                        script.push_str(&text);
                        args
                    }
                    None => {
                        self.parts.push((text, AnyArguments::default()));
                        &mut self.parts[0].1
                    }
                },
                Backend::Postgres => {
                    self.parts.push((text, AnyArguments::default()));
                    &mut self.parts.last_mut().expect("just pushed").1
                }
            };
            let mut binds = Binds {
                args,
                bad: &mut self.bad,
            };
            for row in chunk {
                bind(&mut binds, row);
            }
            self.expected.push(every_row.then_some(chunk.len() as u64));
        }
    }

    /// Runs the script on `conn` (inside the caller's transaction). An error leaves the
    /// statements before it applied: the caller rolls back.
    pub async fn run(self, conn: &mut AnyConnection) -> Result<Ran, sqlx::Error> {
        if let Some(bad) = self.bad {
            return Err(sqlx::Error::Encode(bad));
        }
        let mut changed = Vec::with_capacity(self.expected.len());
        match self.backend {
            Backend::Sqlite => {
                for (text, args) in self.parts {
                    // Not kept in the connection's statement cache: a script's text changes with
                    // its batch's shape, so a cached one would seldom be used again and would
                    // hold every one of its prepared statements.
                    let script = sqlx::query_with(&text, args).persistent(false);
                    let mut results = conn.fetch_many(script);
                    while let Some(result) = results.try_next().await? {
                        if let sqlx::Either::Left(done) = result {
                            changed.push(done.rows_affected());
                        }
                    }
                }
            }
            Backend::Postgres => {
                for ((text, args), expected) in self.parts.into_iter().zip(&self.expected) {
                    let done = conn.execute(sqlx::query_with(&text, args)).await?;
                    changed.push(done.rows_affected());
                    if expected.is_some_and(|n| n != done.rows_affected()) {
                        return Ok(Ran::Short);
                    }
                }
            }
        }
        if changed.len() != self.expected.len() {
            return Err(sqlx::Error::Protocol(format!(
                "a script of {} statements reported {}",
                self.expected.len(),
                changed.len()
            )));
        }
        let short = changed
            .iter()
            .zip(&self.expected)
            .any(|(n, expected)| expected.is_some_and(|e| e != *n));
        Ok(if short { Ran::Short } else { Ran::AsExpected })
    }
}

/// `template` repeated `rows` times, comma-separated: as it is on SQLite (anonymous `?`s), with
/// its `?`s numbered `$1, $2, …` on PostgreSQL.
pub(super) fn values(backend: Backend, template: &str, rows: usize) -> String {
    let mut out = String::with_capacity((template.len() + 8) * rows);
    let mut n = 0;
    for i in 0..rows {
        if i > 0 {
            out.push_str(", ");
        }
        match backend {
            Backend::Sqlite => out.push_str(template),
            Backend::Postgres => {
                for c in template.chars() {
                    if c == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(c);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_across_the_statement_on_postgres_only() {
        assert_eq!(
            values(Backend::Postgres, "(?, ?, 'x', ?)", 2),
            "($1, $2, 'x', $3), ($4, $5, 'x', $6)"
        );
        assert_eq!(
            values(Backend::Sqlite, "(?, ?, 'x', ?)", 2),
            "(?, ?, 'x', ?), (?, ?, 'x', ?)"
        );
        assert_eq!(values(Backend::Postgres, "(?)", 0), "");
    }
}
