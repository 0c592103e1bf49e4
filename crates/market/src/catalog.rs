//! The catalogue: instance types, availability zones, pools and Spot Advisor rows for
//! us-east-1, parsed from the CSV files in `data/` that are embedded at compile time.
//!
//! The data are facts from public sources (see `data/README.md`); nothing here invents a
//! number. The one modelling choice is [`DEFAULT_ADVISOR`] for types the advisor feed does
//! not cover. Parsing happens once, on first use of [`catalog()`].

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use crate::advisor::{Advisor, InterruptionBand};
use crate::money::Price;

const INSTANCE_TYPES_CSV: &str = include_str!("../data/instance-types.csv");
const OFFERINGS_CSV: &str = include_str!("../data/az-offerings-us-east-1.csv");
const ADVISOR_CSV: &str = include_str!("../data/spot-advisor.csv");
const PRICE_SAMPLES_CSV: &str = include_str!("../data/spot-price-samples.csv");
const CPU_TOPOLOGY_CSV: &str = include_str!("../data/cpu-topology.csv");

/// The only region the embedded data describes.
pub const REGION: &str = "us-east-1";

/// Advisor values assumed for a type with no row in the feed (the feed is a year older
/// than the price list, so newer families are missing). They are the medians of the
/// feed's own rows: band index 3 (`15-20%`) and 66% savings; a test keeps them so.
pub const DEFAULT_ADVISOR: Advisor = Advisor {
    band: InterruptionBand::From15To20,
    savings_pct: 66,
};

/// Index of an instance type in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceTypeId(u16);

/// Index of an availability zone in the catalogue (0 = us-east-1a, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ZoneId(u8);

/// A Spot capacity pool: one instance type in one availability zone. Two subnets in one
/// zone select the same pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pool {
    /// The instance type.
    pub instance_type: InstanceTypeId,
    /// The availability zone.
    pub zone: ZoneId,
}

/// CPU architecture of an instance type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// 64-bit x86.
    X86_64,
    /// 64-bit ARM (Graviton).
    Arm64,
}

/// One row of `instance-types.csv`, joined with its advisor row.
#[derive(Clone, Debug)]
pub struct InstanceType {
    /// API name, e.g. `c5.large`.
    pub name: &'static str,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// CPU architecture.
    pub arch: Arch,
    /// Linux On-Demand price in us-east-1.
    pub on_demand: Price,
    /// AWS's current-generation flag.
    pub current_generation: bool,
    /// Whether AWS sells this type as Spot.
    pub spot_supported: bool,
    /// The Spot Advisor row, if the feed has one.
    pub advisor: Option<Advisor>,
    /// Default physical cores and threads per core, where the data has them.
    pub cpu: Option<CpuTopology>,
}

/// How a type's vCPUs are laid out by default (`CpuOptions` of DescribeInstances).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTopology {
    /// Physical cores.
    pub cores: u32,
    /// Threads per core.
    pub threads_per_core: u32,
}

impl InstanceType {
    /// The advisor values used by the simulation: the real row, else [`DEFAULT_ADVISOR`].
    pub fn advisor_or_default(&self) -> Advisor {
        self.advisor.unwrap_or(DEFAULT_ADVISOR)
    }
}

/// An availability zone: its name (account-specific letter) and its physical zone id.
#[derive(Clone, Debug)]
pub struct Zone {
    /// e.g. `us-east-1a`.
    pub name: &'static str,
    /// e.g. `use1-az2`.
    pub id: &'static str,
}

/// A real Spot price change from DescribeSpotPriceHistory (2022 sample, for sanity
/// checks of orders of magnitude only).
#[derive(Clone, Debug)]
pub struct PriceSample {
    /// When the price changed, e.g. `2022-05-31T18:47:05Z`.
    pub timestamp: &'static str,
    /// The pool.
    pub pool: Pool,
    /// The new price.
    pub price: Price,
}

