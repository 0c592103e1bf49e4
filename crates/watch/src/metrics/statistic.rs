//! [`Statistic`]: CloudWatch's statistic names, parsed once into a checked type and
//! printed back exactly as they were spelled.
//!
//! Grammar (fact sheet 2.2): `SampleCount | Sum | Average | Minimum | Maximum`, `pN`,
//! `tmN`, `wmN`, `tcN`, `tsN` (N a percentage, lower case only: upper bound), `IQM`,
//! `TM(..)`, `WM(..)`, `TC(..)`, `TS(..)` with `a%:b%` or `x:y` bounds (either side may be
//! empty), `PR(x:y)` with absolute bounds only. Numbers are decimal without sign or
//! exponent (`99`, `99.9`, `0.5`).

use std::fmt;
use std::str::FromStr;

/// A statistic CloudWatch computes over a period.
#[derive(Clone, Debug, PartialEq)]
pub enum Statistic {
    /// Number of values.
    SampleCount,
    /// Sum of the values.
    Sum,
    /// Sum / SampleCount.
    Average,
    /// Smallest value.
    Minimum,
    /// Largest value.
    Maximum,
    /// A percentile or another statistic that needs the values' distribution.
    Extended(ExtendedStatistic),
}

/// An extended statistic: its meaning and the spelling it was given in.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtendedStatistic {
    /// What to compute.
    kind: ExtendedKind,
    /// The text as parsed (`p99`, `TM(10%:90%)`, `IQM`), echoed in outputs.
    spelling: String,
}

/// What an extended statistic computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ExtendedKind {
    /// Nearest-rank percentile, 0 to 100.
    Percentile(f64),
    /// Mean of the values inside the bounds (`TM`, `tm`, `IQM`).
    TrimmedMean(Bounds),
    /// Mean after clamping the values outside the bounds to the boundary (`WM`, `wm`).
    WinsorizedMean(Bounds),
    /// Number of values inside the bounds (`TC`, `tc`).
    TrimmedCount(Bounds),
    /// Sum of the values inside the bounds (`TS`, `ts`).
    TrimmedSum(Bounds),
    /// Percentage of values inside absolute bounds (`PR`): lower exclusive, upper inclusive.
    PercentileRank {
        /// Exclusive lower bound, if any.
        lower: Option<f64>,
        /// Inclusive upper bound, if any.
        upper: Option<f64>,
    },
}

/// The bounds of a trimmed, winsorized, count or sum statistic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bounds {
    /// Percentile bounds (`TM(10%:90%)`): keep the values ranked above `lower`% and up to
    /// `upper`% of the count.
    Percent {
        /// Lower percentage (0 when absent).
        lower: Option<f64>,
        /// Upper percentage (100 when absent).
        upper: Option<f64>,
    },
    /// Absolute bounds (`TM(150:1000)`): `lower < value <= upper`.
    Absolute {
        /// Exclusive lower bound, if any.
        lower: Option<f64>,
        /// Inclusive upper bound, if any.
        upper: Option<f64>,
    },
}

/// A statistic name CloudWatch would not accept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a valid statistic: {reason}")]
pub struct StatisticError {
    /// The text given.
    pub text: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl Statistic {
    /// Parses any statistic: the five basic names or an extended statistic.
    pub fn parse(text: &str) -> Result<Statistic, StatisticError> {
        match Statistic::parse_basic(text) {
            Some(statistic) => Ok(statistic),
            None => ExtendedStatistic::parse(text).map(Statistic::Extended),
        }
    }

    /// Parses one of the five basic statistics (`Statistics` members), else `None`.
    pub fn parse_basic(text: &str) -> Option<Statistic> {
        Some(match text {
            "SampleCount" => Statistic::SampleCount,
            "Sum" => Statistic::Sum,
            "Average" => Statistic::Average,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            _ => return None,
        })
    }

    /// Whether computing it needs the values' distribution.
    pub fn is_extended(&self) -> bool {
        matches!(self, Statistic::Extended(_))
    }

    /// The name as CloudWatch spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Statistic::SampleCount => "SampleCount",
            Statistic::Sum => "Sum",
            Statistic::Average => "Average",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
            Statistic::Extended(extended) => extended.as_str(),
        }
    }
}

impl FromStr for Statistic {
    type Err = StatisticError;
    fn from_str(text: &str) -> Result<Statistic, StatisticError> {
        Statistic::parse(text)
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ExtendedStatistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelling)
    }
}

