//! Tests of the whole renderings: snapshots of the text summaries, and the HTML page's
//! promises (chart ids, escaping, no scripts or remote assets, no panic or `NaN` on bad
//! data). The charts' pixels are checked in a browser by `tests/screenshot.rs`.

use expect_test::{Expect, expect};

use crate::testing::{sample_limit, sample_run};
use crate::*;

const CHART_IDS: [&str; 4] = [
    "chart-requests",
    "chart-error-rate",
    "chart-capacity",
    "chart-prices",
];

fn check(actual: &str, expect: Expect) {
    expect.assert_eq(actual);
}

/// What every rendered page must satisfy, whatever the data.
fn assert_sound_page(page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    for banned in [
        "NaN", "inf\"", "Infinity", "<script", "http://", "https://", "<link", "@import",
    ] {
        let found = page.replace("http://www.w3.org/2000/svg", "");
        assert!(!found.contains(banned), "page contains {banned:?}");
    }
    assert_eq!(
        page.matches("<svg class=\"chart\"").count(),
        page.matches("</svg>").count() - legend_swatches(page)
    );
}

fn legend_swatches(page: &str) -> usize {
    page.matches("<svg width=\"16\"").count()
}

#[test]
fn sample_page_has_every_chart_and_section() {
    let page = html(&sample_run());
    assert_sound_page(&page);
    for id in CHART_IDS {
        assert!(
            page.contains(&format!("<svg class=\"chart\" id=\"{id}\"")),
            "{id}"
        );
    }
    for section in [
        "id=\"expectations\"",
        "id=\"phases\"",
        "id=\"alarm\"",
        "id=\"interruptions\"",
        "id=\"cost\"",
    ] {
        assert!(page.contains(section), "{section}");
    }
    assert!(page.contains("<span class=\"badge fail\">FAIL</span>"));
    assert!(page.contains("4 of 5 expectations met"));
    assert!(!page.contains("no data"));
    // Phase names label the requests chart; pools appear in the legend.
    assert!(page.contains(">overload<title>"));
    assert!(page.contains("c5.large us-east-1a</li>"));
}

#[test]
fn text_from_the_report_is_escaped_everywhere() {
    let hostile = "<script>alert('x')</script> & \"q\"";
    let mut report = sample_run();
    report.title = hostile.to_owned();
    report.scenario = hostile.to_owned();
    report.endpoint = hostile.to_owned();
    report.phases[0].name = hostile.to_owned();
    report.expectations[0].measured = hostile.to_owned();
    report.interruptions[0].instance_id = hostile.to_owned();
    report.interruptions[0].pool = hostile.to_owned();
    report.prices[0].pool = hostile.to_owned();
    if let Some(alarm) = &mut report.alarm {
        alarm.name = hostile.to_owned();
        alarm.transitions[0].reason = hostile.to_owned();
        alarm.states[0].state = hostile.to_owned();
    }
    let pool = report.capacity[1]
        .by_pool
        .keys()
        .next()
        .cloned()
        .unwrap_or_default();
    for c in &mut report.capacity {
        if let Some(v) = c.by_pool.remove(&pool) {
            c.by_pool.insert(hostile.to_owned(), v);
        }
    }
    let page = html(&report);
    assert!(!page.contains("<script"));
    assert!(!page.contains("alert('x')"));
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));

    let mut limit = sample_limit();
    limit.title = hostile.to_owned();
    limit.verdict = hostile.to_owned();
    limit.alarm_name = Some(hostile.to_owned());
    limit.steps[0].alarm = hostile.to_owned();
    let page = limit_html(&limit);
    assert!(!page.contains("<script"));
}

