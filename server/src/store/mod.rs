//! Storage: where the server's SQL statements live (issue 16, docs/storage.md), split by use
//! case, with functions at the level of one (the changes a pull page reads, an enrollment code
//! looked up), so that the logic around them names no engine and a second engine (PostgreSQL)
//! can answer the same calls. [`crate::db`] underneath is the SQLite engine: its connections,
//! the one writer with its group commit, the fsync and checkpoint threads, the schema.
//!
//! Every statement of the server is here; [`sql`] runs each on either engine, and
//! `conformance.rs` checks that both answer every call the same.

pub mod attempts;
pub mod audit;
pub mod campaigns;
pub mod copy;
pub mod devices;
pub mod enumerators;
pub mod household_pages;
pub mod households;
pub mod imports;
pub mod map;
pub mod photos;
pub mod pull;
pub mod push;
pub mod queues;
pub mod regions;
pub mod removals;
pub mod reports;
pub mod reviews;
pub mod running_imports;
pub mod sql;
pub mod supervisors;
pub mod tallies;

#[cfg(test)]
mod conformance;

use rusqlite::{Connection, Transaction};

use sql::Engine;

/// A connection of the store, inside the transaction its caller holds: what the logic outside
/// this module passes to it, naming no engine. Statements run through [`sql`].
#[derive(Clone, Copy, Debug)]
pub struct Conn<'c>(Engine<'c>);

impl<'c> From<&'c Connection> for Conn<'c> {
    fn from(conn: &'c Connection) -> Self {
        Self(Engine::Sqlite(conn))
    }
}

impl<'c> From<&'c Transaction<'_>> for Conn<'c> {
    fn from(tx: &'c Transaction<'_>) -> Self {
        Self(Engine::Sqlite(tx))
    }
}
