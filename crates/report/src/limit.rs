//! The report of `spotlab find-limit`: the model of its steps and both renderings, an
//! HTML page with two charts (offered against successful rate; error rate against the
//! threshold) and a plain-text table.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::charts::{Figure, LegendItem, Swatch};
use crate::format::{self, escape, opt};
use crate::html::{self, Align};
use crate::palette;
use crate::svg::{self, Chart, XAxis, YFormat};
use crate::text;

/// What one find-limit search measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitReport {
    /// The search's name, shown as the page title.
    pub title: String,
    /// Each step of the search, in the order it ran.
    pub steps: Vec<LimitStep>,
    /// The highest rate of successful requests per second the service sustained,
    /// when the search found its limit.
    pub limit_per_s: Option<f64>,
    /// The highest offered rate per second at which the error rate stayed under the
    /// threshold, when any step did.
    pub highest_clean_per_s: Option<f64>,
    /// The alarm the search watched, when it watched one.
    pub alarm_name: Option<String>,
    /// The error rate (a ratio from 0 to 1) above which a step counts as failing.
    pub threshold: f64,
    /// The search's conclusion in a sentence.
    pub verdict: String,
}

/// One step of a find-limit search: a fleet capacity held long enough to measure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitStep {
    /// The fleet's capacity during the step, in units.
    pub capacity: f64,
    /// Requests per second the fleet offered.
    pub offered_per_s: f64,
    /// Requests per second that succeeded.
    pub success_per_s: f64,
    /// The share of requests that failed, from 0 to 1.
    pub error_rate: f64,
    /// The alarm's state at the end of the step (`OK`, `ALARM`, ...), or empty.
    pub alarm: String,
}

impl LimitStep {
    /// Whether the step's error rate stayed at or under `threshold`.
    pub fn clean(&self, threshold: f64) -> bool {
        self.error_rate.is_finite() && self.error_rate <= threshold
    }
}

fn labels(report: &LimitReport) -> Vec<String> {
    report
        .steps
        .iter()
        .map(|s| format!("{} u", format::units(s.capacity)))
        .collect()
}

/// Offered and successful requests per second at each step.
fn rate_chart(report: &LimitReport) -> Figure {
    const ID: &str = "chart-limit-rate";
    const HEIGHT: f64 = 260.0;
    let title = "Offered and successful requests per second".to_owned();
    let note = "Per step of fleet capacity (units); the dotted line is the limit found.".to_owned();
    let mut legend = vec![
        LegendItem {
            swatch: Swatch::Dashed(palette::REFERENCE),
            label: "offered".to_owned(),
        },
        LegendItem {
            swatch: Swatch::Line(palette::SUCCESS),
            label: "successful".to_owned(),
        },
    ];
    if report.limit_per_s.is_some() {
        legend.push(LegendItem {
            swatch: Swatch::Dashed(palette::ERROR),
            label: "limit".to_owned(),
        });
    }
    if report.steps.is_empty() {
        let svg = Chart::empty(ID, &title, HEIGHT, "no data: the search ran no steps");
        return Figure {
            title,
            note,
            legend,
            svg,
        };
    }
    let finite = |v: f64| if v.is_finite() { v.max(0.0) } else { f64::NAN };
    let max = report
        .steps
        .iter()
        .flat_map(|s| [s.offered_per_s, s.success_per_s])
        .chain(report.limit_per_s)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let n = report.steps.len() as f64;
    let mut chart = Chart::new(
        ID,
        &title,
        HEIGHT,
        (0.0, n),
        (0.0, (max * 1.12).max(1.0)),
        &XAxis::Categories(labels(report)),
        YFormat::Number,
    );
    let offered = chart.pixels(
        report
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f64, finite(s.offered_per_s))),
    );
    let success = chart.pixels(
        report
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f64, finite(s.success_per_s))),
    );
    let mut marks = String::new();
    if let Some(limit) = report.limit_per_s.filter(|l| l.is_finite()) {
        let y = chart.y.map(limit);
        let (left, _, right, _) = chart.plot;
        let _ = write!(
            marks,
            r#"<line x1="{left:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="{}" stroke-dasharray="2 4" stroke-width="1.5"/>"#,
            palette::ERROR
        );
    }
    let _ = write!(
        marks,
        r#"<path d="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="6 4"/><path d="{}" fill="none" stroke="{}" stroke-width="2.5"/>"#,
        svg::polyline(&offered),
        palette::REFERENCE,
        svg::polyline(&success),
        palette::SUCCESS
    );
    for (x, y) in &success {
        let _ = write!(
            marks,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{}"/>"#,
            palette::SUCCESS
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

/// The error rate at each step against the threshold, points coloured by pass or fail.
fn error_chart(report: &LimitReport) -> Figure {
    const ID: &str = "chart-limit-error-rate";
    const HEIGHT: f64 = 220.0;
    let title = "Error rate per step".to_owned();
    let note = match &report.alarm_name {
        Some(name) => format!("The dashed line is alarm {name}'s threshold."),
        None => "The dashed line is the threshold.".to_owned(),
    };
    let legend = vec![
        LegendItem {
            swatch: Swatch::Line(palette::ERROR),
            label: "error rate".to_owned(),
        },
        LegendItem {
            swatch: Swatch::Dashed(palette::REFERENCE),
            label: "threshold".to_owned(),
        },
    ];
    if report.steps.is_empty() {
        let svg = Chart::empty(ID, &title, HEIGHT, "no data: the search ran no steps");
        return Figure {
            title,
            note,
            legend,
            svg,
        };
    }
    let threshold = Some(report.threshold).filter(|t| t.is_finite());
    let max = report
        .steps
        .iter()
        .map(|s| s.error_rate)
        .filter(|v| v.is_finite())
        .fold(threshold.unwrap_or(0.0), f64::max);
    let n = report.steps.len() as f64;
    let mut chart = Chart::new(
        ID,
        &title,
        HEIGHT,
        (0.0, n),
        (0.0, (max.min(1.0) * 1.12).max(0.01)),
        &XAxis::Categories(labels(report)),
        YFormat::Percent,
    );
    let mut marks = String::new();
    let mut overlay = String::new();
    if let Some(t) = threshold {
        chart.threshold_line(t, &mut marks, &mut overlay);
    }
    let points = chart.pixels(
        report
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f64, s.error_rate.clamp(0.0, 1.0))),
    );
    let _ = write!(
        marks,
        r#"<path d="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
        svg::polyline(&points),
        palette::ERROR
    );
    for (step, i) in report.steps.iter().zip(0..) {
        if !step.error_rate.is_finite() {
            continue;
        }
        let (x, y) = (
            chart.x.map(f64::from(i)),
            chart.y.map(step.error_rate.clamp(0.0, 1.0)),
        );
        let fill = if step.clean(report.threshold) {
            palette::SUCCESS
        } else {
            palette::ERROR
        };
        let _ = write!(
            marks,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="4.5" fill="{fill}"><title>{} units: {}</title></circle>"#,
            escape(&format::units(step.capacity)),
            escape(&format::percent(step.error_rate))
        );
    }
    chart.push(&marks);
    Figure {
        title,
        note,
        legend,
        svg: chart.finish_with(&overlay),
    }
}

