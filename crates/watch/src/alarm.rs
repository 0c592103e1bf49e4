//! Metric alarm evaluation with CloudWatch's semantics, as a pure function: given an
//! alarm's evaluation settings and the datapoints of its *evaluation range*, which state
//! the alarm is in and the state reason texts CloudWatch would write.
//!
//! What this module owns: the operators, missing-data treatments and states; the M out
//! of N rule with CloudWatch's missing-data handling (fact sheet 3.2, including the
//! "premature ALARM" rule and the low-sample percentile rule); `StateReason` and
//! `StateReasonData` in AWS's words and shapes (3.3); Java-style number printing
//! ([`mod@format`]). What it does not: fetching data, scheduling, actions, history or any
//! API (those are `monitoring::cloudwatch::alarms`).
//!
//! # The evaluation range
//!
//! CloudWatch looks at more periods than `EvaluationPeriods` (N) so that missing periods
//! can be skipped over. Here the range is [`evaluation_range`]`(N)` = **N + 2** whole
//! periods, oldest first, the newest being the last complete period before the
//! evaluation (AWS's own examples use 5 periods for N = 3; the exact count is not
//! documented). Callers pass one [`Point`] per period of the range, missing periods
//! included (with `value: None`).
//!
//! # The decision (fact sheet 3.2, our reconstruction that reproduces AWS's table)
//!
//! Let R be the number of real (non-missing) points in the range and M
//! `DatapointsToAlarm` (default N).
//! 1. R = 0: `missing` → INSUFFICIENT_DATA; `ignore` → keep the state; `breaching` →
//!    ALARM; `notBreaching` → OK.
//! 2. R ≥ N: judge the N newest real points; ALARM iff at least M breach, else OK. The
//!    missing-data treatment plays no part.
//! 3. R < N with `breaching`/`notBreaching`: every real point plus the N − R newest missing
//!    periods, filled per the treatment; ALARM iff at least M breach.
//! 4. R < N with `missing`/`ignore`: ALARM if at least M real points breach; else OK if any
//!    real point does not breach; else (only breaching points, fewer than M): with
//!    `missing`, ALARM if the oldest breaching point is at least M periods old (the newest
//!    period of the range is 1 period old), INSUFFICIENT_DATA otherwise; with `ignore`,
//!    keep the state.
//!
//! Percentile alarms (`pNN`) with `EvaluateLowSampleCountPercentile = ignore` keep their
//! state when any judged point has fewer samples than [`minimum_samples`] requires.

pub mod format;
mod reason;

use simtime::SimTime;

/// `ComparisonOperator`: how the statistic (left operand) compares to the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComparisonOperator {
    /// `GreaterThanOrEqualToThreshold`.
    GreaterThanOrEqualToThreshold,
    /// `GreaterThanThreshold`.
    GreaterThanThreshold,
    /// `LessThanThreshold`.
    LessThanThreshold,
    /// `LessThanOrEqualToThreshold`.
    LessThanOrEqualToThreshold,
    /// `LessThanLowerOrGreaterThanUpperThreshold` (anomaly detection band; stored, not
    /// evaluated).
    LessThanLowerOrGreaterThanUpperThreshold,
    /// `LessThanLowerThreshold` (anomaly detection band; stored, not evaluated).
    LessThanLowerThreshold,
    /// `GreaterThanUpperThreshold` (anomaly detection band; stored, not evaluated).
    GreaterThanUpperThreshold,
}

impl ComparisonOperator {
    /// Every operator, in the model's order.
    pub const ALL: [ComparisonOperator; 7] = [
        ComparisonOperator::GreaterThanOrEqualToThreshold,
        ComparisonOperator::GreaterThanThreshold,
        ComparisonOperator::LessThanThreshold,
        ComparisonOperator::LessThanOrEqualToThreshold,
        ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold,
        ComparisonOperator::LessThanLowerThreshold,
        ComparisonOperator::GreaterThanUpperThreshold,
    ];

