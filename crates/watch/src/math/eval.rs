//! Metric math evaluation: [`Expr`] over a request's series -> [`Value`].

use std::collections::BTreeMap;

use simtime::SimTime;

use super::parse::{BinaryOp, Expr, Fill, Function};
use crate::metrics::{Period, Series};

/// What an expression evaluates to.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// One number (NaN: no value, e.g. `AVG` of an empty series).
    Scalar(f64),
    /// One time series.
    Series(Series),
    /// Several series, each with the id of the metric it came from (`METRICS()`).
    Array(Vec<(String, Series)>),
}

/// The request's time range and default period: where `FILL` fills and where a scalar
/// result is spread out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    /// First timestamp (the aligned start).
    pub start: SimTime,
    /// End (exclusive).
    pub end: SimTime,
    /// Period of a scalar spread over the range.
    pub period: Period,
}

impl Grid {
    /// Timestamps `start + k x period` before `end`.
    fn timestamps(&self, period: Period) -> impl Iterator<Item = SimTime> + '_ {
        let step = period.duration();
        std::iter::successors(Some(self.start), move |&t| Some(t + step))
            .take_while(move |&t| t < self.end)
    }
}

impl Value {
    /// The value as series: a scalar becomes a constant series on `grid` (nothing when
    /// NaN), an array its members with their ids.
    pub fn into_series(self, grid: &Grid) -> Vec<(Option<String>, Series)> {
        match self {
            Value::Scalar(x) => {
                let points = if x.is_finite() {
                    grid.timestamps(grid.period).map(|t| (t, x)).collect()
                } else {
                    Vec::new()
                };
                vec![(None, Series::new(grid.period, points))]
            }
            Value::Series(series) => vec![(None, series)],
            Value::Array(members) => members
                .into_iter()
                .map(|(id, series)| (Some(id), series))
                .collect(),
        }
    }
}

/// An expression that parses but cannot be evaluated.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// An id that names no query of the request.
    #[error("unknown id {0:?}")]
    UnknownId(String),
    /// Expressions that refer to each other in a loop.
    #[error("circular reference through {0:?}")]
    Cycle(String),
    /// An argument of the wrong kind.
    #[error("{context}: {message}")]
    Type {
        /// The function or operator.
        context: String,
        /// What was wrong.
        message: &'static str,
    },
}

fn type_error(context: impl Into<String>, message: &'static str) -> EvalError {
    EvalError::Type {
        context: context.into(),
        message,
    }
}

/// Evaluates one expression whose ids refer only to `metrics` (in request order, which
/// is also `METRICS()`'s order).
pub fn evaluate(
    expr: &Expr,
    metrics: &[(String, Series)],
    grid: &Grid,
) -> Result<Value, EvalError> {
    let mut evaluator = Evaluator {
        metrics,
        expressions: &[],
        grid,
        done: BTreeMap::new(),
        active: Vec::new(),
    };
    evaluator.eval(expr)
}

/// Evaluates every expression of a request; ids may refer to metrics and to other
/// expressions. Returns each expression's value by id.
pub fn evaluate_all(
    metrics: &[(String, Series)],
    expressions: &[(String, Expr)],
    grid: &Grid,
) -> Result<BTreeMap<String, Value>, EvalError> {
    let mut evaluator = Evaluator {
        metrics,
        expressions,
        grid,
        done: BTreeMap::new(),
        active: Vec::new(),
    };
    for (id, _) in expressions {
        evaluator.id(id)?;
    }
    Ok(evaluator.done)
}

struct Evaluator<'a> {
    metrics: &'a [(String, Series)],
    expressions: &'a [(String, Expr)],
    grid: &'a Grid,
    /// Expression results so far.
    done: BTreeMap<String, Value>,
    /// Expressions being evaluated (cycle detection).
    active: Vec<String>,
}

