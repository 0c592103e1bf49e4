//! Metric math (fact sheet 2.4): the parser's trees and errors, and evaluation over
//! aligned series, starting with the reference error rate `errors / (errors + successes)`.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test helper is a failed test.

use std::collections::BTreeMap;

use simtime::SimTime;
use watch::math::{
    self, BinaryOp, EvalError, Expr, Fill, Function, Grid, ParseErrorKind, Value, evaluate,
    evaluate_all,
};
use watch::metrics::{Period, Series};

const T0: u64 = 1_704_164_400_000;

fn at(minute: u64) -> SimTime {
    SimTime::from_millis(T0 + minute * 60_000)
}

fn series(points: &[(u64, f64)]) -> Series {
    Series::new(
        Period::MINUTE,
        points.iter().map(|&(m, v)| (at(m), v)).collect(),
    )
}

fn grid(minutes: u64) -> Grid {
    Grid {
        start: at(0),
        end: at(minutes),
        period: Period::MINUTE,
    }
}

fn metrics(list: &[(&str, &[(u64, f64)])]) -> Vec<(String, Series)> {
    list.iter()
        .map(|(id, points)| ((*id).to_owned(), series(points)))
        .collect()
}

fn eval(text: &str, metrics: &[(String, Series)]) -> Result<Value, EvalError> {
    let expr = math::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    evaluate(&expr, metrics, &grid(6))
}

fn points(value: Value) -> Vec<(u64, f64)> {
    match value {
        Value::Series(series) => series
            .points
            .iter()
            .map(|&(t, v)| ((t.as_millis() - T0) / 60_000, v))
            .collect(),
        other => panic!("expected a series, got {other:?}"),
    }
}

fn num(n: f64) -> Box<Expr> {
    Box::new(Expr::Number(n))
}

fn bin(op: BinaryOp, left: Box<Expr>, right: Box<Expr>) -> Box<Expr> {
    Box::new(Expr::Binary { op, left, right })
}

#[test]
fn parser_builds_trees_with_precedence() {
    let id = |s: &str| Box::new(Expr::Id(s.to_owned()));
    let table: Vec<(&str, Expr)> = vec![
        (
            "1 + 2 * 3",
            *bin(
                BinaryOp::Add,
                num(1.0),
                bin(BinaryOp::Multiply, num(2.0), num(3.0)),
            ),
        ),
        (
            "(1 + 2) * 3",
            *bin(
                BinaryOp::Multiply,
                bin(BinaryOp::Add, num(1.0), num(2.0)),
                num(3.0),
            ),
        ),
        (
            "8 - 2 - 1",
            *bin(
                BinaryOp::Subtract,
                bin(BinaryOp::Subtract, num(8.0), num(2.0)),
                num(1.0),
            ),
        ),
        (
            "2 ^ 3 ^ 2",
            *bin(
                BinaryOp::Power,
                num(2.0),
                bin(BinaryOp::Power, num(3.0), num(2.0)),
            ),
        ),
        (
            "-2 ^ 2",
            Expr::Negate(bin(BinaryOp::Power, num(2.0), num(2.0))),
        ),
        (
            "2 ^ -1",
            *bin(BinaryOp::Power, num(2.0), Box::new(Expr::Negate(num(1.0)))),
        ),
        (
            "errors / (errors + successes)",
            *bin(
                BinaryOp::Divide,
                id("errors"),
                bin(BinaryOp::Add, id("errors"), id("successes")),
            ),
        ),
        (
            "m1 > 1 && m2 <= 2 || !m3",
            *bin(
                BinaryOp::Or,
                bin(
                    BinaryOp::And,
                    bin(BinaryOp::Greater, id("m1"), num(1.0)),
                    bin(BinaryOp::LessOrEqual, id("m2"), num(2.0)),
                ),
                Box::new(Expr::Not(id("m3"))),
            ),
        ),
        (
            "m1 AND m2 OR NOT m3",
            *bin(
                BinaryOp::Or,
                bin(BinaryOp::And, id("m1"), id("m2")),
                Box::new(Expr::Not(id("m3"))),
            ),
        ),
        ("1.5e3", Expr::Number(1500.0)),
        (
            "SUM(METRICS())",
            Expr::Call {
                function: Function::Sum,
                args: vec![Expr::Call {
                    function: Function::Metrics,
                    args: vec![],
                }],
            },
        ),
        (
            "fill(m1, REPEAT)",
            Expr::Call {
                function: Function::Fill,
                args: vec![Expr::Id("m1".into()), Expr::FillMode(Fill::Repeat)],
            },
        ),
        (
            "METRICS(\"err\")",
            Expr::Call {
                function: Function::Metrics,
                args: vec![Expr::Text("err".into())],
            },
        ),
        (
            "AVG([m1, m2])",
            Expr::Call {
                function: Function::Avg,
                args: vec![Expr::Array(vec![
                    Expr::Id("m1".into()),
                    Expr::Id("m2".into()),
                ])],
            },
        ),
    ];
    for (text, expected) in table {
        assert_eq!(
            math::parse(text).unwrap_or_else(|e| panic!("{text}: {e}")),
            expected,
            "{text}"
        );
    }
}

