//! The local cloud's monitoring services, pure: CloudWatch (metrics and alarms), SNS
//! (topics, subscriptions, deliveries) and EventBridge (rules, targets, events), each a
//! state machine driven by calls on JSON named by the service model's members, at a
//! virtual `now`. The wire codecs live in `aws-wire`; delivery over sockets, files and
//! processes lives in the control plane, which reports each attempt's outcome back.
//!
//! Conventions shared by every service here: inputs and outputs are `serde_json::Value`
//! trees named by botocore's members (as boto3 names them), timestamps are JSON numbers
//! of seconds since the Unix epoch (fractions allowed), blobs are base64 strings, and a
//! whole-call failure is an [`ApiError`] carrying the query protocol's error code.

pub mod cloudwatch;
mod error;
pub mod eventbridge;
pub mod native;
pub mod prometheus;
mod service;
pub mod sns;
pub mod tags;

pub use error::ApiError;
pub use service::{Monitoring, MonitoringConfig, Service};
