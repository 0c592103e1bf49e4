//! `spotlab up`: the local cloud's shell. It owns everything the pure `ec2` core does
//! not: the HTTP endpoint AWS clients talk to, the clock that moves virtual time, one
//! metadata service per instance, instances as process groups, and the state
//! directory that lets a restarted control plane carry on where it stopped.
//!
//! - `store`: the redb database (configuration, journal of commands, processes).
//! - `recover`: rebuilding the cloud from the journal, checked against its digests.
//! - `shared`: the cloud behind one lock, the journal writer, the change channels.
//! - `http`: the endpoint (EC2 query protocol, spotlab's API).
//! - `s3`: the S3 subset, objects as files under the state directory.
//! - `dashboard`: the live dashboard page at `/`, its JSON snapshot and its event stream.
//! - `imds`: per-instance metadata services with IMDSv2 sessions.
//! - `processes` and `procscan`: the process supervisor, adoption and reaping.
//!
//! [`start`] brings it all up and returns a handle; the binary's `up` command and the
//! tests use the same function.

mod dashboard;
mod deliveries;
mod fis_api;
mod http;
mod imds;
mod monitoring_api;
mod processes;
mod procscan;
mod recover;
mod s3;
mod shared;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use aws_wire::sigv4::Credentials;
use clock::{Clock, Origin, TimeScale};
use ec2::{CloudConfig, HostLimits};
use simtime::{SimDuration, SimTime};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use procscan::MARK_ENV;
pub use store::{Meta, Store};

/// Where `spotlab up` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4747";

/// How to run the local cloud.
#[derive(Clone, Debug)]
pub struct UpConfig {
    /// Where to listen; `None`: where this state directory listened before, else
    /// [`DEFAULT_LISTEN`].
    pub listen: Option<SocketAddr>,
    /// The state directory (database, instances' directories).
    pub state_dir: PathBuf,
    /// Start from nothing: forget the state directory's cloud (and kill its processes).
    pub reset: bool,
    /// Seed of a new cloud (random if not given); must match an existing one.
    pub seed: Option<u64>,
    /// Time scale of a new cloud (1 if not given); must match an existing one.
    pub time_scale: Option<TimeScale>,
    /// What the host may run at once.
    pub host: Option<HostLimits>,
    /// Multiplier of natural interruption rates (new clouds).
    pub interruption_scale: f64,
    /// Boot time from `pending` to `running` (new clouds).
    pub boot_delay: SimDuration,
    /// IMDS requires tokens unless a launch template says otherwise (new clouds).
    pub imds_tokens_required: bool,
    /// Verify SigV4 signatures against these credentials.
    pub require_auth: Option<Credentials>,
    /// The directory of the `spotlab` binary, put first on instances' `PATH`.
    pub spotlab_dir: Option<PathBuf>,
    /// PEM files of certificate authorities that SNS `https` deliveries trust besides
    /// the system's (for endpoints with a private or self-signed certificate).
    pub trusted_cas: Vec<PathBuf>,
}

impl UpConfig {
    /// Defaults for a state directory.
    pub fn new(state_dir: PathBuf) -> UpConfig {
        UpConfig {
            listen: None,
            state_dir,
            reset: false,
            seed: None,
            time_scale: None,
            host: None,
            interruption_scale: 1.0,
            boot_delay: SimDuration::from_secs(5),
            imds_tokens_required: false,
            require_auth: None,
            spotlab_dir: None,
            trusted_cas: Vec::new(),
        }
    }
}

/// A running local cloud.
pub struct Running {
    /// The endpoint's address.
    pub addr: SocketAddr,
    /// The cloud's virtual time when it started.
    pub started_at: SimTime,
    /// How many journaled commands were replayed.
    pub replayed: usize,
    /// Its time scale.
    pub time_scale: TimeScale,
    /// Cancel to stop (instances' processes are stopped too).
    pub stop: CancellationToken,
    /// Finishes when everything has stopped.
    pub done: JoinHandle<anyhow::Result<()>>,
}