    /// The operator named `name` (`GreaterThanThreshold`, ...).
    pub fn parse(name: &str) -> Option<ComparisonOperator> {
        ComparisonOperator::ALL
            .into_iter()
            .find(|operator| operator.as_str() == name)
    }

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            ComparisonOperator::GreaterThanThreshold => "GreaterThanThreshold",
            ComparisonOperator::LessThanThreshold => "LessThanThreshold",
            ComparisonOperator::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold => {
                "LessThanLowerOrGreaterThanUpperThreshold"
            }
            ComparisonOperator::LessThanLowerThreshold => "LessThanLowerThreshold",
            ComparisonOperator::GreaterThanUpperThreshold => "GreaterThanUpperThreshold",
        }
    }

    /// Whether this is one of the anomaly-band operators (which need `ThresholdMetricId`).
    pub fn is_anomaly_band(self) -> bool {
        self.words().is_none()
    }

    /// The words state reasons use: `greater than or equal to`; `None` for anomaly bands.
    pub fn words(self) -> Option<&'static str> {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => Some("greater than or equal to"),
            ComparisonOperator::GreaterThanThreshold => Some("greater than"),
            ComparisonOperator::LessThanThreshold => Some("less than"),
            ComparisonOperator::LessThanOrEqualToThreshold => Some("less than or equal to"),
            _ => None,
        }
    }

    /// Whether `value OP threshold` holds; `None` for anomaly bands.
    pub fn breaches(self, value: f64, threshold: f64) -> Option<bool> {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => Some(value >= threshold),
            ComparisonOperator::GreaterThanThreshold => Some(value > threshold),
            ComparisonOperator::LessThanThreshold => Some(value < threshold),
            ComparisonOperator::LessThanOrEqualToThreshold => Some(value <= threshold),
            _ => None,
        }
    }
}

/// `TreatMissingData`: how periods without data count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum TreatMissingData {
    /// `missing` (the default): missing periods are neither good nor bad.
    #[default]
    Missing,
    /// `notBreaching`: missing periods count as good.
    NotBreaching,
    /// `breaching`: missing periods count as bad.
    Breaching,
    /// `ignore`: the alarm keeps its state when there is nothing to judge.
    Ignore,
}

impl TreatMissingData {
    /// Every treatment.
    pub const ALL: [TreatMissingData; 4] = [
        TreatMissingData::Missing,
        TreatMissingData::NotBreaching,
        TreatMissingData::Breaching,
        TreatMissingData::Ignore,
    ];

    /// The treatment named `name` (`notBreaching`, ...).
    pub fn parse(name: &str) -> Option<TreatMissingData> {
        TreatMissingData::ALL
            .into_iter()
            .find(|treatment| treatment.as_str() == name)
    }

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::Ignore => "ignore",
        }
    }
}

/// An alarm's state (`StateValue`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlarmState {
    /// `OK`.
    Ok,
    /// `ALARM`.
    Alarm,
    /// `INSUFFICIENT_DATA`.
    InsufficientData,
}

impl AlarmState {
    /// Every state, in the order AWS's validation messages list them.
    pub const ALL: [AlarmState; 3] = [
        AlarmState::InsufficientData,
        AlarmState::Alarm,
        AlarmState::Ok,
    ];

    /// The state named `name` (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
    pub fn parse(name: &str) -> Option<AlarmState> {
        AlarmState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
    }

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// `EvaluateLowSampleCountPercentile`: what a percentile alarm does when a period has
/// too few samples for the percentile to mean much.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum LowSampleCount {
    /// `evaluate` (the default): evaluate anyway.
    #[default]
    Evaluate,
    /// `ignore`: keep the state.
    Ignore,
}

