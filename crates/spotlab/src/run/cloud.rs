//! What a run runs against: the embedded local cloud (started in this process) or a
//! running endpoint, the cloud's virtual clock, and the service under test (spotlab's
//! own target as a child process, or any URL).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use simtime::SimTime;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The cloud a run talks to.
pub struct Cloud {
    /// Its endpoint, for the SDKs and spotlab's own API; for AWS, `AWS (REGION)`.
    pub endpoint: String,
    /// Virtual seconds per real second (1 on AWS).
    pub time_scale: f64,
    /// The embedded cloud, when the run started one.
    embedded: Option<controlplane::Running>,
    /// AWS itself, when the run is on AWS.
    aws: Option<Aws>,
    http: reqwest::Client,
}

/// Where on AWS a run goes.
#[derive(Clone, Debug)]
pub struct Aws {
    /// The region [default: the standard chain's, else us-east-1].
    pub region: Option<String>,
    /// The shared-config profile, if not the default chain's.
    pub profile: Option<String>,
}

/// The wall clock as a [`SimTime`] (AWS's time is real).
pub fn wall_now() -> SimTime {
    SimTime::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0),
    )
}

#[derive(Deserialize)]
struct Health {
    virtual_time: SimTime,
    time_scale: f64,
}

impl Cloud {
    /// Starts the local cloud in this process, its state under `state_dir`.
    pub async fn embedded(state_dir: PathBuf, time_scale: u32, seed: u64) -> anyhow::Result<Cloud> {
        let mut config = controlplane::UpConfig::new(state_dir);
        config.listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        config.reset = true;
        config.seed = Some(seed);
        config.time_scale = Some(
            clock::TimeScale::new(time_scale)
                .map_err(|e| anyhow::anyhow!("time scale {time_scale}: {e}"))?,
        );
        config.spotlab_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf));
        let running = controlplane::start(config)
            .await
            .context("starting the embedded local cloud")?;
        let endpoint = format!("http://{}", running.addr);
        Ok(Cloud {
            endpoint,
            time_scale: f64::from(time_scale),
            embedded: Some(running),
            aws: None,
            http: reqwest::Client::new(),
        })
    }

    /// AWS itself: real time, credentials from the standard chain.
    pub fn aws(aws: Aws) -> Cloud {
        Cloud {
            endpoint: format!(
                "AWS ({})",
                aws.region.as_deref().unwrap_or("the default region")
            ),
            time_scale: 1.0,
            embedded: None,
            aws: Some(aws),
            http: reqwest::Client::new(),
        }
    }

    /// SDK clients for this cloud.
    pub async fn clients(&self) -> crate::aws::Clients {
        match &self.aws {
            Some(aws) => {
                crate::aws::Clients::aws(aws.region.as_deref(), aws.profile.as_deref()).await
            }
            None => crate::aws::Clients::at(&self.endpoint, "us-east-1").await,
        }
    }

    /// How often a run looks at this cloud while it waits (real time): often on the
    /// local cloud, whose time runs fast; every few seconds on AWS, whose API calls
    /// are rate-limited and billed.
    pub fn poll(&self) -> Duration {
        if self.aws.is_some() {
            Duration::from_secs(5)
        } else {
            Duration::from_millis(250)
        }
    }

    /// Where on AWS the run goes, when it does.
    pub fn on_aws(&self) -> Option<&Aws> {
        self.aws.as_ref()
    }

    /// A running local cloud at `endpoint` (`spotlab up`).
    pub async fn running(endpoint: &str) -> anyhow::Result<Cloud> {
        let http = reqwest::Client::new();
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let health = health(&http, &endpoint).await.with_context(|| {
            format!(
                "{endpoint} does not answer as a spotlab local cloud (is `spotlab up` running?)"
            )
        })?;
        Ok(Cloud {
            endpoint,
            time_scale: health.time_scale,
            embedded: None,
            aws: None,
            http,
        })
    }

    /// Whether the run started the cloud itself.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// The cloud's virtual now (on AWS, the wall clock).
    pub async fn now(&self) -> anyhow::Result<SimTime> {
        if self.aws.is_some() {
            return Ok(wall_now());
        }
        Ok(health(&self.http, &self.endpoint).await?.virtual_time)
    }

    /// Injects Spot interruptions (2-minute notices) into these instances.
    pub async fn interrupt(&self, instances: &[String]) -> anyhow::Result<()> {
        if self.aws.is_some() {
            bail!("{}", INTERRUPT_ON_AWS);
        }
        let request = ec2::FaultRequest::Interrupt {
            targets: ec2::Targets::Instances(instances.to_vec()),
            before_ms: None,
        };
        let answer = self
            .http
            .post(format!("{}/spotlab/v1/faults", self.endpoint))
            .json(&request)
            .send()
            .await
            .context("injecting interruptions")?;
        if !answer.status().is_success() {
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            bail!("injecting interruptions: HTTP {status}: {body}");
        }
        Ok(())
    }

    /// Stops the embedded cloud (its instances' processes are stopped too).
    pub async fn stop(self) -> anyhow::Result<()> {
        if let Some(running) = self.embedded {
            running.stop.cancel();
            running
                .done
                .await
                .context("the embedded local cloud")?
                .context("stopping the embedded local cloud")?;
        }
        Ok(())
    }
}

