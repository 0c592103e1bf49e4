//! The send schedule of one caller: an absolute grid, never relative to responses.
//!
//! Caller `i` of `N` sends its `n`-th request at `start + phase_i + n * period`, where
//! `period = 1 / rate` and `phase_i = period * i / N` spreads the callers evenly over one
//! period (so N callers at 1 request/s offer an even N requests/s rather than one burst a
//! second). A caller that wakes up late sends the slot that is due; if it is a whole
//! period or more behind, it skips the slots it missed instead of bursting to catch up,
//! and counts them. Pure: all times are virtual nanoseconds from the agent's clock.

/// One caller's grid of send times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Virtual ns of slot 0 (start plus this caller's phase).
    first_ns: u64,
    /// Virtual ns between slots.
    period_ns: u64,
}

/// What a caller does when it wakes up for a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wake {
    /// The slot to send now.
    pub slot: u64,
    /// Slots passed over because they were a whole period or more overdue.
    pub skipped: u64,
}

impl Schedule {
    /// The grid of caller `index` of `callers`, each sending every `period_ns`, starting
    /// at `start_ns`. `period_ns` and `callers` must be positive (zero is treated as one).
    pub fn new(start_ns: u64, period_ns: u64, index: u32, callers: u32) -> Schedule {
        let period_ns = period_ns.max(1);
        let callers = u128::from(callers.max(1));
        let phase = u128::from(period_ns) * u128::from(index) / callers;
        Schedule {
            first_ns: start_ns.saturating_add(u64::try_from(phase).unwrap_or(u64::MAX)),
            period_ns,
        }
    }

    /// When slot `n` is due.
    pub fn due(&self, n: u64) -> u64 {
        self.first_ns
            .saturating_add(n.saturating_mul(self.period_ns))
    }

    /// The period.
    pub fn period_ns(&self) -> u64 {
        self.period_ns
    }

    /// Woken at `now_ns` while waiting for slot `next`: which slot to send, and how many
    /// to skip. Sends `next` unless `now_ns` has reached the slot after it, in which case
    /// it sends the latest slot already due and skips the ones before it.
    pub fn wake(&self, next: u64, now_ns: u64) -> Wake {
        if now_ns < self.due(next.saturating_add(1)) {
            return Wake {
                slot: next,
                skipped: 0,
            };
        }
        let latest = (now_ns - self.first_ns) / self.period_ns;
        Wake {
            slot: latest,
            skipped: latest - next,
        }
    }

    /// Number of slots due strictly before `end_ns`: how many sends a caller that is never
    /// late makes before being stopped at `end_ns`.
    pub fn slots_before(&self, end_ns: u64) -> u64 {
        if end_ns <= self.first_ns {
            0
        } else {
            (end_ns - self.first_ns).div_ceil(self.period_ns)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn callers_are_spread_over_the_period() {
        let dues: Vec<u64> = (0..4)
            .map(|i| Schedule::new(0, SECOND, i, 4).due(0))
            .collect();
        assert_eq!(dues, [0, 250_000_000, 500_000_000, 750_000_000]);
        let s = Schedule::new(10, SECOND, 1, 4);
        assert_eq!(s.due(3), 10 + 250_000_000 + 3 * SECOND);
    }

    #[test]
    fn late_wakes_send_the_due_slot_and_skip_whole_periods() {
        let s = Schedule::new(0, SECOND, 0, 1);
        assert_eq!(
            s.wake(2, 2 * SECOND + 5),
            Wake {
                slot: 2,
                skipped: 0
            }
        );
        assert_eq!(
            s.wake(2, 3 * SECOND - 1),
            Wake {
                slot: 2,
                skipped: 0
            }
        );
        assert_eq!(
            s.wake(2, 3 * SECOND),
            Wake {
                slot: 3,
                skipped: 1
            }
        );
        assert_eq!(
            s.wake(2, 7 * SECOND + 9),
            Wake {
                slot: 7,
                skipped: 5
            }
        );
    }

    #[test]
    fn counts_slots_before_an_end() {
        let s = Schedule::new(0, SECOND, 1, 2);
        assert_eq!(s.slots_before(0), 0);
        assert_eq!(s.slots_before(SECOND / 2), 0);
        assert_eq!(s.slots_before(SECOND / 2 + 1), 1);
        assert_eq!(s.slots_before(60 * SECOND), 60);
    }

    proptest! {
        #[test]
        fn every_slot_is_sent_or_skipped_once(
            period in 1u64..10_000,
            lateness in proptest::collection::vec(0u64..30_000, 1..200),
        ) {
            let s = Schedule::new(0, period, 0, 1);
            let mut next = 0;
            let mut accounted = 0;
            let mut now = 0;
            for late in lateness {
                now = now.max(s.due(next)) + late;
                let wake = s.wake(next, now);
                prop_assert!(s.due(wake.slot) <= now);
                prop_assert!(now < s.due(wake.slot + 1));
                accounted += wake.skipped + 1;
                next = wake.slot + 1;
                prop_assert_eq!(accounted, next);
            }
        }
    }
}
