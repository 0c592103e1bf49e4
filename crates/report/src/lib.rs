//! The run report of `spotlab run`, `spotlab demo` and `spotlab find-limit`: turns what
//! the runner measured ([`RunReport`], [`LimitReport`]) into a self-contained HTML page
//! with inline SVG charts ([`html`], [`limit_html`]) and a plain-text summary for the
//! terminal ([`summary`], [`limit_summary`]).
//!
//! Pure: no clock, no files, no scripts or assets fetched by the page. The runner
//! measures and writes; this crate only formats. Bad data (empty series, NaN, infinite
//! values, zero-length runs) renders as "no data" or `-`, never as a panic.

mod charts;
mod format;
mod html;
mod limit;
mod model;
mod palette;
mod sample;
mod svg;
mod text;

pub use limit::{LimitReport, LimitStep, limit_html, limit_summary};
pub use model::{
    AlarmSeries, CapacityPoint, Cost, Expectation, Interruption, Phase, Point, PriceSeries,
    RatePoint, RunReport, StateBand, Transition, Verdict,
};

/// The run report as one self-contained HTML page: verdict, expectations, phases,
/// charts (`chart-requests`, `chart-error-rate`, `chart-capacity`, `chart-prices`),
/// alarm transitions, interruptions and cost.
pub fn html(report: &RunReport) -> String {
    html::html(report)
}

/// The run report as plain-text tables for a terminal: phases, alarm transitions,
/// interruptions, cost, expectations and a final verdict line. No colours.
pub fn summary(report: &RunReport) -> String {
    text::summary(report)
}

/// Helpers for tests that check a rendered report, e.g. from a browser screenshot.
#[doc(hidden)]
pub mod testing {
    pub use crate::palette::{
        ALARM_BAND, ERROR, ERROR_FILL, INSUFFICIENT_BAND, INTERRUPTION, OK_BAND, POOLS, REFERENCE,
        SUCCESS, SUCCESS_FILL, rgb,
    };
    pub use crate::sample::{limit as sample_limit, run as sample_run};

    /// How many pixels of an 8-bit image (`channels` bytes a pixel, RGB first) lie
    /// within `tolerance` of `colour` on every channel.
    pub fn count_colour(pixels: &[u8], channels: usize, colour: [u8; 3], tolerance: u8) -> usize {
        if channels < 3 {
            return 0;
        }
        pixels
            .chunks_exact(channels)
            .filter(|p| {
                p.iter()
                    .zip(colour)
                    .all(|(a, b)| a.abs_diff(b) <= tolerance)
            })
            .count()
    }

    /// [`count_colour`] for a `#rrggbb` colour; zero for a malformed one.
    pub fn count_hex(pixels: &[u8], channels: usize, hex: &str, tolerance: u8) -> usize {
        rgb(hex).map_or(0, |c| count_colour(pixels, channels, c, tolerance))
    }
}

#[cfg(test)]
mod tests;
