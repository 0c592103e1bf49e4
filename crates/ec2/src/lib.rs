//! The local cloud's EC2, pure: a [`Cloud`] is one region — the simulated Spot market
//! and fleet engine (`world`) plus everything EC2 adds around them (VPCs, subnets,
//! security groups, launch templates, tags, what each instance was launched with).
//!
//! - [`Cloud::call`] performs an EC2 action on JSON named like the AWS CLI's
//!   `--cli-input-json` (the `aws-wire` codec turns the EC2 query protocol into that
//!   JSON and the answers back into EC2's XML).
//! - [`Cloud::inject`] performs FIS-style faults; [`Cloud::fis_call`] serves FIS itself
//!   (experiment templates and experiments of Spot interruptions, which inject them).
//! - [`Cloud::advance_to`] moves virtual time.
//! - [`Cloud::imds`] answers an instance's metadata requests, [`Cloud::runtime`] says
//!   what its processes should be doing, and [`Cloud::bus`] holds the EventBridge
//!   events the region published.
//!
//! Every change goes through [`Cloud::apply`] or [`Cloud::advance_to`] and is
//! deterministic: the same commands at the same virtual times rebuild the same cloud.
//! This crate has no clock, no sockets, no files and no processes; the control plane
//! owns those.

mod api;
mod catalog_api;
mod cidr;
mod cloud;
mod error;
mod events;
mod faults;
mod filters;
mod fis;
mod fleets;
mod imds;
mod instances;
mod network;
mod runtime;
mod security_groups;
mod spot_requests;
mod tagging;
mod tags;
mod templates;
pub mod wire;

pub use api::{actions, changes_state, is_served};
pub use cloud::{ACCOUNT_ID, Bus, BusEvent, Changes, Cloud, CloudConfig, Command, REGION};
pub use error::ApiError;
pub use faults::{FaultOutcome, FaultRequest, Targets};
pub use fis::{FIS_OPERATIONS, INITIATING, fis_changes_state};
pub use imds::{ImdsAnswer, NOT_FOUND_PAGE};
pub use instances::MetadataOptions;
pub use runtime::{ProcessGoal, Runtime};
pub use world::HostLimits;
