//! Alarm evaluation against AWS's documented outcomes (fact sheet 3.2) and the state
//! reason texts and documents CloudWatch wrote in captured responses (3.3).

#![allow(clippy::unwrap_used)] // A panic in a test helper is a failed test with a message.

use proptest::prelude::*;
use simtime::{SimDuration, SimTime};
use watch::alarm::{
    AlarmState, ComparisonOperator, Decision, Evaluation, EvaluationConfig, EvaluationError,
    LowSampleCount, Point, TreatMissingData, evaluate, evaluation_range, minimum_samples,
};

const MISSING: TreatMissingData = TreatMissingData::Missing;
const IGNORE: TreatMissingData = TreatMissingData::Ignore;
const BREACHING: TreatMissingData = TreatMissingData::Breaching;
const NOT_BREACHING: TreatMissingData = TreatMissingData::NotBreaching;

fn at(text: &str) -> SimTime {
    SimTime::parse(text).unwrap()
}

fn config(n: u32, m: Option<u32>, treatment: TreatMissingData) -> EvaluationConfig {
    EvaluationConfig {
        period_seconds: 60,
        evaluation_periods: n,
        datapoints_to_alarm: m,
        threshold: 1.0,
        operator: ComparisonOperator::GreaterThanOrEqualToThreshold,
        treat_missing_data: treatment,
        low_sample_count: LowSampleCount::Evaluate,
        percentile: None,
        statistic: Some("Average".to_owned()),
        unit: None,
    }
}

/// `0 - X - X` (oldest first): `0` not breaching, `X` breaching, `-` missing; one minute
/// apart, the last one starting at 12:04.
fn points(row: &str) -> Vec<Point> {
    let start = at("2024-01-01T12:00:00Z");
    row.split_whitespace()
        .enumerate()
        .map(|(i, cell)| Point {
            timestamp: start + SimDuration::from_mins(i as u64),
            value: match cell {
                "0" => Some(0.0),
                "X" => Some(2.0),
                "-" => None,
                other => panic!("bad cell {other}"),
            },
            sample_count: None,
        })
        .collect()
}

fn state_of(evaluation: &Evaluation) -> Option<AlarmState> {
    match evaluation {
        Evaluation::Keep => None,
        Evaluation::Decided(decision) => Some(decision.state),
    }
}

fn decided(evaluation: Evaluation) -> Decision {
    match evaluation {
        Evaluation::Decided(decision) => decision,
        Evaluation::Keep => panic!("expected a decision, got Keep"),
    }
}

const OK: Option<AlarmState> = Some(AlarmState::Ok);
const ALARM: Option<AlarmState> = Some(AlarmState::Alarm);
const INSUFFICIENT: Option<AlarmState> = Some(AlarmState::InsufficientData);
const KEEP: Option<AlarmState> = None;

/// AWS's table (fact sheet 3.2): points, N, M, then the outcome under missing, ignore,
/// breaching, notBreaching.
#[test]
fn aws_missing_data_table() {
    #[rustfmt::skip]
    let table: &[(&str, u32, u32, [Option<AlarmState>; 4])] = &[
        ("0 - X - X", 3, 3, [OK, OK, OK, OK]),
        ("0 - - - -", 3, 3, [OK, OK, OK, OK]),
        ("- - - - -", 3, 3, [INSUFFICIENT, KEEP, ALARM, OK]),
        ("0 X X - X", 3, 3, [ALARM, ALARM, ALARM, ALARM]),
        ("- - - - X", 3, 3, [INSUFFICIENT, KEEP, ALARM, OK]),
        ("X - - - -", 3, 3, [ALARM, KEEP, ALARM, OK]),
        ("0 - X - X", 3, 2, [ALARM, ALARM, ALARM, ALARM]),
        ("0 0 X 0 X", 3, 2, [ALARM, ALARM, ALARM, ALARM]),
        ("0 - X - -", 3, 2, [OK, OK, ALARM, OK]),
        ("- - - - 0", 3, 2, [OK, OK, ALARM, OK]),
        ("- - - - X", 3, 2, [INSUFFICIENT, KEEP, ALARM, OK]),
    ];
    let now = at("2024-01-01T12:06:10Z");
    for &(row, n, m, expected) in table {
        assert_eq!(points(row).len(), evaluation_range(n) as usize, "{row}");
        for (treatment, want) in [MISSING, IGNORE, BREACHING, NOT_BREACHING]
            .into_iter()
            .zip(expected)
        {
            for explicit in [Some(m), None]
                .into_iter()
                .filter(|e| *e == Some(m) || m == n)
            {
                let got = evaluate(&config(n, explicit, treatment), &points(row), now).unwrap();
                assert_eq!(
                    state_of(&got),
                    want,
                    "{row} N={n} M={m} {}",
                    treatment.as_str()
                );
            }
        }
    }
}

