//! A small hand-written SVG chart kit: linear scales, "nice" axis ticks, a chart frame
//! with grid, axes and a "no data" state, and path builders for lines, step lines and
//! areas. It knows nothing of runs or phases; `charts.rs` draws the report's charts on it.
//!
//! Every coordinate that reaches the SVG text is finite: callers hand in raw data and
//! the kit drops non-finite points, so NaN or infinity never produce a broken path.

use std::fmt::Write as _;

use crate::format::{self, escape};

/// The chart's width in SVG user units; the page scales it to the column's width.
pub const WIDTH: f64 = 1000.0;
/// Space around the plot area for the axes' labels.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 34.0;

/// Colour of the axes' labels and lines.
const INK: &str = "#5f6670";
/// Colour of the grid.
const GRID: &str = "#e6e8eb";
/// Fill of an empty chart's plot area.
const PLOT_EMPTY: &str = "#fafbfc";

/// A linear map from a data interval onto a pixel interval.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    /// Maps `[d0, d1]` onto `[r0, r1]`; an empty or non-finite domain becomes `[d0, d0 + 1]`.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        let (d0, d1) = sane_range(d0, d1);
        Scale { d0, d1, r0, r1 }
    }

    /// The pixel position of `v`; values outside the domain map outside the range.
    pub fn map(&self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// The pixel position of `v`, clamped to the range (for marks that must stay visible).
    pub fn map_clamped(&self, v: f64) -> f64 {
        let (lo, hi) = (self.r0.min(self.r1), self.r0.max(self.r1));
        self.map(v).clamp(lo, hi)
    }
}

/// A usable interval: finite, and not empty.
pub fn sane_range(lo: f64, hi: f64) -> (f64, f64) {
    let lo = if lo.is_finite() { lo } else { 0.0 };
    let hi = if hi.is_finite() { hi } else { lo + 1.0 };
    if hi > lo {
        (lo, hi)
    } else if hi < lo {
        (hi, lo)
    } else {
        (lo, lo + 1.0)
    }
}

/// Ticks at a 1-2-5 step covering `[lo, hi]` with at most `max` ticks.
pub fn nice_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let (lo, hi) = sane_range(lo, hi);
    let max = max.max(2);
    let rough = (hi - lo) / (max - 1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| (((hi - lo) / s).floor() as usize) < max)
        .unwrap_or(10.0 * magnitude);
    ticks_at(lo, hi, step)
}

/// Decimals needed to print ticks `step` apart: `0.05` needs 2.
pub fn tick_decimals(ticks: &[f64]) -> usize {
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => return 0,
    };
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    (-(step.log10() - 1e-9).floor()).max(0.0) as usize
}

/// Time ticks in virtual seconds at a clock-friendly step (10 s, 1 min, 5 min, ...)
/// covering `[lo, hi]` with at most `max` ticks.
pub fn time_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    const STEPS: [f64; 19] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 3600.0,
        7200.0, 10800.0, 21600.0, 43200.0, 86400.0,
    ];
    let (lo, hi) = sane_range(lo, hi);
    let max = max.max(2);
    match STEPS
        .iter()
        .find(|s| (((hi - lo) / *s).floor() as usize) < max)
    {
        Some(step) => ticks_at(lo, hi, *step),
        // Longer than `max` days: fall back to whole days at a 1-2-5 multiple.
        None => nice_ticks(lo / 86400.0, hi / 86400.0, max)
            .into_iter()
            .map(|d| d * 86400.0)
            .collect(),
    }
}

/// Multiples of `step` within `[lo, hi]`.
fn ticks_at(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.max(first - 1))
        .map(|i| i as f64 * step)
        .take(1000)
        .collect()
}

/// How the x axis is labelled.
#[derive(Debug, Clone)]
pub enum XAxis {
    /// Virtual seconds, labelled `m:ss`.
    Time,
    /// Evenly spaced categories `0..labels.len()`, labelled with these names.
    Categories(Vec<String>),
}

