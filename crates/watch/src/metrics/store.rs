//! [`Store`]: every series, bucketed by time in [`Retention`]'s tiers; queries over
//! periods; ListMetrics-style listing; expiry.
//!
//! Layout: metric -> unit -> one `BTreeMap<bucket start second, Aggregate>` per tier.
//! High-resolution data lands in the finest tier (1 s by default), standard-resolution
//! data in the first tier at least a minute wide. [`Store::expire`] folds buckets that
//! outlived their tier into the next, coarser one, and drops them after the last; data
//! is always in exactly one bucket, so nothing is counted twice.
//!
//! Expiry is amortised: each metric is scheduled at the first second at which expiry
//! has anything to do for it (its oldest bucket of some tier outlives that tier, or it
//! holds no data at all), kept up to date as data arrives, and [`Store::expire`] visits
//! only the metrics due. Visiting a metric that is not due would change nothing, so the
//! store after any sequence of records and expiries is exactly the one a sweep over
//! every metric at every expiry would leave.
//!
//! Memory: a bucket is about 100 bytes plus 16 bytes per distinct value it holds, at
//! most [`super::EXACT_VALUES`] before the logarithmic grid caps growth (then about
//! 1,500 entries per decade of values). A series of 0/1 values publishing every second
//! costs about 1.5 MB per 3 hours of one-second data; a fleet-wide latency histogram
//! with ~1,000 distinct buckets per second, about 16 KB per second kept, so size the
//! one-second tier's `keep` for the fleet ([`Retention::new`]).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use simtime::SimTime;

use super::aggregate::Aggregate;
use super::distribution::Distribution;
use super::id::{MetricId, Period, Resolution, Unit};
use super::query::Series;
use super::retention::{Retention, Tier};
use super::sample::{Sample, SampleError};
use super::statistic::Statistic;

/// One unit's buckets: one map per tier, keyed by bucket start (seconds since epoch).
type Tiers = Vec<BTreeMap<u64, Aggregate>>;

/// Everything stored for one metric.
#[derive(Clone, Debug)]
struct Entry {
    /// Latest datum timestamp seen (for ListMetrics' `RecentlyActive`).
    last: SimTime,
    /// Per unit, sorted by unit; usually one.
    units: Vec<(Unit, Tiers)>,
    /// The second from which [`Store::expire`] has something to do for this metric (0
    /// while it holds no data: it goes at the next expiry); its key in [`Store::due`].
    due: u64,
}

/// What the store knows about a metric besides its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricInfo {
    /// The latest datum timestamp recorded.
    pub last_timestamp: SimTime,
    /// The units it has data in.
    pub units: Vec<Unit>,
}

/// A statistics query over one metric.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    /// The metric, matched exactly (dimension set included).
    pub metric: &'a MetricId,
    /// Only data stored with this unit; `None`: all units.
    pub unit: Option<Unit>,
    /// First bucket starts here (inclusive; whole seconds). Align it first
    /// ([`super::align_start`]) to get CloudWatch's buckets.
    pub start: SimTime,
    /// End (exclusive).
    pub end: SimTime,
    /// Bucket width.
    pub period: Period,
}

/// How much a query keeps per period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// SampleCount, Sum, Minimum, Maximum only (extended statistics come out `None`);
    /// the fast path for alarms on basic statistics.
    Summary,
    /// Also the merged distribution, for extended statistics.
    Distribution,
}

/// One period's aggregate for one unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Datapoint {
    /// Start of the period.
    pub timestamp: SimTime,
    /// The unit the data was stored with.
    pub unit: Unit,
    /// Everything recorded in the period with that unit.
    pub aggregate: Aggregate,
}

/// ListMetrics' filters; absent filters match everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Exact namespace.
    pub namespace: Option<String>,
    /// Exact metric name.
    pub name: Option<String>,
    /// Dimensions the metric must have: name, and value when given (other dimensions
    /// may be present too).
    pub dimensions: Vec<(String, Option<String>)>,
    /// Only metrics with a datum at or after this time.
    pub active_since: Option<SimTime>,
}

impl ListFilter {
    fn matches(&self, id: &MetricId, entry: &Entry) -> bool {
        self.name.as_ref().is_none_or(|name| &id.name == name)
            && self.namespace.as_ref().is_none_or(|ns| &id.namespace == ns)
            && self.active_since.is_none_or(|since| entry.last >= since)
            && self.dimensions.iter().all(|(name, value)| {
                id.dimensions
                    .get(name)
                    .is_some_and(|have| value.as_ref().is_none_or(|want| want == have))
            })
    }
}