/// All embedded reference data, indexed.
#[derive(Debug)]
pub struct Catalog {
    types: Vec<InstanceType>,
    type_by_name: HashMap<&'static str, InstanceTypeId>,
    zones: Vec<Zone>,
    /// Every offered pool, sorted by (type, zone).
    pools: Vec<Pool>,
    /// `offered[type][zone]`.
    offered: Vec<[bool; MAX_ZONES]>,
    samples: Vec<PriceSample>,
}

const MAX_ZONES: usize = 8;

/// The embedded catalogue, parsed on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::parse_embedded)
}

impl Catalog {
    fn parse_embedded() -> Catalog {
        let advisor: HashMap<&'static str, Advisor> = rows(ADVISOR_CSV)
            .filter_map(|cols| {
                let band = InterruptionBand::from_index(cols.get(3)?.parse().ok()?)?;
                let savings_pct = cols.get(2)?.parse().ok()?;
                Some((*cols.first()?, Advisor { band, savings_pct }))
            })
            .collect();
        let topology: HashMap<&'static str, CpuTopology> = rows(CPU_TOPOLOGY_CSV)
            .filter_map(|cols| {
                let [name, cores, threads] = cols[..] else {
                    return None;
                };
                Some((
                    name,
                    CpuTopology {
                        cores: cores.parse().ok()?,
                        threads_per_core: threads.parse().ok()?,
                    },
                ))
            })
            .collect();

        let mut types = Vec::new();
        let mut type_by_name = HashMap::new();
        for cols in rows(INSTANCE_TYPES_CSV) {
            let [name, vcpus, memory, arch, price, current, spot] = cols[..] else {
                continue;
            };
            let (Ok(vcpus), Ok(memory_mib), Ok(on_demand)) =
                (vcpus.parse(), memory.parse(), Price::parse_dollars(price))
            else {
                continue;
            };
            let id = InstanceTypeId(types.len() as u16);
            type_by_name.insert(name, id);
            types.push(InstanceType {
                name,
                vcpus,
                memory_mib,
                arch: if arch == "arm64" {
                    Arch::Arm64
                } else {
                    Arch::X86_64
                },
                on_demand,
                current_generation: current == "true",
                spot_supported: spot == "true",
                advisor: advisor.get(name).copied(),
                cpu: topology.get(name).copied(),
            });
        }

        let mut zones: Vec<Zone> = Vec::new();
        let mut offered = vec![[false; MAX_ZONES]; types.len()];
        for cols in rows(OFFERINGS_CSV) {
            let [type_name, zone_name, zone_id] = cols[..] else {
                continue;
            };
            let Some(type_id) = type_by_name.get(type_name) else {
                continue;
            };
            let zone = match zones.iter().position(|z| z.name == zone_name) {
                Some(i) => i,
                None => {
                    zones.push(Zone {
                        name: zone_name,
                        id: zone_id,
                    });
                    zones.len() - 1
                }
            };
            if zone < MAX_ZONES {
                offered[usize::from(type_id.0)][zone] = true;
            }
        }
        // Zone ids follow the letters (a, b, c, ...), whatever order the file lists them in.
        let mut order: Vec<usize> = (0..zones.len()).collect();
        order.sort_by_key(|&i| zones[i].name);
        let zones_sorted: Vec<Zone> = order.iter().map(|&i| zones[i].clone()).collect();
        for row in &mut offered {
            let old = *row;
            for (new_index, &old_index) in order.iter().enumerate() {
                row[new_index] = old[old_index];
            }
        }
        let zones = zones_sorted;

        let mut pools = Vec::new();
        for (t, row) in offered.iter().enumerate() {
            for (z, &is_offered) in row.iter().enumerate().take(zones.len()) {
                if is_offered {
                    pools.push(Pool {
                        instance_type: InstanceTypeId(t as u16),
                        zone: ZoneId(z as u8),
                    });
                }
            }
        }

        let mut catalog = Catalog {
            types,
            type_by_name,
            zones,
            pools,
            offered,
            samples: Vec::new(),
        };
        catalog.samples = rows(PRICE_SAMPLES_CSV)
            .filter_map(|cols| {
                let [timestamp, zone_id, type_name, price] = cols[..] else {
                    return None;
                };
                let zone = catalog.zone_by_id(zone_id)?;
                let instance_type = catalog.instance_type_id(type_name)?;
                Some(PriceSample {
                    timestamp,
                    pool: Pool {
                        instance_type,
                        zone,
                    },
                    price: Price::parse_dollars(price).ok()?,
                })
            })
            .collect();
        catalog
    }

