//! Everything a run measures, through the official SDKs (so the same code measures a
//! run on AWS): the fleet and its instances by pool, the agents' metrics in
//! CloudWatch, the alarm and its history, Spot prices.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{HistoryItemType, Metric, MetricDataQuery, MetricStat, ScanBy};
use simtime::{SimDuration, SimTime};

use crate::aws::{Clients, Context as _, next_token};

/// The namespace of the agents' metrics.
const NAMESPACE: &str = "spotlab";

/// SDK time from virtual time.
pub fn sdk_time(t: SimTime) -> DateTime {
    DateTime::from_millis(i64::try_from(t.as_millis()).unwrap_or(i64::MAX))
}

/// Virtual time from SDK time.
pub fn sim_time(t: &DateTime) -> SimTime {
    SimTime::from_millis(u64::try_from(t.to_millis().unwrap_or(0)).unwrap_or(0))
}

/// The fleet as DescribeFleets shows it.
#[derive(Clone, Debug, Default)]
pub struct FleetState {
    /// FulfilledCapacity.
    pub fulfilled: f64,
    /// TotalTargetCapacity.
    pub target: f64,
    /// FleetState (`active`, `deleted_terminating`...).
    pub state: String,
}

/// One of the run's instances, as first seen.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Instance type.
    pub instance_type: String,
    /// Availability zone.
    pub zone: String,
    /// Whether it is a Spot instance.
    pub spot: bool,
    /// When it launched.
    pub launched: SimTime,
    /// When it left the fleet's active instances, if it has.
    pub left: Option<SimTime>,
}

impl Instance {
    /// `type zone`.
    pub fn pool(&self) -> String {
        format!("{} {}", self.instance_type, self.zone)
    }
}

/// Every instance the run's fleet has had.
#[derive(Clone, Debug, Default)]
pub struct Instances {
    /// By id.
    pub all: BTreeMap<String, Instance>,
    /// Those active now.
    pub active: BTreeSet<String>,
}

impl Instances {
    /// Active capacity by pool, given each type's weight.
    pub fn capacity_by_pool(&self, weights: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
        let mut by_pool = BTreeMap::new();
        for id in &self.active {
            if let Some(instance) = self.all.get(id) {
                let weight = weights.get(&instance.instance_type).copied().unwrap_or(1.0);
                *by_pool.entry(instance.pool()).or_insert(0.0) += weight;
            }
        }
        by_pool
    }
}

/// DescribeFleets for one fleet.
pub async fn fleet(clients: &Clients, fleet_id: &str) -> anyhow::Result<FleetState> {
    let answer = clients
        .ec2
        .describe_fleets()
        .fleet_ids(fleet_id)
        .send()
        .await
        .doing(|| format!("DescribeFleets {fleet_id}"))?;
    let Some(fleet) = answer.fleets().first() else {
        anyhow::bail!("DescribeFleets does not know {fleet_id}");
    };
    Ok(FleetState {
        fulfilled: fleet.fulfilled_capacity().unwrap_or(0.0),
        target: fleet
            .target_capacity_specification()
            .and_then(|t| t.total_target_capacity())
            .map_or(0.0, f64::from),
        state: fleet
            .fleet_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    })
}

/// Brings `instances` up to date with DescribeFleetInstances (and DescribeInstances
/// for the ones not seen before); returns the ids that left since the last call.
pub async fn track(
    clients: &Clients,
    fleet_id: &str,
    instances: &mut Instances,
    now: SimTime,
) -> anyhow::Result<Vec<String>> {
    let mut active = BTreeSet::new();
    let mut token = None;
    loop {
        let answer = clients
            .ec2
            .describe_fleet_instances()
            .fleet_id(fleet_id)
            .set_next_token(token)
            .send()
            .await
            .doing(|| format!("DescribeFleetInstances {fleet_id}"))?;
        for i in answer.active_instances() {
            if let Some(id) = i.instance_id() {
                active.insert(id.to_owned());
            }
        }
        token = next_token(answer.next_token());
        if token.is_none() {
            break;
        }
    }
    let new: Vec<String> = active
        .iter()
        .filter(|id| !instances.all.contains_key(*id))
        .cloned()
        .collect();
    for chunk in new.chunks(100) {
        let answer = clients
            .ec2
            .describe_instances()
            .set_instance_ids(Some(chunk.to_vec()))
            .send()
            .await
            .doing(|| "DescribeInstances".to_owned())?;
        for i in answer.reservations().iter().flat_map(|r| r.instances()) {
            let Some(id) = i.instance_id() else { continue };
            instances.all.insert(
                id.to_owned(),
                Instance {
                    instance_type: i
                        .instance_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    zone: i
                        .placement()
                        .and_then(|p| p.availability_zone())
                        .unwrap_or_default()
                        .to_owned(),
                    spot: i.instance_lifecycle().is_some_and(|l| l.as_str() == "spot"),
                    launched: i.launch_time().map_or(now, sim_time),
                    left: None,
                },
            );
        }
    }
    let left: Vec<String> = instances.active.difference(&active).cloned().collect();
    for id in &left {
        if let Some(instance) = instances.all.get_mut(id) {
            instance.left = Some(now);
        }
    }
    instances.active = active;
    Ok(left)
}

