//! CloudWatch: metrics ([`metrics`]) and alarms ([`alarms`]).

pub mod alarms;
pub mod metrics;