/// How the y axis' ticks are labelled.
#[derive(Debug, Clone, Copy)]
pub enum YFormat {
    /// Plain numbers with as many decimals as the tick step needs.
    Number,
    /// Ratios shown as percentages.
    Percent,
    /// US dollars.
    Usd,
}

/// One chart under construction: the frame is drawn by [`Chart::new`], marks are
/// appended inside the plot area's clip, [`Chart::finish`] closes the SVG.
pub struct Chart {
    /// The `<svg>` element's opening and its clip path.
    head: String,
    /// Marks under the grid (background bands).
    background: String,
    /// Grid, ticks and axes.
    grid: String,
    /// Marks over the grid, clipped to the plot area.
    marks: String,
    /// Data to pixels, horizontally.
    pub x: Scale,
    /// Data to pixels, vertically.
    pub y: Scale,
    /// The plot area: left, top, right, bottom in pixels.
    pub plot: (f64, f64, f64, f64),
    id: String,
}

impl Chart {
    /// An error-rate threshold: a dashed horizontal line at `threshold` into `marks`,
    /// and its label into `overlay`.
    pub fn threshold_line(&self, threshold: f64, marks: &mut String, overlay: &mut String) {
        let y = self.y.map(threshold);
        let (left, _, right, _) = self.plot;
        let _ = write!(
            marks,
            r#"<line x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="{}" stroke-dasharray="6 4" stroke-width="1.5"/>"#,
            crate::palette::REFERENCE
        );
        let _ = write!(
            overlay,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="label">threshold {}</text>"#,
            right - 4.0,
            y - 6.0,
            escape(&format::percent(threshold))
        );
    }

    /// Starts a chart `height` units tall whose data spans `x_range` by `y_range`,
    /// with grid, ticks and axes drawn. `label` is the chart's accessible name.
    pub fn new(
        id: &str,
        label: &str,
        height: f64,
        x_range: (f64, f64),
        y_range: (f64, f64),
        x_axis: &XAxis,
        y_format: YFormat,
    ) -> Chart {
        let mut chart = Chart::frame(id, label, height);
        let (left, top, right, bottom) = chart.plot;
        let (y0, y1) = sane_range(y_range.0, y_range.1);
        let y_ticks = nice_ticks(y0, y1, 6);
        // Round the top of the y axis up to a tick so the grid closes the plot.
        let y1 = match y_ticks.last() {
            Some(&t) if t < y1 => {
                t + y_ticks
                    .get(1)
                    .zip(y_ticks.first())
                    .map_or(1.0, |(b, a)| b - a)
            }
            _ => y1,
        };
        let y_ticks = nice_ticks(y0, y1, 6);
        chart.y = Scale::new(y0, y1, bottom, top);
        let decimals = tick_decimals(&y_ticks);
        let svg = &mut chart.grid;
        for t in &y_ticks {
            let py = chart.y.map(*t);
            let label = match y_format {
                YFormat::Number => format::number(*t, decimals),
                YFormat::Percent => {
                    format!("{}%", format::number(t * 100.0, decimals.saturating_sub(2)))
                }
                YFormat::Usd => format!("${}", format::number(*t, decimals.max(2))),
            };
            let _ = write!(
                svg,
                r#"<line x1="{left:.1}" y1="{py:.1}" x2="{right:.1}" y2="{py:.1}" stroke="{GRID}"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text>"#,
                left - 8.0,
                py + 4.0,
                escape(&label)
            );
        }
        match x_axis {
            XAxis::Time => {
                let (x0, x1) = sane_range(x_range.0, x_range.1);
                chart.x = Scale::new(x0, x1, left, right);
                for t in time_ticks(x0, x1, 11) {
                    let px = chart.x.map(t);
                    let _ = write!(
                        svg,
                        r#"<line x1="{px:.1}" y1="{top:.1}" x2="{px:.1}" y2="{bottom:.1}" stroke="{GRID}"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text>"#,
                        bottom + 18.0,
                        format::clock(t)
                    );
                }
            }
            XAxis::Categories(labels) => {
                // Half a slot of padding either side so the first and last points clear the axes.
                let n = labels.len().max(1) as f64;
                chart.x = Scale::new(-0.5, n - 0.5, left, right);
                for (i, label) in labels.iter().enumerate() {
                    let px = chart.x.map(i as f64);
                    let _ = write!(
                        svg,
                        r#"<line x1="{px:.1}" y1="{bottom:.1}" x2="{px:.1}" y2="{:.1}" stroke="{INK}"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text>"#,
                        bottom + 4.0,
                        bottom + 18.0,
                        escape(label)
                    );
                }
            }
        }
        let _ = write!(
            svg,
            r#"<line x1="{left:.1}" y1="{bottom:.1}" x2="{right:.1}" y2="{bottom:.1}" stroke="{INK}"/>"#,
        );
        chart
    }

