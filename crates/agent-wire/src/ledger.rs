//! [`Ledger`]: the receiving side's bookkeeping of report sequence numbers, to ignore
//! duplicates and to name gaps.

use std::collections::{BTreeSet, HashMap};

use crate::Report;

/// What the ledger made of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// First time this (run, seq) was seen: count it.
    New,
    /// Seen before: ignore it.
    Duplicate,
}

/// Sequence numbers seen per run.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// Per run id: every seq below `contiguous` has been seen, plus the ones in `above`.
    runs: HashMap<String, RunLedger>,
}

#[derive(Clone, Debug, Default)]
struct RunLedger {
    /// Every seq below this has been seen.
    contiguous: u64,
    /// Seen sequence numbers above `contiguous` (out of order arrivals).
    above: BTreeSet<u64>,
    /// Whether the report marked `last` has been seen.
    closed: bool,
    /// The `last` report's seq, once seen.
    last_seq: Option<u64>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Records `report`, saying whether it is new.
    pub fn accept(&mut self, report: &Report) -> Accepted {
        let run = self.runs.entry(report.source.run_id.clone()).or_default();
        let seq = report.seq;
        if seq < run.contiguous || run.above.contains(&seq) {
            return Accepted::Duplicate;
        }
        if report.last {
            run.closed = true;
            run.last_seq = Some(seq);
        }
        if seq == run.contiguous {
            run.contiguous += 1;
            while run.above.remove(&run.contiguous) {
                run.contiguous += 1;
            }
        } else {
            run.above.insert(seq);
        }
        Accepted::New
    }

    /// Sequence numbers missing so far for `run_id`: below the highest seen, or below the
    /// last report's once that has arrived.
    pub fn gaps(&self, run_id: &str) -> Vec<u64> {
        let Some(run) = self.runs.get(run_id) else {
            return Vec::new();
        };
        let highest = run.above.last().copied().unwrap_or(0).max(run.contiguous);
        let end = run.last_seq.map_or(highest, |last| last + 1);
        (run.contiguous..end)
            .filter(|seq| !run.above.contains(seq))
            .collect()
    }

    /// Whether every report of `run_id` up to and including its last has arrived.
    pub fn complete(&self, run_id: &str) -> bool {
        self.runs
            .get(run_id)
            .is_some_and(|run| run.closed && run.above.is_empty() && self.gaps(run_id).is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counts, Latency, Source};
    use simtime::SimTime;

    fn report(seq: u64, last: bool) -> Report {
        Report {
            source: Source {
                instance_id: None,
                fleet_id: None,
                instance_type: None,
                availability_zone: None,
                run_id: "run".into(),
            },
            seq,
            start: SimTime::from_millis(seq * 1000),
            end: SimTime::from_millis(seq * 1000 + 1000),
            counts: Counts::default(),
            latency_scheduled: Latency::new(),
            latency_actual: Latency::new(),
            last,
        }
    }

    #[test]
    fn ignores_duplicates_and_names_gaps() {
        let mut ledger = Ledger::new();
        assert_eq!(ledger.accept(&report(0, false)), Accepted::New);
        assert_eq!(ledger.accept(&report(0, false)), Accepted::Duplicate);
        assert_eq!(ledger.accept(&report(3, false)), Accepted::New);
        assert_eq!(ledger.gaps("run"), vec![1, 2]);
        assert_eq!(ledger.accept(&report(2, false)), Accepted::New);
        assert_eq!(ledger.accept(&report(3, false)), Accepted::Duplicate);
        assert_eq!(ledger.accept(&report(4, true)), Accepted::New);
        assert!(!ledger.complete("run"));
        assert_eq!(ledger.gaps("run"), vec![1]);
        assert_eq!(ledger.accept(&report(1, false)), Accepted::New);
        assert!(ledger.complete("run"));
        assert!(ledger.gaps("run").is_empty());
    }
}
