//! The EC2 Fleet engine, as pure functions over (state, input, now).
//!
//! A CreateFleet request ([`wire`]) is validated once into a [`spec::FleetSpec`]
//! ([`validate`]); allocation strategies turn a need for capacity and a snapshot of the
//! market's offerings into launches ([`allocate`]); the [`Engine`] keeps fleets and their
//! instances, reconciles them toward their targets, handles scale-down, interruptions,
//! replenishment, deletion and expiry, and records AWS-style history ([`history`]);
//! [`describe`] answers the read-side calls.
//!
//! This crate knows nothing about HTTP, XML, processes, files or async runtimes, and it
//! never reads a clock: every operation takes `now`.

pub mod allocate;
pub mod describe;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod history;
pub mod ids;
pub mod instance;
pub mod spec;
pub mod validate;
pub mod wire;

mod delete;
mod lifecycle;
mod output;
mod reconcile;
mod requirements;

pub use allocate::{HostBudget, Offerings};
pub use delete::{DeleteFleetError, DeleteFleetFailure, DeleteFleetSuccess, DeleteFleetsOutput};
pub use engine::{Engine, EngineConfig, Event, Prepared};
pub use error::{ErrorCode, FleetError, LaunchErrorCode};
pub use fleet::{ActivityStatus, Fleet, FleetState};
pub use ids::{FleetId, InstanceId, SpotRequestId};
pub use instance::{Instance, InstanceState, InterruptionReason, Notice};
