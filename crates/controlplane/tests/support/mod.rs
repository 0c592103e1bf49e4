//! What the control plane's tests share: a local cloud started in-process on
//! 127.0.0.1:0 in a temporary state directory (or in a given one, to restart it), an
//! aws-sdk-ec2 client for it, and the code and status of a refused SDK call.
#![allow(dead_code)]

use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    DefaultTargetCapacityType, FleetLaunchTemplateConfigRequest,
    FleetLaunchTemplateOverridesRequest, FleetLaunchTemplateSpecificationRequest, FleetType,
    RequestLaunchTemplateData, SpotOptionsRequest, TargetCapacitySpecificationRequest,
};
use controlplane::{Running, UpConfig};

/// A running local cloud and the directory it keeps its state in.
pub struct Cloud {
    /// The control plane.
    pub running: Running,
    _dir: tempfile::TempDir,
}

impl Cloud {
    /// Starts a cloud at `scale` with `seed`; `configure` adjusts anything else.
    pub async fn start(scale: u32, seed: u64, configure: impl FnOnce(&mut UpConfig)) -> Cloud {
        let dir = tempfile::tempdir().expect("state dir");
        let running = start_with(dir.path(), scale, seed, configure).await;
        Cloud { running, _dir: dir }
    }

    /// A client signing with `key` and `secret`.
    pub fn client(&self, key: &str, secret: &str) -> Client {
        Client::from_conf(
            aws_sdk_ec2::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(format!("http://{}", self.running.addr))
                .credentials_provider(Credentials::new(key, secret, None, None, "test"))
                .build(),
        )
    }

    /// Stops the cloud and waits for it.
    pub async fn stop(self) {
        stop(self.running).await;
    }
}

/// Starts a cloud whose state is in `dir`: a new one the first time, the same one
/// after a [`stop`] (a restart must use the same `scale` and `seed`).
pub async fn start_in(dir: &std::path::Path, scale: u32, seed: u64) -> Running {
    start_with(dir, scale, seed, |_| {}).await
}

async fn start_with(
    dir: &std::path::Path,
    scale: u32,
    seed: u64,
    configure: impl FnOnce(&mut UpConfig),
) -> Running {
    let mut config = UpConfig::new(dir.to_owned());
    config.listen = Some("127.0.0.1:0".parse().expect("addr"));
    config.seed = Some(seed);
    config.time_scale = Some(clock::TimeScale::new(scale).expect("scale"));
    configure(&mut config);
    controlplane::start(config)
        .await
        .expect("control plane starts")
}

/// Stops a cloud and waits for it.
pub async fn stop(running: Running) {
    running.stop.cancel();
    running.done.await.expect("join").expect("a clean stop");
}

/// The code and HTTP status of a refused call.
pub fn refused<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
) -> (String, u16) {
    let error = result.expect_err("the call should be refused");
    let status = error.raw_response().map_or(0, |r| r.status().as_u16());
    let code = error
        .as_service_error()
        .and_then(|e| e.code())
        .unwrap_or_else(|| panic!("not a service error: {error:?}"))
        .to_owned();
    (code, status)
}

/// Creates the launch template `name` with `data`; returns its id.
pub async fn template(ec2: &Client, name: &str, data: RequestLaunchTemplateData) -> String {
    let made = ec2
        .create_launch_template()
        .launch_template_name(name)
        .launch_template_data(data)
        .send()
        .await
        .expect("launch template");
    made.launch_template()
        .and_then(|t| t.launch_template_id())
        .expect("template id")
        .to_owned()
}

/// A maintain fleet of `capacity` t2.small Spot instances in us-east-1a from
/// `template`, with `spot` options if given; returns its id.
pub async fn t2_small_fleet(
    ec2: &Client,
    template: &str,
    capacity: i32,
    spot: Option<SpotOptionsRequest>,
) -> String {
    let fleet = ec2
        .create_fleet()
        .r#type(FleetType::Maintain)
        .set_spot_options(spot)
        .target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(capacity)
                .default_target_capacity_type(DefaultTargetCapacityType::Spot)
                .build(),
        )
        .launch_template_configs(
            FleetLaunchTemplateConfigRequest::builder()
                .launch_template_specification(
                    FleetLaunchTemplateSpecificationRequest::builder()
                        .launch_template_id(template)
                        .version("$Latest")
                        .build(),
                )
                .overrides(
                    FleetLaunchTemplateOverridesRequest::builder()
                        .instance_type("t2.small".into())
                        .availability_zone("us-east-1a")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("fleet");
    fleet.fleet_id().expect("fleet id").to_owned()
}
