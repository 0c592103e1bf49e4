//! [`Market`]: every pool's Spot price and spare-capacity processes, advanced lazily,
//! plus the queries (prices, offerings, history), our usage, reclaim draws, injected
//! capacity drops and the event schedule of watched pools.
//!
//! The model is specified in the `price` and `capacity` module docs; this file composes
//! it:
//!
//! - Every pool's price process starts at `start - history` ([`MarketConfig`]), so
//!   DescribeSpotPriceHistory has a past; its capacity process starts a short warm-up
//!   before `start` (nothing observes past capacity). A pool is created the first time
//!   anything asks about it and advanced only when asked or watched; its randomness
//!   comes from its own streams, so its trajectory does not depend on other pools or on
//!   query order.
//! - Time is monotonic per pool: a query at a `now` before the pool's position answers
//!   with the current state and rewinds nothing.
//! - Watched pools report [`MarketEvent`]s: every price change, and every capacity
//!   shortfall (capacity level moves themselves are too noisy to report). Changes of
//!   watched pools are scheduled in a heap keyed by (time, pool, kind); a query that
//!   advances a watched pool past scheduled changes keeps their events until the next
//!   [`Market::advance`]. A pool we [`occupy`](Market::occupy) is watched from then on,
//!   so no shortfall is ever lost.
//! - On-Demand capacity is not modelled as scarce.
//!
//! The market knows nothing about fleets, instances or the wire format.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use simtime::{SimDuration, SimTime};

use crate::advisor::InterruptionBand;
use crate::capacity::{CAPACITY_WARMUP, CapacityProcess, draw_reclaim};
use crate::catalog::{Pool, catalog};
use crate::history::{PriceChange, PriceHistoryQuery, sort_newest_first};
use crate::money::Price;
use crate::price::PriceProcess;
use crate::rng::{Purpose, Stream};

pub use crate::capacity::Reclaim;

/// How a market is seeded and where its time starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarketConfig {
    /// Seed of every random stream; the same seed gives the same market.
    pub seed: u64,
    /// The instant the simulation starts at.
    pub start: SimTime,
    /// How much past the processes have at `start` and how much price history each pool
    /// keeps (AWS keeps 90 days).
    pub history: SimDuration,
    /// Multiplier on every band's reclaim rate: 0 switches reclaims off, 2 doubles them.
    pub interruption_scale: f64,
}

impl Default for MarketConfig {
    /// Seed 0, start 2026-01-01T00:00:00Z, 90 days of history, advisor reclaim rates.
    fn default() -> MarketConfig {
        MarketConfig {
            seed: 0,
            start: SimTime::from_millis(1_767_225_600_000),
            history: SimDuration::from_days(90),
            interruption_scale: 1.0,
        }
    }
}

/// Something that happened in a watched pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketEvent {
    /// From `at` on, the pool's Spot price is `price`.
    PriceChanged {
        /// When the price changed.
        at: SimTime,
        /// The pool.
        pool: Pool,
        /// The new price.
        price: Price,
    },
    /// At `at` the pool can no longer hold our instances in it: `excess` of them must be
    /// reclaimed. Reported once per shortfall.
    CapacityShortfall {
        /// When capacity fell short.
        at: SimTime,
        /// The pool.
        pool: Pool,
        /// How many of our instances exceed what the pool can hold.
        excess: u32,
    },
}

impl MarketEvent {
    /// When the event happened.
    pub fn at(&self) -> SimTime {
        match self {
            MarketEvent::PriceChanged { at, .. } | MarketEvent::CapacityShortfall { at, .. } => *at,
        }
    }

    /// The pool it happened in.
    pub fn pool(&self) -> Pool {
        match self {
            MarketEvent::PriceChanged { pool, .. }
            | MarketEvent::CapacityShortfall { pool, .. } => *pool,
        }
    }

    /// The order events are reported in: (time, pool, price before shortfall).
    fn sort_key(&self) -> (SimTime, Pool, u8) {
        let kind = match self {
            MarketEvent::PriceChanged { .. } => 0,
            MarketEvent::CapacityShortfall { .. } => 1,
        };
        (self.at(), self.pool(), kind)
    }
}

