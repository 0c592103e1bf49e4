//! Instances as the fleet engine sees them: AWS's lifecycle states and codes, the Spot
//! interruption notice, the Spot request behind a Spot instance, and the cost each
//! instance accrues at the price it actually pays.

use market::{Cost, Pool, Price};
use serde::Serialize;
use simtime::{SimDuration, SimTime};

use crate::ids::{FleetId, InstanceId, SpotRequestId};
use crate::spec::{InterruptionBehavior, Lifecycle, Units};

/// AWS's instance states, each with the data it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum InstanceState {
    /// Launched, booting.
    Pending {
        /// When it becomes `running`.
        running_at: SimTime,
    },
    /// Running (and billed).
    Running,
    /// Terminating.
    ShuttingDown {
        /// When it becomes `terminated`.
        terminated_at: SimTime,
    },
    /// Gone for good.
    Terminated,
    /// Stopping (by a Spot `stop` or `hibernate` interruption).
    Stopping {
        /// When it becomes `stopped`.
        stopped_at: SimTime,
    },
    /// Stopped; a persistent Spot request restarts it when capacity returns.
    Stopped,
}

impl InstanceState {
    /// The state name as EC2 prints it.
    pub fn name(self) -> &'static str {
        match self {
            InstanceState::Pending { .. } => "pending",
            InstanceState::Running => "running",
            InstanceState::ShuttingDown { .. } => "shutting-down",
            InstanceState::Terminated => "terminated",
            InstanceState::Stopping { .. } => "stopping",
            InstanceState::Stopped => "stopped",
        }
    }

    /// The state code as EC2 prints it (`running` = 16, ...).
    pub fn code(self) -> u16 {
        match self {
            InstanceState::Pending { .. } => 0,
            InstanceState::Running => 16,
            InstanceState::ShuttingDown { .. } => 32,
            InstanceState::Terminated => 48,
            InstanceState::Stopping { .. } => 64,
            InstanceState::Stopped => 80,
        }
    }

    /// Pending or running: the instance provides capacity.
    pub fn is_live(self) -> bool {
        matches!(self, InstanceState::Pending { .. } | InstanceState::Running)
    }

    /// The next automatic transition, if any.
    pub fn due(self) -> Option<SimTime> {
        match self {
            InstanceState::Pending { running_at } => Some(running_at),
            InstanceState::ShuttingDown { terminated_at } => Some(terminated_at),
            InstanceState::Stopping { stopped_at } => Some(stopped_at),
            InstanceState::Running | InstanceState::Terminated | InstanceState::Stopped => None,
        }
    }
}

/// Why a Spot instance was told it will be interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum InterruptionReason {
    /// The market reclaimed capacity in the pool.
    Capacity,
    /// The Spot price rose above the instance's maximum price.
    Price,
    /// The fleet's target was lowered with the `termination` policy.
    ScaleDown,
    /// Fault injection (tests, FIS-style experiments).
    Injected,
}

impl InterruptionReason {
    /// A short word for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            InterruptionReason::Capacity => "capacity",
            InterruptionReason::Price => "price",
            InterruptionReason::ScaleDown => "scale-down",
            InterruptionReason::Injected => "injected",
        }
    }
}

/// A Spot interruption notice: what IMDS `spot/instance-action` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// `terminate`, `stop` or `hibernate`.
    pub action: InterruptionBehavior,
    /// When the notice was given.
    pub noticed_at: SimTime,
    /// When the action happens (notice + 2 minutes; at once for hibernate).
    pub action_at: SimTime,
    /// Why.
    pub reason: InterruptionReason,
}

/// State of the Spot request behind a Spot instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SpotRequestState {
    /// Waiting for capacity (a persistent request whose instance was interrupted).
    Open,
    /// Fulfilled by a running instance.
    Active,
    /// Done (one-time request whose instance ended).
    Closed,
    /// Cancelled by the user or by deleting the fleet.
    Cancelled,
}

