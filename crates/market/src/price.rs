//! The Spot price process of one pool: discrete, mean-reverting changes around the
//! advisor's average saving, never above On-Demand.
//!
//! The model (this is the spec; the constants below carry its numbers):
//!
//! - **Centre.** A type's centre is its On-Demand price x (1 - savings/100), the saving
//!   being the Spot Advisor's (or [`DEFAULT_ADVISOR`](crate::DEFAULT_ADVISOR)'s). A pool's
//!   centre is that times a zone factor drawn once per pool, lognormal with
//!   sigma = [`ZONE_FACTOR_SIGMA`], so zones differ a little, as in the real samples.
//! - **Start.** At the process start the price is the pool centre (clamped, rounded).
//! - **Changes.** Change times are a Poisson process with mean gap
//!   [`MEAN_PRICE_CHANGE_GAP`] (the real sample shows ~1,584 changes over ~2,600 pools
//!   in 5 h, i.e. one per pool every ~8 h). Each change is a mean-reverting step of a
//!   latent log price `x`: `x += THETA (ln centre - x) + SIGMA N(0,1)`, giving a
//!   stationary spread of about 9% around the centre.
//! - **Publication.** The published price is `e^x` rounded to [`PRICE_TICK`] (real Spot
//!   prices look like `0.0377`) and clamped to `[max(centre x 0.4, $0.0001), On-Demand]`:
//!   never above On-Demand, never zero. A step that publishes the same price is not a
//!   change and is not logged.
//! - **No saving.** A type whose saving is 0 sits at On-Demand and never changes.
//!
//! This module knows nothing about capacity, events or which pools anyone watches.

use simtime::{SimDuration, SimTime};

use crate::catalog::{InstanceType, Pool};
use crate::history::PriceLog;
use crate::money::Price;
use crate::rng::{Purpose, Stream};

/// Mean time between two Spot price changes of one pool.
pub(crate) const MEAN_PRICE_CHANGE_GAP: SimDuration = SimDuration::from_hours(8);
/// Standard deviation of the log of a pool's zone factor.
pub(crate) const ZONE_FACTOR_SIGMA: f64 = 0.08;
/// Share of the distance to the log centre a change closes.
pub(crate) const PRICE_REVERSION: f64 = 0.25;
/// Standard deviation of a change's random part, in log space.
pub(crate) const PRICE_STEP_SIGMA: f64 = 0.06;
/// The lowest price a pool reaches, as a share of its centre.
pub(crate) const PRICE_FLOOR_SHARE: f64 = 0.4;
/// Spot prices move in steps of $0.0001.
pub(crate) const PRICE_TICK: Price = Price::from_micros(100);

/// A type's Spot price centre before the zone factor: On-Demand x (1 - saving).
pub(crate) fn type_centre(instance_type: &InstanceType) -> Price {
    let savings = u64::from(instance_type.advisor_or_default().savings_pct.min(100));
    instance_type.on_demand.scale(100 - savings, 100)
}

/// The pool's fixed zone factor (1 for a type without saving).
pub(crate) fn zone_factor(seed: u64, pool: Pool) -> f64 {
    if pool.instance_type_info().advisor_or_default().savings_pct == 0 {
        return 1.0;
    }
    (ZONE_FACTOR_SIGMA * Stream::new(seed, pool, Purpose::ZoneFactor).normal()).exp()
}

/// One pool's Spot price process, advanced lazily.
#[derive(Clone, Debug)]
pub(crate) struct PriceProcess {
    /// The ceiling: the pool's On-Demand price, in micro-dollars.
    on_demand: u64,
    /// The floor, in micro-dollars (a multiple of the tick, at most `on_demand`).
    floor: u64,
    /// ln of the pool centre in dollars, which `log_price` reverts to.
    log_centre: f64,
    /// ln of the floor and of the ceiling in dollars, the latent price's range.
    log_range: (f64, f64),
    /// The latent log price in dollars; the published price is it rounded and clamped.
    log_price: f64,
    /// The published price now.
    price: Price,
    /// When the next change happens; `None` for a price pinned at On-Demand.
    next_change: Option<SimTime>,
    /// The latest instant the process has been brought to.
    position: SimTime,
    /// Change times and sizes.
    stream: Stream,
    /// Past changes, for DescribeSpotPriceHistory.
    log: PriceLog,
}

