//! Watched pools, their events, our usage, injected capacity drops, and the reference
//! pools the reference fleet depends on.

use market::{Market, MarketConfig, MarketEvent, Pool, PriceHistoryQuery, catalog};
use simtime::SimDuration;

fn pool(type_name: &str, zone: &str) -> Pool {
    let c = catalog();
    Pool {
        instance_type: c.instance_type_id(type_name).expect("type in catalogue"),
        zone: c.zone_by_name(zone).expect("zone in catalogue"),
    }
}

fn hours(h: u64) -> SimDuration {
    SimDuration::from_hours(h)
}

#[test]
fn default_config_starts_in_2026_with_90_days_of_history() {
    let config = MarketConfig::default();
    assert_eq!(config.start.to_iso_seconds(), "2026-01-01T00:00:00Z");
    assert_eq!(config.history, SimDuration::from_days(90));
    assert_eq!((config.seed, config.interruption_scale), (0, 1.0));
}

#[test]
fn t2_small_is_cheaper_per_vcpu_than_c5_at_start_with_seed_7() {
    let config = MarketConfig {
        seed: 7,
        ..MarketConfig::default()
    };
    let mut market = Market::new(config);
    for zone in ["us-east-1a", "us-east-1b"] {
        let mut per_vcpu = |type_name: &str| {
            let p = pool(type_name, zone);
            let price = market.spot_price(p, config.start).as_dollars_f64();
            price / f64::from(p.instance_type_info().vcpus)
        };
        let t2 = per_vcpu("t2.small");
        for other in ["c5.large", "c5.xlarge"] {
            let c5 = per_vcpu(other);
            assert!(t2 < c5, "{zone}: t2.small {t2} per vCPU vs {other} {c5}");
        }
    }
}

#[test]
fn watched_pools_report_every_price_change_in_order() {
    let config = MarketConfig::default();
    let pools = [
        pool("c5.large", "us-east-1a"),
        pool("m5.large", "us-east-1b"),
    ];
    let mut market = Market::new(config);
    for p in pools {
        market.watch(p, config.start);
    }
    let end = config.start + SimDuration::from_days(5);
    let mut events = Vec::new();
    let mut last = config.start;
    while let Some(at) = market.next_event_time().filter(|at| *at <= end) {
        assert!(at >= last, "next_event_time went back from {last} to {at}");
        last = at;
        let batch = market.advance(at);
        for event in &batch {
            assert_eq!(event.at(), at);
            if let MarketEvent::PriceChanged { pool, price, .. } = event {
                assert_eq!(market.spot_price(*pool, at), *price);
            }
        }
        events.extend(batch);
    }
    market.advance(end);
    // The same changes, newest first, are what DescribeSpotPriceHistory reports.
    let query = PriceHistoryQuery {
        start: Some(config.start + SimDuration::from_millis(1)),
        ..PriceHistoryQuery::default()
    };
    let mut reported: Vec<_> = events
        .iter()
        .filter_map(|e| match *e {
            MarketEvent::PriceChanged { at, pool, price } => Some((at, pool, price)),
            MarketEvent::CapacityShortfall { .. } => None,
        })
        .collect();
    reported.reverse();
    let history: Vec<_> = market
        .price_history(
            &PriceHistoryQuery {
                instance_types: vec![pools[0].instance_type, pools[1].instance_type],
                ..query
            },
            end,
        )
        .into_iter()
        .filter(|c| pools.contains(&c.pool) && c.at > config.start)
        .map(|c| (c.at, c.pool, c.price))
        .collect();
    assert!(
        reported.len() >= 15,
        "{} changes in 5 days over 2 pools",
        reported.len()
    );
    assert_eq!(reported, history);
}

#[test]
fn a_query_that_runs_ahead_of_advance_loses_no_event() {
    let config = MarketConfig {
        seed: 3,
        ..MarketConfig::default()
    };
    let p = pool("c5.large", "us-east-1c");
    let end = config.start + SimDuration::from_days(2);

    let mut stepwise = Market::new(config);
    stepwise.watch(p, config.start);
    let mut expected = Vec::new();
    while let Some(at) = stepwise.next_event_time().filter(|at| *at <= end) {
        expected.extend(stepwise.advance(at));
    }

    let mut jumping = Market::new(config);
    jumping.watch(p, config.start);
    jumping.offering(p, end);
    assert_eq!(jumping.next_event_time().map(|t| t <= end), Some(true));
    assert_eq!(jumping.advance(end), expected);
    assert!(jumping.next_event_time().is_some_and(|t| t > end));
}