/// What a pool offers right now: what allocation strategies rank.
#[derive(Clone, Debug, PartialEq)]
pub struct Offering {
    /// The pool.
    pub pool: Pool,
    /// The current Spot price.
    pub spot_price: Price,
    /// The On-Demand price.
    pub on_demand_price: Price,
    /// Spot instances that can still be launched (0 if the pool is not offered or the
    /// type is not sold as Spot).
    pub spot_capacity: u32,
    /// On-Demand instances that can be launched: unlimited (`u32::MAX`) in an offered
    /// pool, 0 elsewhere.
    pub on_demand_capacity: u32,
    /// Spare Spot vCPUs (`spot_capacity` x vCPUs): what capacity-optimized strategies
    /// rank by.
    pub capacity_score: u64,
    /// The type's advisor band.
    pub band: InterruptionBand,
}

/// The kinds of scheduled change, in the order they apply at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ChangeKind {
    Price = 0,
    Capacity = 1,
    DropExpiry = 2,
}

const CHANGE_KINDS: [ChangeKind; 3] = [
    ChangeKind::Price,
    ChangeKind::Capacity,
    ChangeKind::DropExpiry,
];

/// A pending change of a watched pool. Entries go stale when a query advances the pool
/// past them; a stale entry is recognised (its time is no longer the pool's next change
/// of that kind) and skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Scheduled {
    at: SimTime,
    pool: Pool,
    kind: ChangeKind,
}

/// Which of a pool's processes a call needs brought up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Processes {
    Price,
    Capacity,
    Both,
}

/// Where a pool's processes start.
#[derive(Clone, Copy, Debug)]
struct Origins {
    /// `start - history`.
    price: SimTime,
    /// `start - CAPACITY_WARMUP`, or the price origin if that is later.
    capacity: SimTime,
}

/// Everything the market knows about one pool.
#[derive(Clone, Debug)]
struct PoolState {
    price: PriceProcess,
    capacity: CapacityProcess,
    /// Reclaim draws, in launch order.
    reclaim: Stream,
    /// Whether the pool's changes are scheduled and its events reported.
    watched: bool,
    /// The time last pushed to the schedule for each kind, so each change is pushed once.
    scheduled: [Option<SimTime>; 3],
}

impl PoolState {
    fn new(seed: u64, pool: Pool, origins: Origins) -> PoolState {
        PoolState {
            price: PriceProcess::new(seed, pool, origins.price),
            capacity: CapacityProcess::new(seed, pool, origins.capacity),
            reclaim: Stream::new(seed, pool, Purpose::Reclaim),
            watched: false,
            scheduled: [None; 3],
        }
    }

    fn next(&self, kind: ChangeKind) -> Option<SimTime> {
        match kind {
            ChangeKind::Price => self.price.next_change(),
            // Natural level moves never produce an event (only injected drops reclaim),
            // so they are not scheduled: the level is brought up to date lazily when
            // offerings are queried.
            ChangeKind::Capacity => None,
            ChangeKind::DropExpiry => self.capacity.drop_until(),
        }
    }

    /// Pushes this pool's next changes that are not in the schedule yet.
    fn reschedule(&mut self, pool: Pool, schedule: &mut BinaryHeap<Reverse<Scheduled>>) {
        if !self.watched {
            return;
        }
        for kind in CHANGE_KINDS {
            let next = self.next(kind);
            let last = &mut self.scheduled[kind as usize];
            if next != *last {
                if let Some(at) = next {
                    schedule.push(Reverse(Scheduled { at, pool, kind }));
                }
                *last = next;
            }
        }
    }
}

/// The simulated Spot market. See the module docs for the model.
#[derive(Clone, Debug)]
pub struct Market {
    config: MarketConfig,
    /// Where every pool's processes start.
    origins: Origins,
    /// Pools created so far (a BTreeMap so that nothing depends on hash order).
    pools: BTreeMap<Pool, PoolState>,
    /// Pending changes of watched pools; its top is never stale between calls.
    schedule: BinaryHeap<Reverse<Scheduled>>,
    /// Events of watched pools produced by queries, until `advance` returns them.
    pending: Vec<MarketEvent>,
    /// The latest `now` any call has passed (at least `start`): the time `occupy` and
    /// `release` apply at.
    latest: SimTime,
}

impl Market {
    /// A market with no pool generated yet.
    pub fn new(config: MarketConfig) -> Market {
        let price = config.start - config.history;
        let origins = Origins {
            price,
            capacity: (config.start - CAPACITY_WARMUP).max(price),
        };
        Market {
            config,
            origins,
            pools: BTreeMap::new(),
            schedule: BinaryHeap::new(),
            pending: Vec::new(),
            latest: config.start,
        }
    }

    /// The configuration the market was built with.
    pub fn config(&self) -> &MarketConfig {
        &self.config
    }

