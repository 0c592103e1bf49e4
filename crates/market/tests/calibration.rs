//! Calibration: measured reclaims per instance-month fall inside each advisor band.
//!
//! For one real pool per band (and one type the advisor feed lacks), 1,000 instances are
//! kept running for 30 simulated days; each reclaimed instance is replaced at once and
//! the replacement draws its own reclaim, in launch order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use market::{
    ADVISOR_WINDOW, DEFAULT_ADVISOR, InterruptionBand, Market, MarketConfig, Pool, catalog,
};
use simtime::{SimDuration, SimTime};

const INSTANCES: usize = 1_000;

fn pool(type_name: &str, zone: &str) -> Pool {
    let c = catalog();
    let pool = Pool {
        instance_type: c.instance_type_id(type_name).expect("type in catalogue"),
        zone: c.zone_by_name(zone).expect("zone in catalogue"),
    };
    assert!(c.is_offered(pool), "{pool} is offered");
    pool
}

/// Reclaims per instance per [`ADVISOR_WINDOW`] with `INSTANCES` kept running.
fn measured_monthly_rate(market: &mut Market, pool: Pool) -> f64 {
    let end = SimTime::EPOCH + ADVISOR_WINDOW;
    // (reclaim time, slot): the next reclaim of each running instance.
    let mut running: BinaryHeap<Reverse<(SimTime, usize)>> = (0..INSTANCES)
        .map(|slot| Reverse((SimTime::EPOCH + market.draw_reclaim(pool).after, slot)))
        .collect();
    let mut reclaims = 0u32;
    while let Some(Reverse((at, slot))) = running.pop() {
        if at > end {
            break;
        }
        reclaims += 1;
        running.push(Reverse((at + market.draw_reclaim(pool).after, slot)));
    }
    f64::from(reclaims) / INSTANCES as f64
}

#[test]
fn measured_reclaim_rates_fall_inside_each_band() {
    let pools = [
        (pool("t2.small", "us-east-1a"), InterruptionBand::Under5),
        (pool("c6i.large", "us-east-1a"), InterruptionBand::From5To10),
        (
            pool("m6i.large", "us-east-1a"),
            InterruptionBand::From10To15,
        ),
        (pool("m5.large", "us-east-1a"), InterruptionBand::From15To20),
        (pool("r6i.large", "us-east-1a"), InterruptionBand::Over20),
    ];
    let mut market = Market::new(MarketConfig::default());
    for (pool, band) in pools {
        assert_eq!(market.band(pool), band, "{pool}");
        let rate = measured_monthly_rate(&mut market, pool);
        let (low, high) = band.bounds();
        eprintln!(
            "{pool} {}: {rate:.3} reclaims per instance-month",
            band.label()
        );
        assert!(
            (low..=high).contains(&rate),
            "{pool} ({}) measured {rate:.3} reclaims per instance-month",
            band.label()
        );
    }
}

#[test]
fn a_type_the_advisor_lacks_uses_the_default_band() {
    let c = catalog();
    let pool = *c
        .pools()
        .iter()
        .find(|p| p.instance_type_info().advisor.is_none())
        .expect("the feed is older than the price list");
    let mut market = Market::new(MarketConfig::default());
    assert_eq!(DEFAULT_ADVISOR.band, InterruptionBand::From15To20);
    assert_eq!(market.band(pool), DEFAULT_ADVISOR.band);
    assert_eq!(
        market.monthly_reclaim_rate(pool),
        DEFAULT_ADVISOR.band.monthly_rate()
    );
    let rate = measured_monthly_rate(&mut market, pool);
    eprintln!("{pool} (no advisor row): {rate:.3} reclaims per instance-month");
    let (low, high) = DEFAULT_ADVISOR.band.bounds();
    assert!((low..=high).contains(&rate), "{pool} measured {rate:.3}");
}

#[test]
fn interruption_scale_multiplies_the_rate_and_zero_switches_reclaims_off() {
    let pool = pool("r6i.large", "us-east-1a");
    let config = |scale| MarketConfig {
        interruption_scale: scale,
        ..MarketConfig::default()
    };
    let mut doubled = Market::new(config(2.0));
    assert_eq!(doubled.monthly_reclaim_rate(pool), 0.5);
    let rate = measured_monthly_rate(&mut doubled, pool);
    assert!((0.4..=0.6).contains(&rate), "{rate}");

    let mut off = Market::new(config(0.0));
    for _ in 0..100 {
        let reclaim = off.draw_reclaim(pool);
        assert!(
            reclaim.after >= SimDuration::from_days(36_500),
            "{reclaim:?}"
        );
        assert!(SimTime::MAX > SimTime::EPOCH + reclaim.after);
    }
}
