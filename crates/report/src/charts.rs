//! The run report's four charts, drawn with `svg.rs`: requests per second by outcome,
//! the error rate against the alarm, capacity by pool with interruptions, and Spot
//! prices. All four share one time axis so they line up on the page. Each returns a
//! [`Figure`]: the SVG plus an HTML legend, which wraps where an SVG legend could not.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::format::{self, escape};
use crate::model::RunReport;
use crate::palette;
use crate::svg::{self, Chart, XAxis, YFormat};

/// A chart with its heading and legend.
pub struct Figure {
    /// The heading above the chart.
    pub title: String,
    /// A line under the heading saying how to read the chart.
    pub note: String,
    /// The legend's entries, in order.
    pub legend: Vec<LegendItem>,
    /// The `<svg class="chart">` element.
    pub svg: String,
}

/// One legend entry.
pub struct LegendItem {
    /// How the entry's mark looks.
    pub swatch: Swatch,
    /// The entry's text.
    pub label: String,
}

/// The mark shown next to a legend entry.
#[derive(Clone, Copy)]
pub enum Swatch {
    /// A filled square (areas, bands).
    Fill(&'static str),
    /// A solid line.
    Line(&'static str),
    /// A dashed line.
    Dashed(&'static str),
    /// A triangle marker.
    Marker(&'static str),
}

fn item(swatch: Swatch, label: impl Into<String>) -> LegendItem {
    LegendItem {
        swatch,
        label: label.into(),
    }
}

/// The time axis shared by the run's charts: the run's duration when it is usable,
/// else whatever the data spans.
pub fn time_range(report: &RunReport) -> (f64, f64) {
    if report.duration_s.is_finite() && report.duration_s > 0.0 {
        return (0.0, report.duration_s);
    }
    let times = report
        .requests
        .iter()
        .map(|p| p.t)
        .chain(report.error_rate.iter().map(|p| p.t))
        .chain(report.capacity.iter().map(|p| p.t))
        .chain(report.phases.iter().flat_map(|p| [p.start_s, p.end_s]))
        .filter(|t| t.is_finite());
    let (lo, hi) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    if lo.is_finite() {
        svg::sane_range(lo.min(0.0), hi)
    } else {
        (0.0, 1.0)
    }
}

/// Each pool's colour, the same in the capacity and price charts.
pub fn pool_colours(report: &RunReport) -> BTreeMap<String, &'static str> {
    let pools: BTreeSet<&str> = report
        .capacity
        .iter()
        .flat_map(|c| c.by_pool.keys().map(String::as_str))
        .chain(report.prices.iter().map(|p| p.pool.as_str()))
        .collect();
    pools
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p.to_owned(), palette::pool(i)))
        .collect()
}

/// A usable non-negative value: negative and non-finite values count as zero.
fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

/// The top of a y axis showing values up to `max`, with headroom.
fn headroom(max: f64, floor: f64) -> f64 {
    let max = if max.is_finite() { max } else { 0.0 };
    (max * 1.12).max(floor)
}

/// Requests per second by outcome, stacked, with the phases marked.
pub fn requests(report: &RunReport) -> Figure {
    const ID: &str = "chart-requests";
    const HEIGHT: f64 = 270.0;
    let title = "Requests per second".to_owned();
    let note =
        "Successful and failed requests per virtual second, stacked; dashed lines mark the phases."
            .to_owned();
    let legend = vec![
        item(Swatch::Fill(palette::SUCCESS_FILL), "successful"),
        item(Swatch::Fill(palette::ERROR_FILL), "failed"),
        item(Swatch::Dashed(palette::REFERENCE), "phase boundary"),
    ];
    let mut points: Vec<(f64, f64, f64)> = report
        .requests
        .iter()
        .filter(|p| p.t.is_finite())
        .map(|p| (p.t, clean(p.success_per_s), clean(p.error_per_s)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    if points.is_empty() {
        let svg = Chart::empty(ID, &title, HEIGHT, "no data: no requests were measured");
        return Figure {
            title,
            note,
            legend,
            svg,
        };
    }
    let max = points.iter().map(|p| p.1 + p.2).fold(0.0, f64::max);
    let mut chart = Chart::new(
        ID,
        &title,
        HEIGHT,
        time_range(report),
        (0.0, headroom(max, 1.0)),
        &XAxis::Time,
        YFormat::Number,
    );
    let zero = chart.pixels(points.iter().map(|p| (p.0, 0.0)));
    let success = chart.pixels(points.iter().map(|p| (p.0, p.1)));
    let total = chart.pixels(points.iter().map(|p| (p.0, p.1 + p.2)));
    let mut marks = String::new();
    let _ = write!(
        marks,
        r#"<path d="{}" fill="{}"/><path d="{}" fill="{}"/><path d="{}" fill="none" stroke="{}" stroke-width="1.5"/><path d="{}" fill="none" stroke="{}" stroke-width="1.5"/>"#,
        svg::band(&success, &zero),
        palette::SUCCESS_FILL,
        svg::band(&total, &success),
        palette::ERROR_FILL,
        // The total's line first, so where nothing failed the success line covers it.
        svg::polyline(&total),
        palette::ERROR,
        svg::polyline(&success),
        palette::SUCCESS,
    );
    chart.push(&marks);
    let overlay = phase_marks(&chart, report);
    Figure {
        title,
        note,
        legend,
        svg: chart.finish_with(&overlay),
    }
}

/// Dashed lines at each phase's start, labelled with its name where it fits: a name
/// longer than its phase is wide is shortened with an ellipsis, and left out (the line
/// keeps a hover title) when not even a few letters fit.
fn phase_marks(chart: &Chart, report: &RunReport) -> String {
    /// Roughly the width of one character of a phase label, in SVG units.
    const CHAR_WIDTH: f64 = 7.5;
    let (left, top, right, bottom) = chart.plot;
    let starts: Vec<f64> = report
        .phases
        .iter()
        .map(|p| chart.x.map(p.start_s))
        .collect();
    let mut out = String::new();
    for (i, phase) in report.phases.iter().enumerate() {
        let x = starts[i];
        if !(x.is_finite() && (left - 0.5..=right).contains(&x)) {
            continue;
        }
        let hover = format!(
            "<title>{}: {} to {}</title>",
            escape(&phase.name),
            format::clock(phase.start_s),
            format::clock(phase.end_s)
        );
        if x > left + 0.5 {
            let _ = write!(
                out,
                r#"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="{}" stroke-dasharray="4 3" stroke-width="1">{hover}</line>"#,
                palette::REFERENCE
            );
        }
        let next = starts[i + 1..]
            .iter()
            .copied()
            .find(|s| s.is_finite() && *s > x)
            .unwrap_or(right)
            .min(right);
        let fits = ((next - x - 10.0) / CHAR_WIDTH).floor().max(0.0) as usize;
        let name: String = if phase.name.chars().count() <= fits {
            phase.name.clone()
        } else if fits >= 4 {
            phase
                .name
                .chars()
                .take(fits - 1)
                .chain(['\u{2026}'])
                .collect()
        } else {
            continue;
        };
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="phase">{}{hover}</text>"#,
            x + 5.0,
            top + 14.0,
            escape(&name),
        );
    }
    out
}

/// The error rate per window against the alarm's threshold and states.
pub fn error_rate(report: &RunReport) -> Figure {
    const ID: &str = "chart-error-rate";
    const HEIGHT: f64 = 250.0;
    let title = "Error rate".to_owned();
    let alarm = report.alarm.as_ref();
    let note = match alarm {
        Some(a) => format!(
            "Failed share of requests per 60 s window; the background shows alarm {}'s state, the dashed line its threshold.",
            a.name
        ),
        None => "Failed share of requests per 60 s window.".to_owned(),
    };
    let mut legend = vec![item(Swatch::Line(palette::ERROR), "error rate")];
    if alarm.is_some() {
        legend.push(item(Swatch::Dashed(palette::REFERENCE), "threshold"));
        legend.push(item(Swatch::Fill(palette::OK_BAND), "OK"));
        legend.push(item(Swatch::Fill(palette::ALARM_BAND), "ALARM"));
        legend.push(item(
            Swatch::Fill(palette::INSUFFICIENT_BAND),
            "INSUFFICIENT_DATA",
        ));
    }
    let mut points: Vec<(f64, f64)> = report
        .error_rate
        .iter()
        .filter(|p| p.t.is_finite() && p.value.is_finite())
        .map(|p| (p.t, p.value.clamp(0.0, 1.0)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let bands: Vec<_> = alarm
        .map(|a| {
            a.states
                .iter()
                .filter(|b| b.start_s.is_finite() && b.end_s.is_finite())
                .collect()
        })
        .unwrap_or_default();
    if points.is_empty() && bands.is_empty() {
        let svg = Chart::empty(ID, &title, HEIGHT, "no data: no error rate was measured");
        return Figure {
            title,
            note,
            legend,
            svg,
        };
    }
    let threshold = alarm.map(|a| a.threshold).filter(|t| t.is_finite());
    let max = points
        .iter()
        .map(|p| p.1)
        .fold(threshold.unwrap_or(0.0), f64::max);
    let mut chart = Chart::new(
        ID,
        &title,
        HEIGHT,
        time_range(report),
        (0.0, headroom(max, 0.01)),
        &XAxis::Time,
        YFormat::Percent,
    );
    let (_, top, _, bottom) = chart.plot;
    let mut marks = String::new();
    for band in bands {
        let (x0, x1) = (
            chart.x.map_clamped(band.start_s),
            chart.x.map_clamped(band.end_s),
        );
        let _ = write!(
            marks,
            r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} from {} to {}</title></rect>"#,
            x0.min(x1),
            (x1 - x0).abs(),
            bottom - top,
            palette::state_band(&band.state),
            escape(&band.state),
            format::clock(band.start_s),
            format::clock(band.end_s),
        );
    }
    chart.push_background(&std::mem::take(&mut marks));
    let mut overlay = String::new();
    if let Some(threshold) = threshold {
        chart.threshold_line(threshold, &mut marks, &mut overlay);
    }
    let line = chart.pixels(points.iter().copied());
    let _ = write!(
        marks,
        r#"<path d="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round"/>"#,
        svg::polyline(&line),
        palette::ERROR
    );
    chart.push(&marks);
    Figure {
        title,
        note,
        legend,
        svg: chart.finish_with(&overlay),
    }
}

/// Fulfilled capacity by pool as stacked steps, the target, and interruptions.
pub fn capacity(report: &RunReport) -> Figure {
    const ID: &str = "chart-capacity";
    const HEIGHT: f64 = 270.0;
    let title = "Fleet capacity by pool".to_owned();
    let note = "Fulfilled capacity in units, stacked by pool; the dashed line is the target, triangles mark Spot interruptions.".to_owned();
    let colours = pool_colours(report);
    let mut samples: Vec<_> = report.capacity.iter().filter(|c| c.t.is_finite()).collect();
    samples.sort_by(|a, b| a.t.total_cmp(&b.t));
    let pools: Vec<&String> = {
        let used: BTreeSet<&String> = samples.iter().flat_map(|c| c.by_pool.keys()).collect();
        used.into_iter().collect()
    };
    let mut legend: Vec<LegendItem> = pools
        .iter()
        .map(|p| {
            item(
                Swatch::Fill(colours.get(*p).copied().unwrap_or(palette::POOLS[0])),
                p.as_str(),
            )
        })
        .collect();
    legend.push(item(Swatch::Dashed(palette::REFERENCE), "target"));
    if !report.interruptions.is_empty() {
        legend.push(item(Swatch::Marker(palette::INTERRUPTION), "interruption"));
    }
    if samples.is_empty() {
        let svg = Chart::empty(ID, &title, HEIGHT, "no data: no capacity was sampled");
        return Figure {
            title,
            note,
            legend,
            svg,
        };
    }
    let range = time_range(report);
    let max = samples
        .iter()
        .map(|c| {
            c.by_pool
                .values()
                .copied()
                .map(clean)
                .sum::<f64>()
                .max(clean(c.target))
        })
        .fold(0.0, f64::max);
    let mut chart = Chart::new(
        ID,
        &title,
        HEIGHT,
        range,
        (0.0, headroom(max, 1.0)),
        &XAxis::Time,
        YFormat::Number,
    );
    let mut marks = String::new();
    let mut lower: Vec<(f64, f64)> = samples.iter().map(|c| (c.t, 0.0)).collect();
    for pool in &pools {
        let upper: Vec<(f64, f64)> = samples
            .iter()
            .zip(&lower)
            .map(|(c, l)| {
                (
                    c.t,
                    l.1 + clean(c.by_pool.get(*pool).copied().unwrap_or(0.0)),
                )
            })
            .collect();
        let d = svg::band(
            &chart.pixels(svg::steps(&upper, range.1)),
            &chart.pixels(svg::steps(&lower, range.1)),
        );
        let _ = write!(
            marks,
            r#"<path d="{d}" fill="{}"><title>{}</title></path>"#,
            colours.get(*pool).copied().unwrap_or(palette::POOLS[0]),
            escape(pool)
        );
        lower = upper;
    }
    let target: Vec<(f64, f64)> = samples.iter().map(|c| (c.t, clean(c.target))).collect();
    let _ = write!(
        marks,
        r#"<path d="{}" fill="none" stroke="{}" stroke-dasharray="6 4" stroke-width="1.5"/>"#,
        svg::polyline(&chart.pixels(svg::steps(&target, range.1))),
        palette::REFERENCE
    );
    let (_, top, _, bottom) = chart.plot;
    for i in report.interruptions.iter().filter(|i| i.t.is_finite()) {
        let x = chart.x.map(i.t);
        let drained = match i.drained {
            Some(true) => "drained",
            Some(false) => "not drained",
            None => "drain unknown",
        };
        let _ = write!(
            marks,
            r#"<g><title>{} interrupted at {} ({}, {})</title><line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="{c}" stroke-dasharray="2 3" stroke-width="1.5"/><path d="M{:.1} {:.1} L{:.1} {:.1} L{x:.1} {:.1} Z" fill="{c}"/></g>"#,
            escape(&i.instance_id),
            format::clock(i.t),
            escape(&i.pool),
            drained,
            x - 6.0,
            top + 1.0,
            x + 6.0,
            top + 1.0,
            top + 11.0,
            c = palette::INTERRUPTION,
        );
    }
    chart.push(&marks);
    Figure {
        title,
        note,
        legend,
        svg: chart.finish(),
    }
}

/// Spot prices of the pools used, with On-Demand as a dashed reference.
pub fn prices(report: &RunReport) -> Figure {
    const ID: &str = "chart-prices";
    const HEIGHT: f64 = 230.0;
    let title = "Spot prices".to_owned();
    let note =
        "Spot price of each pool used, USD per hour; dashed lines are On-Demand prices.".to_owned();
    let colours = pool_colours(report);
    let colour = |pool: &str| colours.get(pool).copied().unwrap_or(palette::POOLS[0]);
    let mut legend: Vec<LegendItem> = report
        .prices
        .iter()
        .map(|p| item(Swatch::Line(colour(&p.pool)), p.pool.as_str()))
        .collect();
    if report.prices.iter().any(|p| p.on_demand.is_some()) {
        legend.push(item(Swatch::Dashed(palette::REFERENCE), "On-Demand"));
    }
    // (pool, On-Demand price, clean sorted points) per series.
    type Series<'a> = (&'a str, Option<f64>, Vec<(f64, f64)>);
    let series: Vec<Series> = report
        .prices
        .iter()
        .map(|p| {
            let mut points: Vec<(f64, f64)> = p
                .points
                .iter()
                .filter(|q| q.t.is_finite() && q.value.is_finite())
                .map(|q| (q.t, q.value.max(0.0)))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (
                p.pool.as_str(),
                p.on_demand.filter(|v| v.is_finite() && *v >= 0.0),
                points,
            )
        })
        .collect();
    if series.iter().all(|s| s.2.is_empty()) {
        let svg = Chart::empty(ID, &title, HEIGHT, "no data: no Spot prices were recorded");
        return Figure {
            title,
            note,
            legend,
            svg,
        };
    }
    let max = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1).chain(s.1))
        .fold(0.0, f64::max);
    let range = time_range(report);
    let mut chart = Chart::new(
        ID,
        &title,
        HEIGHT,
        range,
        (0.0, headroom(max, 0.01)),
        &XAxis::Time,
        YFormat::Usd,
    );
    let (left, _, right, _) = chart.plot;
    let mut marks = String::new();
    for (pool, on_demand, points) in &series {
        if let Some(od) = on_demand {
            let y = chart.y.map(*od);
            let _ = write!(
                marks,
                r#"<line x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="{}" stroke-dasharray="7 5" stroke-width="1.5" opacity="0.8"><title>{} On-Demand {}/h</title></line>"#,
                colour(pool),
                escape(pool),
                format::usd(*od)
            );
        }
        let _ = write!(
            marks,
            r#"<path d="{}" fill="none" stroke="{}" stroke-width="2"><title>{} Spot</title></path>"#,
            svg::polyline(&chart.pixels(svg::steps(points, range.1))),
            colour(pool),
            escape(pool)
        );
    }
    chart.push(&marks);
    Figure {
        title,
        note,
        legend,
        svg: chart.finish(),
    }
}
