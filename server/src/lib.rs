//! # verivali-server
//!
//! Receives visits from the phones, counts each exactly once, merges the visits of a household
//! with the core's merge, and serves pulls. Storage is SQLite in a data directory (see [`db`]).
//! The CLI in `main.rs` also administers: regions, enumerators, enrollment codes, devices.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]
// The OpenAPI document is one `json!` literal (routes/openapi.rs), deeper than the default.
#![recursion_limit = "256"]

pub mod admin;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bundles;
pub mod campaigns;
pub mod client_addr;
pub mod config;
// The SQLite engine and the store are where SQL runs (server/clippy.toml).
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
pub mod db;
pub mod demo;
pub mod disk;
pub mod enrollment;
pub mod error;
pub mod exports;
pub mod health;
pub mod households;
pub mod import;
pub mod ingest;
pub mod limits;
pub mod map;
pub mod metrics;
pub mod migrate;
pub mod people;
pub mod phones;
pub mod photos;
pub mod privacy;
pub mod pull;
pub mod queues;
pub mod removals;
pub mod reports;
pub mod review;
pub mod roles;
pub mod routes;
pub mod sessions;
pub mod startup;
pub mod state;
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
pub mod store;
pub mod supervision;
pub mod tallies;
pub mod team;
pub mod telemetry;
pub mod tls;
pub mod tokens;
pub mod web;

pub use startup::Application;
