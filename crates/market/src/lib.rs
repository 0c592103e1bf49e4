//! The simulated EC2 Spot market for us-east-1, built from real data.
//!
//! - [`catalog()`](catalog()): instance types, zones, pools, On-Demand prices and Spot Advisor rows,
//!   embedded at compile time from `data/`.
//! - [`Market`]: per pool, a seeded Spot price process (discrete changes around the
//!   advisor's savings, never above On-Demand) and a seeded spare-capacity process whose
//!   reclaim rate matches the advisor's interruption band; Spot price history as
//!   DescribeSpotPriceHistory reports it; injected capacity drops.
//!
//! Pure: no clock, no I/O, no async. Every function that needs the time takes `now`;
//! all randomness comes from per-pool ChaCha streams derived from one seed, so a pool's
//! history does not depend on which other pools were looked at, or in what order.
//! The market knows pools, prices and capacity; it knows nothing about fleets or
//! instances (the `fleet` crate owns those).

pub mod advisor;
pub mod catalog;
pub mod money;

mod capacity;
mod history;
mod market;
mod price;
mod rng;

pub use advisor::{ADVISOR_WINDOW, Advisor, InterruptionBand};
pub use catalog::{
    Arch, Catalog, CpuTopology, DEFAULT_ADVISOR, InstanceType, InstanceTypeId, Pool, PriceSample,
    REGION, Zone, ZoneId, catalog,
};
pub use history::{PriceChange, PriceHistoryQuery};
pub use market::{Market, MarketConfig, MarketEvent, Offering, Reclaim};
pub use money::{Cost, Price, PriceError};
