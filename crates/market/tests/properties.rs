//! Property tests of the price process and of determinism: prices stay in (0, On-Demand],
//! a seed fixes every pool's history whatever the query order, and a history query
//! reports the price in force at its start.

use market::{
    Market, MarketConfig, Offering, Pool, Price, PriceChange, PriceHistoryQuery, catalog,
};
use proptest::prelude::*;
use simtime::{SimDuration, SimTime};

fn config(seed: u64) -> MarketConfig {
    MarketConfig {
        seed,
        ..MarketConfig::default()
    }
}

fn any_pool() -> impl Strategy<Value = Pool> {
    let pools = catalog().pools();
    (0..pools.len()).prop_map(move |i| pools[i])
}

fn history_of(
    market: &mut Market,
    pool: Pool,
    start: Option<SimTime>,
    now: SimTime,
) -> Vec<PriceChange> {
    let query = PriceHistoryQuery {
        instance_types: vec![pool.instance_type],
        zones: vec![pool.zone],
        start,
        end: None,
    };
    market.price_history(&query, now)
}

/// What a pool looks like at `now`: its whole history and its offering.
fn state_of(market: &mut Market, pool: Pool, now: SimTime) -> (Vec<PriceChange>, Offering) {
    (
        history_of(market, pool, None, now),
        market.offering(pool, now),
    )
}

/// Up to 30 days after the start, in hours.
fn hours_after_start() -> impl Strategy<Value = u64> {
    0u64..30 * 24
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn price_is_positive_and_never_above_on_demand(
        seed: u64,
        pool in any_pool(),
        hours in hours_after_start(),
    ) {
        let mut market = Market::new(config(seed));
        let now = market.config().start + SimDuration::from_hours(hours);
        let on_demand = market.on_demand_price(pool);
        let price = market.spot_price(pool, now);
        prop_assert!(price > Price::ZERO && price <= on_demand, "{pool}: {price} vs {on_demand}");
        for change in history_of(&mut market, pool, None, now) {
            prop_assert!(change.price > Price::ZERO && change.price <= on_demand);
            // Four decimals of a dollar, unless clamped at a finer On-Demand price.
            prop_assert!(change.price == on_demand || change.price.as_micros() % 100 == 0);
        }
    }

    #[test]
    fn histories_do_not_depend_on_query_order(
        seed: u64,
        pools in prop::collection::vec(any_pool(), 2..6),
        early_hours in prop::collection::vec(hours_after_start(), 2..6),
        hours in hours_after_start(),
    ) {
        let start = MarketConfig::default().start;
        let now = start + SimDuration::from_hours(30 * 24 + hours);
        // One market answers in order; the other in reverse, after unrelated earlier
        // queries of the same pools at other times.
        let mut forward = Market::new(config(seed));
        let mut backward = Market::new(config(seed));
        for (pool, h) in pools.iter().zip(&early_hours) {
            backward.offering(*pool, start + SimDuration::from_hours(*h));
        }
        let ahead: Vec<_> = pools.iter().map(|p| state_of(&mut forward, *p, now)).collect();
        let mut behind: Vec<_> =
            pools.iter().rev().map(|p| state_of(&mut backward, *p, now)).collect();
        behind.reverse();
        prop_assert_eq!(ahead, behind);
    }

    #[test]
    fn history_reports_the_price_in_force_at_start(
        seed: u64,
        pool in any_pool(),
        start_hours in hours_after_start(),
        span_hours in 0u64..60 * 24,
    ) {
        let config = config(seed);
        let start = config.start + SimDuration::from_hours(start_hours);
        let now = start + SimDuration::from_hours(span_hours);
        let mut market = Market::new(config);
        let changes = history_of(&mut market, pool, Some(start), now);
        let oldest = *changes.last().expect("a price is always in force");
        prop_assert!(oldest.at <= start);
        prop_assert!(changes[..changes.len() - 1].iter().all(|c| c.at >= start && c.at <= now));
        prop_assert!(changes.windows(2).all(|w| w[0].at > w[1].at));
        // A fresh market asked for the price at `start` agrees.
        let mut fresh = Market::new(config);
        prop_assert_eq!(fresh.spot_price(pool, start), oldest.price);
        // And the newest change is the price now.
        prop_assert_eq!(fresh.spot_price(pool, now), changes[0].price);
    }
}
