//! [`Cloud`]: the local EC2 region as one pure state machine. It owns the simulated
//! [`World`] (market and fleet engine) and everything EC2 adds around it — VPCs,
//! subnets, security groups, launch templates, tags, what each instance was launched
//! with — and turns the world's log into EventBridge events and a set of instances whose
//! processes the shell must look at.
//!
//! Every change comes through [`Cloud::apply`] (an API call or a fault, at the cloud's
//! current time) or [`Cloud::advance_to`]; both are deterministic, so a control plane
//! that records the commands it applied, with their times, rebuilds the same cloud by
//! applying them again. Nothing here reads a clock, touches a file or a socket.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use fleet::ids::IdGen;
use fleet::{EngineConfig, FleetId, InstanceId};
use market::MarketConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use simtime::{SimDuration, SimTime};
use world::{HostLimits, World, WorldConfig};

use crate::error::ApiError;
use crate::faults::FaultRequest;
use crate::fis::Fis;
use crate::instances::InstanceRecord;
use crate::network::Network;
use crate::tags::TagStore;
use crate::templates::Templates;

/// The account every local resource belongs to.
pub const ACCOUNT_ID: &str = "000000000000";
/// The region the local cloud plays (the only one the market data describes).
pub const REGION: &str = market::REGION;
/// How many events the bus keeps for late readers.
const BUS_CAPACITY: usize = 100_000;

/// What fixes a cloud's behaviour; stored with its state so a restart rebuilds the
/// same cloud.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CloudConfig {
    /// Seed of the market and of every resource id.
    pub seed: u64,
    /// The virtual instant the cloud was created at.
    pub start: SimTime,
    /// What the host may run at once, if bounded.
    pub host: Option<HostLimits>,
    /// Multiplier on every pool's natural interruption rate.
    pub interruption_scale: f64,
    /// From launch to `running`, in virtual milliseconds.
    pub boot_delay_ms: u64,
    /// IMDS requires session tokens (IMDSv2) unless a launch template says otherwise.
    pub imds_tokens_required: bool,
}

impl CloudConfig {
    /// Defaults: advisor interruption rates, a 5-second boot, IMDSv1 allowed.
    pub fn new(seed: u64, start: SimTime) -> CloudConfig {
        CloudConfig {
            seed,
            start,
            host: None,
            interruption_scale: 1.0,
            boot_delay_ms: 5_000,
            imds_tokens_required: false,
        }
    }

    fn world(&self) -> WorldConfig {
        WorldConfig {
            market: MarketConfig {
                seed: self.seed,
                start: self.start,
                interruption_scale: self.interruption_scale,
                ..MarketConfig::default()
            },
            engine: EngineConfig {
                boot_delay: SimDuration::from_millis(self.boot_delay_ms),
                ..EngineConfig::default()
            },
            host: self.host,
        }
    }
}

/// Something the cloud was told to do, as a control plane records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    /// An EC2 API call: the action and its input (JSON named like the CLI's).
    Api {
        /// e.g. `CreateFleet`.
        action: String,
        /// The decoded input.
        input: Value,
    },
    /// A fault injection.
    Fault(FaultRequest),
    /// A FIS call: the operation and its input (JSON named by FIS's model).
    Fis {
        /// e.g. `StartExperiment`.
        operation: String,
        /// The decoded input.
        input: Value,
    },
}

/// One event on the cloud's bus: EventBridge's envelope, numbered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BusEvent {
    /// Position on the bus, from 1, gap-free.
    pub seq: u64,
    /// The event (`version`, `id`, `detail-type`, `source`, `account`, `time`,
    /// `region`, `resources`, `detail`).
    pub event: Value,
}

/// The events published so far (the most recent [`BUS_CAPACITY`]).
#[derive(Clone, Debug, Default)]
pub struct Bus {
    events: VecDeque<BusEvent>,
    next_seq: u64,
}

impl Bus {
    /// Publishes `event` as the next one.
    pub fn publish(&mut self, event: Value) {
        self.next_seq += 1;
        self.events.push_back(BusEvent {
            seq: self.next_seq,
            event,
        });
        while self.events.len() > BUS_CAPACITY {
            self.events.pop_front();
        }
    }

    /// Events with a sequence number above `after`, oldest first.
    pub fn since(&self, after: u64) -> impl Iterator<Item = &BusEvent> {
        let skip = self
            .events
            .front()
            .map_or(0, |first| after.saturating_sub(first.seq - 1));
        self.events
            .iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
    }

    /// The sequence number of the latest event (0 if none).
    pub fn last_seq(&self) -> u64 {
        self.next_seq
    }

    /// The events kept, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &BusEvent> {
        self.events.iter().rev()
    }
}

/// What changed since the shell last asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Instances whose state changed: their processes may need starting, signalling or
    /// killing.
    pub instances: BTreeSet<InstanceId>,
    /// Events published, by sequence number range `(first, last)`.
    pub events: Option<(u64, u64)>,
}

