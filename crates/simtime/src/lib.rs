//! Virtual time: [`SimTime`] (an instant) and [`SimDuration`], both whole milliseconds.
//!
//! Every pure crate takes `now: SimTime` as an argument and never reads a clock; shells
//! own the clock and its time scale. An instant is milliseconds since the Unix epoch, so
//! it prints directly as the UTC timestamps AWS APIs use. This crate deliberately knows
//! nothing about time scales or real clocks.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An instant of virtual time: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(u64);

/// A span of virtual time in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(u64);

/// A timestamp string that is not an ISO-8601 / RFC 3339 UTC instant we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {input:?}: expected ISO-8601 such as 2024-05-01T10:00:00Z")]
pub struct TimestampError {
    /// The text that failed to parse.
    pub input: String,
}

impl SimTime {
    /// The Unix epoch.
    pub const EPOCH: SimTime = SimTime(0);
    /// The largest representable instant; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// An instant from milliseconds since the Unix epoch.
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Parses the timestamp forms AWS clients send: RFC 3339 (`2024-05-01T10:00:00Z`,
    /// with optional fraction or offset) and a bare date (`2024-05-01`, midnight UTC),
    /// which is what the AWS CLI turns `--start-time 2019-11-01` into.
    pub fn parse(text: &str) -> Result<SimTime, TimestampError> {
        let error = || TimestampError {
            input: text.to_owned(),
        };
        let trimmed = text.trim();
        let parsed = if trimmed.len() == 10 {
            OffsetDateTime::parse(&format!("{trimmed}T00:00:00Z"), &Rfc3339)
        } else {
            OffsetDateTime::parse(trimmed, &Rfc3339)
        }
        .map_err(|_| error())?;
        let ms = parsed.unix_timestamp_nanos() / 1_000_000;
        u64::try_from(ms).map(SimTime).map_err(|_| error())
    }

    fn datetime(self) -> OffsetDateTime {
        let nanos = i128::from(self.0) * 1_000_000;
        // Every u64 millisecond count below year 9999 converts; later instants (only
        // `SimTime::MAX`, used as "never") clamp to the largest representable date.
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(time::macros::datetime!(9999-12-31 23:59:59.999 UTC))
    }

    /// `2024-05-01T10:00:00.000Z`: the form EC2 responses use.
    pub fn to_iso_millis(self) -> String {
        let d = self.datetime();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            d.millisecond()
        )
    }

    /// `2024-05-01T10:00:00Z`: whole seconds, the form of IMDS notices and event envelopes.
    pub fn to_iso_seconds(self) -> String {
        let d = self.datetime();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        )
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms)
    }
    /// A span of `s` seconds.
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * 1_000)
    }
    /// A span of `m` minutes.
    pub const fn from_mins(m: u64) -> SimDuration {
        SimDuration(m * 60_000)
    }
    /// A span of `h` hours.
    pub const fn from_hours(h: u64) -> SimDuration {
        SimDuration(h * 3_600_000)
    }
    /// A span of `d` days.
    pub const fn from_days(d: u64) -> SimDuration {
        SimDuration(d * 86_400_000)
    }
    /// Whole milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
    /// Whole seconds, rounded down.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000
    }
    /// Hours as a float, for reports.
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / 3_600_000.0
    }

    /// Parses `90s`, `2m`, `1h30m`, `7d`, `250ms` or a bare number of seconds.
    pub fn parse(text: &str) -> Option<SimDuration> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Ok(secs) = text.parse::<u64>() {
            return secs.checked_mul(1_000).map(SimDuration);
        }
        let mut total: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit())?;
            if digits == 0 {
                return None;
            }
            let value: u64 = rest[..digits].parse().ok()?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let factor = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return None,
            };
            total = total.checked_add(value.checked_mul(factor)?)?;
            rest = &rest[unit_len..];
        }
        Some(SimDuration(total))
    }
}

impl fmt::Display for SimDuration {
    /// Compact human form: `2m`, `1h30m`, `1d2h`, `250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        if !ms.is_multiple_of(1_000) && ms < 60_000 {
            return if ms < 1_000 {
                write!(f, "{ms}ms")
            } else {
                write!(f, "{}.{:03}s", ms / 1_000, ms % 1_000)
            };
        }
        let secs = ms / 1_000;
        let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
        for (value, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
            if value > 0 {
                write!(f, "{value}{unit}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso_seconds())
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(rhs.0))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Serialize for SimTime {
    /// Serialises as the ISO form with milliseconds, like AWS's JSON outputs.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso_millis())
    }
}

impl Serialize for SimDuration {
    /// Serialises in the compact human form (`2m`, `1h30m`) that [`SimDuration::parse`]
    /// reads back.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SimTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SimTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        SimTime::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_timestamps() {
        let t = SimTime::parse("2024-05-01T10:00:00Z").expect("a valid timestamp");
        assert_eq!(t.to_iso_millis(), "2024-05-01T10:00:00.000Z");
        assert_eq!(t.to_iso_seconds(), "2024-05-01T10:00:00Z");
        let with_fraction = SimTime::parse("2024-05-01T10:00:00.250Z").expect("a valid timestamp");
        assert_eq!(
            with_fraction.saturating_since(t),
            SimDuration::from_millis(250)
        );
        assert_eq!(
            SimTime::parse("2019-11-01")
                .expect("a valid timestamp")
                .to_iso_seconds(),
            "2019-11-01T00:00:00Z"
        );
        assert!(SimTime::parse("yesterday").is_err());
        assert_eq!(SimTime::MAX.to_iso_seconds(), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn parses_and_prints_durations() {
        for (text, ms) in [
            ("90", 90_000),
            ("90s", 90_000),
            ("2m", 120_000),
            ("1h30m", 5_400_000),
            ("7d", 604_800_000),
            ("250ms", 250),
        ] {
            assert_eq!(
                SimDuration::parse(text),
                Some(SimDuration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in ["", "h", "5x", "1.5h"] {
            assert_eq!(SimDuration::parse(bad), None, "{bad}");
        }
        assert_eq!(SimDuration::from_millis(5_400_000).to_string(), "1h30m");
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!(SimDuration::from_days(1).to_string(), "1d");
    }
}