    /// A chart frame with nothing to plot: the axes' box and a "no data" note.
    pub fn empty(id: &str, label: &str, height: f64, note: &str) -> String {
        let mut chart = Chart::frame(id, label, height);
        let (left, top, right, bottom) = chart.plot;
        let _ = write!(
            chart.head,
            r#"<rect x="{left:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{PLOT_EMPTY}" stroke="{GRID}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" class="nodata">{}</text></svg>"#,
            right - left,
            bottom - top,
            (left + right) / 2.0,
            (top + bottom) / 2.0 + 5.0,
            escape(note)
        );
        chart.head
    }

    /// The `<svg>` element, its clip path and its plot area, with no marks yet.
    fn frame(id: &str, label: &str, height: f64) -> Chart {
        let height = if height.is_finite() && height > TOP + BOTTOM + 10.0 {
            height
        } else {
            240.0
        };
        let plot = (LEFT, TOP, WIDTH - RIGHT, height - BOTTOM);
        let id = escape(id);
        let head = format!(
            r#"<svg class="chart" id="{id}" role="img" aria-label="{label}" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="clip-{id}"><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/></clipPath></defs>"#,
            plot.0,
            plot.1 - 1.0,
            plot.2 - plot.0,
            plot.3 - plot.1 + 2.0,
            label = escape(label),
        );
        Chart {
            head,
            background: String::new(),
            grid: String::new(),
            marks: String::new(),
            x: Scale::new(0.0, 1.0, plot.0, plot.2),
            y: Scale::new(0.0, 1.0, plot.3, plot.1),
            plot,
            id,
        }
    }

    /// Appends raw SVG inside the plot area's clip, over the grid.
    pub fn push(&mut self, markup: &str) {
        self.marks.push_str(markup);
    }

    /// Appends raw SVG inside the plot area's clip, under the grid (background bands).
    pub fn push_background(&mut self, markup: &str) {
        self.background.push_str(markup);
    }

    /// Closes the chart with `overlay` on top, outside the clip (labels that may
    /// overhang the plot area).
    pub fn finish_with(self, overlay: &str) -> String {
        let clip = format!(r#"<g clip-path="url(#clip-{})">"#, self.id);
        let mut svg = self.head;
        for part in [
            clip.as_str(),
            &self.background,
            "</g>",
            &self.grid,
            &clip,
            &self.marks,
            "</g>",
            overlay,
            "</svg>",
        ] {
            svg.push_str(part);
        }
        svg
    }

    /// Closes the chart.
    pub fn finish(self) -> String {
        self.finish_with("")
    }

    /// `points` (data coordinates) as pixel coordinates, dropping non-finite points.
    pub fn pixels(&self, points: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
        points
            .into_iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| (self.x.map(x), self.y.map(y)))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect()
    }
}

/// An SVG path through pixel points (`M x y L x y ...`); empty for no points.
pub fn polyline(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { "M" } else { " L" });
    }
    d
}