/// The local EC2 region.
#[derive(Debug)]
pub struct Cloud {
    pub(crate) config: CloudConfig,
    pub(crate) world: World,
    /// Ids of the resources EC2 adds (VPCs, subnets, groups, templates, reservations).
    pub(crate) ids: IdGen,
    /// Event ids and fault target choices.
    pub(crate) rng: ChaCha8Rng,
    pub(crate) network: Network,
    pub(crate) templates: Templates,
    pub(crate) tags: TagStore,
    /// What each instance was launched with, beyond the engine's view of it.
    pub(crate) instances: BTreeMap<InstanceId, InstanceRecord>,
    /// Reservation of each (fleet, launch instant).
    pub(crate) reservations: BTreeMap<(FleetId, SimTime), (String, u32)>,
    /// How much of the world's log has been turned into events.
    pub(crate) log_cursor: usize,
    pub(crate) bus: Bus,
    pub(crate) changed: BTreeSet<InstanceId>,
    pub(crate) events_since: Option<u64>,
    /// Each fleet's last reported state, to name modify_succeeded.
    pub(crate) fleet_states: BTreeMap<FleetId, fleet::FleetState>,
    /// The call being applied repeated an earlier one (a CreateFleet with a known
    /// ClientToken) and changed nothing.
    pub(crate) repeat: bool,
    /// Fault Injection Service: experiment templates and experiments.
    pub(crate) fis: Fis,
}

impl Cloud {
    /// A new region at `config.start` with the default VPC every account has.
    pub fn new(config: CloudConfig) -> Cloud {
        let seed = config.seed;
        let mut cloud = Cloud {
            world: World::new(config.world()),
            ids: IdGen::new(seed.wrapping_add(0x0ec2_0ec2)),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x00b0_5e5e),
            network: Network::default(),
            templates: Templates::default(),
            tags: TagStore::default(),
            instances: BTreeMap::new(),
            reservations: BTreeMap::new(),
            log_cursor: 0,
            bus: Bus::default(),
            changed: BTreeSet::new(),
            events_since: None,
            fleet_states: BTreeMap::new(),
            repeat: false,
            fis: Fis::new(seed),
            config,
        };
        cloud.create_default_vpc();
        cloud
    }

    /// The configuration.
    pub fn config(&self) -> &CloudConfig {
        &self.config
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.world.now()
    }

    /// The simulated region underneath (read-only).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The current Spot price of `pool`. A read like DescribeSpotPriceHistory: it only
    /// brings the pool's price process up to now, which no later outcome depends on.
    pub fn spot_price(&mut self, pool: market::Pool) -> market::Price {
        self.world.spot_price(pool)
    }

    /// When something is next due (a boot, a notice's action, a price change, an
    /// experiment's next step...).
    pub fn next_due(&self) -> Option<SimTime> {
        match (self.world.next_due(), self.fis.next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the region forward to `now` (a time before the current one is ignored),
    /// stopping at each instant an experiment moves, so its targets are resolved and
    /// its interruptions injected at that instant whatever the caller's steps.
    pub fn advance_to(&mut self, now: SimTime) {
        while let Some(due) = self.fis.next_due().filter(|due| *due <= now) {
            if due > self.world.now() {
                // advance_to only fails for a time in the past, excluded here.
                let _ = self.world.advance_to(due);
            }
            self.ingest();
            self.fis_step();
        }
        if now > self.world.now() {
            // advance_to only fails for a time in the past, excluded above.
            let _ = self.world.advance_to(now);
        }
        self.ingest();
    }

    /// Applies a command at the current time, and says whether it changed the cloud (a
    /// successful state-changing call that was not an idempotent repeat): only those
    /// need recording to rebuild the cloud. A refused call changes nothing.
    pub fn apply_and_tell(&mut self, command: &Command) -> (Result<Value, ApiError>, bool) {
        self.repeat = false;
        let result = self.apply(command);
        let changes = match command {
            Command::Api { action, .. } => crate::api::changes_state(action),
            Command::Fault(_) => true,
            Command::Fis { operation, .. } => crate::fis::fis_changes_state(operation),
        };
        let changed = changes && result.is_ok() && !self.repeat;
        (result, changed)
    }

    /// Applies a command at the current time.
    pub fn apply(&mut self, command: &Command) -> Result<Value, ApiError> {
        let result = match command {
            Command::Api { action, input } => self.call(action, input.clone()),
            Command::Fault(fault) => self.inject(fault).and_then(|outcome| {
                serde_json::to_value(outcome).map_err(|e| ApiError::internal(e.to_string()))
            }),
            Command::Fis { operation, input } => self.fis_call(operation, input.clone()),
        };
        self.ingest();
        result
    }

    /// The event bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// What changed since the last call: instances to reconcile, events published.
    pub fn take_changes(&mut self) -> Changes {
        let events = self
            .events_since
            .take()
            .map(|first| (first, self.bus.last_seq()));
        Changes {
            instances: std::mem::take(&mut self.changed),
            events,
        }
    }

    /// A fresh id: `prefix-` and 17 hex digits.
    pub(crate) fn new_id(&mut self, prefix: &str) -> String {
        format!("{prefix}-{}", self.ids.hex(17))
    }

    /// A fresh version-4 UUID from the cloud's own stream.
    pub(crate) fn new_uuid(&mut self) -> String {
        use rand::Rng;
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }
}

/// Parses a handler's input into its typed form; a mismatch is the client's error.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| ApiError::invalid_value(e.to_string()))
}

/// Serialises a handler's output.
pub(crate) fn to_json<T: Serialize>(output: &T) -> Result<Value, ApiError> {
    serde_json::to_value(output).map_err(|e| ApiError::internal(e.to_string()))
}
