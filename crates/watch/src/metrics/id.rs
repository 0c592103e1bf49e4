//! Metric identity ([`MetricId`]) and the small types series are keyed and queried by:
//! [`Unit`], [`Resolution`], [`Period`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use simtime::SimDuration;

/// A metric's identity: namespace, name and the full dimension set.
///
/// Two datums belong to the same metric only if all three are equal; the dimension set
/// is order-free (a map) and must match exactly (CloudWatch has no partial matching
/// outside ListMetrics).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MetricId {
    /// The namespace, e.g. `ReInvent-EC2SpotTestDev-Metrics`.
    pub namespace: String,
    /// The metric name, e.g. `Error`.
    pub name: String,
    /// Dimension name -> value.
    pub dimensions: BTreeMap<String, String>,
}

impl MetricId {
    /// A metric without dimensions.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> MetricId {
        MetricId {
            namespace: namespace.into(),
            name: name.into(),
            dimensions: BTreeMap::new(),
        }
    }

    /// The same metric with one more dimension (replacing one of the same name).
    pub fn with_dimension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.dimensions.insert(name.into(), value.into());
        self
    }
}

macro_rules! units {
    ($($variant:ident => $text:literal,)*) => {
        /// CloudWatch's `StandardUnit`: the 27 units a datum may carry (`None` included).
        ///
        /// Data is stored per unit; a query naming a unit sees only data stored with it,
        /// and nothing converts between units.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Unit {
            $(
                #[doc = concat!("`", $text, "`")]
                $variant,
            )*
        }

        impl Unit {
            /// Every unit, in the model's order.
            pub const ALL: [Unit; 27] = [$(Unit::$variant,)*];

            /// The unit as the API spells it (`Count/Second`, `None`, ...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Unit::$variant => $text,)*
                }
            }
        }

        impl FromStr for Unit {
            type Err = UnknownUnit;
            fn from_str(text: &str) -> Result<Unit, UnknownUnit> {
                match text {
                    $($text => Ok(Unit::$variant),)*
                    _ => Err(UnknownUnit(text.to_owned())),
                }
            }
        }
    };
}

units! {
    Seconds => "Seconds",
    Microseconds => "Microseconds",
    Milliseconds => "Milliseconds",
    Bytes => "Bytes",
    Kilobytes => "Kilobytes",
    Megabytes => "Megabytes",
    Gigabytes => "Gigabytes",
    Terabytes => "Terabytes",
    Bits => "Bits",
    Kilobits => "Kilobits",
    Megabits => "Megabits",
    Gigabits => "Gigabits",
    Terabits => "Terabits",
    Percent => "Percent",
    Count => "Count",
    BytesPerSecond => "Bytes/Second",
    KilobytesPerSecond => "Kilobytes/Second",
    MegabytesPerSecond => "Megabytes/Second",
    GigabytesPerSecond => "Gigabytes/Second",
    TerabytesPerSecond => "Terabytes/Second",
    BitsPerSecond => "Bits/Second",
    KilobitsPerSecond => "Kilobits/Second",
    MegabitsPerSecond => "Megabits/Second",
    GigabitsPerSecond => "Gigabits/Second",
    TerabitsPerSecond => "Terabits/Second",
    CountPerSecond => "Count/Second",
    None => "None",
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit name that is not one of CloudWatch's `StandardUnit` values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown unit {0:?}")]
pub struct UnknownUnit(pub String);

/// A datum's storage resolution (`StorageResolution` 1 or 60).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Resolution {
    /// One-second buckets (`StorageResolution` 1).
    High,
    /// One-minute buckets (`StorageResolution` 60, the default).
    #[default]
    Standard,
}

impl Resolution {
    /// The resolution for `StorageResolution` seconds: 1 or 60, nothing else.
    pub fn from_seconds(seconds: i64) -> Option<Resolution> {
        match seconds {
            1 => Some(Resolution::High),
            60 => Some(Resolution::Standard),
            _ => None,
        }
    }

    /// Bucket width in seconds: 1 or 60.
    pub fn seconds(self) -> u64 {
        match self {
            Resolution::High => 1,
            Resolution::Standard => 60,
        }
    }
}

/// A query's period: a whole, positive number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period(u32);

impl Period {
    /// One minute.
    pub const MINUTE: Period = Period(60);

    /// A period of `seconds`, or `None` for zero.
    pub fn from_seconds(seconds: u32) -> Option<Period> {
        (seconds > 0).then_some(Period(seconds))
    }

    /// Length in seconds (at least 1).
    pub fn seconds(self) -> u32 {
        self.0
    }

    /// Length as a duration.
    pub fn duration(self) -> SimDuration {
        SimDuration::from_secs(u64::from(self.0))
    }
}

impl Default for Period {
    fn default() -> Period {
        Period::MINUTE
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
