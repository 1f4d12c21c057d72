//! # verivali-core
//!
//! The domain of Verivali, and everything a phone runs offline: the data model with its
//! Indonesian and English labels ([`model`]), the validation rules with stable codes
//! ([`validate`]), suggestions beside the enumerator's judgement ([`suggest`]), canonical JSON and
//! content hashes ([`canonical`]), the deterministic household merge ([`merge`]) and, with the
//! `store` feature, the phone's SQLite store ([`store`]) and, with `sync`, the client that syncs it
//! with the server ([`sync`]: blocking HTTP over rustls) and, with `bundle`, the sealed file that
//! carries a phone's outbox when there is no signal ([`bundle`]).
//!
//! The server depends on this crate without the `store` feature, so that phone and server share
//! one model, one set of rules, one hash and one merge, and can never disagree.
//!
//! Not here: the server, async runtimes, FFI. Those live in the server and the bindings.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::panic))]

#[cfg(feature = "bundle")]
pub mod bundle;
pub mod canonical;
pub mod merge;
pub mod model;
#[cfg(feature = "photo")]
pub mod photo;
pub mod protocol;
pub mod sample;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(feature = "store")]
pub mod store;
pub mod suggest;
#[cfg(feature = "sync")]
pub mod sync;
pub mod validate;