impl LowSampleCount {
    /// The setting named `name` (`evaluate`, `ignore`).
    pub fn parse(name: &str) -> Option<LowSampleCount> {
        match name {
            "evaluate" => Some(LowSampleCount::Evaluate),
            "ignore" => Some(LowSampleCount::Ignore),
            _ => None,
        }
    }

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            LowSampleCount::Evaluate => "evaluate",
            LowSampleCount::Ignore => "ignore",
        }
    }
}

/// The fewest samples a period needs for percentile `percentile` (as in `p99` → 99.0) not
/// to be a "low sample": 10 / (1 − p) for p ≥ 0.5 (p99 → 1000) and 10 / p below
/// (p10 → 100), with p the fraction. `p0` and `p100` (the minimum and the maximum) have no
/// such minimum: `None`.
pub fn minimum_samples(percentile: f64) -> Option<f64> {
    if !(percentile > 0.0 && percentile < 100.0) {
        return None;
    }
    // In percent, so that p99 gives exactly 1000: 10 / (1 − p) = 1000 / (100 − P).
    Some(if percentile >= 50.0 {
        1000.0 / (100.0 - percentile)
    } else {
        1000.0 / percentile
    })
}

/// The number of periods in the evaluation range of an alarm with `evaluation_periods`
/// (N): N + 2.
pub fn evaluation_range(evaluation_periods: u32) -> u32 {
    evaluation_periods.saturating_add(2)
}

/// What evaluation needs to know about an alarm. Plain data: [`evaluate`] checks it.
#[derive(Clone, Debug, PartialEq)]
pub struct EvaluationConfig {
    /// `Period` in seconds (reported in the state reason data).
    pub period_seconds: u32,
    /// `EvaluationPeriods` (N).
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm` (M) as the alarm gives it; `None` means N. Whether it was
    /// given also picks the reason text's form: AWS writes `2 out of the last 3
    /// datapoints ... (minimum 2 datapoints for OK -> ALARM transition)` only for alarms
    /// with an explicit `DatapointsToAlarm`, and `2 datapoints ...` otherwise.
    pub datapoints_to_alarm: Option<u32>,
    /// `Threshold`.
    pub threshold: f64,
    /// `ComparisonOperator`.
    pub operator: ComparisonOperator,
    /// `TreatMissingData`.
    pub treat_missing_data: TreatMissingData,
    /// `EvaluateLowSampleCountPercentile`.
    pub low_sample_count: LowSampleCount,
    /// The percentile of a `pNN` extended statistic (`p99` → 99.0), for the low-sample
    /// rule; `None` for other statistics.
    pub percentile: Option<f64>,
    /// The statistic named in the reason data (`Average`, `p99`); `None` for metric math
    /// alarms, whose reason data has no `statistic`.
    pub statistic: Option<String>,
    /// The alarm's `Unit`, reported in the reason data.
    pub unit: Option<String>,
}

impl EvaluationConfig {
    /// M: `DatapointsToAlarm`, defaulting to N.
    pub fn datapoints_to_alarm(&self) -> u32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }
}

/// One period of the evaluation range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The start of the period.
    pub timestamp: SimTime,
    /// The statistic's value, `None` when the period has no data. A non-finite value
    /// counts as missing.
    pub value: Option<f64>,
    /// How many samples the period's statistic came from, when known.
    pub sample_count: Option<f64>,
}

/// What an evaluation concludes.
#[derive(Clone, Debug, PartialEq)]
pub enum Evaluation {
    /// The alarm keeps its state, whatever it is (`TreatMissingData = ignore` with nothing
    /// to judge, or a low-sample percentile with `ignore`).
    Keep,
    /// The alarm is in `state` (which may be the state it already has).
    Decided(Decision),
}

/// A state with the reasons CloudWatch gives for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The state.
    pub state: AlarmState,
    /// `StateReason`, e.g. `Threshold Crossed: 1 datapoint [1.0 (15/05/25 15:29:00)] was
    /// greater than the threshold (0.0).`
    pub reason: String,
    /// `StateReasonData`: the JSON document (as text, keys in AWS's order).
    pub reason_data: String,
}