/// Instances pending, running or shutting down (any fleet).
pub async fn running(clients: &Clients, ids: &[String]) -> anyhow::Result<u64> {
    let mut count = 0;
    for chunk in ids.chunks(100) {
        let answer = clients
            .ec2
            .describe_instances()
            .set_instance_ids(Some(chunk.to_vec()))
            .send()
            .await
            .doing(|| "DescribeInstances".to_owned())?;
        count += answer
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| {
                i.state()
                    .and_then(|s| s.name())
                    .is_some_and(|n| matches!(n.as_str(), "pending" | "running" | "shutting-down"))
            })
            .count() as u64;
    }
    Ok(count)
}

/// Successful and failed requests per `period`, from `start` to `end`.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// `(start of the period, successes, errors)` in time order.
    pub points: Vec<(SimTime, f64, f64)>,
}

impl Counts {
    /// Total successes and errors.
    pub fn totals(&self) -> (u64, u64) {
        let (s, e) = self
            .points
            .iter()
            .fold((0.0, 0.0), |(s, e), p| (s + p.1, e + p.2));
        (s.round() as u64, e.round() as u64)
    }
}

fn stat_query(id: &str, metric: &str, stat: &str, period: i32) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(NAMESPACE)
                        .metric_name(metric)
                        .build(),
                )
                .period(period)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// GetMetricData, every page: values of each query id by timestamp.
async fn metric_data(
    clients: &Clients,
    queries: Vec<MetricDataQuery>,
    start: SimTime,
    end: SimTime,
) -> anyhow::Result<BTreeMap<String, BTreeMap<SimTime, f64>>> {
    let mut out: BTreeMap<String, BTreeMap<SimTime, f64>> = BTreeMap::new();
    // A window shorter than CloudWatch's one-second resolution has no data; CloudWatch
    // refuses it rather than say so.
    if start.as_millis() / 1_000 >= end.as_millis() / 1_000 {
        return Ok(out);
    }
    let mut pages = clients
        .cloudwatch
        .get_metric_data()
        .set_metric_data_queries(Some(queries))
        .start_time(sdk_time(start))
        .end_time(sdk_time(end))
        .scan_by(ScanBy::TimestampAscending)
        .into_paginator()
        .send();
    while let Some(answer) = pages.next().await {
        let answer = answer.doing(|| "GetMetricData".to_owned())?;
        for result in answer.metric_data_results() {
            let id = result.id().unwrap_or_default().to_owned();
            let series = out.entry(id).or_default();
            for (t, v) in result.timestamps().iter().zip(result.values()) {
                series.insert(sim_time(t), *v);
            }
        }
    }
    Ok(out)
}

/// Sums of `Success` and `Error` per `period` seconds over `[start, end)`.
pub async fn counts(
    clients: &Clients,
    start: SimTime,
    end: SimTime,
    period: i32,
) -> anyhow::Result<Counts> {
    if end <= start {
        return Ok(Counts::default());
    }
    let data = metric_data(
        clients,
        vec![
            stat_query("success", "Success", "Sum", period),
            stat_query("error", "Error", "Sum", period),
        ],
        start,
        end,
    )
    .await?;
    let empty = BTreeMap::new();
    let success = data.get("success").unwrap_or(&empty);
    let error = data.get("error").unwrap_or(&empty);
    let times: BTreeSet<SimTime> = success.keys().chain(error.keys()).copied().collect();
    Ok(Counts {
        points: times
            .into_iter()
            .filter(|t| *t >= start && *t < end)
            .map(|t| {
                (
                    t,
                    success.get(&t).copied().unwrap_or(0.0),
                    error.get(&t).copied().unwrap_or(0.0),
                )
            })
            .collect(),
    })
}

/// Median and 99th percentile latency (ms) over whole minutes inside `[start, end)`
/// (percentiles do not merge across periods, so one period covers the window; its
/// start is the first whole minute, so an earlier phase's requests are not counted).
pub async fn percentiles(
    clients: &Clients,
    start: SimTime,
    end: SimTime,
) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    const MINUTE: u64 = 60_000;
    let mut from = start.as_millis().div_ceil(MINUTE) * MINUTE;
    if end.as_millis() < from + MINUTE {
        // Shorter than a whole minute: the minute the window starts in.
        from = start.as_millis() / MINUTE * MINUTE;
    }
    let span = end.as_millis().saturating_sub(from).max(MINUTE);
    let period = i32::try_from(span.div_ceil(MINUTE) * 60).unwrap_or(i32::MAX);
    let from = SimTime::from_millis(from);
    let to = from + SimDuration::from_secs(u64::try_from(period).unwrap_or(60));
    let data = metric_data(
        clients,
        vec![
            stat_query("p50", "Latency", "p50", period),
            stat_query("p99", "Latency", "p99", period),
        ],
        from,
        to,
    )
    .await?;
    let first = |id: &str| data.get(id).and_then(|s| s.values().next().copied());
    Ok((first("p50"), first("p99")))
}