/// Every metric's series.
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Tiers and their ages.
    retention: Retention,
    /// Metric -> its data; ordered so listing and pagination are stable.
    metrics: BTreeMap<MetricId, Entry>,
    /// `(Entry::due, metric)` for every metric: which ones expiry must visit, soonest
    /// first.
    due: BTreeSet<(u64, MetricId)>,
}

/// Accumulates one period while a query walks its buckets.
#[derive(Default)]
struct Builder {
    sample_count: f64,
    sum: f64,
    minimum: f64,
    maximum: f64,
    /// Distribution pairs of every bucket, merged once at the end.
    pairs: Vec<(f64, f64)>,
    /// False once a bucket without a distribution joined.
    unavailable: bool,
    /// True once a quantized bucket joined.
    quantized: bool,
    /// Whether anything joined.
    started: bool,
}

impl Builder {
    fn add(&mut self, aggregate: &Aggregate, detail: Detail) {
        if !self.started {
            self.minimum = f64::INFINITY;
            self.maximum = f64::NEG_INFINITY;
            self.started = true;
        }
        self.sample_count += aggregate.sample_count();
        self.sum += aggregate.sum();
        self.minimum = self
            .minimum
            .min(aggregate.minimum().unwrap_or(f64::INFINITY));
        self.maximum = self
            .maximum
            .max(aggregate.maximum().unwrap_or(f64::NEG_INFINITY));
        if detail == Detail::Distribution && !self.unavailable {
            match aggregate.distribution() {
                Some(distribution) => {
                    self.pairs.extend_from_slice(distribution.entries());
                    self.quantized |= distribution.is_quantized();
                }
                None => {
                    self.unavailable = true;
                    self.pairs = Vec::new();
                }
            }
        }
    }

    fn finish(self, detail: Detail) -> Aggregate {
        let distribution = (detail == Detail::Distribution && !self.unavailable)
            .then(|| Distribution::from_pairs(self.pairs, self.quantized));
        Aggregate::from_parts(
            self.sample_count,
            self.sum,
            self.minimum,
            self.maximum,
            distribution,
        )
    }
}

/// Whether a valid sample holds no value at all (all counts zero, empty histogram).
fn holds_nothing(sample: &Sample<'_>) -> bool {
    match *sample {
        Sample::Value(_) | Sample::StatisticSet(_) => false,
        Sample::Values { values, counts } => match counts {
            None => values.is_empty(),
            Some(counts) => counts.iter().all(|&c| c <= 0.0),
        },
        Sample::Histogram { histogram, .. } => histogram.is_empty(),
    }
}

impl Store {
    /// An empty store keeping data as `retention` says.
    pub fn new(retention: Retention) -> Store {
        Store {
            retention,
            metrics: BTreeMap::new(),
            due: BTreeSet::new(),
        }
    }

    /// The retention in force.
    pub fn retention(&self) -> &Retention {
        &self.retention
    }

    /// Number of metrics (distinct [`MetricId`]s).
    pub fn len(&self) -> usize {
        self.metrics.len()
    }

    /// Whether nothing was ever recorded (or everything expired).
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// Number of buckets held, all metrics, units and tiers (a memory gauge).
    pub fn bucket_count(&self) -> usize {
        self.metrics
            .values()
            .flat_map(|entry| &entry.units)
            .flat_map(|(_, tiers)| tiers)
            .map(BTreeMap::len)
            .sum()
    }

    /// Records `sample` for `metric` with `unit` at `at` (floored to the bucket of the
    /// resolution's tier). A sample holding no value still makes the metric exist.
    pub fn record(
        &mut self,
        metric: &MetricId,
        unit: Unit,
        resolution: Resolution,
        at: SimTime,
        sample: &Sample<'_>,
    ) -> Result<(), SampleError> {
        sample.validate()?;
        let empty = holds_nothing(sample);
        let Some(bucket) = self.bucket(metric, unit, resolution, at, empty) else {
            return Ok(());
        };
        bucket.add(sample)
    }

    /// Records an already-built aggregate (e.g. one histogram converted once and
    /// recorded under several dimension sets).
    pub fn record_aggregate(
        &mut self,
        metric: &MetricId,
        unit: Unit,
        resolution: Resolution,
        at: SimTime,
        aggregate: &Aggregate,
    ) {
        if let Some(bucket) = self.bucket(metric, unit, resolution, at, aggregate.is_empty()) {
            bucket.merge(aggregate);
        }
    }

