//! The dashboard's snapshot of a region: fleets and their live instances grouped by
//! pool, request rates from the agents' metrics, alarms, recent Spot interruption
//! warnings and the Spot prices of the pools in use, as plain serialisable data.
//!
//! [`snapshot`] is a pure function of the region at its current time; the control plane
//! serves it as JSON and streams it to the page. It reads only: the one `&mut` is for
//! Spot prices, which the market computes lazily ([`Region::spot_price`]). It does not
//! render anything, and knows nothing of HTTP.

use std::collections::{BTreeMap, BTreeSet};

use fleet::{Fleet, Instance};
use market::Pool;
use monitoring::native::NAMESPACE;
use serde::Serialize;
use simtime::{SimDuration, SimTime};
use watch::alarm::AlarmState;
use watch::metrics::{Detail, MetricId, Period, Query};

use crate::Region;

/// The window request rates are averaged over.
pub const RATE_WINDOW: SimDuration = SimDuration::from_secs(10);
/// The window the error rate is computed over.
pub const ERROR_WINDOW: SimDuration = SimDuration::from_secs(60);
/// Most interruption warnings shown, newest first.
pub const MAX_INTERRUPTIONS: usize = 20;
/// Most bus events looked through for interruption warnings, newest first (bounds the
/// work per snapshot on a busy bus).
pub const MAX_EVENTS_SCANNED: usize = 20_000;
/// Most alarms listed (those in ALARM first); [`Alarms::counts`] covers them all.
pub const MAX_ALARMS: usize = 100;

/// The `detail-type` of a Spot interruption warning.
pub const INTERRUPTION_WARNING: &str = "EC2 Spot Instance Interruption Warning";

/// Everything the dashboard shows, as of [`Dashboard::now`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dashboard {
    /// The region's virtual time.
    pub now: SimTime,
    /// Fleets that are not deleted, or still have live instances, by id.
    pub fleets: Vec<FleetView>,
    /// Request rates and the error rate.
    pub requests: Requests,
    /// CloudWatch's alarms.
    pub alarms: Alarms,
    /// The latest Spot interruption warnings on the bus, newest first.
    pub interruptions: Vec<InterruptionWarning>,
    /// The current prices of the pools in use (fleets' pools and live instances').
    pub prices: Vec<PoolPrice>,
}

/// One fleet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetView {
    /// `FleetId`.
    pub id: String,
    /// `Type`: `instant`, `request` or `maintain`.
    pub fleet_type: &'static str,
    /// `FleetState`.
    pub state: &'static str,
    /// `TotalTargetCapacity` (units).
    pub target: u32,
    /// `FulfilledCapacity` (units).
    pub fulfilled: f64,
    /// `FulfilledOnDemandCapacity` (units).
    pub fulfilled_on_demand: f64,
    /// Live instances by pool, pools in catalogue order.
    pub pools: Vec<PoolView>,
}

/// A fleet's live instances in one pool.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolView {
    /// `type/zone`.
    pub pool: String,
    /// The instance type.
    pub instance_type: &'static str,
    /// The availability zone.
    pub zone: &'static str,
    /// The weighted capacity of the pool's live instances (units).
    pub weighted: f64,
    /// The instances, by id.
    pub instances: Vec<InstanceView>,
}

/// One live instance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceView {
    /// `InstanceId`.
    pub id: String,
    /// `spot` or `on-demand`.
    pub lifecycle: &'static str,
    /// `pending` or `running`.
    pub state: &'static str,
    /// Its weighted capacity (units).
    pub weight: f64,
    /// What it pays now, dollars per hour.
    pub price: f64,
    /// Whether it has a Spot interruption notice.
    pub interrupted: bool,
}

/// Request rates from the agents' metrics (namespace `spotlab`, `Success` and `Error`
/// without dimensions; each completed request is one value, 1 for its own outcome).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Requests {
    /// The window of the rates, in seconds.
    pub rate_window_seconds: u64,
    /// Successful requests per second over the rate window.
    pub success_per_second: f64,
    /// Failed requests per second over the rate window.
    pub error_per_second: f64,
    /// The window of the error rate, in seconds.
    pub error_window_seconds: u64,
    /// Requests completed in the error window.
    pub requests_in_error_window: f64,
    /// Errors over requests in the error window; `None` when there were none.
    pub error_rate: Option<f64>,
}

