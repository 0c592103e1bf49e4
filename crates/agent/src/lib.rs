//! `spotlab agent`: a constant-rate, open-model HTTP test agent that handles Spot
//! interruption notices.
//!
//! - [`schedule`]: the absolute send grid (pure).
//! - [`tally`]: the books, intervals into reports, totals into a checkpoint (pure).
//! - [`caller`]: the callers and their HTTP/1.1 connections.
//! - [`imds`]: the instance metadata client (identity, notices).
//! - [`sink`]: where reports go.
//! - [`cloudwatch`]: reports as CloudWatch datums, in calls within its limits (pure).
//! - [`checkpoint`]: writing the checkpoint through `object_store`.
//! - [`run`]: the orchestration: start, report every second, drain, exit.
//!
//! Every rate, period and timestamp is virtual time from the [`clock::Clock`].

pub mod caller;
pub mod checkpoint;
pub mod cloudwatch;
mod config;
pub mod imds;
pub mod run;
pub mod schedule;
pub mod sink;
pub mod summary;
pub mod tally;

pub use config::AgentArgs;
pub use run::run;