impl SpotRequestState {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            SpotRequestState::Open => "open",
            SpotRequestState::Active => "active",
            SpotRequestState::Closed => "closed",
            SpotRequestState::Cancelled => "cancelled",
        }
    }
}

/// The Spot request behind a Spot instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpotRequest {
    /// `sir-...`
    pub id: SpotRequestId,
    /// Request state.
    pub state: SpotRequestState,
    /// Status code, e.g. `fulfilled`, `instance-terminated-no-capacity`,
    /// `marked-for-termination`, `instance-terminated-by-user`.
    pub status: &'static str,
    /// Persistent requests (maintain fleets) reopen after an interruption.
    pub persistent: bool,
}

/// One instance launched by a fleet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Instance {
    /// `i-...`
    pub id: InstanceId,
    /// The fleet that launched it.
    pub fleet: FleetId,
    /// Instance type x zone.
    pub pool: Pool,
    /// Spot or On-Demand.
    pub lifecycle: Lifecycle,
    /// Capacity it provides to its fleet.
    pub weight: Units,
    /// Index of the launch spec (in the fleet's spec) it was launched from.
    pub spec_index: usize,
    /// Current state.
    pub state: InstanceState,
    /// When it was launched.
    pub launched_at: SimTime,
    /// Its interruption notice, once given.
    pub notice: Option<Notice>,
    /// When a rebalance recommendation was raised for it.
    pub rebalance_at: Option<SimTime>,
    /// Removed by a scale-down: no longer counted toward the target, terminating.
    pub removing: bool,
    /// Flagged by Capacity Rebalancing: replaced, no longer counted toward the target
    /// nor toward fulfilled capacity, ignored by later scale-ins.
    pub rebalancing: bool,
    /// Terminate at this instant (Capacity Rebalancing's launch-before-terminate).
    pub terminate_at: Option<SimTime>,
    /// Hibernated rather than stopped (resumes with memory).
    pub hibernated: bool,
    /// The Spot request behind it (Spot only).
    pub spot_request: Option<SpotRequest>,
    /// Highest price it may pay (Spot; default the On-Demand price).
    pub max_price: Price,
    /// Current hourly price: the pool's Spot price, or the On-Demand price.
    pub price: Price,
    /// The On-Demand price of its type, for savings.
    pub on_demand_price: Price,
    /// Cost accrued up to `accrued_until`.
    pub cost: Cost,
    /// What the same running time would have cost On-Demand.
    pub on_demand_cost: Cost,
    /// Billing is accounted up to this instant.
    pub accrued_until: SimTime,
    /// Total time spent running.
    pub running_time: SimDuration,
    /// When it reached `terminated`.
    pub terminated_at: Option<SimTime>,
    /// AWS's state reason code, e.g. `Server.SpotInstanceTermination`.
    pub state_reason: Option<&'static str>,
}

impl Instance {
    /// Bills the time since the last accrual if the instance was running. Call before
    /// every state or price change.
    pub fn accrue(&mut self, now: SimTime) {
        if now <= self.accrued_until {
            return;
        }
        if matches!(self.state, InstanceState::Running) {
            let span = now.saturating_since(self.accrued_until);
            self.cost += Cost::of(self.price, span);
            self.on_demand_cost += Cost::of(self.on_demand_price, span);
            self.running_time += span;
        }
        self.accrued_until = now;
    }

    /// Whether the instance counts toward its fleet's target: live and not being
    /// removed.
    pub fn counts(&self) -> bool {
        self.state.is_live() && !self.removing && !self.rebalancing
    }

    /// The next instant at which something happens to this instance on its own.
    pub fn due(&self) -> Option<SimTime> {
        let notice = self
            .notice
            .filter(|_| self.state.is_live())
            .map(|n| n.action_at);
        let mut due = self.state.due();
        for t in [notice, self.terminate_at.filter(|_| self.state.is_live())]
            .into_iter()
            .flatten()
        {
            due = Some(due.map_or(t, |d| d.min(t)));
        }
        due
    }
}