/// The alarm as DescribeAlarms shows it: state and threshold.
pub async fn alarm(clients: &Clients, name: &str) -> anyhow::Result<(String, Option<f64>)> {
    let answer = clients
        .cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .doing(|| format!("DescribeAlarms {name}"))?;
    let alarm = answer
        .metric_alarms()
        .first()
        .with_context(|| format!("there is no alarm {name}"))?;
    Ok((
        alarm
            .state_value()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        alarm.threshold(),
    ))
}

/// One state change of the alarm.
#[derive(Clone, Debug)]
pub struct Change {
    /// When.
    pub at: SimTime,
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// CloudWatch's summary.
    pub summary: String,
}

/// The alarm's state changes since `since`, oldest first.
pub async fn alarm_history(
    clients: &Clients,
    name: &str,
    since: SimTime,
    until: SimTime,
) -> anyhow::Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut pages = clients
        .cloudwatch
        .describe_alarm_history()
        .alarm_name(name)
        .history_item_type(HistoryItemType::StateUpdate)
        .start_date(sdk_time(since))
        .end_date(sdk_time(until + SimDuration::from_secs(1)))
        .into_paginator()
        .send();
    while let Some(answer) = pages.next().await {
        let answer = answer.doing(|| format!("DescribeAlarmHistory {name}"))?;
        for item in answer.alarm_history_items() {
            let data: serde_json::Value = item
                .history_data()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            let state = |key: &str| {
                data.get(key)
                    .and_then(|s| s.get("stateValue"))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            changes.push(Change {
                at: item.timestamp().map_or(since, sim_time),
                from: state("oldState"),
                to: state("newState"),
                summary: item.history_summary().unwrap_or_default().to_owned(),
            });
        }
    }
    changes.sort_by_key(|c| c.at);
    Ok(changes)
}

/// Spot price history of one pool from `start`, as `(time, USD per hour)` in time
/// order (the price in force at `start` first).
pub async fn spot_prices(
    clients: &Clients,
    instance_type: &str,
    zone: &str,
    start: SimTime,
    end: SimTime,
) -> anyhow::Result<Vec<(SimTime, f64)>> {
    let mut points = Vec::new();
    let mut pages = clients
        .ec2
        .describe_spot_price_history()
        .instance_types(aws_sdk_ec2::types::InstanceType::from(instance_type))
        .availability_zone(zone)
        .product_descriptions("Linux/UNIX")
        .start_time(sdk_time(start))
        .end_time(sdk_time(end))
        .into_paginator()
        .send();
    while let Some(answer) = pages.next().await {
        let answer = answer.doing(|| format!("DescribeSpotPriceHistory {instance_type} {zone}"))?;
        for p in answer.spot_price_history() {
            if let (Some(t), Some(price)) = (p.timestamp(), p.spot_price())
                && let Ok(price) = price.parse::<f64>()
            {
                points.push((sim_time(t), price));
            }
        }
    }
    points.sort_by_key(|p| p.0);
    points.dedup_by_key(|p| p.0);
    Ok(points)
}

/// On-Demand price of a type in USD per hour, from the catalogue of real prices.
pub fn on_demand(instance_type: &str) -> Option<f64> {
    let catalog = market::catalog();
    catalog
        .instance_type_id(instance_type)
        .map(|id| catalog.instance_type(id).on_demand.as_dollars_f64())
}

/// What an instance cost from `from` to `to` at a step price (USD per hour; the price
/// in force at `from` is the last point at or before it), billed per second.
pub fn cost(prices: &[(SimTime, f64)], from: SimTime, to: SimTime) -> f64 {
    if to <= from || prices.is_empty() {
        return 0.0;
    }
    let mut total = 0.0;
    let mut price = prices
        .iter()
        .take_while(|p| p.0 <= from)
        .last()
        .unwrap_or(&prices[0])
        .1;
    let mut at = from;
    for &(t, next) in prices.iter().filter(|p| p.0 > from && p.0 < to) {
        total += price * t.saturating_since(at).as_millis() as f64 / 3_600_000.0;
        at = t;
        price = next;
    }
    total + price * to.saturating_since(at).as_millis() as f64 / 3_600_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_follows_the_step_price() {
        let h = |x: u64| SimTime::from_millis(x * 3_600_000);
        let prices = [(h(0), 1.0), (h(2), 3.0)];
        assert_eq!(cost(&prices, h(1), h(3)), 4.0);
        assert_eq!(cost(&prices, h(3), h(4)), 3.0);
        assert_eq!(cost(&prices, h(3), h(3)), 0.0);
        assert_eq!(cost(&[], h(0), h(3)), 0.0);
    }
}