impl Evaluator<'_> {
    fn id(&mut self, id: &str) -> Result<Value, EvalError> {
        if let Some((_, series)) = self.metrics.iter().find(|(m, _)| m == id) {
            return Ok(Value::Series(series.clone()));
        }
        if let Some(value) = self.done.get(id) {
            return Ok(value.clone());
        }
        if self.active.iter().any(|a| a == id) {
            return Err(EvalError::Cycle(id.to_owned()));
        }
        let expressions = self.expressions;
        let Some((_, expr)) = expressions.iter().find(|(e, _)| e == id) else {
            return Err(EvalError::UnknownId(id.to_owned()));
        };
        self.active.push(id.to_owned());
        let value = self.eval(expr);
        self.active.pop();
        let value = value?;
        self.done.insert(id.to_owned(), value.clone());
        Ok(value)
    }

    fn eval(&mut self, expr: &Expr) -> Result<Value, EvalError> {
        match expr {
            Expr::Number(n) => Ok(Value::Scalar(*n)),
            Expr::Id(id) => self.id(id),
            Expr::Text(_) => Err(type_error("string", "only METRICS takes a string")),
            Expr::FillMode(_) => Err(type_error("REPEAT/LINEAR", "only FILL takes a fill mode")),
            Expr::Array(items) => {
                let mut members = Vec::new();
                for item in items {
                    match self.eval(item)? {
                        Value::Series(series) => members.push((label(item), series)),
                        Value::Array(more) => members.extend(more),
                        Value::Scalar(_) => {
                            return Err(type_error("[...]", "arrays hold series, not scalars"));
                        }
                    }
                }
                Ok(Value::Array(members))
            }
            Expr::Negate(inner) => Ok(map_value(self.eval(inner)?, |x| -x)),
            Expr::Not(inner) => Ok(map_value(self.eval(inner)?, |x| truth(x == 0.0))),
            Expr::Binary { op, left, right } => {
                let left = self.eval(left)?;
                let right = self.eval(right)?;
                binary(*op, left, right)
            }
            Expr::Call { function, args } => self.call(*function, args),
        }
    }

    fn call(&mut self, function: Function, args: &[Expr]) -> Result<Value, EvalError> {
        let name = function.name();
        match function {
            Function::Metrics => {
                let prefix = match args.first() {
                    None => "",
                    Some(Expr::Text(prefix)) => prefix,
                    Some(_) => return Err(type_error(name, "the argument must be a string")),
                };
                Ok(Value::Array(
                    self.metrics
                        .iter()
                        .filter(|(id, _)| id.starts_with(prefix))
                        .cloned()
                        .collect(),
                ))
            }
            Function::Sum | Function::Avg | Function::Min | Function::Max => {
                let value = self.eval(&args[0])?;
                Ok(reduce(function, value))
            }
            Function::Abs => Ok(map_value(self.eval(&args[0])?, f64::abs)),
            Function::Diff | Function::Rate => {
                let value = self.eval(&args[0])?;
                each_series(value, name, |series| consecutive(series, function))
            }
            Function::Period => match self.eval(&args[0])? {
                Value::Series(series) => Ok(Value::Scalar(f64::from(series.period.seconds()))),
                _ => Err(type_error(name, "the argument must be a single series")),
            },
            Function::Fill => {
                let fill = match &args[1] {
                    Expr::FillMode(mode) => Filler::Mode(*mode),
                    other => match self.eval(other)? {
                        Value::Scalar(x) => Filler::Value(x),
                        _ => return Err(type_error(name, "the fill value must be a number")),
                    },
                };
                let grid = *self.grid;
                let value = self.eval(&args[0])?;
                each_series(value, name, |series| fill_series(series, fill, &grid))
            }
            Function::If => {
                let condition = self.eval(&args[0])?;
                let then = self.eval(&args[1])?;
                let otherwise = args.get(2).map(|e| self.eval(e)).transpose()?;
                if_value(condition, &then, otherwise.as_ref())
            }
        }
    }
}

/// The id an array item came from (empty for items that are not plain ids).
fn label(expr: &Expr) -> String {
    match expr {
        Expr::Id(id) => id.clone(),
        _ => String::new(),
    }
}

