//! The one clock spotlab's shells read: real (tokio) time mapped to virtual time.
//!
//! Virtual time runs `scale` times faster than real time from an *origin*, a pair of
//! (real Unix milliseconds, virtual instant) at which both clocks agreed. The control
//! plane owns the origin and hands it to every process it starts through two
//! environment variables ([`SCALE_ENV`], [`ORIGIN_ENV`]); a process started by hand runs
//! at scale 1 with virtual time equal to the wall clock. Every rate, period, timeout and
//! timestamp a shell deals in is virtual; this type is the only place they become real
//! durations and instants for tokio.
//!
//! The wall clock is read once, at construction; from then on everything is derived
//! from `tokio::time::Instant`, so tests under `tokio::time::pause` are deterministic.
//! This crate deliberately knows nothing about HTTP, metrics or the fleet.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use simtime::{SimDuration, SimTime};
use tokio::time::Instant;

/// Environment variable holding the time scale, a whole number from 1 to [`MAX_SCALE`].
pub const SCALE_ENV: &str = "SPOTLAB_TIME_SCALE";
/// Environment variable holding the origin: `REAL_UNIX_MS:VIRTUAL_UNIX_MS`.
pub const ORIGIN_ENV: &str = "SPOTLAB_TIME_ORIGIN";
/// The fastest supported time scale.
pub const MAX_SCALE: u32 = 10_000;

/// Why a time scale or origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The scale is not a whole number in range.
    #[error("time scale {0:?} is not a whole number from 1 to {MAX_SCALE}")]
    Scale(String),
    /// The origin is not `REAL_UNIX_MS:VIRTUAL_UNIX_MS`.
    #[error("time origin {0:?} is not REAL_UNIX_MS:VIRTUAL_UNIX_MS")]
    Origin(String),
}

/// How much faster virtual time runs than real time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeScale(u32);

impl TimeScale {
    /// Real time.
    pub const REAL: TimeScale = TimeScale(1);

    /// A scale of `factor` (1 to [`MAX_SCALE`]).
    pub fn new(factor: u32) -> Result<TimeScale, ClockError> {
        if (1..=MAX_SCALE).contains(&factor) {
            Ok(TimeScale(factor))
        } else {
            Err(ClockError::Scale(factor.to_string()))
        }
    }

    /// Parses the decimal form used on command lines and in [`SCALE_ENV`].
    pub fn parse(text: &str) -> Result<TimeScale, ClockError> {
        text.trim()
            .parse::<u32>()
            .ok()
            .and_then(|factor| TimeScale::new(factor).ok())
            .ok_or_else(|| ClockError::Scale(text.to_owned()))
    }

    /// The factor.
    pub fn factor(self) -> u32 {
        self.0
    }

    /// The real duration that `virtual_span` takes, rounded up to the next nanosecond so
    /// that a sleep never ends before its virtual deadline.
    pub fn to_real(self, virtual_span: Duration) -> Duration {
        let nanos = virtual_span.as_nanos().div_ceil(u128::from(self.0));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The virtual duration that `real_span` stands for.
    pub fn to_virtual(self, real_span: Duration) -> Duration {
        real_span.saturating_mul(self.0)
    }
}

impl std::str::FromStr for TimeScale {
    type Err = ClockError;

    /// The decimal form, so that command-line parsers can take a `TimeScale` directly.
    fn from_str(text: &str) -> Result<TimeScale, ClockError> {
        TimeScale::parse(text)
    }
}

impl Default for TimeScale {
    fn default() -> Self {
        TimeScale::REAL
    }
}

impl std::fmt::Display for TimeScale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The moment at which real and virtual time agreed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Real wall-clock milliseconds since the Unix epoch.
    pub real_unix_ms: u64,
    /// The virtual instant at that moment.
    pub virtual_time: SimTime,
}

