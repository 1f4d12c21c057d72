//! Storage: where the server's SQL statements live (issue 16, docs/storage.md), split by use
//! case, with functions at the level of one (the changes a pull page reads, an enrollment code
//! looked up), so that the logic around them names no engine and a second engine (PostgreSQL)
//! can answer the same calls. [`crate::db`] underneath is the SQLite engine: its connections,
//! the one writer with its group commit, the fsync and checkpoint threads, the schema.
//!
//! The move is under way: the modules here hold what has moved; the others still hold their SQL.

pub mod devices;
pub mod households;
pub mod pull;
pub mod push;
pub mod supervisors;

use rusqlite::{Connection, Transaction};

/// A connection of the store, inside the transaction its caller holds: what the logic outside
/// this module passes to it, naming no engine.
#[derive(Clone, Copy, Debug)]
pub struct Conn<'c>(&'c Connection);

impl<'c> From<&'c Connection> for Conn<'c> {
    fn from(conn: &'c Connection) -> Self {
        Self(conn)
    }
}

impl<'c> From<&'c Transaction<'_>> for Conn<'c> {
    fn from(tx: &'c Transaction<'_>) -> Self {
        Self(tx)
    }
}

impl<'c> Conn<'c> {
    /// The engine's connection: for the store, and for modules whose SQL has not moved yet (they
    /// carry clippy's allow).
    pub(crate) fn sql(self) -> &'c Connection {
        self.0
    }
}