impl PriceProcess {
    /// The process of `pool`, started at `origin` with its first price logged there.
    pub(crate) fn new(seed: u64, pool: Pool, origin: SimTime) -> PriceProcess {
        let info = pool.instance_type_info();
        let on_demand = info.on_demand.as_micros();
        let centre_dollars = type_centre(info).as_dollars_f64() * zone_factor(seed, pool);
        let floor_micros = (centre_dollars * PRICE_FLOOR_SHARE * 1e6).ceil() as u64;
        let tick = PRICE_TICK.as_micros();
        let floor = floor_micros
            .div_ceil(tick)
            .saturating_mul(tick)
            .max(tick)
            .min(on_demand);
        let pinned = info.advisor_or_default().savings_pct == 0;
        let mut stream = Stream::new(seed, pool, Purpose::Price);
        let next_change = (!pinned).then(|| origin + stream.exponential_gap(MEAN_PRICE_CHANGE_GAP));
        let mut process = PriceProcess {
            on_demand,
            floor,
            log_centre: centre_dollars.ln(),
            log_range: ((floor as f64 / 1e6).ln(), (on_demand as f64 / 1e6).ln()),
            log_price: centre_dollars.ln(),
            price: Price::ZERO,
            next_change,
            position: origin,
            stream,
            log: PriceLog::default(),
        };
        process.clamp_latent();
        process.price = process.publish();
        process.log.record(origin, process.price);
        process
    }

    /// The published price at the process's position.
    pub(crate) fn price(&self) -> Price {
        self.price
    }

    /// When the next change happens, if ever.
    pub(crate) fn next_change(&self) -> Option<SimTime> {
        self.next_change
    }

    /// Past changes.
    pub(crate) fn log(&self) -> &PriceLog {
        &self.log
    }

    /// Applies every change up to and including `now` (earlier `now`s are a no-op),
    /// reporting each real change to `on_change`, then forgets changes older than
    /// `history` before `now`.
    pub(crate) fn advance(
        &mut self,
        now: SimTime,
        history: SimDuration,
        mut on_change: impl FnMut(SimTime, Price),
    ) {
        if now <= self.position {
            return;
        }
        self.position = now;
        while let Some(at) = self.next_change.filter(|at| *at <= now) {
            let noise = self.stream.normal();
            self.log_price +=
                PRICE_REVERSION * (self.log_centre - self.log_price) + PRICE_STEP_SIGMA * noise;
            self.clamp_latent();
            let price = self.publish();
            if price != self.price {
                self.price = price;
                self.log.record(at, price);
                on_change(at, price);
            }
            self.next_change = Some(at + self.stream.exponential_gap(MEAN_PRICE_CHANGE_GAP));
        }
        self.log.prune(now - history);
    }

    /// Keeps the latent price inside the band, so it cannot drift far beyond a clamp.
    fn clamp_latent(&mut self) {
        let (low, high) = self.log_range;
        if low <= high {
            self.log_price = self.log_price.clamp(low, high);
        }
    }

    /// `e^x` rounded to the tick and clamped to `[floor, On-Demand]`.
    fn publish(&self) -> Price {
        let tick = PRICE_TICK.as_micros();
        let micros = (self.log_price.exp() * 1e6 / tick as f64).round() as u64 * tick;
        Price::from_micros(micros.max(self.floor).min(self.on_demand))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;

    fn pool(type_name: &str, zone: &str) -> Pool {
        let c = catalog();
        Pool {
            instance_type: c.instance_type_id(type_name).expect("type in catalogue"),
            zone: c.zone_by_name(zone).expect("zone in catalogue"),
        }
    }

    #[test]
    fn centre_follows_the_advisor_saving() {
        let info = pool("t2.small", "us-east-1a").instance_type_info();
        // $0.023 On-Demand, 69% saving.
        assert_eq!(type_centre(info), Price::from_micros(7_130));
    }

    #[test]
    fn price_moves_about_every_eight_hours_and_stays_in_band() {
        let p = pool("c5.large", "us-east-1a");
        let origin = SimTime::from_millis(0);
        let mut process = PriceProcess::new(3, p, origin);
        let mut changes = 0;
        let days: u32 = 400;
        let on_demand = p.instance_type_info().on_demand;
        let mut sum = 0.0;
        for hour in 1..=days * 24 {
            process.advance(
                origin + SimDuration::from_hours(u64::from(hour)),
                SimDuration::from_days(10_000),
                |_, price| {
                    changes += 1;
                    assert!(price <= on_demand && price > Price::ZERO);
                    assert_eq!(price.as_micros() % 100, 0);
                },
            );
            sum += process.price().as_dollars_f64();
        }
        let per_day = f64::from(changes) / f64::from(days);
        // Three steps a day, a few of which round to the same price.
        assert!((2.5..=3.3).contains(&per_day), "{per_day}");
        let centre = type_centre(p.instance_type_info()).as_dollars_f64() * zone_factor(3, p);
        let mean = sum / f64::from(days * 24);
        assert!((mean / centre - 1.0).abs() < 0.03, "{mean} vs {centre}");
    }

    #[test]
    fn a_type_without_saving_sits_at_on_demand() {
        let p = pool("a1.large", "us-east-1a");
        assert_eq!(p.instance_type_info().advisor_or_default().savings_pct, 0);
        let mut process = PriceProcess::new(1, p, SimTime::EPOCH);
        assert_eq!(process.next_change(), None);
        process.advance(
            SimTime::EPOCH + SimDuration::from_days(30),
            SimDuration::from_days(90),
            |_, _| panic!("a pinned price never changes"),
        );
        assert_eq!(process.price(), p.instance_type_info().on_demand);
    }
}
