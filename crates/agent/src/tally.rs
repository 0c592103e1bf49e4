//! [`Tally`]: the agent's books. Sends and completions are recorded into the open
//! interval; closing an interval yields a [`Report`] and adds it to the run's totals.
//!
//! Every completion lands in exactly one interval (the one open when it is recorded),
//! and the totals are the sum of the closed intervals, so the checkpoint always equals
//! the sum of the reports. Pure: callers pass times in.

use agent_wire::{Checkpoint, Counts, Latency, Outcome, Report, Source, StopReason};
use simtime::SimTime;

/// One completed request, as the caller measured it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// How it ended.
    pub outcome: Outcome,
    /// Virtual µs from its scheduled send time to completion.
    pub from_scheduled_us: u64,
    /// Virtual µs from its actual send time to completion.
    pub from_sent_us: u64,
}

/// The run's books.
#[derive(Debug)]
pub struct Tally {
    /// Identity stamped on every report.
    source: Source,
    /// The open interval.
    open: Interval,
    /// Sum of every closed interval.
    totals: Interval,
    /// Seq of the next report.
    next_seq: u64,
    /// First and last send, virtual.
    first_send: Option<SimTime>,
    last_send: Option<SimTime>,
    /// Whether the last report has been produced.
    finished: bool,
}

#[derive(Clone, Debug, Default)]
struct Interval {
    start: SimTime,
    counts: Counts,
    scheduled: Latency,
    sent: Latency,
}

impl Interval {
    fn starting(start: SimTime) -> Interval {
        Interval {
            start,
            ..Interval::default()
        }
    }
}

impl Tally {
    /// Empty books whose first interval opens at `start`.
    pub fn new(source: Source, start: SimTime) -> Tally {
        Tally {
            source,
            open: Interval::starting(start),
            totals: Interval::starting(start),
            next_seq: 0,
            first_send: None,
            last_send: None,
            finished: false,
        }
    }

    /// Records a send made at `at`; `late` if it went out past the lateness threshold.
    pub fn sent(&mut self, at: SimTime, late: bool) {
        self.open.counts.sent += 1;
        self.open.counts.late += u64::from(late);
        self.first_send.get_or_insert(at);
        self.last_send = Some(at);
    }

    /// Records `count` scheduled sends that were skipped.
    pub fn skipped(&mut self, count: u64) {
        self.open.counts.skipped += count;
    }

    /// Records a completed request.
    pub fn completed(&mut self, completion: Completion) {
        self.open.counts.record(completion.outcome);
        self.open
            .scheduled
            .record_micros(completion.from_scheduled_us);
        self.open.sent.record_micros(completion.from_sent_us);
    }

    /// The open interval's counts so far.
    pub fn open_counts(&self) -> &Counts {
        &self.open.counts
    }

    /// Closes the open interval at `end`, opens the next one, and returns its report.
    /// `last` marks the run's final report; nothing may be recorded after it.
    pub fn close(&mut self, end: SimTime, last: bool) -> Report {
        let closed = std::mem::replace(&mut self.open, Interval::starting(end));
        self.totals.counts.merge(&closed.counts);
        self.totals.scheduled.merge(&closed.scheduled);
        self.totals.sent.merge(&closed.sent);
        let report = Report {
            source: self.source.clone(),
            seq: self.next_seq,
            start: closed.start,
            end,
            counts: closed.counts,
            latency_scheduled: closed.scheduled,
            latency_actual: closed.sent,
            last,
        };
        self.next_seq += 1;
        self.finished |= last;
        report
    }

    /// Whether the last report has been produced.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Totals of every closed interval.
    pub fn totals(&self) -> &Counts {
        &self.totals.counts
    }

    /// Latency of every closed interval, from scheduled send times.
    pub fn latency_scheduled(&self) -> &Latency {
        &self.totals.scheduled
    }

    /// Latency of every closed interval, from actual send times.
    pub fn latency_actual(&self) -> &Latency {
        &self.totals.sent
    }

    /// The run's checkpoint: the totals of every closed interval.
    pub fn checkpoint(
        &self,
        reason: StopReason,
        written: SimTime,
        callers: u32,
        rate_per_caller: f64,
    ) -> Checkpoint {
        Checkpoint {
            source: self.source.clone(),
            reason,
            reports: self.next_seq,
            totals: self.totals.counts,
            latency_scheduled: self.totals.scheduled.clone(),
            latency_actual: self.totals.sent.clone(),
            started: self.totals.start,
            first_send: self.first_send,
            last_send: self.last_send,
            written,
            callers,
            rate_per_caller,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source {
        Source {
            instance_id: Some("i-1".into()),
            fleet_id: None,
            instance_type: None,
            availability_zone: None,
            run_id: "r".into(),
        }
    }

    #[test]
    fn checkpoint_is_the_sum_of_reports() {
        let t0 = SimTime::from_millis(0);
        let mut tally = Tally::new(source(), t0);
        let mut reports = Vec::new();
        for second in 0..5u64 {
            for k in 0..=second {
                tally.sent(SimTime::from_millis(second * 1000 + k), k == 0);
                tally.completed(Completion {
                    outcome: if k % 2 == 0 {
                        Outcome::Success
                    } else {
                        Outcome::Throttled
                    },
                    from_scheduled_us: 1000 + k,
                    from_sent_us: 900,
                });
            }
            tally.skipped(second);
            reports.push(tally.close(SimTime::from_millis((second + 1) * 1000), second == 4));
        }
        assert!(tally.finished());
        let checkpoint = tally.checkpoint(StopReason::Finished, SimTime::from_millis(5000), 1, 1.0);
        let mut sum = Counts::default();
        let mut latency = Latency::new();
        for (seq, report) in reports.iter().enumerate() {
            assert_eq!(report.seq, seq as u64);
            sum.merge(&report.counts);
            latency.merge(&report.latency_scheduled);
        }
        assert_eq!(checkpoint.totals, sum);
        assert_eq!(checkpoint.latency_scheduled, latency);
        assert_eq!(checkpoint.reports, 5);
        assert_eq!(sum.sent, 15);
        assert_eq!(sum.completed(), 15);
        assert_eq!(sum.late, 5);
        assert_eq!(sum.skipped, 10);
        assert_eq!(checkpoint.first_send, Some(t0));
        assert_eq!(reports[4].start, SimTime::from_millis(4000));
        assert!(reports[4].last);
    }
}
