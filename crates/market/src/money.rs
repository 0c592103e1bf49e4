//! Money: [`Price`] (integer micro-dollars per instance-hour) and [`Cost`] (an exact
//! accumulator of price x time). Integers keep simulations byte-for-byte reproducible;
//! floats appear only when a report prints a ratio.

use std::fmt;
use std::ops::{Add, AddAssign};

use serde::{Serialize, Serializer};
use simtime::SimDuration;

/// Micro-dollars (1e-6 USD) per instance-hour. The data files carry six decimals, so
/// every real price is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(u64);

/// A price string that is not a non-negative decimal number of dollars.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid price {input:?}: expected a decimal number of US dollars such as 0.05")]
pub struct PriceError {
    /// The text that failed to parse.
    pub input: String,
}

impl Price {
    /// Zero dollars per hour.
    pub const ZERO: Price = Price(0);

    /// A price from micro-dollars per hour.
    pub const fn from_micros(micros: u64) -> Price {
        Price(micros)
    }

    /// Micro-dollars per hour.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Dollars per hour as a float, for reports and ratios only.
    pub fn as_dollars_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Parses a decimal dollar amount (`0.05`, `1`, `0.0123456`). Digits beyond the
    /// sixth decimal are rounded half up, as a price can't be finer than a micro-dollar.
    pub fn parse_dollars(text: &str) -> Result<Price, PriceError> {
        let error = || PriceError {
            input: text.to_owned(),
        };
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(error());
        }
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || !all_digits(fraction) {
            return Err(error());
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| error())?
        };
        let mut micros: u64 = 0;
        for (i, digit) in fraction.bytes().take(6).enumerate() {
            micros += u64::from(digit - b'0') * 10u64.pow(5 - i as u32);
        }
        if fraction.as_bytes().get(6).is_some_and(|d| *d >= b'5') {
            micros += 1;
        }
        whole
            .checked_mul(1_000_000)
            .and_then(|w| w.checked_add(micros))
            .map(Price)
            .ok_or_else(error)
    }

    /// This price scaled by `numerator / denominator`, rounded to the nearest micro-dollar.
    pub fn scale(self, numerator: u64, denominator: u64) -> Price {
        if denominator == 0 {
            return self;
        }
        let scaled = (u128::from(self.0) * u128::from(numerator) + u128::from(denominator) / 2)
            / u128::from(denominator);
        Price(u64::try_from(scaled).unwrap_or(u64::MAX))
    }

    /// Six decimals, no currency sign: `0.080000`, the form DescribeSpotPriceHistory uses.
    pub fn to_aws_string(self) -> String {
        format!("{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

impl fmt::Display for Price {
    /// `$0.080000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.to_aws_string())
    }
}

impl Serialize for Price {
    /// Serialises as AWS does: a decimal string.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_aws_string())
    }
}

/// Accrued cost, exact: micro-dollar-milliseconds per hour, i.e. the sum of
/// `price (micro-dollars/hour) x duration (ms)`. Divide by 3.6e9 for dollars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cost(u128);

const MICRO_DOLLAR_MS_PER_DOLLAR_HOUR: f64 = 1e6 * 3_600_000.0;

impl Cost {
    /// Nothing spent.
    pub const ZERO: Cost = Cost(0);

    /// What running at `price` for `duration` costs.
    pub fn of(price: Price, duration: SimDuration) -> Cost {
        Cost(u128::from(price.as_micros()) * u128::from(duration.as_millis()))
    }

    /// Dollars as a float, for reports.
    pub fn as_dollars_f64(self) -> f64 {
        self.0 as f64 / MICRO_DOLLAR_MS_PER_DOLLAR_HOUR
    }

    /// The raw exact value (micro-dollar-milliseconds per hour).
    pub const fn raw(self) -> u128 {
        self.0
    }
}

impl Add for Cost {
    type Output = Cost;
    fn add(self, rhs: Cost) -> Cost {
        Cost(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Cost {
    fn add_assign(&mut self, rhs: Cost) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl std::iter::Sum for Cost {
    fn sum<I: Iterator<Item = Cost>>(iter: I) -> Cost {
        iter.fold(Cost::ZERO, Add::add)
    }
}

impl fmt::Display for Cost {
    /// `$1.2345` (four decimals).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Round to 1e-4 dollars in integers so output never depends on float formatting.
        let unit = 100 * 3_600_000u128; // 1e-4 dollars in micro-dollar-ms per hour
        let tenths_of_cents = (self.0 + unit / 2) / unit;
        write!(
            f,
            "${}.{:04}",
            tenths_of_cents / 10_000,
            tenths_of_cents % 10_000
        )
    }
}

impl Serialize for Cost {
    /// Serialises as a decimal string of dollars with four decimals.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.to_string().trim_start_matches('$'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prices_exactly() {
        for (text, micros) in [
            ("0.05", 50_000),
            ("1", 1_000_000),
            (".5", 500_000),
            ("0.023000", 23_000),
            ("0.0000005", 1),
            ("0.0000004", 0),
        ] {
            assert_eq!(
                Price::parse_dollars(text),
                Ok(Price::from_micros(micros)),
                "{text}"
            );
        }
        for bad in ["", ".", "-1", "1e3", "abc", "0.0.1"] {
            assert!(Price::parse_dollars(bad).is_err(), "{bad}");
        }
        assert_eq!(Price::from_micros(80_000).to_aws_string(), "0.080000");
    }

    #[test]
    fn cost_is_exact_and_prints_in_dollars() {
        let hour = Cost::of(Price::from_micros(23_000), SimDuration::from_hours(1));
        assert_eq!(hour.to_string(), "$0.0230");
        let day: Cost = (0..24).map(|_| hour).sum();
        assert_eq!(day.to_string(), "$0.5520");
        assert!((day.as_dollars_f64() - 0.552).abs() < 1e-12);
    }
}