/// M out of N with enough real data: only the N newest real points count, older ones are
/// skipped, and missing periods in between are stepped over.
#[test]
fn m_out_of_n() {
    let now = at("2024-01-01T12:08:00Z");
    #[rustfmt::skip]
    let cases: &[(&str, u32, u32, AlarmState)] = &[
        ("X X X 0 0 0 0", 5, 3, AlarmState::Ok),
        ("0 0 X X X 0 0", 5, 3, AlarmState::Alarm),
        ("0 0 X 0 X 0 X", 5, 3, AlarmState::Alarm),
        ("X X 0 0 0 0 X", 5, 2, AlarmState::Ok),
        ("X X 0 - 0 - X", 5, 2, AlarmState::Alarm),
        ("0 X - - 0 X -", 3, 2, AlarmState::Alarm),
        ("X 0 - - 0 X -", 3, 2, AlarmState::Ok),
        ("0 0 0 0 0 0 X", 5, 1, AlarmState::Alarm),
        ("X X X X X X 0", 5, 5, AlarmState::Ok),
    ];
    for &(row, n, m, want) in cases {
        for treatment in TreatMissingData::ALL {
            let got = evaluate(&config(n, Some(m), treatment), &points(row), now).unwrap();
            assert_eq!(state_of(&got), Some(want), "{row} {n}/{m} {treatment:?}");
        }
    }
}

/// The premature-ALARM rule: with `missing`, a lone breaching point old enough alarms
/// (it is at least M periods old); a younger one leaves the alarm without data.
#[test]
fn premature_alarm_needs_an_old_enough_breach() {
    let now = at("2024-01-01T12:06:00Z");
    for (row, m, want) in [
        ("X - - - -", 3, ALARM),
        ("- - X - -", 3, ALARM),
        ("- - - X -", 3, INSUFFICIENT),
        ("- - - X -", 2, ALARM),
        ("- - - - X", 2, INSUFFICIENT),
        ("- X X - -", 3, ALARM),
    ] {
        let got = evaluate(&config(3, Some(m), MISSING), &points(row), now).unwrap();
        assert_eq!(state_of(&got), want, "{row} M={m}");
        let kept = evaluate(&config(3, Some(m), IGNORE), &points(row), now).unwrap();
        assert_eq!(state_of(&kept), KEEP, "{row} M={m} ignore");
    }
    let decision =
        decided(evaluate(&config(3, Some(3), MISSING), &points("X - - - -"), now).unwrap());
    assert_eq!(
        decision.reason,
        "Threshold Crossed: 1 out of the last 3 datapoints [2.0 (01/01/24 12:00:00)] was \
         greater than or equal to the threshold (1.0) (minimum 3 datapoints for OK -> ALARM \
         transition)."
    );
}

/// The low-sample rule for percentiles (3.2): p ≥ 0.5 needs 10 / (1 − p) samples, p < 0.5
/// needs 10 / p; `ignore` keeps the state below that, `evaluate` evaluates.
#[test]
fn low_sample_percentiles() {
    assert_eq!(minimum_samples(99.0), Some(1000.0));
    assert_eq!(minimum_samples(50.0), Some(20.0));
    assert_eq!(minimum_samples(90.0), Some(100.0));
    assert_eq!(minimum_samples(10.0), Some(100.0));
    assert_eq!(minimum_samples(25.0), Some(40.0));
    assert_eq!(minimum_samples(100.0), None);
    assert_eq!(minimum_samples(0.0), None);

    let now = at("2024-01-01T12:04:00Z");
    let with_samples = |samples: f64| {
        let mut row = points("- - X");
        for point in &mut row {
            point.sample_count = point.value.map(|_| samples);
        }
        row
    };
    let percentile = |low: LowSampleCount| EvaluationConfig {
        low_sample_count: low,
        percentile: Some(99.0),
        statistic: Some("p99".to_owned()),
        ..config(1, None, MISSING)
    };
    let ignore = percentile(LowSampleCount::Ignore);
    let evaluate_anyway = percentile(LowSampleCount::Evaluate);
    assert_eq!(
        state_of(&evaluate(&ignore, &with_samples(999.0), now).unwrap()),
        KEEP
    );
    assert_eq!(
        state_of(&evaluate(&ignore, &with_samples(1000.0), now).unwrap()),
        ALARM
    );
    assert_eq!(
        state_of(&evaluate(&evaluate_anyway, &with_samples(3.0), now).unwrap()),
        ALARM
    );
    // Not a percentile: the rule does not apply.
    let average = EvaluationConfig {
        percentile: None,
        ..ignore.clone()
    };
    assert_eq!(
        state_of(&evaluate(&average, &with_samples(3.0), now).unwrap()),
        ALARM
    );
}

