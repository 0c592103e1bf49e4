//! What the control plane's tests share: a local cloud started in-process on
//! 127.0.0.1:0 in a temporary state directory, and an aws-sdk-ec2 client for it.
#![allow(dead_code)]

use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
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
        let mut config = UpConfig::new(dir.path().to_owned());
        config.listen = Some("127.0.0.1:0".parse().expect("addr"));
        config.seed = Some(seed);
        config.time_scale = Some(clock::TimeScale::new(scale).expect("scale"));
        configure(&mut config);
        let running = controlplane::start(config)
            .await
            .expect("control plane starts");
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
        self.running.stop.cancel();
        self.running
            .done
            .await
            .expect("join")
            .expect("a clean stop");
    }
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
