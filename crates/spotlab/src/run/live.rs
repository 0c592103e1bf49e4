//! The live view of a run. On a terminal: a status block redrawn in place (phase,
//! fleet capacity by pool, requests per second by outcome, error rate against the
//! threshold, alarm state, interruptions) under a progress bar for the current step.
//! Otherwise: plain lines, one per event and one status line every 30 virtual seconds.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use simtime::SimDuration;

use super::expect::Outcome;

/// What the status shows.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// Virtual time since the run started.
    pub elapsed: SimDuration,
    /// The current phase.
    pub phase: String,
    /// Target capacity.
    pub target: f64,
    /// Fulfilled capacity.
    pub fulfilled: f64,
    /// Fulfilled capacity by pool.
    pub by_pool: BTreeMap<String, f64>,
    /// Successful requests per second (last 10 s).
    pub success_per_s: f64,
    /// Failed requests per second (last 10 s).
    pub error_per_s: f64,
    /// Errors / requests (last 10 s).
    pub error_rate: f64,
    /// The alarm's threshold.
    pub threshold: Option<f64>,
    /// The alarm's state.
    pub alarm: String,
    /// Instances that left the fleet so far.
    pub interruptions: usize,
}

impl Status {
    /// One line.
    pub fn line(&self) -> String {
        let pools: Vec<String> = self
            .by_pool
            .iter()
            .map(|(pool, c)| format!("{pool}: {c}"))
            .collect();
        let threshold = self
            .threshold
            .map(|t| format!(" (threshold {:.0}%)", t * 100.0))
            .unwrap_or_default();
        format!(
            "[{}] {} | capacity {}/{} [{}] | {:.1} ok/s {:.1} err/s | errors {:.1}%{threshold} | alarm {} | left the fleet {}",
            clock(self.elapsed),
            self.phase,
            self.fulfilled,
            self.target,
            pools.join(", "),
            self.success_per_s,
            self.error_per_s,
            self.error_rate * 100.0,
            if self.alarm.is_empty() {
                "-"
            } else {
                &self.alarm
            },
            self.interruptions,
        )
    }
}

/// `m:ss` of virtual time.
pub fn clock(d: SimDuration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// The view; cheap to clone.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    bar: Option<ProgressBar>,
    last_plain: Option<SimDuration>,
    quiet: bool,
}

impl Live {
    /// A view on stderr: redrawn on a terminal, plain lines otherwise. `quiet` keeps
    /// only events and verdicts.
    pub fn new(quiet: bool) -> Live {
        let bar = (std::io::stderr().is_terminal() && !quiet).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:24}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_length(1);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Live {
            inner: Arc::new(Mutex::new(Inner {
                bar,
                last_plain: None,
                quiet,
            })),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut inner)
    }

    /// An event line.
    pub fn line(&self, text: &str) {
        self.with(|inner| match &inner.bar {
            Some(bar) => bar.println(format!("  {text}")),
            None => {
                let _ = writeln!(std::io::stderr(), "  {text}");
            }
        });
    }

    /// A new phase.
    pub fn phase(&self, name: &str) {
        self.with(|inner| match &inner.bar {
            Some(bar) => bar.println(format!("== {name}")),
            None => {
                let _ = writeln!(std::io::stderr(), "== {name}");
            }
        });
    }

    /// A new step.
    pub fn step(&self, label: &str) {
        self.line(label);
    }

    /// The current status.
    pub fn update(&self, status: &Status) {
        self.with(|inner| match &inner.bar {
            Some(bar) => bar.set_message(status.line()),
            None => {
                let due = inner
                    .last_plain
                    .is_none_or(|last| status.elapsed.as_millis() >= last.as_millis() + 30_000);
                if due && !inner.quiet {
                    inner.last_plain = Some(status.elapsed);
                    let _ = writeln!(std::io::stderr(), "  {}", status.line());
                }
            }
        });
    }

    /// How far the current wait has come: `done` of at most `total` virtual seconds.
    pub fn progress(&self, done: u64, total: u64) {
        self.with(|inner| {
            if let Some(bar) = &inner.bar {
                bar.set_length(total.max(1));
                bar.set_position(done.min(total));
            }
        });
    }

    /// An expectation's verdict.
    pub fn outcome(&self, outcome: &Outcome) {
        let mark = if outcome.passed { "PASS" } else { "FAIL" };
        self.line(&format!(
            "{mark} {}: expected {}, measured {}",
            outcome.what, outcome.expected, outcome.measured
        ));
    }

    /// Clears the status line.
    pub fn finish(&self) {
        self.with(|inner| {
            if let Some(bar) = inner.bar.take() {
                bar.finish_and_clear();
            }
        });
    }
}