/// Data points of a step function: each value holds until the next point's time,
/// and the last until `end`.
pub fn steps(points: &[(f64, f64)], end: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(t, v)) in points.iter().enumerate() {
        let next = points.get(i + 1).map_or(end.max(t), |p| p.0);
        out.push((t, v));
        out.push((next, v));
    }
    out
}

/// A closed area between an upper and a lower boundary, both given left to right in
/// pixels; empty when either has no points.
pub fn band(upper: &[(f64, f64)], lower: &[(f64, f64)]) -> String {
    if upper.is_empty() || lower.is_empty() {
        return String::new();
    }
    let mut d = polyline(upper);
    for (x, y) in lower.iter().rev() {
        let _ = write!(d, " L{x:.1} {y:.1}");
    }
    d.push_str(" Z");
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_use_one_two_five_steps() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 6),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(nice_ticks(0.0, 0.12, 6), vec![0.0, 0.05, 0.1]);
        assert_eq!(
            nice_ticks(0.0, 950.0, 6),
            vec![0.0, 200.0, 400.0, 600.0, 800.0]
        );
        assert_eq!(tick_decimals(&nice_ticks(0.0, 0.12, 6)), 2);
        assert_eq!(tick_decimals(&nice_ticks(0.0, 950.0, 6)), 0);
        assert_eq!(tick_decimals(&[0.0, 0.5]), 1);
    }

    #[test]
    fn time_ticks_use_clock_steps() {
        assert_eq!(
            time_ticks(0.0, 900.0, 11),
            vec![0.0, 120.0, 240.0, 360.0, 480.0, 600.0, 720.0, 840.0]
        );
        assert_eq!(
            time_ticks(0.0, 60.0, 11),
            vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
        );
        assert_eq!(time_ticks(0.0, 3600.0, 11).len(), 7);
        assert!(time_ticks(0.0, 1e9, 11).len() <= 11);
    }

    #[test]
    fn degenerate_ranges_still_tick() {
        for (lo, hi) in [
            (0.0, 0.0),
            (5.0, 5.0),
            (f64::NAN, f64::NAN),
            (f64::NEG_INFINITY, f64::INFINITY),
            (3.0, 1.0),
        ] {
            let ticks = nice_ticks(lo, hi, 6);
            assert!(!ticks.is_empty(), "{lo}..{hi}");
            assert!(ticks.iter().all(|t| t.is_finite()));
            assert!(!time_ticks(lo, hi, 11).is_empty());
            let s = Scale::new(lo, hi, 0.0, 100.0);
            assert!(s.map(0.5).is_finite() && s.map_clamped(f64::MAX).is_finite());
        }
    }

    #[test]
    fn steps_hold_each_value_until_the_next() {
        assert_eq!(
            steps(&[(0.0, 1.0), (10.0, 2.0)], 30.0),
            vec![(0.0, 1.0), (10.0, 1.0), (10.0, 2.0), (30.0, 2.0)]
        );
        assert!(steps(&[], 30.0).is_empty());
    }

    #[test]
    fn paths() {
        assert_eq!(polyline(&[(0.0, 1.0), (2.0, 3.0)]), "M0.0 1.0 L2.0 3.0");
        assert_eq!(
            band(&[(0.0, 1.0), (2.0, 1.0)], &[(0.0, 5.0), (2.0, 5.0)]),
            "M0.0 1.0 L2.0 1.0 L2.0 5.0 L0.0 5.0 Z"
        );
        assert_eq!(band(&[], &[(0.0, 5.0)]), "");
    }

    #[test]
    fn empty_chart_says_so() {
        let svg = Chart::empty("chart-x", "X <y>", 200.0, "no data");
        assert!(svg.starts_with(r#"<svg class="chart" id="chart-x""#));
        assert!(svg.contains("no data"));
        assert!(svg.contains("X &lt;y&gt;"));
        assert!(svg.ends_with("</svg>"));
    }
}
