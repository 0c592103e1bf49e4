//! The reports in a real browser: render them, screenshot them with headless Chromium
//! and check that each chart really drew, by counting pixels of each series'
//! distinctive colour (the report's fills are opaque, so they render exactly).
//!
//! Chromium is `SPOTLAB_CHROMIUM` or `chromium` on `PATH`. Without it the tests print a
//! skip message and pass, unless `SPOTLAB_REQUIRE_CHROMIUM` is set (as in CI).

mod support;

use report::testing;
use support::browser::{chromium, keep, screenshot};

/// A legend swatch is 14x10 pixels; a drawn series covers far more.
const DRAWN: usize = 2_000;

#[test]
fn run_report_charts_draw() {
    let Some(browser) = chromium() else { return };
    let report = testing::sample_run();
    let shot = screenshot(
        &browser,
        &report::html(&report),
        4000,
        keep("run-report.png").as_deref(),
    );
    assert_eq!((shot.width, shot.height), (1280, 4000));
    let counts = [
        ("successful requests", testing::SUCCESS_FILL, DRAWN),
        ("failed requests", testing::ERROR_FILL, DRAWN),
        ("ALARM band", testing::ALARM_BAND, DRAWN),
        ("OK band", testing::OK_BAND, DRAWN),
        ("INSUFFICIENT_DATA band", testing::INSUFFICIENT_BAND, DRAWN),
        ("first pool", testing::POOLS[0], DRAWN),
        ("second pool", testing::POOLS[1], DRAWN),
        ("third pool", testing::POOLS[2], DRAWN),
        // Two markers and their dotted lines.
        ("interruption markers", testing::INTERRUPTION, 150),
    ];
    for (what, colour, at_least) in counts {
        let n = shot.count(colour);
        eprintln!("{what} ({colour}): {n} pixels");
        assert!(
            n >= at_least,
            "{what} ({colour}): {n} pixels, expected at least {at_least}"
        );
    }
}

#[test]
fn empty_charts_draw_no_series() {
    let Some(browser) = chromium() else { return };
    let mut report = testing::sample_run();
    report.requests.clear();
    report.error_rate.clear();
    report.capacity.clear();
    report.prices.clear();
    report.alarm = None;
    let shot = screenshot(
        &browser,
        &report::html(&report),
        4000,
        keep("empty-report.png").as_deref(),
    );
    // Only the legends' swatches remain.
    for colour in [
        testing::SUCCESS_FILL,
        testing::ERROR_FILL,
        testing::ALARM_BAND,
    ] {
        let n = shot.count(colour);
        eprintln!("no series ({colour}): {n} pixels");
        assert!(n < DRAWN, "{colour}: {n} pixels in a report with no series");
    }
}

#[test]
fn limit_report_charts_draw() {
    let Some(browser) = chromium() else { return };
    let report = testing::sample_limit();
    let shot = screenshot(
        &browser,
        &report::limit_html(&report),
        1400,
        keep("limit-report.png").as_deref(),
    );
    // Lines and dots, thinner than areas.
    for (what, colour) in [
        ("successful rate", testing::SUCCESS),
        ("error rate", testing::ERROR),
    ] {
        let n = shot.count(colour);
        eprintln!("{what} ({colour}): {n} pixels");
        assert!(n >= 500, "{what} ({colour}): {n} pixels");
    }
}