    /// The pool's Spot price at `now`.
    pub fn spot_price(&mut self, pool: Pool, now: SimTime) -> Price {
        let price = self.bring(pool, now, Processes::Price).price.price();
        self.settle();
        price
    }

    /// The pool's On-Demand price (fixed).
    pub fn on_demand_price(&self, pool: Pool) -> Price {
        pool.instance_type_info().on_demand
    }

    /// What the pool offers at `now`.
    pub fn offering(&mut self, pool: Pool, now: SimTime) -> Offering {
        let info = pool.instance_type_info();
        let offered = catalog().is_offered(pool);
        let state = self.bring(pool, now, Processes::Both);
        let spot_capacity = if offered && info.spot_supported {
            state.capacity.spare()
        } else {
            0
        };
        let offering = Offering {
            pool,
            spot_price: state.price.price(),
            on_demand_price: info.on_demand,
            spot_capacity,
            on_demand_capacity: if offered { u32::MAX } else { 0 },
            capacity_score: u64::from(spot_capacity) * u64::from(state.capacity.vcpus()),
            band: info.advisor_or_default().band,
        };
        self.settle();
        offering
    }

    /// What each pool offers at `now`, in the order given.
    pub fn offerings(&mut self, pools: &[Pool], now: SimTime) -> Vec<Offering> {
        pools.iter().map(|pool| self.offering(*pool, now)).collect()
    }

    /// Our Spot instances counted in the pool.
    pub fn used(&self, pool: Pool) -> u32 {
        self.pools
            .get(&pool)
            .map_or(0, |state| state.capacity.used())
    }

    /// The pool's advisor band (the default band for types the advisor lacks).
    pub fn band(&self, pool: Pool) -> InterruptionBand {
        pool.instance_type_info().advisor_or_default().band
    }

    /// Expected reclaims per instance per 30 days in the pool, after the configured
    /// scale.
    pub fn monthly_reclaim_rate(&self, pool: Pool) -> f64 {
        self.band(pool).monthly_rate() * self.config.interruption_scale
    }

    /// Draws when EC2 will reclaim a Spot instance just launched in `pool`. Call once per
    /// launched instance, in launch order: the draws come from the pool's own stream.
    pub fn draw_reclaim(&mut self, pool: Pool) -> Reclaim {
        let rate = self.monthly_reclaim_rate(pool);
        draw_reclaim(&mut self.state(pool).reclaim, rate)
    }

    /// Counts `n` more of our Spot instances in the pool, as of the latest time the
    /// market has seen (query the pool at the launch time first). The pool is watched
    /// from now on, so its shortfalls reach [`Market::advance`].
    pub fn occupy(&mut self, pool: Pool, n: u32) {
        let state = self.bring(pool, self.latest, Processes::Capacity);
        state.capacity.occupy(n);
        state.watched = true;
        self.reschedule(pool);
    }

    /// Counts `n` fewer of our Spot instances in the pool (terminated or reclaimed).
    pub fn release(&mut self, pool: Pool, n: u32) {
        self.bring(pool, self.latest, Processes::Capacity)
            .capacity
            .release(n);
        self.settle();
    }

    /// Caps the pool at `level_instances` Spot instances from `now` until `until`
    /// (`None` = until [`Market::restore_capacity`]); replaces any earlier drop. Returns
    /// the shortfall this causes at once, if we hold more than `level_instances`.
    pub fn drop_capacity(
        &mut self,
        pool: Pool,
        level_instances: u32,
        until: Option<SimTime>,
        now: SimTime,
    ) -> Vec<MarketEvent> {
        let state = self.bring(pool, now, Processes::Capacity);
        let excess = state.capacity.set_drop(level_instances, until);
        let at = state.capacity.position();
        self.reschedule(pool);
        excess
            .map(|excess| MarketEvent::CapacityShortfall { at, pool, excess })
            .into_iter()
            .collect()
    }

    /// Lifts an injected drop at `now`: the natural level applies again.
    pub fn restore_capacity(&mut self, pool: Pool, now: SimTime) {
        let state = self.bring(pool, now, Processes::Capacity);
        let excess = state.capacity.clear_drop();
        let at = state.capacity.position();
        if let Some(excess) = excess {
            self.pending
                .push(MarketEvent::CapacityShortfall { at, pool, excess });
        }
        self.reschedule(pool);
    }

