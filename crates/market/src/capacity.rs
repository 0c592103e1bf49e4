//! Spare Spot capacity of one pool, our instances in it, injected capacity drops, and
//! the reclaim times of our instances ([`Reclaim`]).
//!
//! The model (this is the spec; the constants below carry its numbers):
//!
//! - **Level.** The pool's spare Spot capacity is a level in vCPUs. Its nominal value is
//!   [`NOMINAL_SPARE_VCPUS`] x a band factor ([`band_factor`]: `<5%` 1.0 down to `>20%`
//!   0.3), so pools that are reclaimed less often also have more room. The level moves
//!   at exponential gaps (mean [`MEAN_CAPACITY_MOVE_GAP`]) by a mean-reverting step in
//!   log space (`THETA` 0.3, `SIGMA` 0.25), clamped to [0.25, 1.5] x nominal.
//! - **Holdable.** The pool can hold `floor(level / vcpus)` Spot instances, or fewer
//!   while an injected drop caps it. `used` counts our Spot instances in the pool; spare
//!   = holdable - used (saturating).
//! - **Shortfall.** When an injected drop caps the pool below `used`, the pool reports
//!   the excess once: the world reclaims that many. Shortfall already reported and not
//!   yet released is remembered, so it is not reported twice; every release is taken to
//!   settle reported shortfall first. Natural moves of the level never reclaim: they
//!   only limit new launches (insufficient capacity) and what capacity-optimized
//!   strategies see. The advisor's band is the measured reclaim rate of the type, so
//!   natural reclaims come only from the per-instance draws below; reclaiming on level
//!   moves as well would count capacity crunches twice (a calibration test holds this).
//! - **Start.** The level starts at nominal [`CAPACITY_WARMUP`] before the market's
//!   start (not the full price history before: nothing observes past capacity).
//! - **Reclaims.** Independently of the level, each launched instance draws its reclaim
//!   time: exponential with hazard = the band's monthly rate / [`ADVISOR_WINDOW`], and
//!   with probability 1/2 a rebalance recommendation a uniform 2 to 30 minutes earlier.
//!
//! This module knows nothing about prices, events or which pools anyone watches.

use simtime::{SimDuration, SimTime};

use crate::advisor::{ADVISOR_WINDOW, InterruptionBand};
use crate::catalog::Pool;
use crate::rng::{Purpose, Stream, duration_from_millis_f64};

/// Nominal spare Spot capacity of a `<5%` pool, in vCPUs.
pub(crate) const NOMINAL_SPARE_VCPUS: f64 = 4096.0;
/// Mean time between two moves of a pool's spare-capacity level.
pub(crate) const MEAN_CAPACITY_MOVE_GAP: SimDuration = SimDuration::from_hours(1);
/// Share of the distance to the log nominal level a move closes.
pub(crate) const CAPACITY_REVERSION: f64 = 0.3;
/// Standard deviation of a move's random part, in log space.
pub(crate) const CAPACITY_STEP_SIGMA: f64 = 0.25;
/// The level's range, as shares of the nominal level.
pub(crate) const CAPACITY_RANGE: (f64, f64) = (0.25, 1.5);
/// How long before the market's start the spare-capacity process starts. Unlike the
/// price, capacity has no observable past, so it does not need the full history: two
/// days is ~48 moves, after which the starting level's weight is 0.7^48 (about 4e-8),
/// and first queries of a pool cost ~50 moves instead of ~2,000.
pub(crate) const CAPACITY_WARMUP: SimDuration = SimDuration::from_days(2);
/// Probability that a reclaim is preceded by a rebalance recommendation.
pub(crate) const REBALANCE_PROBABILITY: f64 = 0.5;
/// Range of the rebalance recommendation's lead over the reclaim.
pub(crate) const REBALANCE_LEAD: (SimDuration, SimDuration) =
    (SimDuration::from_mins(2), SimDuration::from_mins(30));
/// The reclaim delay when reclaims are switched off: about 100 years.
pub(crate) const NEVER: SimDuration = SimDuration::from_days(36_500);

/// Nominal spare capacity of a band, relative to `<5%`.
pub(crate) fn band_factor(band: InterruptionBand) -> f64 {
    match band {
        InterruptionBand::Under5 => 1.0,
        InterruptionBand::From5To10 => 0.8,
        InterruptionBand::From10To15 => 0.6,
        InterruptionBand::From15To20 => 0.45,
        InterruptionBand::Over20 => 0.3,
    }
}

/// When EC2 will reclaim a newly launched Spot instance, relative to its launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reclaim {
    /// Time from launch to the interruption notice.
    pub after: SimDuration,
    /// How long before the notice a rebalance recommendation arrives, if one does
    /// (always shorter than `after`).
    pub rebalance_lead: Option<SimDuration>,
}

