//! spotlab target: a throttled HTTP service under test.
//!
//! `GET /` answers `200 Hello World!` within a GCRA rate limit and `429 Throttling!`
//! with `Retry-After` beyond it; `/health` always answers `200 OK`; `/metrics` gives the
//! counters in Prometheus text. Rates and added latencies are virtual, read through the
//! [`clock`] crate, so a load test can run many times faster than real time.
//!
//! The layers, from pure to shell:
//!
//! - [`limiter`]: the GCRA decision, a function of `now` (no clock);
//! - [`latency`], [`config`]: flags parsed once into checked types;
//! - [`metrics`]: sharded counters and their Prometheus rendering;
//! - [`target`]: what each request gets ([`Target::handle`]), socket-free;
//! - [`server`]: hyper connections, keep-alive, graceful shutdown ([`serve`]);
//! - [`run`](fn@run): the process: runtime, bind, signals, the printed lines.
//!
//! The crate knows nothing of fleets, agents or the control plane.

pub mod access_log;
pub mod config;
pub mod latency;
pub mod limiter;
pub mod metrics;
mod run;
pub mod server;
pub mod target;

pub use access_log::AccessLog;
pub use config::{ErrorRatio, TargetArgs, TargetConfig};
pub use latency::Latency;
pub use limiter::{Decision, Limiter, Quota, QuotaError};
pub use run::run;
pub use server::{serve, serve_with_drain_timeout};
pub use target::{Reply, Route, Target};