/// CloudWatch's alarms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alarms {
    /// How many alarms there are in each state (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
    pub counts: BTreeMap<&'static str, usize>,
    /// Up to [`MAX_ALARMS`]: those in ALARM first, then by name.
    pub listed: Vec<AlarmView>,
}

/// One alarm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmView {
    /// `AlarmName`.
    pub name: String,
    /// `StateValue`.
    pub state: &'static str,
    /// `StateReason`.
    pub reason: String,
    /// When the state last changed.
    pub since: SimTime,
    /// `ComparisonOperator`.
    pub comparison: &'static str,
    /// `Threshold`, if it has one (anomaly bands do not).
    pub threshold: Option<f64>,
    /// `Namespace/MetricName` and its statistic, e.g. `spotlab/Error Average`, or
    /// `metric math`.
    pub metric: String,
}

/// One interruption warning from the bus.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InterruptionWarning {
    /// Its sequence number on the bus.
    pub seq: u64,
    /// The event's `time`.
    pub time: String,
    /// `detail.instance-id`.
    pub instance_id: String,
    /// `detail.instance-action`.
    pub action: String,
}

/// The prices of one pool.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolPrice {
    /// `type/zone`.
    pub pool: String,
    /// The instance type.
    pub instance_type: &'static str,
    /// The availability zone.
    pub zone: &'static str,
    /// The current Spot price, dollars per hour.
    pub spot: f64,
    /// The On-Demand price, dollars per hour.
    pub on_demand: f64,
}

/// The dashboard's snapshot of `region` at its current time.
pub fn snapshot(region: &mut Region) -> Dashboard {
    let now = region.now();
    let engine = region.ec2().world().engine();
    let instances = engine.instance_map();
    let fleets: Vec<FleetView> = engine
        .fleets()
        .filter(|fleet| !fleet.state.is_deleted() || fleet.live(instances).next().is_some())
        .map(|fleet| fleet_view(fleet, instances))
        .collect();
    let mut pools: BTreeSet<Pool> = engine.pools_of_interest();
    pools.extend(
        engine
            .instances()
            .filter(|i| i.state.is_live())
            .map(|i| i.pool),
    );
    let requests = requests(region, now);
    let alarms = alarms(region);
    let interruptions = interruptions(region);
    let prices = pools
        .into_iter()
        .map(|pool| PoolPrice {
            pool: pool.to_string(),
            instance_type: pool.type_name(),
            zone: pool.zone_name(),
            spot: region.spot_price(pool).as_dollars_f64(),
            on_demand: pool.instance_type_info().on_demand.as_dollars_f64(),
        })
        .collect();
    Dashboard {
        now,
        fleets,
        requests,
        alarms,
        interruptions,
        prices,
    }
}

fn fleet_view(fleet: &Fleet, instances: &BTreeMap<fleet::InstanceId, Instance>) -> FleetView {
    let mut by_pool: BTreeMap<Pool, Vec<&Instance>> = BTreeMap::new();
    for instance in fleet.live(instances) {
        by_pool.entry(instance.pool).or_default().push(instance);
    }
    let pools = by_pool
        .into_iter()
        .map(|(pool, mut members)| {
            members.sort_by(|a, b| a.id.cmp(&b.id));
            PoolView {
                pool: pool.to_string(),
                instance_type: pool.type_name(),
                zone: pool.zone_name(),
                weighted: members.iter().map(|i| i.weight.as_f64()).sum(),
                instances: members.into_iter().map(instance_view).collect(),
            }
        })
        .collect();
    FleetView {
        id: fleet.id.to_string(),
        fleet_type: fleet.spec.fleet_type.as_str(),
        state: fleet.state.as_str(),
        target: fleet.spec.target.total,
        fulfilled: fleet.fulfilled(instances).as_f64(),
        fulfilled_on_demand: fleet.fulfilled_on_demand(instances).as_f64(),
        pools,
    }
}

fn instance_view(instance: &Instance) -> InstanceView {
    InstanceView {
        id: instance.id.to_string(),
        lifecycle: instance.lifecycle.as_str(),
        state: instance.state.name(),
        weight: instance.weight.as_f64(),
        price: instance.price.as_dollars_f64(),
        interrupted: instance.notice.is_some(),
    }
}