#[test]
fn an_empty_report_renders_frames_that_say_no_data() {
    let report = RunReport::default();
    let page = html(&report);
    assert_sound_page(&page);
    for id in CHART_IDS {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert_eq!(page.matches("class=\"nodata\">no data").count(), 4);
    assert!(page.contains("<span class=\"badge none\">NO EXPECTATIONS</span>"));
    check(
        &summary(&report),
        expect![[r#"
            Run report:
            scenario   started   duration 0:00  time scale 0x
            endpoint

            Phases
            (no phases were run)

            Alarm
            (the run watched no alarm)

            Interruptions
            (none)

            Cost
            (unknown)

            Expectations
            (none)

            Verdict: NO EXPECTATIONS (the scenario set none)
        "#]],
    );

    let limit = LimitReport::default();
    let page = limit_html(&limit);
    assert_sound_page(&page);
    assert_eq!(page.matches("class=\"nodata\">no data").count(), 2);
    assert!(limit_summary(&limit).contains("(no steps)"));
}

/// A report whose every number is NaN, infinite, negative or a zero-length range.
fn poisoned() -> RunReport {
    let mut report = sample_run();
    let bad = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.0];
    report.duration_s = f64::NAN;
    report.time_scale = f64::INFINITY;
    for (i, p) in report.requests.iter_mut().enumerate() {
        if i % 3 == 0 {
            p.t = bad[i % bad.len()];
        }
        p.success_per_s = bad[(i + 1) % bad.len()];
    }
    for (i, p) in report.error_rate.iter_mut().enumerate() {
        p.value = bad[i % bad.len()];
    }
    for (i, c) in report.capacity.iter_mut().enumerate() {
        c.target = bad[i % bad.len()];
        for v in c.by_pool.values_mut() {
            *v = bad[(i + 2) % bad.len()];
        }
    }
    for p in &mut report.phases {
        p.start_s = f64::NAN;
        p.end_s = f64::INFINITY;
        p.p50_ms = Some(f64::NAN);
        p.fulfilled_capacity = Some(f64::NEG_INFINITY);
    }
    if let Some(alarm) = &mut report.alarm {
        alarm.threshold = f64::NAN;
        alarm.states[1].end_s = f64::INFINITY;
        alarm.transitions[0].t = f64::NAN;
    }
    report.interruptions[0].t = f64::INFINITY;
    report.prices[0].points[0].value = f64::NAN;
    report.prices[1].on_demand = Some(f64::INFINITY);
    report.cost = Some(Cost {
        spot_usd: f64::NAN,
        on_demand_usd: 0.0,
        successes: 0,
    });
    report
}

#[test]
fn nan_infinity_and_empty_ranges_never_leak_or_panic() {
    let page = html(&poisoned());
    assert_sound_page(&page);
    let text = summary(&poisoned());
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");

    // Every sample at one instant: a zero-length time range.
    let mut report = sample_run();
    report.duration_s = 0.0;
    for p in &mut report.requests {
        p.t = 5.0;
    }
    for c in &mut report.capacity {
        c.t = 5.0;
    }
    for p in &mut report.error_rate {
        p.t = 5.0;
    }
    assert_sound_page(&html(&report));

    let mut limit = sample_limit();
    limit.threshold = f64::NAN;
    limit.limit_per_s = Some(f64::INFINITY);
    limit.steps[0].error_rate = f64::NAN;
    limit.steps[1].offered_per_s = f64::NEG_INFINITY;
    assert_sound_page(&limit_html(&limit));
    assert!(!limit_summary(&limit).contains("NaN"));
}

#[test]
fn phase_and_cost_arithmetic() {
    let phase = Phase {
        start_s: 60.0,
        end_s: 120.0,
        successes: 90,
        errors: 30,
        ..Phase::default()
    };
    assert_eq!(phase.requests(), 120);
    assert_eq!(phase.error_rate(), Some(0.25));
    assert_eq!(phase.rate_per_s(), Some(2.0));
    let empty = Phase {
        start_s: 60.0,
        end_s: 60.0,
        ..Phase::default()
    };
    assert_eq!(empty.error_rate(), None);
    assert_eq!(empty.rate_per_s(), None);

    let cost = Cost {
        spot_usd: 3.0,
        on_demand_usd: 10.0,
        successes: 2_000,
    };
    assert!(
        cost.savings_ratio()
            .is_some_and(|r| (r - 0.7).abs() < 1e-12)
    );
    assert_eq!(cost.per_thousand_successes(), Some(1.5));
    let unknown = Cost {
        spot_usd: 3.0,
        on_demand_usd: 0.0,
        successes: 0,
    };
    assert_eq!(unknown.savings_ratio(), None);
    assert_eq!(unknown.per_thousand_successes(), None);
}

#[test]
fn reports_round_trip_through_json() {
    let run = sample_run();
    let json = serde_json::to_string(&run).expect("serialize");
    assert_eq!(
        serde_json::from_str::<RunReport>(&json).expect("deserialize"),
        run
    );
    let limit = sample_limit();
    let json = serde_json::to_string(&limit).expect("serialize");
    assert_eq!(
        serde_json::from_str::<LimitReport>(&json).expect("deserialize"),
        limit
    );
}

#[test]
fn sample_summary() {
    check(
        &summary(&sample_run()),
        expect![[r#"
        Run report: reference-walkthrough
        scenario scenarios/reference-walkthrough.toml  started 2025-06-01T12:00:00Z  duration 15:00  time scale 60x
        endpoint embedded local cloud

        Phases
        phase        start    end  target  fulfilled  requests  req/s  errors  error rate  p50 ms  p99 ms
        -----------  -----  -----  ------  ---------  --------  -----  ------  ----------  ------  ------
        steady        0:00   5:00       4       3.73    67,497    225       0          0%     4.1      12
        overload      5:00  10:00       8       7.93   140,435    468  22,430       16.0%     6.3      48
        interrupted  10:00  15:00       2        1.6    32,796    109       0          0%     3.9     9.7

        Alarm web-error-rate (threshold 5.0%)
         time  from               to     reason
        -----  -----------------  -----  ----------------------------------------
         1:00  INSUFFICIENT_DATA  OK     Threshold Crossed: 1 out of the last 1 datapoints [0.0000 (01/06/25 12:01:00)] was not greater than the threshold (0.05) (minimum 1 datapoint for ALARM -> OK transition).
         6:00  OK                 ALARM  Threshold Crossed: 1 out of the last 1 datapoints [0.1652 (01/06/25 12:06:00)] was greater than the threshold (0.05) (minimum 1 datapoint for OK -> ALARM transition).
        11:00  ALARM              OK     Threshold Crossed: 1 out of the last 1 datapoints [0.0000 (01/06/25 12:11:00)] was not greater than the threshold (0.05) (minimum 1 datapoint for ALARM -> OK transition).

        Interruptions
         time  instance             pool                 drain
        -----  -------------------  -------------------  -----------
        10:40  i-0a1b2c3d4e5f60718  c5.large us-east-1a  drained
        11:40  i-0f9e8d7c6b5a40312  c5.large us-east-1b  NOT drained

        Cost
                                     USD
        --------------------  ----------
        Spot                     $0.0213
        On-Demand                $0.0561
        saved                      62.0%
        per 1,000 successful  $0.0000976

        Expectations
              step         check                 expected           measured
        ----  -----------  --------------------  -----------------  ----------------
        PASS  steady       error rate            < 1%               0%
        PASS  overload     alarm web-error-rate  ALARM within 2:00  ALARM after 1:00
        PASS  overload     error rate            > 5%               16.5%
        PASS  interrupted  interruptions         2                  2
        FAIL  interrupted  agents drained        2 of 2             1 of 2

        Verdict: FAIL (4 of 5 expectations met)
    "#]],
    );
}

#[test]
fn sample_limit_summary() {
    check(
        &limit_summary(&sample_limit()),
        expect![[r#"
        Find-limit report: find-limit web
        threshold 5.0% (alarm web-error-rate)

        capacity  offered/s  ok/s  error rate  alarm  threshold
        --------  ---------  ----  ----------  -----  ---------
               1       60.0  60.0          0%  OK     ok
               2        120   120          0%  OK     ok
               4        240   240          0%  OK     ok
               6        360   360          0%  OK     ok
               8        480   400       16.7%  ALARM  OVER
              12        720   400       44.4%  ALARM  OVER

        limit                  400 successful requests/s
        highest clean offered  360 requests/s
        Verdict: The service sustains about 400 successful requests/s; at 480/s offered it throttles 17%.
    "#]],
    );
}

#[test]
fn phase_labels_shorten_to_fit_their_phase() {
    let mut report = sample_run();
    report.phases[0].name = "a rather long name for a short warm-up".to_owned();
    report.phases[0].end_s = 20.0;
    report.phases[1].start_s = 20.0;
    report.phases[1].name = "overload of the service".to_owned();
    let page = html(&report);
    // Phase 0 is 20 s of 900 wide (about 20 units): no room for even a shortened label.
    assert!(!page.contains("class=\"phase\">a rather"));
    // Phase 1 is wide enough for its whole name.
    assert!(page.contains(">overload of the service<title>"));
    report.phases[1].end_s = 120.0;
    report.phases[2].start_s = 120.0;
    let page = html(&report);
    assert!(
        page.contains("overload of t\u{2026}<title>")
            || page.contains("overload of\u{2026}<title>")
            || page.contains("overload of \u{2026}<title>"),
        "shortened"
    );
}
