//! Sanity against real data: simulated Spot prices are of the same order of magnitude as
//! the 2022 DescribeSpotPriceHistory sample.

use market::{Market, MarketConfig, catalog};

#[test]
fn simulated_prices_are_within_a_factor_of_four_of_the_2022_sample() {
    let config = MarketConfig::default();
    let mut market = Market::new(config);
    let samples = catalog().price_samples();
    assert!(samples.len() > 1_000);
    let mut close = 0usize;
    let mut worst = (1.0f64, String::new());
    for sample in samples {
        let simulated = market
            .spot_price(sample.pool, config.start)
            .as_dollars_f64();
        let ratio = simulated / sample.price.as_dollars_f64();
        if (0.25..=4.0).contains(&ratio) {
            close += 1;
        }
        if ratio.ln().abs() > worst.0.ln().abs() {
            worst = (
                ratio,
                format!("{} ({} vs {})", sample.pool, simulated, sample.price),
            );
        }
    }
    let share = close as f64 / samples.len() as f64;
    eprintln!(
        "{close}/{} samples within 4x ({share:.3}); worst ratio {:.2} at {}",
        samples.len(),
        worst.0,
        worst.1
    );
    assert!(
        share >= 0.9,
        "only {close} of {} samples ({:.1}%) are within a factor of 4; worst ratio {:.2} at {}",
        samples.len(),
        share * 100.0,
        worst.0,
        worst.1
    );
}