/// Draws one instance's reclaim from the pool's reclaim stream; `monthly_rate` is the
/// expected number of reclaims per instance per [`ADVISOR_WINDOW`].
pub(crate) fn draw_reclaim(stream: &mut Stream, monthly_rate: f64) -> Reclaim {
    // Always three draws, so the stream stays aligned whatever the outcome.
    let exponential = stream.standard_exponential();
    let rebalanced = stream.uniform() < REBALANCE_PROBABILITY;
    let lead_share = stream.uniform();
    let after = if monthly_rate > 0.0 && monthly_rate.is_finite() {
        let ms = exponential * ADVISOR_WINDOW.as_millis() as f64 / monthly_rate;
        duration_from_millis_f64(ms).min(NEVER)
    } else {
        NEVER
    };
    let (low, high) = REBALANCE_LEAD;
    let span = (high.as_millis() - low.as_millis()) as f64;
    let lead = low + SimDuration::from_millis((lead_share * span).round() as u64);
    Reclaim {
        after,
        rebalance_lead: (rebalanced && lead < after).then_some(lead),
    }
}

/// An injected cap on what the pool can hold.
#[derive(Clone, Copy, Debug)]
struct CapacityDrop {
    /// At most this many Spot instances fit while the drop lasts.
    level: u32,
    /// When the natural level applies again; `None` = until restored.
    until: Option<SimTime>,
}

/// One pool's spare-capacity process and our usage of it, advanced lazily.
#[derive(Clone, Debug)]
pub(crate) struct CapacityProcess {
    /// vCPUs per instance of the pool's type (at least 1).
    vcpus: u32,
    /// ln of the nominal level in vCPUs, which `log_level` reverts to.
    log_nominal: f64,
    /// ln of the current level in vCPUs.
    log_level: f64,
    /// When the level moves next.
    next_move: SimTime,
    /// The latest instant the process has been brought to.
    position: SimTime,
    /// Move times and sizes.
    stream: Stream,
    /// Our Spot instances in the pool.
    used: u32,
    /// Shortfall reported but not yet released.
    announced: u32,
    /// An injected drop, while it lasts.
    drop: Option<CapacityDrop>,
}

impl CapacityProcess {
    /// The process of `pool`, started at `origin` at its nominal level.
    pub(crate) fn new(seed: u64, pool: Pool, origin: SimTime) -> CapacityProcess {
        let info = pool.instance_type_info();
        let nominal = NOMINAL_SPARE_VCPUS * band_factor(info.advisor_or_default().band);
        let mut stream = Stream::new(seed, pool, Purpose::Capacity);
        let next_move = origin + stream.exponential_gap(MEAN_CAPACITY_MOVE_GAP);
        CapacityProcess {
            vcpus: info.vcpus.max(1),
            log_nominal: nominal.ln(),
            log_level: nominal.ln(),
            next_move,
            position: origin,
            stream,
            used: 0,
            announced: 0,
            drop: None,
        }
    }

    /// Spot instances the pool can hold now, ours included.
    pub(crate) fn holdable(&self) -> u32 {
        let natural = (self.log_level.exp() / f64::from(self.vcpus)).floor() as u32;
        match self.drop {
            Some(drop) => natural.min(drop.level),
            None => natural,
        }
    }

    /// Spot instances that could still be launched now.
    pub(crate) fn spare(&self) -> u32 {
        self.holdable().saturating_sub(self.used)
    }

    /// vCPUs per instance.
    pub(crate) fn vcpus(&self) -> u32 {
        self.vcpus
    }

    /// Our Spot instances in the pool.
    pub(crate) fn used(&self) -> u32 {
        self.used
    }

    /// The latest instant the process has been brought to.
    pub(crate) fn position(&self) -> SimTime {
        self.position
    }

    /// When the current drop ends by itself, if it does.
    pub(crate) fn drop_until(&self) -> Option<SimTime> {
        self.drop.and_then(|drop| drop.until)
    }

    /// Applies every move and drop expiry up to and including `now`, in time order
    /// (earlier `now`s are a no-op), reporting each new shortfall to `on_shortfall`.
    pub(crate) fn advance(&mut self, now: SimTime, mut on_shortfall: impl FnMut(SimTime, u32)) {
        if now <= self.position {
            return;
        }
        self.position = now;
        loop {
            let expiry = self.drop_until().filter(|until| *until <= now);
            let at = match expiry {
                // A move at the same instant as the expiry is applied first.
                Some(until) if until < self.next_move => {
                    self.drop = None;
                    until
                }
                _ if self.next_move <= now => {
                    let at = self.next_move;
                    self.step();
                    self.next_move = at + self.stream.exponential_gap(MEAN_CAPACITY_MOVE_GAP);
                    at
                }
                _ => break,
            };
            if let Some(excess) = self.new_shortfall() {
                on_shortfall(at, excess);
            }
        }
    }