    /// Every instance type, in file order.
    pub fn instance_types(&self) -> impl ExactSizeIterator<Item = (InstanceTypeId, &InstanceType)> {
        self.types
            .iter()
            .enumerate()
            .map(|(i, t)| (InstanceTypeId(i as u16), t))
    }

    /// Looks up a type by API name.
    pub fn instance_type_id(&self, name: &str) -> Option<InstanceTypeId> {
        self.type_by_name.get(name).copied()
    }

    /// The type behind an id.
    pub fn instance_type(&self, id: InstanceTypeId) -> &InstanceType {
        &self.types[usize::from(id.0)]
    }

    /// The region's zones, ordered by name.
    pub fn zones(&self) -> impl ExactSizeIterator<Item = (ZoneId, &Zone)> {
        self.zones
            .iter()
            .enumerate()
            .map(|(i, z)| (ZoneId(i as u8), z))
    }

    /// Looks up a zone by name (`us-east-1a`).
    pub fn zone_by_name(&self, name: &str) -> Option<ZoneId> {
        self.zones
            .iter()
            .position(|z| z.name == name)
            .map(|i| ZoneId(i as u8))
    }

    /// Looks up a zone by physical id (`use1-az2`).
    pub fn zone_by_id(&self, id: &str) -> Option<ZoneId> {
        self.zones
            .iter()
            .position(|z| z.id == id)
            .map(|i| ZoneId(i as u8))
    }

    /// The zone behind an id.
    pub fn zone(&self, id: ZoneId) -> &Zone {
        &self.zones[usize::from(id.0)]
    }

    /// Whether the type is offered in the zone, i.e. whether the pool exists.
    pub fn is_offered(&self, pool: Pool) -> bool {
        self.offered
            .get(usize::from(pool.instance_type.0))
            .and_then(|row| row.get(usize::from(pool.zone.0)))
            .copied()
            .unwrap_or(false)
    }

    /// Every pool that exists, sorted by (type, zone).
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// The 2022 sample of real Spot price changes.
    pub fn price_samples(&self) -> &[PriceSample] {
        &self.samples
    }
}

impl InstanceTypeId {
    /// The position in the catalogue, for dense per-type tables.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl ZoneId {
    /// The position in the catalogue, for dense per-zone tables.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl Pool {
    /// The catalogue row of this pool's type.
    pub fn instance_type_info(self) -> &'static InstanceType {
        catalog().instance_type(self.instance_type)
    }
    /// This pool's zone.
    pub fn zone_info(self) -> &'static Zone {
        catalog().zone(self.zone)
    }
    /// The instance type's API name.
    pub fn type_name(self) -> &'static str {
        self.instance_type_info().name
    }
    /// The zone's name.
    pub fn zone_name(self) -> &'static str {
        self.zone_info().name
    }
}

impl fmt::Display for Pool {
    /// `t2.small/us-east-1a`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.type_name(), self.zone_name())
    }
}

impl serde::Serialize for Pool {
    /// Serialises as `type/zone`, e.g. `t2.small/us-east-1a`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for InstanceTypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(catalog().instance_type(*self).name)
    }
}

impl fmt::Display for ZoneId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(catalog().zone(*self).name)
    }
}