#[test]
fn parser_errors_say_what_and_where() {
    let table: Vec<(&str, usize, ParseErrorKind)> = vec![
        ("", 0, ParseErrorKind::Empty),
        (
            "m1 +",
            4,
            ParseErrorKind::Unexpected {
                expected: "a number, an id, a function or '('",
                found: "end of expression".into(),
            },
        ),
        (
            "(m1 + m2",
            8,
            ParseErrorKind::Unexpected {
                expected: "')'",
                found: "end of expression".into(),
            },
        ),
        (
            "m1 m2",
            3,
            ParseErrorKind::Unexpected {
                expected: "an operator or the end of the expression",
                found: "\"m2\"".into(),
            },
        ),
        ("m1 # 2", 3, ParseErrorKind::UnexpectedCharacter('#')),
        ("FOO(m1)", 0, ParseErrorKind::UnknownFunction("FOO".into())),
        (
            "1 + Errors",
            4,
            ParseErrorKind::UnknownKeyword("Errors".into()),
        ),
        (
            "ABS(m1, m2)",
            0,
            ParseErrorKind::Arity {
                function: Function::Abs,
                expected: "1".into(),
                found: 2,
            },
        ),
        (
            "2 * IF(m1)",
            4,
            ParseErrorKind::Arity {
                function: Function::If,
                expected: "2 or 3".into(),
                found: 1,
            },
        ),
        ("METRICS(\"abc)", 8, ParseErrorKind::UnterminatedString),
        ("1.2.3", 0, ParseErrorKind::BadNumber("1.2.3".into())),
        (
            "SUM(m1 m2)",
            7,
            ParseErrorKind::Unexpected {
                expected: "',' or ')'",
                found: "\"m2\"".into(),
            },
        ),
    ];
    for (text, position, kind) in table {
        let error = math::parse(text).expect_err(text);
        assert_eq!((error.position, &error.kind), (position, &kind), "{text}");
    }
    let error = math::parse("m1 +").unwrap_err();
    assert_eq!(
        error.to_string(),
        "expected a number, an id, a function or '(', found end of expression at position 4"
    );
}

// The reference case: error rate = errors / (errors + successes), aligned on
// timestamps; a minute with neither (0 / 0) has no point; a minute only one series has
// is dropped.
#[test]
fn error_rate_divides_aligned_series() {
    let metrics = metrics(&[
        (
            "errors",
            &[(0, 1.0), (1, 0.0), (2, 5.0), (3, 0.0), (5, 2.0)],
        ),
        (
            "successes",
            &[(0, 9.0), (1, 10.0), (2, 5.0), (3, 0.0), (4, 7.0)],
        ),
    ]);
    let rate = eval("errors / (errors + successes)", &metrics).unwrap();
    assert_eq!(points(rate), vec![(0, 0.1), (1, 0.0), (2, 0.5)]);
    let percent = eval("100 * errors / (errors + successes)", &metrics).unwrap();
    assert_eq!(points(percent), vec![(0, 10.0), (1, 0.0), (2, 50.0)]);
}