    /// The bucket for a datum, creating the metric (and, unless `empty`, the bucket),
    /// and keeping the metric's place in the expiry schedule.
    fn bucket(
        &mut self,
        metric: &MetricId,
        unit: Unit,
        resolution: Resolution,
        at: SimTime,
        empty: bool,
    ) -> Option<&mut Aggregate> {
        let tiers = self.retention.tiers();
        let tier = self.retention.tier_for(resolution);
        let granularity = tiers[tier].granularity;
        let second = at.as_millis() / 1_000;
        let key = second - second % granularity;
        let due = (!empty).then(|| expires_at(key, &tiers[tier]));
        if !self.metrics.contains_key(metric) {
            // A metric without data goes at the next expiry.
            let first_due = due.unwrap_or(0);
            self.due.insert((first_due, metric.clone()));
            let entry = Entry {
                last: at,
                units: Vec::new(),
                due: first_due,
            };
            self.metrics.insert(metric.clone(), entry);
        }
        let entry = self.metrics.get_mut(metric)?;
        entry.last = entry.last.max(at);
        if let Some(due) = due
            && due < entry.due
        {
            self.due.remove(&(entry.due, metric.clone()));
            self.due.insert((due, metric.clone()));
            entry.due = due;
        }
        if empty {
            return None;
        }
        let at_unit = match entry.units.binary_search_by(|(u, _)| u.cmp(&unit)) {
            Ok(at_unit) => at_unit,
            Err(at_unit) => {
                entry
                    .units
                    .insert(at_unit, (unit, vec![BTreeMap::new(); tiers.len()]));
                at_unit
            }
        };
        Some(entry.units[at_unit].1[tier].entry(key).or_default())
    }

    /// Forgets what outlived its tier: buckets whose start is more than the tier's
    /// `keep` before `now` move into the next tier's bucket (or are dropped after the
    /// last tier); metrics left without any data disappear. Visits only the metrics
    /// where that changes something (see the module docs).
    pub fn expire(&mut self, now: SimTime) {
        let now_seconds = now.as_millis() / 1_000;
        let tiers = self.retention.tiers();
        while self.due.first().is_some_and(|(due, _)| *due <= now_seconds) {
            let Some((_, metric)) = self.due.pop_first() else {
                break;
            };
            let Some(entry) = self.metrics.get_mut(&metric) else {
                continue;
            };
            expire_entry(entry, tiers, now_seconds);
            match next_due(entry, tiers) {
                Some(due) => {
                    entry.due = due;
                    self.due.insert((due, metric));
                }
                None => {
                    self.metrics.remove(&metric);
                }
            }
        }
    }

    /// What the store knows about `metric`, if it exists.
    pub fn info(&self, metric: &MetricId) -> Option<MetricInfo> {
        self.metrics.get(metric).map(|entry| MetricInfo {
            last_timestamp: entry.last,
            units: entry.units.iter().map(|(unit, _)| *unit).collect(),
        })
    }