/// The find-limit report as one self-contained HTML page.
pub fn limit_html(report: &LimitReport) -> String {
    let mut out = html::page_start(&format!("{}: spotlab find-limit report", report.title));
    let _ = writeln!(
        out,
        "<header class=\"top\"><div class=\"eyebrow\">spotlab find-limit report</div><h1>{}</h1><div class=\"verdict-line\"><span>{}</span></div></header>",
        escape(&report.title),
        escape(&report.verdict)
    );
    let tiles = [
        (
            "limit, successful requests/s",
            opt(report.limit_per_s, format::rate),
        ),
        (
            "highest clean offered rate/s",
            opt(report.highest_clean_per_s, format::rate),
        ),
        ("error-rate threshold", format::percent(report.threshold)),
        ("steps", format::count(report.steps.len() as u64)),
    ];
    out.push_str("<div class=\"kpis\">");
    for (name, value) in tiles {
        let _ = write!(
            out,
            "<div class=\"kpi\"><div class=\"value\">{}</div><div class=\"name\">{}</div></div>",
            escape(&value),
            escape(name)
        );
    }
    out.push_str("</div>\n<section class=\"card\"><h2>Charts</h2>\n");
    out.push_str(&html::figure(&rate_chart(report)));
    out.push_str(&html::figure(&error_chart(report)));
    out.push_str("</section>\n<section class=\"card\" id=\"steps\"><h2>Steps</h2>");
    if report.steps.is_empty() {
        out.push_str("<p class=\"empty\">The search ran no steps.</p>");
    } else {
        let rows: Vec<Vec<String>> = report
            .steps
            .iter()
            .map(|s| {
                vec![
                    escape(&format::units(s.capacity)),
                    escape(&format::rate(s.offered_per_s)),
                    escape(&format::rate(s.success_per_s)),
                    escape(&format::percent(s.error_rate)),
                    escape(&s.alarm),
                    html::mark(s.clean(report.threshold)),
                ]
            })
            .collect();
        let headers = [
            ("capacity units", Align::Number),
            ("offered/s", Align::Number),
            ("successful/s", Align::Number),
            ("error rate", Align::Number),
            ("alarm", Align::Text),
            ("under threshold", Align::Text),
        ];
        out.push_str(&html::table(&headers, &rows));
    }
    out.push_str("</section>\n");
    html::page_end(&mut out);
    out
}

/// The find-limit report as plain-text tables.
pub fn limit_summary(report: &LimitReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Find-limit report: {}", format::plain(&report.title));
    let alarm = report
        .alarm_name
        .as_deref()
        .map(|a| format!(" (alarm {})", format::plain(a)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "threshold {}{alarm}\n",
        format::percent(report.threshold)
    );
    if report.steps.is_empty() {
        out.push_str("(no steps)\n");
    } else {
        let rows: Vec<Vec<String>> = report
            .steps
            .iter()
            .map(|s| {
                vec![
                    format::units(s.capacity),
                    format::rate(s.offered_per_s),
                    format::rate(s.success_per_s),
                    format::percent(s.error_rate),
                    format::plain(&s.alarm),
                    (if s.clean(report.threshold) {
                        "ok"
                    } else {
                        "OVER"
                    })
                    .to_owned(),
                ]
            })
            .collect();
        let headers = [
            ("capacity", text::Align::Right),
            ("offered/s", text::Align::Right),
            ("ok/s", text::Align::Right),
            ("error rate", text::Align::Right),
            ("alarm", text::Align::Left),
            ("threshold", text::Align::Left),
        ];
        out.push_str(&text::table(&headers, &rows));
    }
    let _ = writeln!(
        out,
        "\nlimit                  {} successful requests/s",
        opt(report.limit_per_s, format::rate)
    );
    let _ = writeln!(
        out,
        "highest clean offered  {} requests/s",
        opt(report.highest_clean_per_s, format::rate)
    );
    let _ = writeln!(out, "Verdict: {}", format::plain(&report.verdict));
    text::trim_lines(&out)
}