#[test]
fn arithmetic_with_scalars_and_series() {
    let metrics = metrics(&[("m1", &[(0, 2.0), (1, -4.0), (2, 6.0)])]);
    let table: Vec<(&str, Vec<(u64, f64)>)> = vec![
        ("m1 * 2 + 1", vec![(0, 5.0), (1, -7.0), (2, 13.0)]),
        ("-m1", vec![(0, -2.0), (1, 4.0), (2, -6.0)]),
        ("m1 ^ 2", vec![(0, 4.0), (1, 16.0), (2, 36.0)]),
        ("1 / m1", vec![(0, 0.5), (1, -0.25), (2, 1.0 / 6.0)]),
        ("ABS(m1)", vec![(0, 2.0), (1, 4.0), (2, 6.0)]),
        ("m1 > 0", vec![(0, 1.0), (1, 0.0), (2, 1.0)]),
        ("m1 == 6 || m1 < -3", vec![(0, 0.0), (1, 1.0), (2, 1.0)]),
        ("m1 - SUM(m1)", vec![(0, -2.0), (1, -8.0), (2, 2.0)]),
        ("m1 - AVG(m1) * 3", vec![(0, -2.0), (1, -8.0), (2, 2.0)]),
        (
            "m1 / PERIOD(m1)",
            vec![(0, 2.0 / 60.0), (1, -4.0 / 60.0), (2, 0.1)],
        ),
        ("DIFF(m1)", vec![(1, -6.0), (2, 10.0)]),
        ("RATE(m1)", vec![(1, -0.1), (2, 10.0 / 60.0)]),
        ("IF(m1 > 0, m1, 0)", vec![(0, 2.0), (1, 0.0), (2, 6.0)]),
        ("IF(m1 > 0, m1)", vec![(0, 2.0), (2, 6.0)]),
        ("IF(m1 < 0, 100, m1)", vec![(0, 2.0), (1, 100.0), (2, 6.0)]),
    ];
    for (text, expected) in table {
        assert_eq!(points(eval(text, &metrics).unwrap()), expected, "{text}");
    }
    let scalars = [
        ("1 + 2 * 3", 7.0),
        ("SUM(m1)", 4.0),
        ("MAX(m1)", 6.0),
        ("MIN(m1)", -4.0),
        ("PERIOD(m1)", 60.0),
    ];
    for (text, expected) in scalars {
        assert_eq!(
            eval(text, &metrics).unwrap(),
            Value::Scalar(expected),
            "{text}"
        );
    }
}

#[test]
fn functions_over_arrays_reduce_per_timestamp() {
    let metrics = metrics(&[
        ("err_a", &[(0, 1.0), (1, 2.0)]),
        ("err_b", &[(0, 3.0), (2, 4.0)]),
        ("ok_a", &[(0, 10.0)]),
    ]);
    let table: Vec<(&str, Vec<(u64, f64)>)> = vec![
        ("SUM(METRICS())", vec![(0, 14.0), (1, 2.0), (2, 4.0)]),
        ("SUM(METRICS(\"err\"))", vec![(0, 4.0), (1, 2.0), (2, 4.0)]),
        ("AVG([err_a, err_b])", vec![(0, 2.0), (1, 2.0), (2, 4.0)]),
        ("MAX(METRICS())", vec![(0, 10.0), (1, 2.0), (2, 4.0)]),
        ("MIN([err_a, ok_a])", vec![(0, 1.0), (1, 2.0)]),
    ];
    for (text, expected) in table {
        assert_eq!(points(eval(text, &metrics).unwrap()), expected, "{text}");
    }
    match eval("METRICS(\"err\") * 2", &metrics).unwrap() {
        Value::Array(members) => {
            let ids: Vec<&str> = members.iter().map(|m| m.0.as_str()).collect();
            assert_eq!(ids, vec!["err_a", "err_b"]);
            assert_eq!(members[1].1.points, vec![(at(0), 6.0), (at(2), 8.0)]);
        }
        other => panic!("expected an array, got {other:?}"),
    }
}