impl Origin {
    /// Parses `REAL_UNIX_MS:VIRTUAL_UNIX_MS`.
    pub fn parse(text: &str) -> Result<Origin, ClockError> {
        let error = || ClockError::Origin(text.to_owned());
        let (real, virt) = text.trim().split_once(':').ok_or_else(error)?;
        Ok(Origin {
            real_unix_ms: real.parse().map_err(|_| error())?,
            virtual_time: SimTime::from_millis(virt.parse().map_err(|_| error())?),
        })
    }

    /// The form [`Origin::parse`] reads, for [`ORIGIN_ENV`].
    pub fn to_env_value(self) -> String {
        format!("{}:{}", self.real_unix_ms, self.virtual_time.as_millis())
    }
}

/// Real time mapped to virtual time. Cheap to copy; every copy agrees.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// How much faster virtual time runs.
    scale: TimeScale,
    /// The tokio instant taken together with `start_virtual_ns`.
    start: Instant,
    /// Virtual nanoseconds since the Unix epoch at `start`.
    start_virtual_ns: u128,
}

impl Clock {
    /// A clock at `scale` whose virtual time agrees with `origin` (or, without one,
    /// with the wall clock now).
    pub fn new(scale: TimeScale, origin: Option<Origin>) -> Clock {
        let start = Instant::now();
        let wall_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let start_virtual_ns = match origin {
            None => wall_ns,
            Some(origin) => {
                let origin_real_ns = u128::from(origin.real_unix_ms) * 1_000_000;
                let origin_virtual_ns = u128::from(origin.virtual_time.as_millis()) * 1_000_000;
                let factor = u128::from(scale.factor());
                if wall_ns >= origin_real_ns {
                    origin_virtual_ns + (wall_ns - origin_real_ns) * factor
                } else {
                    origin_virtual_ns.saturating_sub((origin_real_ns - wall_ns) * factor)
                }
            }
        };
        Clock {
            scale,
            start,
            start_virtual_ns,
        }
    }

    /// A clock starting at virtual `at`, now; for tests and the embedded cloud.
    pub fn starting_at(scale: TimeScale, at: SimTime) -> Clock {
        Clock {
            scale,
            start: Instant::now(),
            start_virtual_ns: u128::from(at.as_millis()) * 1_000_000,
        }
    }

    /// The clock described by [`SCALE_ENV`] and [`ORIGIN_ENV`]; `scale` overrides the
    /// environment's scale when given.
    pub fn from_env(scale: Option<TimeScale>) -> Result<Clock, ClockError> {
        let scale = match scale {
            Some(scale) => scale,
            None => match std::env::var(SCALE_ENV) {
                Ok(text) => TimeScale::parse(&text)?,
                Err(_) => TimeScale::REAL,
            },
        };
        let origin = match std::env::var(ORIGIN_ENV) {
            Ok(text) => Some(Origin::parse(&text)?),
            Err(_) => None,
        };
        Ok(Clock::new(scale, origin))
    }

    /// The time scale.
    pub fn scale(&self) -> TimeScale {
        self.scale
    }

    /// The origin to hand to a child process so that its clock agrees with this one.
    pub fn origin(&self) -> Origin {
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Origin {
            real_unix_ms: u64::try_from(wall_ms).unwrap_or(u64::MAX),
            virtual_time: self.now(),
        }
    }

    /// Virtual nanoseconds since this clock was made: monotonic, for rate limiters and
    /// schedules.
    pub fn elapsed_nanos(&self) -> u64 {
        self.virtual_nanos_at(Instant::now())
    }

    /// Virtual nanoseconds since this clock was made, at the real instant `at`.
    pub fn virtual_nanos_at(&self, at: Instant) -> u64 {
        let real = at.saturating_duration_since(self.start);
        u64::try_from(self.scale.to_virtual(real).as_nanos()).unwrap_or(u64::MAX)
    }

    /// The real instant at which `elapsed_nanos` virtual nanoseconds will have passed.
    pub fn instant_at_nanos(&self, elapsed_nanos: u64) -> Instant {
        self.start + self.scale.to_real(Duration::from_nanos(elapsed_nanos))
    }

