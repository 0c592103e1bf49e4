//! Added response latency: the `--latency` spec, parsed once, and sampling from it.
//!
//! Latencies are virtual spans; the server converts them to real sleeps through the
//! clock. Sampling takes the RNG as an argument, so this module reads no clock and owns
//! no randomness of its own.

use std::fmt;
use std::time::Duration;

use rand::{Rng, RngExt};
use simtime::SimDuration;

/// How long to delay each allowed response, in virtual time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Latency {
    /// No added latency (`0`).
    #[default]
    None,
    /// Always the same (`20ms`).
    Fixed(Duration),
    /// Uniform between two bounds, both included (`uniform:10ms..50ms`).
    Uniform {
        /// The shortest delay.
        low: Duration,
        /// The longest delay (at least `low`).
        high: Duration,
    },
    /// Exponential with the given mean (`exp:20ms`).
    Exponential {
        /// The mean delay.
        mean: Duration,
    },
    /// Normal, clamped at zero (`normal:50ms,10ms`).
    Normal {
        /// The mean delay.
        mean: Duration,
        /// The standard deviation.
        std_dev: Duration,
    },
}

/// A `--latency` spec that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "latency {0:?} is not 0, DURATION, uniform:LOW..HIGH, exp:MEAN or normal:MEAN,STDDEV \
     (durations like 20ms, 1s)"
)]
pub struct LatencyError(pub String);

impl Latency {
    /// Parses `0`, `20ms`, `uniform:10ms..50ms`, `exp:20ms` or `normal:50ms,10ms`.
    /// Durations have millisecond resolution (see [`SimDuration::parse`]).
    pub fn parse(text: &str) -> Result<Latency, LatencyError> {
        let error = || LatencyError(text.to_owned());
        let duration = |part: &str| {
            SimDuration::parse(part)
                .map(|span| Duration::from_millis(span.as_millis()))
                .ok_or_else(error)
        };
        let text = text.trim();
        let latency = match text.split_once(':') {
            None => Latency::Fixed(duration(text)?),
            Some(("uniform", bounds)) => {
                let (low, high) = bounds.split_once("..").ok_or_else(error)?;
                let (low, high) = (duration(low)?, duration(high)?);
                if low > high {
                    return Err(error());
                }
                Latency::Uniform { low, high }
            }
            Some(("exp", mean)) => Latency::Exponential {
                mean: duration(mean)?,
            },
            Some(("normal", params)) => {
                let (mean, std_dev) = params.split_once(',').ok_or_else(error)?;
                Latency::Normal {
                    mean: duration(mean)?,
                    std_dev: duration(std_dev)?,
                }
            }
            Some(_) => return Err(error()),
        };
        Ok(latency.simplified())
    }

    /// The same distribution in its simplest form: degenerate ones become
    /// [`Latency::Fixed`] or [`Latency::None`], so that they draw no randomness.
    fn simplified(self) -> Latency {
        let fixed = |span: Duration| {
            if span.is_zero() {
                Latency::None
            } else {
                Latency::Fixed(span)
            }
        };
        match self {
            Latency::None => Latency::None,
            Latency::Fixed(span) => fixed(span),
            Latency::Uniform { low, high } if low == high => fixed(low),
            Latency::Exponential { mean } if mean.is_zero() => Latency::None,
            Latency::Normal { mean, std_dev } if std_dev.is_zero() => fixed(mean),
            other => other,
        }
    }

    /// Whether [`Latency::sample`] draws from the RNG.
    pub fn is_random(&self) -> bool {
        !matches!(self, Latency::None | Latency::Fixed(_))
    }

    /// One delay drawn from the distribution (a fixed one draws nothing from `rng`).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        match *self {
            Latency::None => Duration::ZERO,
            Latency::Fixed(span) => span,
            Latency::Uniform { low, high } => {
                let nanos = rng.random_range(nanos(low)..=nanos(high));
                Duration::from_nanos(nanos)
            }
            Latency::Exponential { mean } => {
                // 1 - u is in (0, 1], so the logarithm is finite.
                let u: f64 = rng.random();
                from_secs_clamped(-(1.0 - u).ln() * mean.as_secs_f64())
            }
            Latency::Normal { mean, std_dev } => {
                // Box-Muller; the second variate is discarded.
                let (u1, u2): (f64, f64) = (rng.random(), rng.random());
                let radius = (-2.0 * (1.0 - u1).ln()).sqrt();
                let z = radius * (std::f64::consts::TAU * u2).cos();
                from_secs_clamped(mean.as_secs_f64() + z * std_dev.as_secs_f64())
            }
        }
    }
}

