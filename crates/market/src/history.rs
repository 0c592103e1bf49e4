//! Spot price history as DescribeSpotPriceHistory reports it: the public
//! [`PriceChange`] and [`PriceHistoryQuery`] types, and each pool's bounded log of past
//! changes.
//!
//! AWS semantics: a query with a time window returns every change inside
//! `[start, min(end, now)]` plus, per pool, the last change before `start` (the price in
//! force at the start), newest first. AWS keeps 90 days; each pool's log keeps the
//! market's `history` span before the pool's current time, plus the one change in force
//! at its beginning. This module does not generate prices (see `price`) and does not
//! know about the wire format or pagination.

use std::collections::VecDeque;

use simtime::SimTime;

use crate::catalog::{InstanceTypeId, Pool, ZoneId};
use crate::money::Price;

/// One Spot price change: from `at` on, `pool` costs `price` per instance-hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PriceChange {
    /// The pool whose price changed.
    pub pool: Pool,
    /// When the new price took effect.
    pub at: SimTime,
    /// The new price.
    pub price: Price,
}

/// A DescribeSpotPriceHistory filter, already validated. An empty list matches
/// everything; `None` leaves that side of the time window open (the end is always
/// capped at the query's `now`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PriceHistoryQuery {
    /// Instance types to report; empty = all.
    pub instance_types: Vec<InstanceTypeId>,
    /// Zones to report; empty = all.
    pub zones: Vec<ZoneId>,
    /// Start of the window; the change in force at `start` is reported too.
    pub start: Option<SimTime>,
    /// End of the window (inclusive).
    pub end: Option<SimTime>,
}

impl PriceHistoryQuery {
    /// Whether the query covers `pool` (ignoring whether the pool is offered).
    pub fn matches(&self, pool: Pool) -> bool {
        (self.instance_types.is_empty() || self.instance_types.contains(&pool.instance_type))
            && (self.zones.is_empty() || self.zones.contains(&pool.zone))
    }
}

/// Orders changes as AWS lists them: newest first, ties by pool.
pub(crate) fn sort_newest_first(changes: &mut [PriceChange]) {
    changes.sort_by(|a, b| b.at.cmp(&a.at).then(a.pool.cmp(&b.pool)));
}

/// One pool's past price changes, oldest first. Only real changes are logged (a step
/// that rounds to the same price is not a change), so consecutive prices differ.
#[derive(Clone, Debug, Default)]
pub(crate) struct PriceLog {
    entries: VecDeque<(SimTime, Price)>,
}

impl PriceLog {
    /// Appends a change; `at` must not precede the last one.
    pub(crate) fn record(&mut self, at: SimTime, price: Price) {
        debug_assert!(self.entries.back().is_none_or(|(last, _)| *last <= at));
        self.entries.push_back((at, price));
    }

    /// Forgets changes that stopped being in force before `cutoff`, keeping the one in
    /// force at `cutoff` so the price at every retained instant stays known.
    pub(crate) fn prune(&mut self, cutoff: SimTime) {
        while self.entries.get(1).is_some_and(|(at, _)| *at <= cutoff) {
            self.entries.pop_front();
        }
    }

    /// The changes a query window reports, oldest first: those in `[start, upper]`, and
    /// the last one before `start` (if it is not after `upper`).
    pub(crate) fn window(
        &self,
        start: Option<SimTime>,
        upper: SimTime,
    ) -> impl Iterator<Item = (SimTime, Price)> + '_ {
        let start = start.unwrap_or(SimTime::EPOCH);
        let first_inside = self.entries.partition_point(|(at, _)| *at < start);
        let from = first_inside.saturating_sub(1);
        self.entries
            .range(from..)
            .copied()
            .take_while(move |(at, _)| *at <= upper)
    }

    /// Number of logged changes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(times: &[u64]) -> PriceLog {
        let mut log = PriceLog::default();
        for (i, t) in times.iter().enumerate() {
            log.record(SimTime::from_millis(*t), Price::from_micros(i as u64 + 1));
        }
        log
    }

    fn times(it: impl Iterator<Item = (SimTime, Price)>) -> Vec<u64> {
        it.map(|(t, _)| t.as_millis()).collect()
    }

    #[test]
    fn window_includes_the_price_in_force_at_start() {
        let log = log(&[10, 20, 30, 40]);
        let at = SimTime::from_millis;
        assert_eq!(times(log.window(Some(at(25)), at(100))), [20, 30, 40]);
        assert_eq!(times(log.window(Some(at(20)), at(100))), [10, 20, 30, 40]);
        assert_eq!(times(log.window(Some(at(25)), at(35))), [20, 30]);
        assert_eq!(times(log.window(None, at(25))), [10, 20]);
        assert_eq!(times(log.window(Some(at(5)), at(100))), [10, 20, 30, 40]);
        assert_eq!(times(log.window(Some(at(50)), at(100))), [40]);
        assert!(times(log.window(Some(at(50)), at(15))).is_empty());
    }

    #[test]
    fn prune_keeps_the_change_in_force_at_the_cutoff() {
        let mut log = log(&[10, 20, 30, 40]);
        log.prune(SimTime::from_millis(25));
        assert_eq!(times(log.window(None, SimTime::MAX)), [20, 30, 40]);
        log.prune(SimTime::from_millis(30));
        assert_eq!(times(log.window(None, SimTime::MAX)), [30, 40]);
        log.prune(SimTime::MAX);
        assert_eq!(log.len(), 1);
    }
}