impl ExtendedStatistic {
    /// Parses an extended statistic (`ExtendedStatistics` members).
    pub fn parse(text: &str) -> Result<ExtendedStatistic, StatisticError> {
        let error = |reason| StatisticError {
            text: text.to_owned(),
            reason,
        };
        let kind = parse_kind(text).map_err(error)?;
        Ok(ExtendedStatistic {
            kind,
            spelling: text.to_owned(),
        })
    }

    /// What it computes.
    pub fn kind(&self) -> ExtendedKind {
        self.kind
    }

    /// The spelling it was parsed from, e.g. `p99.9`.
    pub fn as_str(&self) -> &str {
        &self.spelling
    }
}

/// A decimal number without sign or exponent.
fn number(text: &str) -> Result<f64, &'static str> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err("expected a decimal number");
    }
    text.parse::<f64>().map_err(|_| "expected a decimal number")
}

/// A percentage from 0 to 100.
fn percentage(text: &str) -> Result<f64, &'static str> {
    let value = number(text)?;
    if value > 100.0 {
        return Err("percentages must be between 0 and 100");
    }
    Ok(value)
}

fn parse_kind(text: &str) -> Result<ExtendedKind, &'static str> {
    if text == "IQM" {
        return Ok(ExtendedKind::TrimmedMean(Bounds::Percent {
            lower: Some(25.0),
            upper: Some(75.0),
        }));
    }
    if let Some(rest) = text.strip_prefix('p') {
        return Ok(ExtendedKind::Percentile(percentage(rest)?));
    }
    type Make = fn(Bounds) -> ExtendedKind;
    let shorthand: [(&str, Make); 4] = [
        ("tm", ExtendedKind::TrimmedMean),
        ("wm", ExtendedKind::WinsorizedMean),
        ("tc", ExtendedKind::TrimmedCount),
        ("ts", ExtendedKind::TrimmedSum),
    ];
    for (prefix, make) in shorthand {
        if let Some(rest) = text.strip_prefix(prefix) {
            let upper = percentage(rest)?;
            if upper == 0.0 {
                return Err("the upper percentage must be above 0");
            }
            return Ok(make(Bounds::Percent {
                lower: None,
                upper: Some(upper),
            }));
        }
    }
    let Some(open) = text.find('(') else {
        return Err("unknown statistic");
    };
    let Some(inner) = text[open + 1..].strip_suffix(')') else {
        return Err("expected a closing parenthesis");
    };
    let bounds = parse_bounds(inner)?;
    let make: Make = match &text[..open] {
        "TM" => ExtendedKind::TrimmedMean,
        "WM" => ExtendedKind::WinsorizedMean,
        "TC" => ExtendedKind::TrimmedCount,
        "TS" => ExtendedKind::TrimmedSum,
        "PR" => {
            return match bounds {
                Bounds::Absolute { lower, upper } => {
                    Ok(ExtendedKind::PercentileRank { lower, upper })
                }
                Bounds::Percent { .. } => Err("PR takes absolute bounds, not percentages"),
            };
        }
        _ => return Err("unknown statistic"),
    };
    Ok(make(bounds))
}

/// `a%:b%` or `x:y`, either side possibly empty, not both.
fn parse_bounds(inner: &str) -> Result<Bounds, &'static str> {
    let Some((low, high)) = inner.split_once(':') else {
        return Err("expected bounds separated by ':'");
    };
    if low.is_empty() && high.is_empty() {
        return Err("at least one bound is required");
    }
    let low_percent = low.ends_with('%');
    let high_percent = high.ends_with('%');
    let percent = match (low.is_empty(), high.is_empty()) {
        (true, _) => high_percent,
        (_, true) => low_percent,
        _ if low_percent == high_percent => low_percent,
        _ => return Err("bounds must both be percentages or both be absolute"),
    };
    let side = |text: &str| -> Result<Option<f64>, &'static str> {
        if text.is_empty() {
            return Ok(None);
        }
        if percent {
            let digits = text.strip_suffix('%').ok_or("expected a percentage")?;
            percentage(digits).map(Some)
        } else {
            number(text).map(Some)
        }
    };
    let (lower, upper) = (side(low)?, side(high)?);
    if let (Some(lower), Some(upper)) = (lower, upper)
        && lower >= upper
    {
        return Err("the lower bound must be below the upper bound");
    }
    if percent && upper == Some(0.0) {
        return Err("the upper percentage must be above 0");
    }
    Ok(if percent {
        Bounds::Percent { lower, upper }
    } else {
        Bounds::Absolute { lower, upper }
    })
}