#[test]
fn a_drop_below_used_falls_short_by_exactly_the_excess_and_restore_lifts_it() {
    let config = MarketConfig::default();
    let p = pool("c5.large", "us-east-1a");
    let mut market = Market::new(config);
    let now = config.start + hours(3);
    let before = market.offering(p, now);
    assert!(before.spot_capacity > 100, "{before:?}");
    assert_eq!(before.capacity_score, u64::from(before.spot_capacity) * 2);
    market.occupy(p, 10);
    assert_eq!(market.used(p), 10);
    assert_eq!(
        market.offering(p, now).spot_capacity,
        before.spot_capacity - 10
    );

    let events = market.drop_capacity(p, 6, None, now);
    assert_eq!(
        events,
        [MarketEvent::CapacityShortfall {
            at: now,
            pool: p,
            excess: 4
        }]
    );
    assert_eq!(market.offering(p, now).spot_capacity, 0);
    // The world reclaims the four; the drop holds for days without more shortfall.
    market.release(p, 4);
    let later = now + SimDuration::from_days(3);
    assert!(
        market
            .advance(later)
            .iter()
            .all(|e| matches!(e, MarketEvent::PriceChanged { .. }))
    );
    assert_eq!(market.offering(p, later).spot_capacity, 0);

    market.restore_capacity(p, later);
    assert!(market.offering(p, later).spot_capacity > 100);
    // A drop above what we use causes no shortfall.
    assert!(market.drop_capacity(p, 20, None, later).is_empty());
    assert_eq!(market.offering(p, later).spot_capacity, 14);
}

#[test]
fn a_drop_ends_by_itself_at_until() {
    let config = MarketConfig::default();
    let p = pool("t2.small", "us-east-1b");
    let mut market = Market::new(config);
    let now = config.start + hours(1);
    market.offering(p, now);
    market.occupy(p, 3);
    let until = now + hours(2);
    let events = market.drop_capacity(p, 0, Some(until), now);
    assert_eq!(
        events,
        [MarketEvent::CapacityShortfall {
            at: now,
            pool: p,
            excess: 3
        }]
    );
    market.release(p, 3);
    assert!(market.next_event_time().is_some_and(|t| t <= until));
    market.advance(until - SimDuration::from_millis(1));
    assert_eq!(
        market
            .offering(p, until - SimDuration::from_millis(1))
            .spot_capacity,
        0
    );
    market.advance(until);
    assert!(market.offering(p, until).spot_capacity > 1_000);
}

#[test]
fn natural_level_moves_limit_launches_but_never_reclaim() {
    let config = MarketConfig {
        seed: 11,
        ..MarketConfig::default()
    };
    // A big type in a >20% band: the pool holds only a handful.
    let p = pool("r6i.32xlarge", "us-east-1a");
    let mut market = Market::new(config);
    let holdable = market.offering(p, config.start).spot_capacity;
    assert!((1..20).contains(&holdable), "{holdable}");
    market.occupy(p, holdable);
    let mut saw_less_room = false;
    for hour in 1..=240 {
        let at = config.start + SimDuration::from_hours(hour);
        for event in market.advance(at) {
            assert!(
                !matches!(event, MarketEvent::CapacityShortfall { .. }),
                "a natural move reclaimed: {event:?}"
            );
        }
        // The level moves: sometimes the full pool has no room for one more.
        saw_less_room |= market.offering(p, at).spot_capacity == 0;
    }
    assert!(
        saw_less_room,
        "a full pool of a scarce type runs out of room within 10 days"
    );
    assert_eq!(market.used(p), holdable, "nothing was reclaimed");
}

#[test]
fn pools_that_do_not_exist_offer_nothing() {
    let config = MarketConfig::default();
    let p = pool("c5.large", "us-east-1e");
    assert!(!catalog().is_offered(p));
    let mut market = Market::new(config);
    let offering = market.offering(p, config.start);
    assert_eq!(
        (
            offering.spot_capacity,
            offering.on_demand_capacity,
            offering.capacity_score
        ),
        (0, 0, 0)
    );
    let offered = market.offering(pool("c5.large", "us-east-1a"), config.start);
    assert_eq!(offered.on_demand_capacity, u32::MAX);
    let query = PriceHistoryQuery {
        instance_types: vec![p.instance_type],
        start: Some(config.start),
        ..PriceHistoryQuery::default()
    };
    // One price in force at the start per zone that offers c5.large; none for 1e.
    let history = market.price_history(&query, config.start);
    assert_eq!(history.len(), 5);
    assert!(history.iter().all(|c| c.pool != p));
}