    /// Marks the pool as of interest from `now` on: its changes are scheduled and its
    /// events returned by [`Market::advance`].
    pub fn watch(&mut self, pool: Pool, now: SimTime) {
        let state = self.bring(pool, now, Processes::Both);
        state.watched = true;
        self.reschedule(pool);
    }

    /// The earliest pending change of any watched pool (or the earliest event a query
    /// has already produced): a price change or the end of an injected drop.
    pub fn next_event_time(&self) -> Option<SimTime> {
        let scheduled = self.schedule.peek().map(|Reverse(s)| s.at);
        let produced = self.pending.iter().map(MarketEvent::at).min();
        scheduled.into_iter().chain(produced).min()
    }

    /// Applies every change of watched pools up to and including `now` and returns their
    /// events, sorted by (time, pool, price change before shortfall).
    pub fn advance(&mut self, now: SimTime) -> Vec<MarketEvent> {
        while let Some(Reverse(top)) = self.schedule.peek().copied() {
            if top.at > now {
                break;
            }
            self.schedule.pop();
            if self.is_current(&top) {
                self.bring(top.pool, now, Processes::Both);
            }
        }
        let (mut due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|event| event.at() <= now);
        self.pending = later;
        due.sort_by_key(MarketEvent::sort_key);
        self.settle();
        due
    }

    /// DescribeSpotPriceHistory at `now`: every change in `[start, min(end, now)]` of the
    /// offered pools the query matches, plus each pool's change in force at `start`,
    /// newest first (ties by pool).
    pub fn price_history(&mut self, query: &PriceHistoryQuery, now: SimTime) -> Vec<PriceChange> {
        let upper = query.end.map_or(now, |end| end.min(now));
        let mut changes = Vec::new();
        for &pool in catalog().pools() {
            if !query.matches(pool) {
                continue;
            }
            let log = self.bring(pool, now, Processes::Price).price.log();
            changes.extend(
                log.window(query.start, upper)
                    .map(|(at, price)| PriceChange { pool, at, price }),
            );
        }
        sort_newest_first(&mut changes);
        self.settle();
        changes
    }

    /// The pool's state, created at the origins if new.
    fn state(&mut self, pool: Pool) -> &mut PoolState {
        pool_state(&mut self.pools, pool, self.config.seed, self.origins)
    }

    /// Brings the pool's chosen processes to `now` (creating the pool if new), keeping
    /// the events of a watched pool and scheduling its next changes.
    fn bring(&mut self, pool: Pool, now: SimTime, processes: Processes) -> &mut PoolState {
        self.latest = self.latest.max(now);
        let (seed, origins, history) = (self.config.seed, self.origins, self.config.history);
        let state = pool_state(&mut self.pools, pool, seed, origins);
        let pending = &mut self.pending;
        let watched = state.watched;
        if processes != Processes::Capacity {
            state.price.advance(now, history, |at, price| {
                if watched {
                    pending.push(MarketEvent::PriceChanged { at, pool, price });
                }
            });
        }
        if processes != Processes::Price {
            // Only a pool with our instances can fall short, and such a pool is watched.
            state.capacity.advance(now, |at, excess| {
                pending.push(MarketEvent::CapacityShortfall { at, pool, excess });
            });
        }
        state.reschedule(pool, &mut self.schedule);
        state
    }

    /// Schedules the pool's changes that changed outside `bring`, then settles.
    fn reschedule(&mut self, pool: Pool) {
        if let Some(state) = self.pools.get_mut(&pool) {
            state.reschedule(pool, &mut self.schedule);
        }
        self.settle();
    }

    /// Whether a schedule entry is still the pool's next change of its kind.
    fn is_current(&self, entry: &Scheduled) -> bool {
        self.pools
            .get(&entry.pool)
            .is_some_and(|state| state.watched && state.next(entry.kind) == Some(entry.at))
    }

    /// Drops stale entries from the top of the schedule, so that `next_event_time` (which
    /// cannot mutate) sees a real change.
    fn settle(&mut self) {
        while let Some(Reverse(top)) = self.schedule.peek().copied() {
            if self.is_current(&top) {
                break;
            }
            self.schedule.pop();
        }
    }
}

/// The pool's entry in `pools`, created at `origins` if new. (A free function so that
/// callers can borrow other fields of the market alongside.)
fn pool_state(
    pools: &mut BTreeMap<Pool, PoolState>,
    pool: Pool,
    seed: u64,
    origins: Origins,
) -> &mut PoolState {
    pools
        .entry(pool)
        .or_insert_with(|| PoolState::new(seed, pool, origins))
}