fn truth(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

fn apply(op: BinaryOp, x: f64, y: f64) -> f64 {
    match op {
        BinaryOp::Add => x + y,
        BinaryOp::Subtract => x - y,
        BinaryOp::Multiply => x * y,
        BinaryOp::Divide => x / y,
        BinaryOp::Power => x.powf(y),
        BinaryOp::Equal => truth(x == y),
        BinaryOp::NotEqual => truth(x != y),
        BinaryOp::Less => truth(x < y),
        BinaryOp::LessOrEqual => truth(x <= y),
        BinaryOp::Greater => truth(x > y),
        BinaryOp::GreaterOrEqual => truth(x >= y),
        BinaryOp::And => truth(x != 0.0 && y != 0.0),
        BinaryOp::Or => truth(x != 0.0 || y != 0.0),
    }
}

/// Keeps only finite points.
fn finite(period: Period, points: impl Iterator<Item = (SimTime, f64)>) -> Series {
    Series::new(period, points.filter(|p| p.1.is_finite()).collect())
}

fn map_series(series: &Series, f: impl Fn(f64) -> f64) -> Series {
    finite(series.period, series.points.iter().map(|&(t, v)| (t, f(v))))
}

fn map_value(value: Value, f: impl Fn(f64) -> f64) -> Value {
    match value {
        Value::Scalar(x) => Value::Scalar(f(x)),
        Value::Series(series) => Value::Series(map_series(&series, f)),
        Value::Array(members) => Value::Array(
            members
                .into_iter()
                .map(|(id, series)| (id, map_series(&series, &f)))
                .collect(),
        ),
    }
}

/// Points at timestamps both series have.
fn join(left: &Series, right: &Series, op: BinaryOp) -> Series {
    let mut points = Vec::with_capacity(left.points.len().min(right.points.len()));
    let (mut i, mut j) = (0, 0);
    while i < left.points.len() && j < right.points.len() {
        let (lt, lv) = left.points[i];
        let (rt, rv) = right.points[j];
        match lt.cmp(&rt) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                points.push((lt, apply(op, lv, rv)));
                i += 1;
                j += 1;
            }
        }
    }
    finite(left.period, points.into_iter())
}

fn binary(op: BinaryOp, left: Value, right: Value) -> Result<Value, EvalError> {
    Ok(match (left, right) {
        (Value::Scalar(x), Value::Scalar(y)) => Value::Scalar(apply(op, x, y)),
        (Value::Series(s), Value::Scalar(y)) => Value::Series(map_series(&s, |x| apply(op, x, y))),
        (Value::Scalar(x), Value::Series(s)) => Value::Series(map_series(&s, |y| apply(op, x, y))),
        (Value::Series(a), Value::Series(b)) => Value::Series(join(&a, &b, op)),
        (Value::Array(_), Value::Array(_)) => {
            return Err(type_error(
                "operator",
                "cannot combine two arrays of series",
            ));
        }
        (Value::Array(members), other) => {
            let mut out = Vec::with_capacity(members.len());
            for (id, series) in members {
                match binary(op, Value::Series(series), other.clone())? {
                    Value::Series(series) => out.push((id, series)),
                    _ => return Err(type_error("operator", "unexpected result")),
                }
            }
            Value::Array(out)
        }
        (other, Value::Array(members)) => {
            let mut out = Vec::with_capacity(members.len());
            for (id, series) in members {
                match binary(op, other.clone(), Value::Series(series))? {
                    Value::Series(series) => out.push((id, series)),
                    _ => return Err(type_error("operator", "unexpected result")),
                }
            }
            Value::Array(out)
        }
    })
}

fn reduce_values(function: Function, values: impl Iterator<Item = f64>) -> f64 {
    let (mut count, mut sum) = (0.0, 0.0);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        count += 1.0;
        sum += v;
        min = min.min(v);
        max = max.max(v);
    }
    if count == 0.0 {
        return f64::NAN;
    }
    match function {
        Function::Sum => sum,
        Function::Avg => sum / count,
        Function::Min => min,
        _ => max,
    }
}

/// SUM/AVG/MIN/MAX: a series -> a scalar; an array -> a series over the union of
/// timestamps, each point reducing the members that have one.
fn reduce(function: Function, value: Value) -> Value {
    match value {
        Value::Scalar(x) => Value::Scalar(x),
        Value::Series(series) => {
            Value::Scalar(reduce_values(function, series.points.iter().map(|p| p.1)))
        }
        Value::Array(members) => {
            let period = members.first().map(|m| m.1.period).unwrap_or_default();
            let mut by_time: BTreeMap<SimTime, Vec<f64>> = BTreeMap::new();
            for (_, series) in &members {
                for &(t, v) in &series.points {
                    by_time.entry(t).or_default().push(v);
                }
            }
            Value::Series(finite(
                period,
                by_time
                    .into_iter()
                    .map(|(t, values)| (t, reduce_values(function, values.into_iter()))),
            ))
        }
    }
}

