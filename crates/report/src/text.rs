//! The run report as plain text for a terminal: aligned tables, no colours, no
//! terminal escapes, so it reads the same in a log file or a CI transcript.

use std::fmt::Write as _;

use crate::format::{self, opt};
use crate::model::{RunReport, Verdict};

/// Column alignment in a text table.
#[derive(Clone, Copy, PartialEq)]
pub enum Align {
    /// Text, padded on the right.
    Left,
    /// Numbers, padded on the left.
    Right,
}

/// A table with a header row and a rule, columns two spaces apart. The last column
/// is not padded, so long free text (reasons) does not leave trailing spaces.
pub fn table(headers: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h.0)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(cell));
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            let (w, align) = (
                widths.get(i).copied().unwrap_or(0),
                headers.get(i).map_or(Align::Left, |h| h.1),
            );
            if i > 0 {
                text.push_str("  ");
            }
            let pad = " ".repeat(w.saturating_sub(width(cell)));
            match align {
                Align::Right => {
                    text.push_str(&pad);
                    text.push_str(cell);
                }
                Align::Left => {
                    text.push_str(cell);
                    text.push_str(&pad);
                }
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().map(|h| h.0));
    // The last column holds free text (reasons) as often as not; a rule as long as the
    // longest reason would wrap on a terminal, so it stops at 40 characters.
    let last = widths.len().saturating_sub(1);
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| "-".repeat(if i == last { (*w).min(40) } else { *w }))
        .collect();
    line(&mut rule.iter().map(String::as_str));
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// The verdict line that ends a summary.
pub fn verdict_line(verdict: Verdict, passed: usize, total: usize) -> String {
    match verdict {
        Verdict::NoExpectations => "Verdict: NO EXPECTATIONS (the scenario set none)".to_owned(),
        v => format!(
            "Verdict: {} ({passed} of {total} expectations met)",
            v.label()
        ),
    }
}

/// The run report as plain-text tables.
pub fn summary(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Run report: {}", format::plain(&report.title));
    let time_scale = format::number(
        report.time_scale,
        if report.time_scale.fract() == 0.0 {
            0
        } else {
            2
        },
    );
    let _ = writeln!(
        out,
        "scenario {}  started {}  duration {}  time scale {time_scale}x",
        format::plain(&report.scenario),
        format::plain(&report.started_at),
        format::clock(report.duration_s)
    );
    let _ = writeln!(out, "endpoint {}", format::plain(&report.endpoint));

    out.push_str("\nPhases\n");
    if report.phases.is_empty() {
        out.push_str("(no phases were run)\n");
    } else {
        let rows: Vec<Vec<String>> = report
            .phases
            .iter()
            .map(|p| {
                let mut row = vec![
                    format::plain(&p.name),
                    format::clock(p.start_s),
                    format::clock(p.end_s),
                ];
                row.extend(format::phase_figures(p));
                row
            })
            .collect();
        let headers = [
            ("phase", Align::Left),
            ("start", Align::Right),
            ("end", Align::Right),
            ("target", Align::Right),
            ("fulfilled", Align::Right),
            ("requests", Align::Right),
            ("req/s", Align::Right),
            ("errors", Align::Right),
            ("error rate", Align::Right),
            ("p50 ms", Align::Right),
            ("p99 ms", Align::Right),
        ];
        out.push_str(&table(&headers, &rows));
    }

    match &report.alarm {
        None => out.push_str("\nAlarm\n(the run watched no alarm)\n"),
        Some(alarm) => {
            let _ = writeln!(
                out,
                "\nAlarm {} (threshold {})",
                format::plain(&alarm.name),
                format::percent(alarm.threshold)
            );
            if alarm.transitions.is_empty() {
                out.push_str("(no transitions)\n");
            } else {
                let rows: Vec<Vec<String>> = alarm
                    .transitions
                    .iter()
                    .map(|t| {
                        vec![
                            format::clock(t.t),
                            format::plain(&t.from),
                            format::plain(&t.to),
                            format::plain(&t.reason),
                        ]
                    })
                    .collect();
                let headers = [
                    ("time", Align::Right),
                    ("from", Align::Left),
                    ("to", Align::Left),
                    ("reason", Align::Left),
                ];
                out.push_str(&table(&headers, &rows));
            }
        }
    }

    out.push_str("\nInterruptions\n");
    if report.interruptions.is_empty() {
        out.push_str("(none)\n");
    } else {
        let rows: Vec<Vec<String>> = report
            .interruptions
            .iter()
            .map(|i| {
                let drained = match i.drained {
                    Some(true) => "drained",
                    Some(false) => "NOT drained",
                    None => "unknown",
                };
                vec![
                    format::clock(i.t),
                    format::plain(&i.instance_id),
                    format::plain(&i.pool),
                    drained.to_owned(),
                ]
            })
            .collect();
        let headers = [
            ("time", Align::Right),
            ("instance", Align::Left),
            ("pool", Align::Left),
            ("drain", Align::Left),
        ];
        out.push_str(&table(&headers, &rows));
    }

    out.push_str("\nCost\n");
    match &report.cost {
        None => out.push_str("(unknown)\n"),
        Some(cost) => {
            let rows = vec![
                vec!["Spot".to_owned(), format::usd(cost.spot_usd)],
                vec!["On-Demand".to_owned(), format::usd(cost.on_demand_usd)],
                vec![
                    "saved".to_owned(),
                    opt(cost.savings_ratio(), format::percent),
                ],
                vec![
                    "per 1,000 successful".to_owned(),
                    opt(cost.per_thousand_successes(), format::usd),
                ],
            ];
            out.push_str(&table(&[("", Align::Left), ("USD", Align::Right)], &rows));
        }
    }

    out.push_str("\nExpectations\n");
    if report.expectations.is_empty() {
        out.push_str("(none)\n");
    } else {
        let rows: Vec<Vec<String>> = report
            .expectations
            .iter()
            .map(|e| {
                let mark = if e.passed { "PASS" } else { "FAIL" };
                vec![
                    mark.to_owned(),
                    format::plain(&e.step),
                    format::plain(&e.what),
                    format::plain(&e.expected),
                    format::plain(&e.measured),
                ]
            })
            .collect();
        let headers = [
            ("", Align::Left),
            ("step", Align::Left),
            ("check", Align::Left),
            ("expected", Align::Left),
            ("measured", Align::Left),
        ];
        out.push_str(&table(&headers, &rows));
    }
    out.push('\n');
    out.push_str(&verdict_line(
        report.verdict(),
        report.passed_count(),
        report.expectations.len(),
    ));
    out.push('\n');
    trim_lines(&out)
}

/// `text` without trailing spaces on any line (an empty field at a line's end).
pub fn trim_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