/// Data rows of an embedded CSV (header skipped), split on commas. The files hold no
/// quoted fields; a test checks that.
fn rows(csv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    csv.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split(',').map(str::trim).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_every_file_is_loaded() {
        let c = catalog();
        for csv in [
            INSTANCE_TYPES_CSV,
            OFFERINGS_CSV,
            ADVISOR_CSV,
            PRICE_SAMPLES_CSV,
            CPU_TOPOLOGY_CSV,
        ] {
            assert!(!csv.contains('"'), "quoted CSV fields are not supported");
        }
        let with_topology = c.instance_types().filter(|(_, t)| t.cpu.is_some()).count();
        assert_eq!(with_topology, CPU_TOPOLOGY_CSV.lines().count() - 1);
        for (_, t) in c.instance_types() {
            if let Some(cpu) = t.cpu {
                assert_eq!(cpu.cores * cpu.threads_per_core, t.vcpus, "{}", t.name);
            }
        }
        assert_eq!(
            c.instance_types().len(),
            INSTANCE_TYPES_CSV.lines().count() - 1
        );
        assert_eq!(c.pools().len(), OFFERINGS_CSV.lines().count() - 1);
        // Samples naming a type without an On-Demand price in us-east-1 are left out.
        let sampled_known_types = rows(PRICE_SAMPLES_CSV)
            .filter(|cols| c.instance_type_id(cols[2]).is_some())
            .count();
        assert_eq!(c.price_samples().len(), sampled_known_types);
        assert!(sampled_known_types > 1_500);
        let zones: Vec<_> = c.zones().map(|(_, z)| (z.name, z.id)).collect();
        assert_eq!(
            zones,
            [
                ("us-east-1a", "use1-az2"),
                ("us-east-1b", "use1-az4"),
                ("us-east-1c", "use1-az6"),
                ("us-east-1d", "use1-az1"),
                ("us-east-1e", "use1-az3"),
                ("us-east-1f", "use1-az5"),
            ]
        );
    }

    #[test]
    fn reference_types_carry_their_real_figures() {
        let c = catalog();
        let t2 = c.instance_type(c.instance_type_id("t2.small").expect("in the catalogue"));
        assert_eq!((t2.vcpus, t2.memory_mib), (1, 2048));
        assert_eq!(t2.on_demand, Price::from_micros(23_000));
        assert_eq!(
            t2.cpu,
            Some(CpuTopology {
                cores: 1,
                threads_per_core: 1
            })
        );
        assert_eq!(
            t2.advisor,
            Some(Advisor {
                band: InterruptionBand::Under5,
                savings_pct: 69
            })
        );
        let c5 = c.instance_type_id("c5.large").expect("in the catalogue");
        let east_1e = c.zone_by_name("us-east-1e").expect("in the catalogue");
        let east_1a = c.zone_by_name("us-east-1a").expect("in the catalogue");
        assert!(!c.is_offered(Pool {
            instance_type: c5,
            zone: east_1e
        }));
        let pool = Pool {
            instance_type: c5,
            zone: east_1a,
        };
        assert!(c.is_offered(pool));
        assert_eq!(pool.to_string(), "c5.large/us-east-1a");
    }

    #[test]
    fn default_advisor_is_the_median_of_the_feed() {
        let mut bands: Vec<usize> = Vec::new();
        let mut savings: Vec<u8> = Vec::new();
        for cols in rows(ADVISOR_CSV) {
            savings.push(cols[2].parse().expect("a valid test input"));
            bands.push(cols[3].parse().expect("a valid test input"));
        }
        bands.sort_unstable();
        savings.sort_unstable();
        assert_eq!(bands[bands.len() / 2], DEFAULT_ADVISOR.band.index());
        assert_eq!(savings[savings.len() / 2], DEFAULT_ADVISOR.savings_pct);
        let missing = catalog()
            .instance_types()
            .filter(|(_, t)| t.advisor.is_none())
            .count();
        assert!(missing > 0, "the feed is older than the price list");
    }
}