/// Sum and sample count of a `spotlab` metric without dimensions over the whole seconds
/// of `window` that end at `now` (rounded down to a second).
fn sum_over(region: &Region, name: &str, window: SimDuration, now: SimTime) -> (f64, f64) {
    let end = SimTime::from_millis(now.as_millis() / 1_000 * 1_000);
    let start = SimTime::from_millis(end.as_millis().saturating_sub(window.as_millis()));
    let Some(period) = u32::try_from(window.as_secs())
        .ok()
        .and_then(Period::from_seconds)
    else {
        return (0.0, 0.0);
    };
    let metric = MetricId::new(NAMESPACE, name);
    let query = Query {
        metric: &metric,
        unit: None,
        start,
        end,
        period,
    };
    region
        .monitoring()
        .metrics()
        .store()
        .aggregates(&query, Detail::Summary)
        .iter()
        .fold((0.0, 0.0), |(sum, count), (_, aggregate)| {
            (sum + aggregate.sum(), count + aggregate.sample_count())
        })
}

fn requests(region: &Region, now: SimTime) -> Requests {
    let seconds = RATE_WINDOW.as_secs().max(1) as f64;
    let (successes, _) = sum_over(region, "Success", RATE_WINDOW, now);
    let (errors, _) = sum_over(region, "Error", RATE_WINDOW, now);
    let (minute_successes, _) = sum_over(region, "Success", ERROR_WINDOW, now);
    let (minute_errors, _) = sum_over(region, "Error", ERROR_WINDOW, now);
    let total = minute_successes + minute_errors;
    Requests {
        rate_window_seconds: RATE_WINDOW.as_secs(),
        success_per_second: successes / seconds,
        error_per_second: errors / seconds,
        error_window_seconds: ERROR_WINDOW.as_secs(),
        requests_in_error_window: total,
        error_rate: (total > 0.0).then(|| minute_errors / total),
    }
}

fn alarms(region: &Region) -> Alarms {
    let mut counts: BTreeMap<&'static str, usize> = AlarmState::ALL
        .into_iter()
        .map(|state| (state.as_str(), 0))
        .collect();
    let mut firing = Vec::new();
    let mut others = Vec::new();
    for alarm in region.monitoring().alarms().summaries() {
        *counts.entry(alarm.state.as_str()).or_default() += 1;
        let list = if alarm.state == AlarmState::Alarm {
            &mut firing
        } else {
            &mut others
        };
        if list.len() < MAX_ALARMS {
            list.push(AlarmView {
                name: alarm.name.to_owned(),
                state: alarm.state.as_str(),
                reason: alarm.reason.to_owned(),
                since: alarm.state_transitioned,
                comparison: alarm.operator.as_str(),
                threshold: alarm.threshold,
                metric: alarm.metric.map_or_else(
                    || "metric math".to_owned(),
                    |m| format!("{}/{} {}", m.namespace, m.metric_name, m.statistic.name()),
                ),
            });
        }
    }
    // Summaries come by name, so each list already is.
    firing.extend(others);
    firing.truncate(MAX_ALARMS);
    Alarms {
        counts,
        listed: firing,
    }
}