    /// Virtual nanoseconds since this clock was made at the virtual instant `t` (zero for
    /// instants before the clock was made).
    pub fn nanos_of(&self, t: SimTime) -> u64 {
        let ns = (u128::from(t.as_millis()) * 1_000_000).saturating_sub(self.start_virtual_ns);
        u64::try_from(ns).unwrap_or(u64::MAX)
    }

    /// The current virtual instant.
    pub fn now(&self) -> SimTime {
        self.time_at(Instant::now())
    }

    /// The virtual instant at the real instant `at`.
    pub fn time_at(&self, at: Instant) -> SimTime {
        let ns = self.start_virtual_ns + u128::from(self.virtual_nanos_at(at));
        SimTime::from_millis(u64::try_from(ns / 1_000_000).unwrap_or(u64::MAX))
    }

    /// The real instant at which virtual time reaches `t` (now, if it already has).
    pub fn instant_at(&self, t: SimTime) -> Instant {
        let target_ns = u128::from(t.as_millis()) * 1_000_000;
        let ahead = target_ns.saturating_sub(self.start_virtual_ns);
        let ahead = u64::try_from(ahead).unwrap_or(u64::MAX);
        self.instant_at_nanos(ahead).max(self.start)
    }

    /// The real duration of a virtual span.
    pub fn to_real(&self, virtual_span: Duration) -> Duration {
        self.scale.to_real(virtual_span)
    }

    /// The real duration of a virtual [`SimDuration`].
    pub fn real_of(&self, span: SimDuration) -> Duration {
        self.to_real(Duration::from_millis(span.as_millis()))
    }

    /// Sleeps for a virtual span.
    pub async fn sleep(&self, virtual_span: Duration) {
        tokio::time::sleep(self.to_real(virtual_span)).await;
    }

    /// Sleeps until virtual time reaches `t`.
    pub async fn sleep_until(&self, t: SimTime) {
        tokio::time::sleep_until(self.instant_at(t)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scales_and_origins() {
        assert_eq!(
            TimeScale::parse("60").expect("a valid test input").factor(),
            60
        );
        assert!(TimeScale::parse("0").is_err());
        assert!(TimeScale::parse("1.5").is_err());
        assert!(TimeScale::parse("10001").is_err());
        let origin = Origin::parse("1700000000000:1600000000000").expect("a valid test input");
        assert_eq!(origin.real_unix_ms, 1_700_000_000_000);
        assert_eq!(
            Origin::parse(&origin.to_env_value()).expect("a valid test input"),
            origin
        );
        assert!(Origin::parse("12").is_err());
    }

    #[test]
    fn real_durations_round_up() {
        let scale = TimeScale::new(60).expect("a valid test input");
        assert_eq!(
            scale.to_real(Duration::from_secs(60)),
            Duration::from_secs(1)
        );
        assert_eq!(
            scale.to_real(Duration::from_nanos(61)),
            Duration::from_nanos(2)
        );
        assert_eq!(
            scale.to_virtual(Duration::from_secs(2)),
            Duration::from_secs(120)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn virtual_time_runs_scale_times_faster() {
        let start = SimTime::parse("2026-01-01T00:00:00Z").expect("a valid timestamp");
        let clock = Clock::starting_at(TimeScale::new(60).expect("a valid test input"), start);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(clock.now(), start + SimDuration::from_mins(2));
        assert_eq!(clock.elapsed_nanos(), 120_000_000_000);
        let deadline = start + SimDuration::from_mins(3);
        clock.sleep_until(deadline).await;
        assert_eq!(clock.now(), deadline);
        clock.sleep(Duration::from_secs(30)).await;
        assert_eq!(clock.now(), deadline + SimDuration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn origins_agree_across_clocks() {
        let parent = Clock::new(TimeScale::new(60).expect("a valid test input"), None);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let child = Clock::new(parent.scale(), Some(parent.origin()));
        let gap = parent.now().as_millis().abs_diff(child.now().as_millis());
        // Both read the wall clock once; the gap is the real time between those reads.
        assert!(gap < 60_000, "clocks disagree by {gap} ms");
    }
}