/// Why an alarm cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    /// Anomaly detection bands are stored but not evaluated here.
    #[error("alarms with {} (anomaly detection bands) are not evaluated", .0.as_str())]
    AnomalyBand(ComparisonOperator),
    /// N must be at least 1.
    #[error("EvaluationPeriods must be at least 1")]
    NoEvaluationPeriods,
    /// M must be between 1 and N.
    #[error(
        "DatapointsToAlarm {datapoints_to_alarm} is not between 1 and EvaluationPeriods {evaluation_periods}"
    )]
    DatapointsToAlarm {
        /// M.
        datapoints_to_alarm: u32,
        /// N.
        evaluation_periods: u32,
    },
}

/// Evaluates an alarm at `now` over `points`, the periods of its evaluation range
/// (normally [`evaluation_range`] of them, oldest first; see the module docs for the
/// rules). `now` is the reason data's `queryDate`. The same as [`judge`] followed by
/// [`Judgement::decision`].
pub fn evaluate(
    config: &EvaluationConfig,
    points: &[Point],
    now: SimTime,
) -> Result<Evaluation, EvaluationError> {
    let judgement = judge(config, points)?;
    Ok(match judgement.decision(config, now) {
        None => Evaluation::Keep,
        Some(decision) => Evaluation::Decided(decision),
    })
}

/// Decides which state an alarm is in over `points` (as [`evaluate`] takes them),
/// without putting the decision into words yet: a caller that keeps the reasons only
/// when the state changes asks [`Judgement::state`] first and pays for the texts and
/// their timestamps only then.
pub fn judge(config: &EvaluationConfig, points: &[Point]) -> Result<Judgement, EvaluationError> {
    if config.operator.is_anomaly_band() {
        return Err(EvaluationError::AnomalyBand(config.operator));
    }
    let n = config.evaluation_periods;
    if n == 0 {
        return Err(EvaluationError::NoEvaluationPeriods);
    }
    let m = config.datapoints_to_alarm();
    if m == 0 || m > n {
        return Err(EvaluationError::DatapointsToAlarm {
            datapoints_to_alarm: m,
            evaluation_periods: n,
        });
    }
    Ok(Judgement {
        outcome: decide(config, points),
    })
}

/// A decision of [`judge`] before it is put into words.
pub struct Judgement {
    outcome: Outcome,
}

impl Judgement {
    /// The state decided; `None` when the alarm keeps its state, whatever it is.
    pub fn state(&self) -> Option<AlarmState> {
        match &self.outcome {
            Outcome::Keep => None,
            Outcome::Unknown { .. } => Some(AlarmState::InsufficientData),
            Outcome::Crossed { state, .. } => Some(*state),
        }
    }

    /// The decision with CloudWatch's reasons for it, `now` being the reason data's
    /// `queryDate` (`config` must be the one judged with); `None` when the alarm keeps
    /// its state.
    pub fn decision(self, config: &EvaluationConfig, now: SimTime) -> Option<Decision> {
        match self.outcome {
            Outcome::Keep => None,
            Outcome::Unknown { unknown, evaluated } => Some(Decision {
                state: AlarmState::InsufficientData,
                reason: reason::unknown(unknown),
                reason_data: reason::data(config, &evaluated, now),
            }),
            Outcome::Crossed {
                state,
                evaluated,
                fill,
            } => Some(Decision {
                state,
                reason: reason::crossed(config, state, &evaluated, fill),
                reason_data: reason::data(config, &evaluated, now),
            }),
        }
    }
}

/// How filled periods were treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fill {
    Breaching,
    NotBreaching,
}

/// One judged period.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Judged {
    /// The period's start.
    timestamp: SimTime,
    /// The value; `None` for a missing period.
    value: Option<f64>,
    /// Samples behind the value, when known.
    sample_count: Option<f64>,
    /// Whether it breaches; `None` for a missing period left missing.
    breaching: Option<bool>,
}

