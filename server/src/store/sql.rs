//! One face for the two engines' statements (docs/storage.md): a statement is written once, with
//! numbered parameters (`?1`, which PostgreSQL gets as `$1`) in the SQL both engines read, and
//! run on SQLite or PostgreSQL. Values cross as the types both drivers convert the same way:
//! `i64` (every integer column is `BIGINT` on PostgreSQL), `f64`, `bool`, `String`, `Vec<u8>`,
//! and `Option`s of them.
//!
//! Where the engines cannot share a statement (SQLite's `rowid`), [`Conn::is_postgres`] picks.

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::Connection;

use super::Conn;
use crate::db::DbError;

/// A value a statement takes: what both drivers write the same way.
pub trait Param {
    fn sqlite(&self) -> &dyn rusqlite::ToSql;
    fn postgres(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Param for T {
    fn sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn postgres(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// A value a statement reads: what both drivers read the same way.
pub trait Value: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a> {}
impl<T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>> Value for T {}

/// A value of any column, for the copy of whole tables (`migrate`): what SQLite stores, written
/// as the PostgreSQL column's type asks (an integer into a `DOUBLE PRECISION` column is a float).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Self::Null => ValueRef::Null,
            Self::Integer(i) => ValueRef::Integer(*i),
            Self::Real(r) => ValueRef::Real(*r),
            Self::Text(t) => ValueRef::Text(t.as_bytes()),
        }))
    }
}

impl rusqlite::types::FromSql for Cell {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        use rusqlite::types::{FromSqlError, ValueRef};
        match value {
            ValueRef::Null => Ok(Self::Null),
            ValueRef::Integer(i) => Ok(Self::Integer(i)),
            ValueRef::Real(r) => Ok(Self::Real(r)),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(|t| Self::Text(t.to_owned()))
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            ValueRef::Blob(_) => Err(FromSqlError::InvalidType),
        }
    }
}

impl postgres::types::ToSql for Cell {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Self::Null => Ok(postgres::types::IsNull::Yes),
            Self::Integer(i) if *ty == Type::FLOAT8 => (*i as f64).to_sql(ty, out),
            Self::Integer(i) => i.to_sql(ty, out),
            Self::Real(r) => r.to_sql(ty, out),
            Self::Text(t) => t.to_sql(ty, out),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        [Type::INT8, Type::FLOAT8, Type::TEXT].contains(ty)
    }

    postgres::types::to_sql_checked!();
}

impl<'a> postgres::types::FromSql<'a> for Cell {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        Ok(match *ty {
            Type::INT8 => Self::Integer(i64::from_sql(ty, raw)?),
            Type::FLOAT8 => Self::Real(f64::from_sql(ty, raw)?),
            _ => Self::Text(String::from_sql(ty, raw)?),
        })
    }

    fn from_sql_null(
        _: &postgres::types::Type,
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self::Null)
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        [Type::INT8, Type::FLOAT8, Type::TEXT].contains(ty)
    }
}

/// A row a query answered.
#[derive(Debug)]
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// The value of column `index` (from 0).
    pub fn get<T: Value>(&self, index: usize) -> Result<T, DbError> {
        match self {
            Self::Sqlite(row) => Ok(row.get(index)?),
            Self::Postgres(row) => Ok(row.try_get(index)?),
        }
    }
}

/// A PostgreSQL connection of the pool with the statements it has prepared (the driver keeps
/// none): a statement is parsed and planned once per connection, as rusqlite's cache does.
pub struct PgSession {
    client: RefCell<postgres::Client>,
    prepared: RefCell<HashMap<String, postgres::Statement>>,
    /// Whether a statement of the transaction failed: PostgreSQL then refuses the rest of the
    /// transaction and answers its `COMMIT` by rolling back, so a write that went on after one
    /// must not be told it was stored.
    failed: std::cell::Cell<bool>,
    /// Change numbers taken by this transaction and not yet used (next, last): see
    /// `store::households::next_change_seq`.
    numbers: std::cell::Cell<Option<(i64, i64)>>,
}

impl std::fmt::Debug for PgSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSession")
            .field("prepared", &self.prepared.borrow().len())
            .finish_non_exhaustive()
    }
}