// FILL fills every period of the request's range that the series lacks.
#[test]
fn fill_with_a_value_repeat_or_linear() {
    let metrics = metrics(&[("m1", &[(1, 2.0), (4, 8.0)])]);
    let table: Vec<(&str, Vec<(u64, f64)>)> = vec![
        (
            "FILL(m1, 0)",
            vec![(0, 0.0), (1, 2.0), (2, 0.0), (3, 0.0), (4, 8.0), (5, 0.0)],
        ),
        (
            "FILL(m1, -1 * 2)",
            vec![
                (0, -2.0),
                (1, 2.0),
                (2, -2.0),
                (3, -2.0),
                (4, 8.0),
                (5, -2.0),
            ],
        ),
        (
            "FILL(m1, REPEAT)",
            vec![(1, 2.0), (2, 2.0), (3, 2.0), (4, 8.0), (5, 8.0)],
        ),
        (
            "FILL(m1, LINEAR)",
            vec![(1, 2.0), (2, 4.0), (3, 6.0), (4, 8.0)],
        ),
    ];
    for (text, expected) in table {
        assert_eq!(points(eval(text, &metrics).unwrap()), expected, "{text}");
    }
    assert_eq!(
        eval("SUM(FILL(m1, 1))", &metrics).unwrap(),
        Value::Scalar(14.0)
    );
}

#[test]
fn evaluation_errors() {
    let metrics = metrics(&[("m1", &[(0, 1.0)])]);
    assert_eq!(
        eval("m1 + m9", &metrics),
        Err(EvalError::UnknownId("m9".into()))
    );
    assert!(matches!(
        eval("ABS(\"x\")", &metrics),
        Err(EvalError::Type { .. })
    ));
    assert!(matches!(
        eval("FILL(m1, m1)", &metrics),
        Err(EvalError::Type { .. })
    ));
    assert!(matches!(
        eval("DIFF(3)", &metrics),
        Err(EvalError::Type { .. })
    ));
    assert!(matches!(
        eval("METRICS() + METRICS()", &metrics),
        Err(EvalError::Type { .. })
    ));
    assert!(matches!(
        eval("REPEAT", &metrics),
        Err(EvalError::Type { .. })
    ));
}

#[test]
fn expressions_refer_to_expressions_and_cycles_are_refused() {
    let metrics = metrics(&[
        ("errors", &[(0, 1.0), (1, 3.0)]),
        ("successes", &[(0, 9.0), (1, 1.0)]),
    ]);
    let parse = |id: &str, text: &str| (id.to_owned(), math::parse(text).unwrap());
    let expressions = vec![
        parse("rate", "errors / total"),
        parse("total", "errors + successes"),
        parse("alarm", "IF(rate > 0.5, 1, 0)"),
    ];
    let values: BTreeMap<String, Value> = evaluate_all(&metrics, &expressions, &grid(2)).unwrap();
    assert_eq!(points(values["rate"].clone()), vec![(0, 0.1), (1, 0.75)]);
    assert_eq!(points(values["alarm"].clone()), vec![(0, 0.0), (1, 1.0)]);

    let cyclic = vec![parse("e1", "e2 + 1"), parse("e2", "e1 * 2")];
    assert!(matches!(
        evaluate_all(&metrics, &cyclic, &grid(2)),
        Err(EvalError::Cycle(_))
    ));
    let itself = vec![parse("e1", "e1")];
    assert_eq!(
        evaluate_all(&metrics, &itself, &grid(2)),
        Err(EvalError::Cycle("e1".into()))
    );
}

#[test]
fn scalar_results_spread_over_the_grid() {
    let value = Value::Scalar(2.5);
    let spread = value.into_series(&grid(3));
    assert_eq!(spread.len(), 1);
    assert_eq!(
        spread[0].1.points,
        vec![(at(0), 2.5), (at(1), 2.5), (at(2), 2.5)]
    );
    assert!(
        Value::Scalar(f64::NAN).into_series(&grid(3))[0]
            .1
            .is_empty()
    );
    let references = math::parse("a + SUM([b, c]) * a").unwrap();
    assert_eq!(references.references(), vec!["a", "b", "c", "a"]);
    assert!(math::parse("SUM(METRICS()) / 2").unwrap().uses_metrics());
}