    /// Metrics matching `filter`, in [`MetricId`] order, starting after `after`
    /// (pagination), each once whatever its units.
    pub fn list<'s>(
        &'s self,
        filter: &'s ListFilter,
        after: Option<&MetricId>,
    ) -> impl Iterator<Item = &'s MetricId> + 's {
        let namespace_start = filter
            .namespace
            .as_ref()
            .map(|ns| MetricId::new(ns.clone(), ""));
        let lower = match (after, namespace_start) {
            (Some(after), Some(start)) if start > *after => Bound::Included(start),
            (Some(after), _) => Bound::Excluded(after.clone()),
            (None, Some(start)) => Bound::Included(start),
            (None, None) => Bound::Unbounded,
        };
        self.metrics
            .range((lower, Bound::Unbounded))
            .take_while(move |(id, _)| {
                filter
                    .namespace
                    .as_ref()
                    .is_none_or(|ns| &id.namespace == ns)
            })
            .filter(move |(id, entry)| filter.matches(id, entry))
            .map(|(id, _)| id)
    }

    /// One datapoint per (period, unit) with data, oldest first (then by unit).
    pub fn datapoints(&self, query: &Query<'_>, detail: Detail) -> Vec<Datapoint> {
        let Some(entry) = self.metrics.get(query.metric) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (unit, tiers) in &entry.units {
            if query.unit.is_some_and(|wanted| wanted != *unit) {
                continue;
            }
            let mut builders = BTreeMap::new();
            fold(&mut builders, tiers, query, detail);
            out.extend(builders.into_iter().map(|(index, builder)| Datapoint {
                timestamp: timestamp(query, index),
                unit: *unit,
                aggregate: builder.finish(detail),
            }));
        }
        out.sort_by_key(|point| (point.timestamp, point.unit));
        out
    }

    /// One aggregate per period with data, all matching units merged, oldest first.
    pub fn aggregates(&self, query: &Query<'_>, detail: Detail) -> Vec<(SimTime, Aggregate)> {
        let Some(entry) = self.metrics.get(query.metric) else {
            return Vec::new();
        };
        let mut builders = BTreeMap::new();
        for (unit, tiers) in &entry.units {
            if query.unit.is_none_or(|wanted| wanted == *unit) {
                fold(&mut builders, tiers, query, detail);
            }
        }
        builders
            .into_iter()
            .map(|(index, builder)| (timestamp(query, index), builder.finish(detail)))
            .collect()
    }

    /// `statistic` per period, oldest first; periods where it is undefined are absent.
    pub fn series(&self, query: &Query<'_>, statistic: &Statistic) -> Series {
        let detail = if statistic.is_extended() {
            Detail::Distribution
        } else {
            Detail::Summary
        };
        let points = self
            .aggregates(query, detail)
            .into_iter()
            .filter_map(|(at, aggregate)| aggregate.statistic(statistic).map(|v| (at, v)))
            .collect();
        Series::new(query.period, points)
    }
}

/// The first second at which a bucket starting at `key` has outlived `tier`.
fn expires_at(key: u64, tier: &Tier) -> u64 {
    key.saturating_add(tier.keep.as_secs()).saturating_add(1)
}

/// Moves `entry`'s buckets that outlived their tier at `now_seconds` into the next tier
/// (dropping them after the last) and forgets units left without buckets.
fn expire_entry(entry: &mut Entry, tiers: &[Tier], now_seconds: u64) {
    for (_, buckets) in &mut entry.units {
        for (index, tier) in tiers.iter().enumerate() {
            let cutoff = now_seconds.saturating_sub(tier.keep.as_secs());
            let kept = buckets[index].split_off(&cutoff);
            let old = std::mem::replace(&mut buckets[index], kept);
            if let (Some(next_tier), Some(next)) =
                (tiers.get(index + 1), buckets.get_mut(index + 1))
            {
                for (start, aggregate) in old {
                    let key = start - start % next_tier.granularity;
                    next.entry(key).or_default().merge(&aggregate);
                }
            }
        }
    }
    entry
        .units
        .retain(|(_, buckets)| buckets.iter().any(|b| !b.is_empty()));
}

/// The first second at which expiry has something to do for `entry`: when its oldest
/// bucket of some tier outlives that tier. `None` when it holds no data.
fn next_due(entry: &Entry, tiers: &[Tier]) -> Option<u64> {
    entry
        .units
        .iter()
        .flat_map(|(_, buckets)| buckets.iter().zip(tiers))
        .filter_map(|(buckets, tier)| {
            buckets
                .first_key_value()
                .map(|(&key, _)| expires_at(key, tier))
        })
        .min()
}

/// Start of period `index` of `query`.
fn timestamp(query: &Query<'_>, index: u64) -> SimTime {
    let start = query.start.as_millis() / 1_000;
    SimTime::from_millis((start + index * u64::from(query.period.seconds())) * 1_000)
}

/// Adds every bucket of `tiers` inside the query's range to its period's builder.
fn fold(
    builders: &mut BTreeMap<u64, Builder>,
    tiers: &[BTreeMap<u64, Aggregate>],
    query: &Query<'_>,
    detail: Detail,
) {
    let start = query.start.as_millis() / 1_000;
    let end = query.end.as_millis().div_ceil(1_000);
    if end <= start {
        return;
    }
    let period = u64::from(query.period.seconds());
    for buckets in tiers {
        for (&key, aggregate) in buckets.range(start..end) {
            if aggregate.is_empty() {
                continue;
            }
            let builder: &mut Builder = builders.entry((key - start) / period).or_default();
            builder.add(aggregate, detail);
        }
    }
}