#[test]
fn refuses_what_it_cannot_evaluate() {
    let now = at("2024-01-01T12:04:00Z");
    let band = EvaluationConfig {
        operator: ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold,
        ..config(1, None, MISSING)
    };
    assert_eq!(
        evaluate(&band, &points("- - X"), now),
        Err(EvaluationError::AnomalyBand(
            ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold
        ))
    );
    assert_eq!(
        evaluate(&config(0, None, MISSING), &points("X"), now),
        Err(EvaluationError::NoEvaluationPeriods)
    );
    assert!(matches!(
        evaluate(&config(2, Some(3), MISSING), &points("X X X X"), now),
        Err(EvaluationError::DatapointsToAlarm { .. })
    ));
}

/// One point per period ending with the period that starts at `newest`, with `values`
/// oldest first (`None` = missing).
fn series(newest: &str, period: u64, values: &[Option<f64>]) -> Vec<Point> {
    let newest = at(newest);
    let count = values.len() as u64;
    values
        .iter()
        .enumerate()
        .map(|(i, value)| Point {
            timestamp: newest - SimDuration::from_secs(period * (count - 1 - i as u64)),
            value: *value,
            sample_count: value.map(|_| 1.0),
        })
        .collect()
}

fn reason(config: &EvaluationConfig, points: &[Point]) -> String {
    decided(evaluate(config, points, at("2030-01-01T00:00:00Z")).unwrap()).reason
}