fn interruptions(region: &Region) -> Vec<InterruptionWarning> {
    region
        .bus()
        .newest_first()
        .take(MAX_EVENTS_SCANNED)
        .filter(|e| e.event["detail-type"] == INTERRUPTION_WARNING)
        .take(MAX_INTERRUPTIONS)
        .map(|e| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            InterruptionWarning {
                seq: e.seq,
                time: text(&e.event["time"]),
                instance_id: text(&e.event["detail"]["instance-id"]),
                action: text(&e.event["detail"]["instance-action"]),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A panic in a test is a failed test.
mod tests {
    use agent_wire::{Counts, Latency, Report, Source};
    use ec2::CloudConfig;
    use monitoring::Service;
    use serde_json::{Value, json};

    use super::*;
    use crate::{Command, RegionConfig};

    fn region() -> Region {
        let start = SimTime::parse("2026-05-01T00:00:00Z").expect("it parses");
        Region::new(RegionConfig {
            ec2: CloudConfig {
                interruption_scale: 0.0,
                ..CloudConfig::new(7, start)
            },
            endpoint_url: "http://127.0.0.1:4747/".to_owned(),
        })
    }

    fn ec2(region: &mut Region, action: &str, input: Value) -> Value {
        region
            .apply(&Command::Ec2 {
                action: action.to_owned(),
                input,
            })
            .expect("the EC2 call succeeds")
    }

    fn cloudwatch(region: &mut Region, action: &str, input: Value) {
        region
            .apply(&Command::Monitoring {
                service: Service::CloudWatch,
                action: action.to_owned(),
                input,
            })
            .expect("the EC2 call succeeds");
    }

    /// A maintain fleet of `target` units over t2.small (weight 1) in us-east-1a and
    /// t3.small (weight 2) in us-east-1b; returns its id.
    fn fleet(region: &mut Region, target: u32) -> String {
        let lt = ec2(
            region,
            "CreateLaunchTemplate",
            json!({"LaunchTemplateName": "dash", "LaunchTemplateData": {"ImageId": "ami-1"}}),
        );
        let lt = lt["LaunchTemplate"]["LaunchTemplateId"]
            .as_str()
            .expect("a JSON string");
        let out = ec2(
            region,
            "CreateFleet",
            json!({
                "Type": "maintain",
                "TargetCapacitySpecification": {"TotalTargetCapacity": target, "DefaultTargetCapacityType": "spot"},
                "SpotOptions": {"AllocationStrategy": "diversified"},
                "LaunchTemplateConfigs": [{
                    "LaunchTemplateSpecification": {"LaunchTemplateId": lt, "Version": "$Latest"},
                    "Overrides": [
                        {"InstanceType": "t2.small", "AvailabilityZone": "us-east-1a"},
                        {"InstanceType": "t3.small", "AvailabilityZone": "us-east-1b", "WeightedCapacity": 2.0}
                    ]
                }]
            }),
        );
        out["FleetId"].as_str().expect("a JSON string").to_owned()
    }

    fn report(seq: u64, start: SimTime, success: u64, errors: u64) -> Report {
        let mut latency = Latency::new();
        latency.record_micros(1_000);
        Report {
            source: Source {
                instance_id: None,
                fleet_id: None,
                instance_type: None,
                availability_zone: None,
                run_id: "run".to_owned(),
            },
            seq,
            start,
            end: start + SimDuration::from_secs(1),
            counts: Counts {
                sent: success + errors,
                success,
                server_error: errors,
                ..Counts::default()
            },
            latency_scheduled: latency.clone(),
            latency_actual: latency,
            last: false,
        }
    }

    #[test]
    fn an_empty_region_shows_nothing_but_the_time() {
        let mut region = region();
        let dashboard = snapshot(&mut region);
        assert_eq!(dashboard.now, region.now());
        assert!(dashboard.fleets.is_empty());
        assert!(dashboard.prices.is_empty());
        assert!(dashboard.interruptions.is_empty());
        assert!(dashboard.alarms.listed.is_empty());
        assert_eq!(dashboard.alarms.counts.values().sum::<usize>(), 0);
        assert_eq!(dashboard.requests.success_per_second, 0.0);
        assert_eq!(dashboard.requests.error_rate, None);
    }

    #[test]
    fn fleets_are_grouped_by_pool_with_weighted_capacity() {
        let mut region = region();
        let id = fleet(&mut region, 6);
        region.advance_to(region.now() + SimDuration::from_secs(5));
        let dashboard = snapshot(&mut region);
        let [fleet] = dashboard.fleets.as_slice() else {
            panic!("one fleet: {:?}", dashboard.fleets);
        };
        assert_eq!(fleet.id, id);
        assert_eq!(fleet.fleet_type, "maintain");
        assert_eq!(fleet.target, 6);
        assert_eq!(fleet.fulfilled, 6.0);
        assert_eq!(fleet.pools.iter().map(|p| p.weighted).sum::<f64>(), 6.0);
        for pool in &fleet.pools {
            assert_eq!(pool.pool, format!("{}/{}", pool.instance_type, pool.zone));
            let weight = if pool.instance_type == "t3.small" {
                2.0
            } else {
                1.0
            };
            assert_eq!(pool.weighted, weight * pool.instances.len() as f64);
            assert!(pool.instances.iter().all(|i| i.lifecycle == "spot"));
        }
        // Both pools of the fleet have a price, whether or not they have instances.
        let priced: Vec<&str> = dashboard.prices.iter().map(|p| p.pool.as_str()).collect();
        assert_eq!(priced, ["t2.small/us-east-1a", "t3.small/us-east-1b"]);
        for price in &dashboard.prices {
            assert!(
                price.spot > 0.0 && price.spot <= price.on_demand,
                "{price:?}"
            );
        }
    }

    #[test]
    fn interruption_warnings_come_from_the_bus_newest_first() {
        let mut region = region();
        fleet(&mut region, 2);
        region.advance_to(region.now() + SimDuration::from_secs(5));
        let ids: Vec<String> = snapshot(&mut region).fleets[0]
            .pools
            .iter()
            .flat_map(|p| p.instances.iter().map(|i| i.id.clone()))
            .collect();
        for id in &ids {
            let fault = serde_json::from_value(
                json!({"action": "interrupt", "targets": {"instances": [id]}}),
            )
            .expect("a valid fault request");
            region
                .apply(&Command::Fault(fault))
                .expect("the fault applies");
            region.advance_to(region.now() + SimDuration::from_secs(1));
        }
        let dashboard = snapshot(&mut region);
        let warned: Vec<&str> = dashboard
            .interruptions
            .iter()
            .map(|w| w.instance_id.as_str())
            .collect();
        let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
        assert_eq!(warned, newest_first);
        assert!(
            dashboard
                .interruptions
                .iter()
                .all(|w| w.action == "terminate")
        );
        let flagged = dashboard.fleets[0]
            .pools
            .iter()
            .flat_map(|p| &p.instances)
            .filter(|i| i.interrupted)
            .count();
        assert_eq!(flagged, ids.len());
    }

    #[test]
    fn rates_and_the_error_rate_come_from_the_agents_metrics() {
        let mut region = region();
        region.advance_to(region.now() + SimDuration::from_secs(120));
        let now = region.now();
        let reports = vec![
            // Within the last 10 s: 80 successes and 20 errors.
            report(1, now - SimDuration::from_secs(3), 50, 10),
            report(2, now - SimDuration::from_secs(2), 30, 10),
            // Within the last minute only: 100 successes.
            report(3, now - SimDuration::from_secs(30), 100, 0),
            // Older than a minute: not counted.
            report(4, now - SimDuration::from_secs(90), 1_000, 1_000),
        ];
        region
            .apply(&Command::Reports { reports })
            .expect("the reports apply");
        let requests = snapshot(&mut region).requests;
        assert_eq!(requests.success_per_second, 8.0);
        assert_eq!(requests.error_per_second, 2.0);
        assert_eq!(requests.requests_in_error_window, 200.0);
        assert_eq!(requests.error_rate, Some(0.1));
    }

    #[test]
    fn alarms_in_alarm_come_first_with_their_thresholds() {
        let mut region = region();
        for name in ["a-quiet", "b-firing"] {
            cloudwatch(
                &mut region,
                "PutMetricAlarm",
                json!({"AlarmName": name, "Namespace": "spotlab", "MetricName": "Error",
                       "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1,
                       "Threshold": 0.05, "ComparisonOperator": "GreaterThanThreshold"}),
            );
        }
        cloudwatch(
            &mut region,
            "SetAlarmState",
            json!({"AlarmName": "b-firing", "StateValue": "ALARM", "StateReason": "test"}),
        );
        let alarms = snapshot(&mut region).alarms;
        let names: Vec<(&str, &str)> = alarms
            .listed
            .iter()
            .map(|a| (a.name.as_str(), a.state))
            .collect();
        assert_eq!(
            names,
            [("b-firing", "ALARM"), ("a-quiet", "INSUFFICIENT_DATA")]
        );
        assert_eq!(alarms.counts["ALARM"], 1);
        assert_eq!(alarms.counts["INSUFFICIENT_DATA"], 1);
        assert_eq!(alarms.counts["OK"], 0);
        let first = &alarms.listed[0];
        assert_eq!(first.threshold, Some(0.05));
        assert_eq!(first.comparison, "GreaterThanThreshold");
        assert_eq!(first.metric, "spotlab/Error Average");
        assert_eq!(first.reason, "test");
    }
}