impl PgSession {
    pub fn new(client: postgres::Client) -> Self {
        Self {
            client: RefCell::new(client),
            prepared: RefCell::new(HashMap::new()),
            failed: std::cell::Cell::new(false),
            numbers: std::cell::Cell::new(None),
        }
    }

    /// Begins a transaction (`BEGIN …`): no statement of it failed yet, and it holds no change
    /// numbers of its own.
    pub fn begin(&self, begin: &str) -> Result<(), DbError> {
        self.batch(begin)?;
        self.failed.set(false);
        self.numbers.set(None);
        Ok(())
    }

    /// Whether a statement of the transaction failed.
    pub fn take_failed(&self) -> bool {
        self.failed.replace(false)
    }

    /// Runs statements without parameters (transaction control, the schema).
    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(statement) = self.prepared.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client
            .borrow_mut()
            .prepare(&numbered_as_postgres(sql))?;
        self.prepared
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, DbError> {
        self.noting_failure(|| {
            let statement = self.statement(sql)?;
            let values = postgres_values(params);
            Ok(self.client.borrow_mut().execute(&statement, &values)?)
        })
    }

    fn query(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>, DbError> {
        self.noting_failure(|| {
            let statement = self.statement(sql)?;
            let values = postgres_values(params);
            Ok(self.client.borrow_mut().query(&statement, &values)?)
        })
    }

    fn for_each<E: From<DbError>>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut visit: impl FnMut(&postgres::Row) -> Result<(), E>,
    ) -> Result<(), E> {
        use postgres::fallible_iterator::FallibleIterator;
        self.noting_failure(|| {
            let statement = self.statement(sql)?;
            let mut client = self.client.borrow_mut();
            let mut rows = client
                .query_raw(&statement, params.iter().map(|p| p.postgres()))
                .map_err(DbError::from)?;
            while let Some(row) = rows.next().map_err(DbError::from)? {
                visit(&row)?;
            }
            Ok(())
        })
    }

    fn noting_failure<T, E>(&self, run: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let result = run();
        if result.is_err() {
            self.failed.set(true);
        }
        result
    }
}

fn postgres_values<'p>(params: &'p [&dyn Param]) -> Vec<&'p (dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p.postgres()).collect()
}

/// `?N` parameters as PostgreSQL numbers them (`$N`). The store's statements hold no `?` in a
/// string literal.
fn numbered_as_postgres(sql: &str) -> String {
    sql.replace('?', "$")
}