/// Golden state reasons, each as CloudWatch wrote it in a captured message (3.3).
#[test]
fn reason_texts_match_captures() {
    // The fact sheet's example: DatapointsToAlarm given, so the long form.
    let long = EvaluationConfig {
        threshold: 50.0,
        operator: ComparisonOperator::GreaterThanThreshold,
        ..config(1, Some(1), MISSING)
    };
    assert_eq!(
        reason(
            &long,
            &series(
                "2019-10-02T16:59:00Z",
                60,
                &[None, None, Some(99.50160229693434)]
            )
        ),
        "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 \
         16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> \
         ALARM transition)."
    );

    // Plural, newest first.
    let three = EvaluationConfig {
        threshold: 7.0,
        ..config(3, Some(3), MISSING)
    };
    assert_eq!(
        reason(
            &three,
            &series(
                "2021-07-14T23:18:00Z",
                60,
                &[
                    None,
                    None,
                    Some(9.18241509182415),
                    Some(9.72),
                    Some(8.891518474692088)
                ]
            )
        ),
        "Threshold Crossed: 3 out of the last 3 datapoints [8.891518474692088 (14/07/21 \
         23:18:00), 9.72 (14/07/21 23:17:00), 9.18241509182415 (14/07/21 23:16:00)] were \
         greater than or equal to the threshold (7.0) (minimum 3 datapoints for OK -> ALARM \
         transition)."
    );

    // Negation, OK direction: N − M + 1 = 1 datapoint needed.
    let two = config(2, Some(2), MISSING);
    assert_eq!(
        reason(
            &two,
            &series(
                "2023-06-02T12:28:00Z",
                60,
                &[None, None, Some(1.0), Some(0.0)]
            )
        ),
        "Threshold Crossed: 1 out of the last 2 datapoints [0.0 (02/06/23 12:28:00)] was not \
         greater than or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -> OK \
         transition)."
    );

    // No DatapointsToAlarm: the short form.
    let short = EvaluationConfig {
        threshold: 2.0,
        operator: ComparisonOperator::GreaterThanThreshold,
        period_seconds: 30,
        ..config(1, None, NOT_BREACHING)
    };
    assert_eq!(
        reason(
            &short,
            &series("2023-10-26T16:42:00Z", 30, &[None, None, Some(21.5)])
        ),
        "Threshold Crossed: 1 datapoint [21.5 (26/10/23 16:42:00)] was greater than the \
         threshold (2.0)."
    );
    let three_short = EvaluationConfig {
        threshold: 0.0,
        operator: ComparisonOperator::GreaterThanThreshold,
        period_seconds: 180,
        ..config(3, None, MISSING)
    };
    assert_eq!(
        reason(
            &three_short,
            &series(
                "2026-08-19T05:50:00Z",
                180,
                &[None, None, Some(1.0), Some(3.0), Some(2.0)]
            )
        ),
        "Threshold Crossed: 3 datapoints [2.0 (19/08/26 05:50:00), 3.0 (19/08/26 05:47:00), \
         1.0 (19/08/26 05:44:00)] were greater than the threshold (0.0)."
    );

    // Filled periods.
    let sparse = EvaluationConfig {
        threshold: 1.0,
        ..config(20, Some(1), NOT_BREACHING)
    };
    let mut values = vec![None; 21];
    values.push(Some(613.0));
    assert_eq!(
        reason(&sparse, &series("2024-03-16T12:15:00Z", 60, &values)),
        "Threshold Crossed: 1 out of the last 20 datapoints [613.0 (16/03/24 12:15:00)] was \
         greater than or equal to the threshold (1.0) and 19 missing datapoints were treated \
         as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition)."
    );
    let recovering = EvaluationConfig {
        threshold: 0.0,
        operator: ComparisonOperator::LessThanOrEqualToThreshold,
        ..config(8, None, BREACHING)
    };
    let mut values = vec![None; 9];
    values.push(Some(2.0));
    assert_eq!(
        reason(&recovering, &series("2026-08-19T09:36:00Z", 60, &values)),
        "Threshold Crossed: 1 datapoint [2.0 (19/08/26 09:36:00)] was not less than or equal to \
         the threshold (0.0) and 7 missing datapoints were treated as [Breaching]."
    );

    // Nothing real on the deciding side.
    assert_eq!(
        reason(&config(2, None, BREACHING), &points("- - - -")),
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints \
         were treated as [Breaching]."
    );
    assert_eq!(
        reason(&config(1, None, NOT_BREACHING), &points("- - -")),
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint \
         was treated as [NonBreaching]."
    );
    assert_eq!(
        reason(&config(3, None, NOT_BREACHING), &points("- - - - X")),
        "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints \
         were treated as [NonBreaching]."
    );

    // Unknown.
    assert_eq!(
        reason(&config(5, None, MISSING), &points("- - - - - - -")),
        "Insufficient Data: 5 datapoints were unknown."
    );
    assert_eq!(
        reason(&config(1, None, MISSING), &points("- - -")),
        "Insufficient Data: 1 datapoint was unknown."
    );
}