/// Applies a series -> series function to a series or each member of an array.
fn each_series(
    value: Value,
    context: &str,
    f: impl Fn(&Series) -> Series,
) -> Result<Value, EvalError> {
    match value {
        Value::Series(series) => Ok(Value::Series(f(&series))),
        Value::Array(members) => Ok(Value::Array(
            members
                .into_iter()
                .map(|(id, series)| {
                    let out = f(&series);
                    (id, out)
                })
                .collect(),
        )),
        Value::Scalar(_) => Err(type_error(context, "the argument must be a series")),
    }
}

/// DIFF: value minus the previous point's; RATE: that divided by the seconds between.
fn consecutive(series: &Series, function: Function) -> Series {
    let points = series.points.windows(2).map(|pair| {
        let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
        let diff = v1 - v0;
        if function == Function::Rate {
            let seconds = t1.saturating_since(t0).as_millis() as f64 / 1_000.0;
            (t1, diff / seconds)
        } else {
            (t1, diff)
        }
    });
    finite(series.period, points)
}

#[derive(Clone, Copy)]
enum Filler {
    Value(f64),
    Mode(Fill),
}

/// Fills every grid timestamp (at the series' period) the series lacks.
fn fill_series(series: &Series, fill: Filler, grid: &Grid) -> Series {
    let mut points = Vec::new();
    let mut known = series.points.iter().peekable();
    let mut previous: Option<(SimTime, f64)> = None;
    for t in grid.timestamps(series.period) {
        while known.peek().is_some_and(|p| p.0 < t) {
            if let Some(&point) = known.next() {
                points.push(point);
                previous = Some(point);
            }
        }
        if let Some(&&point) = known.peek()
            && point.0 == t
        {
            points.push(point);
            previous = Some(point);
            known.next();
            continue;
        }
        let filled = match fill {
            Filler::Value(x) => Some(x),
            Filler::Mode(Fill::Repeat) => previous.map(|p| p.1),
            Filler::Mode(Fill::Linear) => match (previous, known.peek()) {
                (Some((t0, v0)), Some(&&(t1, v1))) => {
                    let span = t1.saturating_since(t0).as_millis() as f64;
                    let at = t.saturating_since(t0).as_millis() as f64;
                    Some(v0 + (v1 - v0) * at / span)
                }
                _ => None,
            },
        };
        if let Some(v) = filled.filter(|v| v.is_finite()) {
            points.push((t, v));
        }
    }
    points.extend(known.copied());
    Series::new(series.period, points)
}

/// The value of a branch of IF at `t`.
fn branch_at(branch: &Value, t: SimTime) -> Option<f64> {
    match branch {
        Value::Scalar(x) => Some(*x),
        Value::Series(series) => series.value_at(t),
        Value::Array(_) => None,
    }
}

fn if_value(condition: Value, then: &Value, otherwise: Option<&Value>) -> Result<Value, EvalError> {
    if matches!(then, Value::Array(_)) || matches!(otherwise, Some(Value::Array(_))) {
        return Err(type_error("IF", "the branches must be series or scalars"));
    }
    let pick = |series: &Series| {
        let points = series.points.iter().filter_map(|&(t, c)| {
            let branch = if c != 0.0 { Some(then) } else { otherwise };
            branch.and_then(|b| branch_at(b, t)).map(|v| (t, v))
        });
        finite(series.period, points)
    };
    Ok(match condition {
        Value::Scalar(c) => match (c != 0.0, otherwise) {
            (true, _) => then.clone(),
            (false, Some(otherwise)) => otherwise.clone(),
            (false, None) => Value::Scalar(f64::NAN),
        },
        Value::Series(series) => Value::Series(pick(&series)),
        Value::Array(members) => Value::Array(
            members
                .into_iter()
                .map(|(id, series)| (id, pick(&series)))
                .collect(),
        ),
    })
}