    /// One mean-reverting move of the level.
    fn step(&mut self) {
        let noise = self.stream.normal();
        let (low, high) = CAPACITY_RANGE;
        self.log_level +=
            CAPACITY_REVERSION * (self.log_nominal - self.log_level) + CAPACITY_STEP_SIGMA * noise;
        self.log_level = self
            .log_level
            .clamp(self.log_nominal + low.ln(), self.log_nominal + high.ln());
    }

    /// Shortfall not reported yet, marking it reported. Only an injected drop causes
    /// shortfall (see the module docs).
    fn new_shortfall(&mut self) -> Option<u32> {
        let cap = self.drop.map_or(u32::MAX, |drop| drop.level);
        let shortfall = self.used.saturating_sub(cap);
        let new = shortfall.saturating_sub(self.announced);
        self.announced += new;
        (new > 0).then_some(new)
    }

    /// Counts `n` more of our instances in the pool.
    pub(crate) fn occupy(&mut self, n: u32) {
        self.used = self.used.saturating_add(n);
    }

    /// Counts `n` fewer of our instances in the pool; they settle reported shortfall
    /// first.
    pub(crate) fn release(&mut self, n: u32) {
        self.used = self.used.saturating_sub(n);
        self.announced = self.announced.saturating_sub(n);
    }

    /// Caps the pool at `level` instances until `until` (`None` = until restored). The
    /// process must have been advanced to `now`; returns the new shortfall, if any.
    pub(crate) fn set_drop(&mut self, level: u32, until: Option<SimTime>) -> Option<u32> {
        self.drop = Some(CapacityDrop { level, until });
        self.new_shortfall()
    }

    /// Lifts any drop; natural levels never cause shortfall, so this returns `None`
    /// (kept as an `Option` for symmetry with [`CapacityProcess::set_drop`]).
    pub(crate) fn clear_drop(&mut self) -> Option<u32> {
        self.drop = None;
        self.new_shortfall()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;

    fn pool(type_name: &str) -> Pool {
        let c = catalog();
        Pool {
            instance_type: c.instance_type_id(type_name).expect("type in catalogue"),
            zone: c.zone_by_name("us-east-1a").expect("zone in catalogue"),
        }
    }

    #[test]
    fn level_stays_in_range_around_nominal() {
        let p = pool("t2.small");
        let mut process = CapacityProcess::new(5, p, SimTime::EPOCH);
        process.occupy(300);
        let mut sum = 0.0;
        let hours = 5_000;
        for hour in 1..=hours {
            process.advance(SimTime::EPOCH + SimDuration::from_hours(hour), |at, n| {
                panic!("natural move caused a shortfall of {n} at {at}")
            });
            let holdable = f64::from(process.holdable());
            assert!((1024.0..=6144.0).contains(&holdable), "{holdable}");
            sum += holdable;
        }
        let mean = sum / f64::from(hours as u32);
        assert!((3600.0..4800.0).contains(&mean), "{mean}");
    }

    #[test]
    fn drops_report_shortfall_once_and_expire() {
        let p = pool("c5.large");
        let mut process = CapacityProcess::new(5, p, SimTime::EPOCH);
        process.occupy(10);
        let until = SimTime::EPOCH + SimDuration::from_hours(30);
        assert_eq!(process.set_drop(6, Some(until)), Some(4));
        assert_eq!((process.holdable(), process.spare()), (6, 0));
        // Two reclaimed instances are released; moves during the drop report nothing new.
        process.release(2);
        process.advance(until - SimDuration::from_millis(1), |_, _| panic!());
        assert_eq!(process.set_drop(5, Some(until)), Some(1));
        process.advance(until, |_, _| panic!());
        assert!(process.holdable() > 100);
        assert_eq!(process.drop_until(), None);
    }

    #[test]
    fn reclaim_rates_match_the_band() {
        let mut stream = Stream::new(9, pool("c5.large"), Purpose::Reclaim);
        let n = 20_000;
        let draws: Vec<Reclaim> = (0..n).map(|_| draw_reclaim(&mut stream, 0.125)).collect();
        let mean_days = draws
            .iter()
            .map(|r| r.after.as_millis() as f64)
            .sum::<f64>()
            / n as f64
            / 86_400_000.0;
        assert!((mean_days / 240.0 - 1.0).abs() < 0.03, "{mean_days}");
        let led = draws.iter().filter(|r| r.rebalance_lead.is_some()).count();
        assert!((led as f64 / n as f64 - 0.5).abs() < 0.02);
        for lead in draws.iter().filter_map(|r| r.rebalance_lead) {
            assert!((REBALANCE_LEAD.0..=REBALANCE_LEAD.1).contains(&lead));
        }
        assert_eq!(draw_reclaim(&mut stream, 0.0).after, NEVER);
    }
}
