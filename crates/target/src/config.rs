//! The command line of `spotlab target`, parsed once into checked types.
//!
//! Every flag is checked by its value parser, so a [`TargetArgs`] only ever holds valid
//! values; the one cross-flag check (rate and burst together) happens when
//! [`crate::Target::new`] builds the limiter. This module starts nothing and reads no
//! clock.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;

use clock::{SCALE_ENV, TimeScale};

use crate::latency::Latency;
use crate::limiter::{DEFAULT_BURST, DEFAULT_RATE_PER_SEC, Quota};

/// spotlab target: a throttled HTTP service to test a load generator against.
///
/// Rates and latencies are virtual: at --time-scale 60 a rate of 5 per second admits
/// 300 requests per real second.
#[derive(Clone, Debug, clap::Args)]
pub struct TargetArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Requests allowed per virtual second in the long run.
    #[arg(long, value_name = "F", default_value_t = DEFAULT_RATE_PER_SEC, value_parser = parse_rate)]
    pub rate: f64,
    /// Requests allowed at the same instant after an idle period (1 = strict spacing).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub burst: u32,
    /// Worker threads [default: the number of available cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<NonZeroUsize>,
    /// Added latency of allowed responses, virtual: 0, 20ms, uniform:10ms..50ms,
    /// exp:20ms (exponential with that mean) or normal:50ms,10ms (clamped at 0).
    #[arg(long, value_name = "SPEC", default_value = "0", value_parser = parse_latency)]
    pub latency: Latency,
    /// Share of allowed requests answered 500 Internal Server Error, from 0 to 1.
    #[arg(long, value_name = "F", default_value_t = ErrorRatio::NEVER, value_parser = parse_error_ratio)]
    pub error_ratio: ErrorRatio,
    /// Seed of the latency and error draws.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Log every answered request to FILE as `$msec $remote_port $status` lines (the
    /// nginx `log_format` the benchmarks read); virtual time.
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<std::path::PathBuf>,
    /// How many times faster virtual time runs than real time (1 to 10000).
    #[arg(long, value_name = "N", env = SCALE_ENV, default_value_t = TimeScale::REAL)]
    pub time_scale: TimeScale,
}

impl TargetArgs {
    /// The behaviour these flags ask for, apart from where and how to run.
    pub fn target_config(&self) -> TargetConfig {
        TargetConfig {
            quota: Quota {
                rate_per_sec: self.rate,
                burst: self.burst,
            },
            latency: self.latency,
            error_ratio: self.error_ratio,
            seed: self.seed,
        }
    }

    /// Worker threads: `--threads`, else the available cores, else 1.
    pub fn worker_threads(&self) -> NonZeroUsize {
        self.threads
            .or_else(|| std::thread::available_parallelism().ok())
            .unwrap_or(NonZeroUsize::MIN)
    }
}

/// What the target does with requests: everything but the socket and the clock.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TargetConfig {
    /// The rate limit of `/`.
    pub quota: Quota,
    /// Added latency of allowed responses (virtual).
    pub latency: Latency,
    /// Share of allowed requests answered 500.
    pub error_ratio: ErrorRatio,
    /// Seed of the latency and error draws.
    pub seed: u64,
}

/// A share of requests, from 0 to 1 inclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct ErrorRatio(f64);

/// An error ratio outside [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("error ratio {0} is not a number from 0 to 1")]
pub struct ErrorRatioError(pub f64);

impl ErrorRatio {
    /// No request fails.
    pub const NEVER: ErrorRatio = ErrorRatio(0.0);
    /// Every allowed request fails.
    pub const ALWAYS: ErrorRatio = ErrorRatio(1.0);

    /// `ratio`, if it is from 0 to 1.
    pub fn new(ratio: f64) -> Result<ErrorRatio, ErrorRatioError> {
        if (0.0..=1.0).contains(&ratio) {
            Ok(ErrorRatio(ratio))
        } else {
            Err(ErrorRatioError(ratio))
        }
    }

    /// The share, from 0 to 1.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for ErrorRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    let quota = Quota {
        rate_per_sec: rate,
        burst: 1,
    };
    crate::limiter::Limiter::new(quota).map_err(|error| error.to_string())?;
    Ok(rate)
}

fn parse_latency(text: &str) -> Result<Latency, String> {
    Latency::parse(text).map_err(|error| error.to_string())
}

fn parse_error_ratio(text: &str) -> Result<ErrorRatio, String> {
    let ratio: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    ErrorRatio::new(ratio).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: TargetArgs,
    }

    fn parse(args: &[&str]) -> Result<TargetArgs, clap::Error> {
        let argv = std::iter::once("target").chain(args.iter().copied());
        Cli::try_parse_from(argv).map(|cli| cli.args)
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let args = parse(&[]).expect("a valid test input");
        assert_eq!(
            args.listen,
            "127.0.0.1:8080".parse().expect("a valid test input")
        );
        assert_eq!(args.threads, None);
        // The scale may come from the environment; everything else is fixed.
        assert_eq!(args.target_config(), TargetConfig::default());
    }

    #[test]
    fn flags_parse_into_checked_types() {
        let args = parse(&[
            "--listen",
            "0.0.0.0:0",
            "--rate",
            "2.5",
            "--burst",
            "1",
            "--threads",
            "3",
            "--latency",
            "exp:20ms",
            "--error-ratio",
            "0.25",
            "--seed",
            "9",
            "--time-scale",
            "60",
        ])
        .expect("the test's input is valid");
        assert_eq!(args.listen.port(), 0);
        assert_eq!(args.worker_threads().get(), 3);
        assert_eq!(args.time_scale.factor(), 60);
        let config = args.target_config();
        assert_eq!(config.quota.rate_per_sec, 2.5);
        assert_eq!(config.quota.burst, 1);
        assert_eq!(config.error_ratio.get(), 0.25);
        assert_eq!(config.seed, 9);
        assert!(config.latency.is_random());
    }

    #[test]
    fn bad_values_are_refused_at_parse_time() {
        for bad in [
            &["--rate", "0"][..],
            &["--rate", "-1"],
            &["--rate", "fast"],
            &["--burst", "0"],
            &["--threads", "0"],
            &["--latency", "20us"],
            &["--error-ratio", "1.5"],
            &["--error-ratio", "NaN"],
            &["--time-scale", "0"],
            &["--listen", "localhost"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