/// The engine under a [`Conn`].
#[derive(Clone, Copy, Debug)]
pub(super) enum Engine<'c> {
    Sqlite(&'c Connection),
    Postgres(&'c PgSession),
}

impl<'c> Conn<'c> {
    pub fn postgres(session: &'c PgSession) -> Self {
        Self(Engine::Postgres(session))
    }

    /// The next of the change numbers this transaction took in a block, if one is left (on
    /// PostgreSQL; SQLite takes them one by one).
    pub fn reserved_number(self) -> Option<i64> {
        let Engine::Postgres(session) = self.0 else {
            return None;
        };
        let (next, last) = session.numbers.get()?;
        session
            .numbers
            .set((next < last).then_some((next + 1, last)));
        Some(next)
    }

    /// Keeps the change numbers `next..=last`, taken by this transaction, for its next changes.
    pub fn reserve_numbers(self, next: i64, last: i64) {
        if let Engine::Postgres(session) = self.0 {
            session.numbers.set((next <= last).then_some((next, last)));
        }
    }

    /// Whether the engine is PostgreSQL: for the few statements the engines write differently.
    pub fn is_postgres(self) -> bool {
        matches!(self.0, Engine::Postgres(_))
    }

    /// Runs `op` with its statements planned for the values they are given. PostgreSQL's
    /// connections otherwise keep one plan for any values (`db/postgres.rs`), which is what the
    /// push's and the pull's lookups want; a scan of a region's range does not, as only the values
    /// tell a village from a province. A province's progress report took 1.7 s on the plan made
    /// for any range (a few thousand rows guessed, its groups hashed and spilled to disk) and
    /// 0.7 s on one made for its 1.5 million households (docs/benchmarks.md).
    pub fn planned_for_values<T, E: From<DbError>>(
        self,
        op: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        if !self.is_postgres() {
            return op();
        }
        self.execute("SET LOCAL plan_cache_mode = force_custom_plan", &[])?;
        let result = op()?;
        self.execute("SET LOCAL plan_cache_mode = force_generic_plan", &[])?;
        Ok(result)
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(self, sql: &str, params: &[&dyn Param]) -> Result<u64, DbError> {
        match self.0 {
            Engine::Sqlite(conn) => {
                let changed = conn
                    .prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(
                        params.iter().map(|p| p.sqlite()),
                    ))?;
                Ok(changed as u64)
            }
            Engine::Postgres(session) => session.execute(sql, params),
        }
    }

    /// Every row of a query, each read by `read`.
    pub fn rows<T>(
        self,
        sql: &str,
        params: &[&dyn Param],
        mut read: impl FnMut(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        let mut read_rows = Vec::new();
        self.each_row::<DbError>(sql, params, |row| {
            read_rows.push(read(row)?);
            Ok(true)
        })?;
        Ok(read_rows)
    }

    /// Gives `visit` every row of a query in turn, as it is read: on PostgreSQL from the socket,
    /// never all held at once, for a read too large to hold (a province's export). `visit` must
    /// run no statement of its own meanwhile.
    pub fn for_each_row<E: From<DbError>>(
        self,
        sql: &str,
        params: &[&dyn Param],
        mut visit: impl FnMut(&Row<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        match self.0 {
            Engine::Sqlite(_) => self.each_row(sql, params, |row| visit(row).map(|()| true)),
            Engine::Postgres(session) => {
                session.for_each(sql, params, |row| visit(&Row::Postgres(row)))
            }
        }
    }

    /// The first row of a query, if it answered one.
    pub fn optional_row<T>(
        self,
        sql: &str,
        params: &[&dyn Param],
        read: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        let mut read = Some(read);
        let mut first = None;
        self.each_row::<DbError>(sql, params, |row| {
            if let Some(read) = read.take() {
                first = Some(read(row)?);
            }
            Ok(false)
        })?;
        Ok(first)
    }

    /// Runs a query and gives `visit` its rows in turn, until it answers `false`.
    fn each_row<E: From<DbError>>(
        self,
        sql: &str,
        params: &[&dyn Param],
        mut visit: impl FnMut(&Row<'_>) -> Result<bool, E>,
    ) -> Result<(), E> {
        match self.0 {
            Engine::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql).map_err(DbError::from)?;
                let mut rows = statement
                    .query(rusqlite::params_from_iter(
                        params.iter().map(|p| p.sqlite()),
                    ))
                    .map_err(DbError::from)?;
                while let Some(row) = rows.next().map_err(DbError::from)? {
                    if !visit(&Row::Sqlite(row))? {
                        break;
                    }
                }
            }
            Engine::Postgres(session) => {
                for row in session.query(sql, params)? {
                    if !visit(&Row::Postgres(&row))? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The one row a query answers (an error when it answers none).
    pub fn row<T>(
        self,
        sql: &str,
        params: &[&dyn Param],
        read: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.optional_row(sql, params, read)?
            .ok_or_else(|| DbError::Inconsistent(format!("no row answered: {sql}")))
    }

    /// The first column of the one row a query answers.
    pub fn value<T: Value>(self, sql: &str, params: &[&dyn Param]) -> Result<T, DbError> {
        self.row(sql, params, |r| r.get(0))
    }

    /// The first column of the first row of a query, if it answered one.
    pub fn optional_value<T: Value>(
        self,
        sql: &str,
        params: &[&dyn Param],
    ) -> Result<Option<T>, DbError> {
        self.optional_row(sql, params, |r| r.get(0))
    }

    /// The first column of every row of a query.
    pub fn values<T: Value>(self, sql: &str, params: &[&dyn Param]) -> Result<Vec<T>, DbError> {
        self.rows(sql, params, |r| r.get(0))
    }

    /// Whether a query answers any row.
    pub fn exists(self, sql: &str, params: &[&dyn Param]) -> Result<bool, DbError> {
        Ok(self.optional_row(sql, params, |_| Ok(()))?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_become_postgres_numbers() {
        assert_eq!(
            numbered_as_postgres("SELECT a FROM t WHERE b = ?1 AND (?2 IS NULL OR c = ?2)"),
            "SELECT a FROM t WHERE b = $1 AND ($2 IS NULL OR c = $2)"
        );
    }
}
