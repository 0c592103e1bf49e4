//! What the control plane's tests share: a local cloud started in-process on
//! 127.0.0.1:0 in a temporary state directory, and an aws-sdk-ec2 client for it.
#![allow(dead_code)]

use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
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