/// Whole nanoseconds of `span`, saturating (no spec parses to more than `u64::MAX` ns).
fn nanos(span: Duration) -> u64 {
    u64::try_from(span.as_nanos()).unwrap_or(u64::MAX)
}

/// `secs` as a duration, negative values clamped to zero and huge ones to a year.
fn from_secs_clamped(secs: f64) -> Duration {
    const YEAR_SECS: f64 = 365.0 * 86_400.0;
    Duration::try_from_secs_f64(secs.clamp(0.0, YEAR_SECS)).unwrap_or(Duration::ZERO)
}

impl fmt::Display for Latency {
    /// The form [`Latency::parse`] reads, in milliseconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |span: Duration| span.as_millis();
        match *self {
            Latency::None => write!(f, "0"),
            Latency::Fixed(span) => write!(f, "{}ms", ms(span)),
            Latency::Uniform { low, high } => {
                write!(f, "uniform:{}ms..{}ms", ms(low), ms(high))
            }
            Latency::Exponential { mean } => write!(f, "exp:{}ms", ms(mean)),
            Latency::Normal { mean, std_dev } => {
                write!(f, "normal:{}ms,{}ms", ms(mean), ms(std_dev))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn parses_every_form() {
        let table = [
            ("0", Latency::None),
            ("0ms", Latency::None),
            ("20ms", Latency::Fixed(ms(20))),
            ("2", Latency::Fixed(ms(2_000))),
            (
                "uniform:10ms..50ms",
                Latency::Uniform {
                    low: ms(10),
                    high: ms(50),
                },
            ),
            ("uniform:30ms..30ms", Latency::Fixed(ms(30))),
            ("exp:20ms", Latency::Exponential { mean: ms(20) }),
            ("exp:0", Latency::None),
            (
                " normal:50ms,10ms ",
                Latency::Normal {
                    mean: ms(50),
                    std_dev: ms(10),
                },
            ),
            ("normal:50ms,0ms", Latency::Fixed(ms(50))),
        ];
        for (text, expected) in table {
            assert_eq!(Latency::parse(text), Ok(expected), "{text}");
            // Display round-trips.
            assert_eq!(
                Latency::parse(&expected.to_string()),
                Ok(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_malformed_specs() {
        for text in [
            "",
            "fast",
            "-5ms",
            "20us",
            "uniform:50ms..10ms",
            "uniform:10ms",
            "exp:",
            "normal:50ms",
            "pareto:10ms",
        ] {
            assert!(Latency::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn samples_stay_in_range_and_average_near_the_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let uniform = Latency::parse("uniform:10ms..50ms").expect("a valid test input");
        assert!((0..1_000).all(|_| (ms(10)..=ms(50)).contains(&uniform.sample(&mut rng))));

        let mean_ms = |latency: Latency, rng: &mut ChaCha8Rng| {
            let total: Duration = (0..20_000).map(|_| latency.sample(rng)).sum();
            total.as_secs_f64() * 1e3 / 20_000.0
        };
        let exp = mean_ms(
            Latency::parse("exp:20ms").expect("a valid test input"),
            &mut rng,
        );
        assert!((19.0..21.0).contains(&exp), "exp mean {exp}");
        let normal = mean_ms(
            Latency::parse("normal:50ms,10ms").expect("a valid test input"),
            &mut rng,
        );
        assert!((49.0..51.0).contains(&normal), "normal mean {normal}");
        // Clamped at zero: a mean of 0 with spread gives no negative delays, mean > 0.
        let clamped = mean_ms(
            Latency::parse("normal:0ms,10ms").expect("a valid test input"),
            &mut rng,
        );
        assert!(clamped > 3.0, "clamped mean {clamped}");
    }

    #[test]
    fn only_distributions_draw_randomness() {
        assert!(!Latency::None.is_random());
        assert!(!Latency::Fixed(ms(1)).is_random());
        assert!(Latency::Exponential { mean: ms(1) }.is_random());
    }
}
