//! The region's fixed facts and its market, as EC2 reports them: DescribeRegions,
//! DescribeAvailabilityZones, DescribeInstanceTypes, DescribeInstanceTypeOfferings
//! (from the embedded catalogue) and DescribeSpotPriceHistory (from the simulated
//! market's price history). Only Linux/UNIX prices are modelled.

use market::{Arch, InstanceType, InstanceTypeId, Pool, PriceHistoryQuery, catalog};
use serde::Deserialize;
use serde_json::{Value, json};
use simtime::SimTime;

use crate::cloud::{Cloud, REGION, parse};
use crate::error::ApiError;
use crate::filters::{self, Fields, Filter, PageLimits};
use crate::network::dry_run;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RegionsInput {
    dry_run: Option<bool>,
    #[serde(default)]
    region_names: Vec<String>,
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ZonesInput {
    dry_run: Option<bool>,
    #[serde(default)]
    zone_names: Vec<String>,
    #[serde(default)]
    zone_ids: Vec<String>,
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TypesInput {
    dry_run: Option<bool>,
    #[serde(default)]
    instance_types: Vec<String>,
    #[serde(default)]
    filters: Vec<Filter>,
    max_results: Option<i64>,
    next_token: Option<String>,
    location_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PriceHistoryInput {
    dry_run: Option<bool>,
    start_time: Option<String>,
    end_time: Option<String>,
    #[serde(default)]
    instance_types: Vec<String>,
    #[serde(default)]
    product_descriptions: Vec<String>,
    #[serde(default)]
    filters: Vec<Filter>,
    availability_zone: Option<String>,
    availability_zone_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

struct Plain(Vec<(&'static str, String)>);

impl Fields for Plain {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| vec![v.clone()])
    }
}

struct TypeFields(&'static InstanceType);

impl Fields for TypeFields {
    fn field(&self, name: &str) -> Option<Vec<String>> {
        let t = self.0;
        Some(match name {
            "instance-type" => vec![t.name.to_owned()],
            "current-generation" => vec![t.current_generation.to_string()],
            "vcpu-info.default-vcpus" => vec![t.vcpus.to_string()],
            "vcpu-info.default-cores" => t.cpu.map(|c| c.cores.to_string()).into_iter().collect(),
            "vcpu-info.default-threads-per-core" => t
                .cpu
                .map(|c| c.threads_per_core.to_string())
                .into_iter()
                .collect(),
            "memory-info.size-in-mib" => vec![t.memory_mib.to_string()],
            "processor-info.supported-architecture" => vec![arch_name(t.arch).to_owned()],
            "supported-usage-class" => usage_classes(t).into_iter().map(str::to_owned).collect(),
            "bare-metal" => vec![t.name.contains("metal").to_string()],
            "supported-root-device-type" => vec!["ebs".to_owned()],
            "supported-virtualization-type" => vec!["hvm".to_owned()],
            _ => return None,
        })
    }
}

fn arch_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64",
        Arch::Arm64 => "arm64",
    }
}

fn usage_classes(t: &InstanceType) -> Vec<&'static str> {
    if t.spot_supported {
        vec!["on-demand", "spot"]
    } else {
        vec!["on-demand"]
    }
}

fn type_json(t: &InstanceType) -> Value {
    let mut vcpu = json!({"DefaultVCpus": t.vcpus});
    if let Some(cpu) = t.cpu {
        vcpu["DefaultCores"] = json!(cpu.cores);
        vcpu["DefaultThreadsPerCore"] = json!(cpu.threads_per_core);
    }
    json!({
        "InstanceType": t.name,
        "CurrentGeneration": t.current_generation,
        "SupportedUsageClasses": usage_classes(t),
        "SupportedRootDeviceTypes": ["ebs"],
        "SupportedVirtualizationTypes": ["hvm"],
        "BareMetal": t.name.contains("metal"),
        "ProcessorInfo": {"SupportedArchitectures": [arch_name(t.arch)]},
        "VCpuInfo": vcpu,
        "MemoryInfo": {"SizeInMiB": t.memory_mib},
    })
}

/// Product descriptions whose prices the market models, as AWS spells them.
const LINUX: [&str; 2] = ["Linux/UNIX", "Linux/UNIX (Amazon VPC)"];

impl Cloud {
    pub(crate) fn describe_regions(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: RegionsInput = parse(input)?;
        filters::check(
            &input.filters,
            &["region-name", "endpoint", "opt-in-status"],
        )?;
        if let Some(other) = input.region_names.iter().find(|r| *r != REGION) {
            return Err(ApiError::invalid_value(format!(
                "Invalid region names: {other}. This local cloud serves {REGION} only."
            )));
        }
        dry_run(input.dry_run)?;
        let endpoint = format!("ec2.{REGION}.amazonaws.com");
        let fields = Plain(vec![
            ("region-name", REGION.to_owned()),
            ("endpoint", endpoint.clone()),
            ("opt-in-status", "opt-in-not-required".to_owned()),
        ]);
        let regions: Vec<Value> = filters::matches(&input.filters, &fields)
            .then(|| {
                json!({"RegionName": REGION, "Endpoint": endpoint, "OptInStatus": "opt-in-not-required"})
            })
            .into_iter()
            .collect();
        Ok(json!({"Regions": regions}))
    }

    pub(crate) fn describe_availability_zones(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: ZonesInput = parse(input)?;
        filters::check(
            &input.filters,
            &[
                "zone-name",
                "zone-id",
                "state",
                "region-name",
                "zone-type",
                "group-name",
                "opt-in-status",
                "network-border-group",
            ],
        )?;
        for name in &input.zone_names {
            if catalog().zone_by_name(name).is_none() {
                return Err(ApiError::invalid_value(format!(
                    "Invalid availability zone: [{name}]"
                )));
            }
        }
        for id in &input.zone_ids {
            if catalog().zone_by_id(id).is_none() {
                return Err(ApiError::invalid_value(format!(
                    "Invalid availability zone id: [{id}]"
                )));
            }
        }
        dry_run(input.dry_run)?;
        let zones: Vec<Value> = catalog()
            .zones()
            .filter(|(_, z)| {
                (input.zone_names.is_empty() && input.zone_ids.is_empty())
                    || input.zone_names.iter().any(|n| n == z.name)
                    || input.zone_ids.iter().any(|i| i == z.id)
            })
            .filter(|(_, z)| {
                let fields = Plain(vec![
                    ("zone-name", z.name.to_owned()),
                    ("zone-id", z.id.to_owned()),
                    ("state", "available".to_owned()),
                    ("region-name", REGION.to_owned()),
                    ("zone-type", "availability-zone".to_owned()),
                    ("group-name", REGION.to_owned()),
                    ("opt-in-status", "opt-in-not-required".to_owned()),
                    ("network-border-group", REGION.to_owned()),
                ]);
                filters::matches(&input.filters, &fields)
            })
            .map(|(_, z)| {
                json!({
                    "State": "available",
                    "OptInStatus": "opt-in-not-required",
                    "Messages": [],
                    "RegionName": REGION,
                    "ZoneName": z.name,
                    "ZoneId": z.id,
                    "GroupName": REGION,
                    "NetworkBorderGroup": REGION,
                    "ZoneType": "availability-zone",
                })
            })
            .collect();
        Ok(json!({"AvailabilityZones": zones}))
    }

    pub(crate) fn describe_instance_types(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: TypesInput = parse(input)?;
        filters::check(
            &input.filters,
            &[
                "instance-type",
                "current-generation",
                "vcpu-info.default-vcpus",
                "vcpu-info.default-cores",
                "vcpu-info.default-threads-per-core",
                "memory-info.size-in-mib",
                "processor-info.supported-architecture",
                "supported-usage-class",
                "bare-metal",
                "supported-root-device-type",
                "supported-virtualization-type",
            ],
        )?;
        let unknown: Vec<&str> = input
            .instance_types
            .iter()
            .filter(|t| catalog().instance_type_id(t).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::new(
                "InvalidInstanceType",
                format!(
                    "The following supplied instance types do not exist: [{}]",
                    unknown.join(", ")
                ),
            ));
        }
        dry_run(input.dry_run)?;
        let types: Vec<Value> = catalog()
            .instance_types()
            .filter(|(_, t)| {
                input.instance_types.is_empty() || input.instance_types.iter().any(|n| n == t.name)
            })
            .filter(|(_, t)| filters::matches(&input.filters, &TypeFields(t)))
            .map(|(_, t)| type_json(t))
            .collect();
        let (page, next) = filters::paginate(
            types,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 100).default_page(100),
        )?;
        Ok(json!({"InstanceTypes": page, "NextToken": next}))
    }

    pub(crate) fn describe_instance_type_offerings(
        &mut self,
        input: Value,
    ) -> Result<Value, ApiError> {
        let input: TypesInput = parse(input)?;
        filters::check(&input.filters, &["location", "instance-type"])?;
        let location_type = input
            .location_type
            .clone()
            .unwrap_or_else(|| "region".to_owned());
        if !matches!(
            location_type.as_str(),
            "region" | "availability-zone" | "availability-zone-id"
        ) {
            return Err(ApiError::invalid_value(format!(
                "Value ({location_type}) for parameter locationType is invalid."
            )));
        }
        dry_run(input.dry_run)?;
        let mut offerings: Vec<Value> = Vec::new();
        let mut push = |name: &str, location: &str| {
            let fields = Plain(vec![
                ("location", location.to_owned()),
                ("instance-type", name.to_owned()),
            ]);
            if filters::matches(&input.filters, &fields) {
                offerings.push(json!({
                    "InstanceType": name,
                    "LocationType": location_type,
                    "Location": location,
                }));
            }
        };
        if location_type == "region" {
            for (_, t) in catalog().instance_types() {
                push(t.name, REGION);
            }
        } else {
            for pool in catalog().pools() {
                let zone = pool.zone_info();
                let location = if location_type == "availability-zone" {
                    zone.name
                } else {
                    zone.id
                };
                push(pool.type_name(), location);
            }
        }
        let (page, next) = filters::paginate(
            offerings,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 1000).default_page(1000),
        )?;
        Ok(json!({"InstanceTypeOfferings": page, "NextToken": next}))
    }

    pub(crate) fn describe_spot_price_history(&mut self, input: Value) -> Result<Value, ApiError> {
        let input: PriceHistoryInput = parse(input)?;
        filters::check(
            &input.filters,
            &[
                "availability-zone",
                "availability-zone-id",
                "instance-type",
                "product-description",
                "spot-price",
                "timestamp",
            ],
        )?;
        let time = |text: &Option<String>, name: &str| -> Result<Option<SimTime>, ApiError> {
            text.as_deref()
                .map(|t| {
                    SimTime::parse(t).map_err(|_| {
                        ApiError::invalid_value(format!(
                            "Value ({t}) for parameter {name} is invalid."
                        ))
                    })
                })
                .transpose()
        };
        let start = time(&input.start_time, "startTime")?;
        let end = time(&input.end_time, "endTime")?;
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            return Err(ApiError::invalid_value(
                "The start time must be before the end time.",
            ));
        }
        let mut instance_types: Vec<InstanceTypeId> = Vec::new();
        for name in &input.instance_types {
            instance_types.push(catalog().instance_type_id(name).ok_or_else(|| {
                ApiError::invalid_value(format!(
                    "Value ({name}) for parameter instanceType is invalid."
                ))
            })?);
        }
        let zone = match (&input.availability_zone, &input.availability_zone_id) {
            (Some(name), _) => Some(catalog().zone_by_name(name).ok_or_else(|| {
                ApiError::invalid_value(format!("Invalid availability zone: [{name}]"))
            })?),
            (None, Some(id)) => Some(catalog().zone_by_id(id).ok_or_else(|| {
                ApiError::invalid_value(format!("Invalid availability zone id: [{id}]"))
            })?),
            (None, None) => None,
        };
        dry_run(input.dry_run)?;
        let products: Vec<&str> = if input.product_descriptions.is_empty() {
            vec![LINUX[0]]
        } else {
            LINUX
                .iter()
                .copied()
                .filter(|p| input.product_descriptions.iter().any(|d| d == p))
                .collect()
        };
        let query = PriceHistoryQuery {
            instance_types,
            zones: zone.into_iter().collect(),
            start,
            end,
        };
        let now = self.now();
        let changes = self.world.market_mut().price_history(&query, now);
        let mut items: Vec<Value> = Vec::new();
        for change in &changes {
            for product in &products {
                let pool: Pool = change.pool;
                let zone = pool.zone_info();
                let fields = Plain(vec![
                    ("availability-zone", zone.name.to_owned()),
                    ("availability-zone-id", zone.id.to_owned()),
                    ("instance-type", pool.type_name().to_owned()),
                    ("product-description", (*product).to_owned()),
                    ("spot-price", spot_price_text(change.price)),
                    ("timestamp", change.at.to_iso_millis()),
                ]);
                if filters::matches(&input.filters, &fields) {
                    items.push(json!({
                        "AvailabilityZone": zone.name,
                        "AvailabilityZoneId": zone.id,
                        "InstanceType": pool.type_name(),
                        "ProductDescription": product,
                        "SpotPrice": spot_price_text(change.price),
                        "Timestamp": change.at.to_iso_millis(),
                    }));
                }
            }
        }
        let (page, next) = filters::paginate(
            items,
            input.max_results,
            input.next_token.as_deref(),
            PageLimits::new(5, 1000).default_page(1000),
        )?;
        Ok(json!({"SpotPriceHistory": page, "NextToken": next}))
    }
}

/// Spot prices as EC2 prints them: six decimals.
fn spot_price_text(price: market::Price) -> String {
    let micros = price.as_micros();
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spot_prices_have_six_decimals() {
        assert_eq!(
            spot_price_text(market::Price::from_micros(80_000)),
            "0.080000"
        );
        assert_eq!(
            spot_price_text(market::Price::from_micros(1_234_567)),
            "1.234567"
        );
    }
}