/// The decision before it is put into words.
enum Outcome {
    Keep,
    Unknown {
        /// Periods without data among the N judged.
        unknown: usize,
        evaluated: Vec<Judged>,
    },
    Crossed {
        state: AlarmState,
        evaluated: Vec<Judged>,
        fill: Option<Fill>,
    },
}

fn decide(config: &EvaluationConfig, points: &[Point]) -> Outcome {
    let n = config.evaluation_periods as usize;
    let m = config.datapoints_to_alarm() as usize;
    let real = |point: &Point| point.value.filter(|v| v.is_finite());
    let reals: Vec<usize> = (0..points.len())
        .filter(|&i| real(&points[i]).is_some())
        .collect();
    // The judged periods: the N newest real ones, or every real one plus the newest
    // missing periods up to N.
    let chosen: Vec<usize> = if reals.len() >= n {
        reals[reals.len() - n..].to_vec()
    } else {
        let missing_needed = n - reals.len();
        let mut missing: Vec<usize> = (0..points.len())
            .rev()
            .filter(|&i| real(&points[i]).is_none())
            .take(missing_needed)
            .collect();
        missing.extend(&reals);
        missing.sort_unstable();
        missing
    };
    let fill = match config.treat_missing_data {
        TreatMissingData::Breaching if reals.len() < n => Some(Fill::Breaching),
        TreatMissingData::NotBreaching if reals.len() < n => Some(Fill::NotBreaching),
        _ => None,
    };
    let evaluated: Vec<Judged> = chosen
        .iter()
        .map(|&i| {
            let point = &points[i];
            let value = real(point);
            let breaching = match value {
                Some(v) => config.operator.breaches(v, config.threshold),
                None => fill.map(|fill| fill == Fill::Breaching),
            };
            Judged {
                timestamp: point.timestamp,
                value,
                sample_count: value.and(point.sample_count),
                breaching,
            }
        })
        .collect();

    if low_samples(config, &evaluated) {
        return Outcome::Keep;
    }
    let breaching = evaluated
        .iter()
        .filter(|j| j.breaching == Some(true))
        .count();
    let crossed = |state| Outcome::Crossed {
        state,
        evaluated: evaluated.clone(),
        fill,
    };
    let by_count = |count: usize| {
        if count >= m {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    };
    if reals.len() >= n || fill.is_some() {
        // Rules 2 and 3 (and rule 1 for breaching / notBreaching).
        return crossed(by_count(breaching));
    }
    // Rules 1 and 4: missing or ignore, fewer than N real points.
    if reals.is_empty() {
        return match config.treat_missing_data {
            TreatMissingData::Ignore => Outcome::Keep,
            _ => Outcome::Unknown {
                unknown: n,
                evaluated,
            },
        };
    }
    if breaching >= m {
        return crossed(AlarmState::Alarm);
    }
    if evaluated.iter().any(|j| j.breaching == Some(false)) {
        return crossed(AlarmState::Ok);
    }
    match config.treat_missing_data {
        TreatMissingData::Ignore => Outcome::Keep,
        _ => {
            // The premature-ALARM rule: the oldest breaching point is at least M periods
            // old (the newest period of the range being 1 period old).
            let oldest = reals.first().copied().unwrap_or(points.len());
            let age = points.len() - oldest;
            if age >= m {
                crossed(AlarmState::Alarm)
            } else {
                Outcome::Unknown {
                    unknown: n - reals.len(),
                    evaluated,
                }
            }
        }
    }
}

/// Whether a percentile alarm set to ignore low samples must skip this evaluation.
fn low_samples(config: &EvaluationConfig, evaluated: &[Judged]) -> bool {
    if config.low_sample_count != LowSampleCount::Ignore {
        return false;
    }
    let Some(minimum) = config.percentile.and_then(minimum_samples) else {
        return false;
    };
    evaluated
        .iter()
        .any(|j| j.value.is_some() && j.sample_count.is_some_and(|count| count < minimum))
}