/// Starts the local cloud: opens (or creates) the state, rebuilds the cloud, adopts
/// or reaps surviving processes, and serves until `stop` is cancelled.
pub async fn start(config: UpConfig) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.state_dir)
        .with_context(|| format!("creating {}", config.state_dir.display()))?;
    let delivery_client = deliveries::client(&config.trusted_cas)?;
    if config.reset {
        recover::reset(&config.state_dir)?;
    }
    let store = Arc::new(Store::open(&config.state_dir)?);
    let existing = store.meta()?;
    let mut meta = match existing {
        Some(meta) => {
            check_compatible(&meta, &config)?;
            meta
        }
        None => new_meta(&config),
    };
    let listen = match config.listen {
        Some(addr) => addr,
        None => meta
            .listen
            .parse()
            .or_else(|_| DEFAULT_LISTEN.parse())
            .context("listen address")?,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    if !meta.listen.is_empty() && meta.listen != addr.to_string() {
        tracing::warn!(before = %meta.listen, now = %addr, "the endpoint moved; instances started before still use the old address");
    }
    meta.listen = addr.to_string();
    let scale = TimeScale::new(meta.time_scale).context("stored time scale")?;
    let clock = Clock::new(
        scale,
        Some(Origin {
            real_unix_ms: meta.origin_real_ms,
            virtual_time: meta.origin_virtual,
        }),
    );
    store.put_meta(&meta)?;
    let endpoint_url = format!("http://{addr}");
    let region_config = region::RegionConfig {
        ec2: meta.cloud.clone(),
        endpoint_url: format!("{endpoint_url}/"),
    };
    let rebuilt = recover::rebuild(&region_config, &store, &clock)?;
    let started_at = rebuilt.region.now();
    let (key, secret) = match &config.require_auth {
        Some(c) => (c.access_key_id.clone(), c.secret_access_key.clone()),
        None => ("spotlab".to_owned(), "spotlab".to_owned()),
    };
    let (shared, channels) = shared::Shared::new(shared::Setup {
        region: rebuilt.region,
        clock,
        state_dir: config.state_dir.clone(),
        store: store.clone(),
        cloud_uid: meta.cloud_uid.clone(),
        endpoint_url,
        spotlab_dir: config.spotlab_dir.clone(),
        instance_credentials: (key, secret),
        last_seq: rebuilt.last_seq,
    });
    let stop = CancellationToken::new();
    // The journal outlives everything that could still apply a command.
    let journal_stop = CancellationToken::new();
    let journal = tokio::spawn(shared::journal_writer(
        store.clone(),
        channels.journal,
        channels.durable,
        journal_stop.clone(),
    ));
    let mut supervisor = processes::Supervisor::new(shared.clone())?;
    supervisor.recover().await;
    let supervisor = tokio::spawn(supervisor.run(channels.supervisor, stop.clone()));
    let driver = tokio::spawn(drive(shared.clone(), stop.clone()));
    let delivery = tokio::spawn(deliveries::run(
        shared.clone(),
        delivery_client,
        stop.clone(),
    ));
    let endpoint = Arc::new(http::Endpoint {
        shared: shared.clone(),
        require_auth: config.require_auth.clone(),
        stop: stop.clone(),
        s3: s3::Buckets::new(&config.state_dir),
    });
    let app = http::app(endpoint);
    let server_stop = stop.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { server_stop.cancelled().await })
            .await
    });
    let replayed = rebuilt.replayed;
    let stop_all = stop.clone();
    let done = tokio::spawn(async move {
        let served = server.await;
        stop_all.cancel();
        let _ = driver.await;
        let _ = delivery.await;
        let _ = supervisor.await;
        drop(shared);
        // Everything that could journal has stopped; the writer drains and ends.
        journal_stop.cancel();
        let journaled = journal.await;
        served.context("endpoint task")?.context("endpoint")?;
        journaled.context("journal task")??;
        Ok(())
    });
    Ok(Running {
        addr,
        started_at,
        replayed,
        time_scale: scale,
        stop,
        done,
    })
}

/// Moves virtual time: wakes when the cloud's next event is due (or when a call may
/// have made something due sooner) and advances the cloud to now.
async fn drive(shared: Arc<shared::Shared>, stop: CancellationToken) {
    loop {
        let due = shared.with_region(|region| region.next_due());
        let sleep = async {
            match due {
                Some(t) => tokio::time::sleep_until(shared.clock.instant_at(t)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = shared.wake.notified() => {}
            () = stop.cancelled() => break,
        }
    }
}

fn new_meta(config: &UpConfig) -> Meta {
    let real_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    // Virtual time starts at the wall clock's second.
    let start = SimTime::from_millis(real_ms - real_ms % 1_000);
    let seed = config
        .seed
        .unwrap_or_else(|| u64::from_le_bytes(uuid_bytes()[..8].try_into().unwrap_or([0; 8])));
    let mut cloud = CloudConfig::new(seed, start);
    cloud.host = config.host;
    cloud.interruption_scale = config.interruption_scale;
    cloud.boot_delay_ms = config.boot_delay.as_millis();
    cloud.imds_tokens_required = config.imds_tokens_required;
    Meta {
        format: store::FORMAT,
        cloud_uid: uuid::Uuid::new_v4().simple().to_string(),
        cloud,
        time_scale: config.time_scale.unwrap_or_default().factor(),
        origin_real_ms: real_ms - real_ms % 1_000,
        origin_virtual: start,
        listen: String::new(),
    }
}

fn uuid_bytes() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

/// A restart must not change what fixes the cloud's behaviour.
fn check_compatible(meta: &Meta, config: &UpConfig) -> anyhow::Result<()> {
    let dir = config.state_dir.display();
    if let Some(scale) = config.time_scale
        && scale.factor() != meta.time_scale
    {
        anyhow::bail!(
            "{dir} holds a cloud running at time scale {}, not {}; start it without --time-scale, or with --reset to start over",
            meta.time_scale,
            scale.factor()
        );
    }
    if config.host.is_some() && config.host != meta.cloud.host {
        anyhow::bail!(
            "{dir} holds a cloud with host limits {:?}; they cannot change on a restart (use --reset to start over)",
            meta.cloud.host
        );
    }
    if let Some(seed) = config.seed
        && seed != meta.cloud.seed
    {
        anyhow::bail!(
            "{dir} holds a cloud with seed {}, not {seed}; start it without --seed, or with --reset to start over",
            meta.cloud.seed
        );
    }
    Ok(())
}