/// Golden `StateReasonData` documents, byte for byte as captured (3.3).
#[test]
fn reason_data_matches_captures() {
    // INSUFFICIENT_DATA, N = 5, evaluated at 12:31:29.591: the five newest periods.
    let unknown = config(5, None, MISSING);
    let unknown = EvaluationConfig {
        threshold: 5.0,
        ..unknown
    };
    let range = series("2023-08-04T12:30:00Z", 60, &[None; 7]);
    let decision = decided(evaluate(&unknown, &range, at("2023-08-04T12:31:29.591Z")).unwrap());
    assert_eq!(decision.state, AlarmState::InsufficientData);
    assert_eq!(
        decision.reason_data,
        r#"{"version":"1.0","queryDate":"2023-08-04T12:31:29.591+0000","statistic":"Average","period":60,"recentDatapoints":[],"threshold":5.0,"evaluatedDatapoints":[{"timestamp":"2023-08-04T12:30:00.000+0000"},{"timestamp":"2023-08-04T12:29:00.000+0000"},{"timestamp":"2023-08-04T12:28:00.000+0000"},{"timestamp":"2023-08-04T12:27:00.000+0000"},{"timestamp":"2023-08-04T12:26:00.000+0000"}]}"#
    );

    // The fact sheet's document: N = 1, the newest period empty, 15:29 judged.
    let sum = EvaluationConfig {
        threshold: 0.0,
        operator: ComparisonOperator::GreaterThanThreshold,
        statistic: Some("Sum".to_owned()),
        ..config(1, None, MISSING)
    };
    let range = series("2025-05-15T15:30:00Z", 60, &[None, Some(1.0), None]);
    let decision = decided(evaluate(&sum, &range, at("2025-05-15T15:31:44.984Z")).unwrap());
    assert_eq!(decision.state, AlarmState::Alarm);
    assert_eq!(
        decision.reason,
        "Threshold Crossed: 1 datapoint [1.0 (15/05/25 15:29:00)] was greater than the threshold (0.0)."
    );
    assert_eq!(
        decision.reason_data,
        r#"{"version":"1.0","queryDate":"2025-05-15T15:31:44.984+0000","startDate":"2025-05-15T15:29:00.000+0000","statistic":"Sum","period":60,"recentDatapoints":[1.0],"threshold":0.0,"evaluatedDatapoints":[{"timestamp":"2025-05-15T15:29:00.000+0000","sampleCount":1.0,"value":1.0}]}"#
    );

    // Unit between startDate and statistic; a math alarm has no statistic.
    let math = EvaluationConfig {
        statistic: None,
        unit: Some("Seconds".to_owned()),
        ..config(1, None, BREACHING)
    };
    let decision = decided(
        evaluate(
            &math,
            &series("2023-10-26T16:42:00Z", 60, &[None; 3]),
            at("2023-10-26T16:43:05Z"),
        )
        .unwrap(),
    );
    assert_eq!(
        decision.reason_data,
        r#"{"version":"1.0","queryDate":"2023-10-26T16:43:05.000+0000","unit":"Seconds","period":60,"recentDatapoints":[],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2023-10-26T16:42:00.000+0000"}]}"#
    );
}

fn cell() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![Just(None), Just(Some(false)), Just(Some(true))]
}

fn row_points(cells: &[Option<bool>]) -> Vec<Point> {
    let start = at("2024-01-01T00:00:00Z");
    cells
        .iter()
        .enumerate()
        .map(|(i, cell)| Point {
            timestamp: start + SimDuration::from_mins(i as u64),
            value: cell.map(|breach| if breach { 5.0 } else { 0.0 }),
            sample_count: None,
        })
        .collect()
}

proptest! {
    /// With at least N real points, the missing-data treatment plays no part (3.2).
    #[test]
    fn treatment_is_irrelevant_with_enough_data(
        n in 1u32..6,
        m_offset in 0u32..6,
        cells in prop::collection::vec(cell(), 8),
    ) {
        let m = 1 + m_offset % n;
        let range = row_points(&cells[..evaluation_range(n) as usize]);
        let reals = range.iter().filter(|p| p.value.is_some()).count();
        prop_assume!(reals >= n as usize);
        let now = at("2024-01-01T01:00:00Z");
        let outcomes: Vec<Option<AlarmState>> = TreatMissingData::ALL
            .into_iter()
            .map(|t| state_of(&evaluate(&config(n, Some(m), t), &range, now).unwrap()))
            .collect();
        prop_assert!(outcomes.iter().all(|o| *o == outcomes[0]), "{:?}", outcomes);
        prop_assert!(outcomes[0].is_some());
    }

    /// Making a point worse (missing or good → breaching) never turns ALARM into OK.
    #[test]
    fn breaching_more_never_clears_an_alarm(
        n in 1u32..6,
        m_offset in 0u32..6,
        cells in prop::collection::vec(cell(), 7),
        worsen in 0usize..7,
        treatment in prop::sample::select(TreatMissingData::ALL.to_vec()),
    ) {
        let m = 1 + m_offset % n;
        let len = evaluation_range(n) as usize;
        let before = row_points(&cells[..len]);
        let mut worse_cells = cells[..len].to_vec();
        worse_cells[worsen % len] = Some(true);
        let after = row_points(&worse_cells);
        let now = at("2024-01-01T01:00:00Z");
        let cfg = config(n, Some(m), treatment);
        let was = state_of(&evaluate(&cfg, &before, now).unwrap());
        let is = state_of(&evaluate(&cfg, &after, now).unwrap());
        if was == ALARM {
            prop_assert_eq!(is, ALARM);
        }
    }
}
