//! Spot Instance Advisor bands and the interruption rates the simulation derives from
//! them.
//!
//! The advisor publishes, per type, a band for "the rate at which Spot has reclaimed
//! capacity during the trailing month" and the average saving against On-Demand. The
//! simulation turns a band into a per-instance reclaim rate: the band's midpoint, as the
//! share of instances reclaimed per 30 days (`>20%` is open-ended; we use 25%).

use serde::Serialize;
use simtime::SimDuration;

/// One of the advisor's five frequency-of-interruption bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum InterruptionBand {
    /// `<5%`
    #[serde(rename = "<5%")]
    Under5,
    /// `5-10%`
    #[serde(rename = "5-10%")]
    From5To10,
    /// `10-15%`
    #[serde(rename = "10-15%")]
    From10To15,
    /// `15-20%`
    #[serde(rename = "15-20%")]
    From15To20,
    /// `>20%`
    #[serde(rename = ">20%")]
    Over20,
}

/// A type's advisor row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Advisor {
    /// Frequency-of-interruption band.
    pub band: InterruptionBand,
    /// Average saving of Spot against On-Demand, in percent.
    pub savings_pct: u8,
}

/// The span over which the advisor's frequency is measured.
pub const ADVISOR_WINDOW: SimDuration = SimDuration::from_days(30);

impl InterruptionBand {
    /// All bands, lowest first.
    pub const ALL: [InterruptionBand; 5] = [
        InterruptionBand::Under5,
        InterruptionBand::From5To10,
        InterruptionBand::From10To15,
        InterruptionBand::From15To20,
        InterruptionBand::Over20,
    ];

    /// The band at the advisor feed's range index (0..=4).
    pub fn from_index(index: usize) -> Option<InterruptionBand> {
        InterruptionBand::ALL.get(index).copied()
    }

    /// The advisor feed's range index.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The advisor's label, e.g. `5-10%`.
    pub fn label(self) -> &'static str {
        match self {
            InterruptionBand::Under5 => "<5%",
            InterruptionBand::From5To10 => "5-10%",
            InterruptionBand::From10To15 => "10-15%",
            InterruptionBand::From15To20 => "15-20%",
            InterruptionBand::Over20 => ">20%",
        }
    }

    /// The band's bounds as a share of instances per [`ADVISOR_WINDOW`]; the upper bound
    /// of `>20%` is 1.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            InterruptionBand::Under5 => (0.0, 0.05),
            InterruptionBand::From5To10 => (0.05, 0.10),
            InterruptionBand::From10To15 => (0.10, 0.15),
            InterruptionBand::From15To20 => (0.15, 0.20),
            InterruptionBand::Over20 => (0.20, 1.0),
        }
    }

    /// The simulation's reclaim rate for the band: expected reclaims per instance per
    /// [`ADVISOR_WINDOW`] (the band's midpoint; 25% for `>20%`).
    pub fn monthly_rate(self) -> f64 {
        match self {
            InterruptionBand::Under5 => 0.025,
            InterruptionBand::From5To10 => 0.075,
            InterruptionBand::From10To15 => 0.125,
            InterruptionBand::From15To20 => 0.175,
            InterruptionBand::Over20 => 0.25,
        }
    }
}