/// Why `interrupt` steps need more on AWS.
pub const INTERRUPT_ON_AWS: &str = "on AWS an interrupt step goes through Fault Injection \
    Service (aws:ec2:send-spot-instance-interruptions), which needs a role it may assume: \
    give the stack a [fault_injection_role] (see examples/aws-stack.toml), or remove the \
    step (a scale-in still sends the removed Spot instances their notices)";

/// The virtual now of the local cloud at `endpoint`; `None` when it is not one (AWS,
/// moto) or does not answer.
pub async fn now_at(endpoint: &str) -> Option<SimTime> {
    let http = reqwest::Client::new();
    health(&http, endpoint.trim_end_matches('/'))
        .await
        .ok()
        .map(|h| h.virtual_time)
}

async fn health(http: &reqwest::Client, endpoint: &str) -> anyhow::Result<Health> {
    let answer = http
        .get(format!("{endpoint}/spotlab/v1/health"))
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .error_for_status()?;
    Ok(answer.json().await?)
}

/// The service under test.
pub struct Service {
    /// Its URL, for the agents.
    pub url: String,
    /// `spotlab target`, when the run started it.
    child: Option<Child>,
}

impl Service {
    /// Starts `spotlab target` on a free loopback port at `rate` requests per virtual
    /// second, logging to `log`.
    pub async fn builtin(
        rate: f64,
        burst: Option<u32>,
        time_scale: f64,
        log: &Path,
    ) -> anyhow::Result<Service> {
        let exe = std::env::current_exe().context("locating the spotlab binary")?;
        let stderr =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = Command::new(exe);
        command
            .args(["target", "--listen", "127.0.0.1:0", "--threads", "1"])
            .args(["--rate", &rate.to_string()])
            .args(["--time-scale", &time_scale.to_string()]);
        if let Some(burst) = burst {
            command.args(["--burst", &burst.to_string()]);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .context("starting spotlab target")?;
        let stdout = child
            .stdout
            .take()
            .context("spotlab target's standard output")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .context("spotlab target did not start within 20 s")??
            .with_context(|| format!("spotlab target exited; see {}", log.display()))?;
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .with_context(|| format!("spotlab target printed {line:?}, not its address"))?;
        Ok(Service {
            url: format!("{}/", url.trim_end_matches('/')),
            child: Some(child),
        })
    }

    /// A service the run does not manage.
    pub fn external(url: String) -> Service {
        Service { url, child: None }
    }

    /// Stops `spotlab target` if the run started it.
    pub async fn stop(mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill().await;
        }
    }
}
