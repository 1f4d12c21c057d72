//! The server tested through real HTTP: each test starts the application on a free loopback port
//! with a fresh data directory and talks to it with reqwest.

#![allow(clippy::unwrap_used, clippy::panic)]

mod admin;
mod attachments;
mod crash;
mod data_team;
mod duplicates;
mod enroll;
mod exports;
mod guarantees;
mod helpers;
mod import;
mod logs;
mod map;
mod migrate;
mod openapi;
mod operations;
mod pages;
mod processes;
mod queues;
mod session;
mod supervision;
mod sync;
