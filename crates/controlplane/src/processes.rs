//! Instances as process groups. The supervisor compares what each instance's processes
//! should be doing ([`ec2::ProcessGoal`]) with what it has done (its
//! [`ProcessRecord`], persisted) and acts:
//!
//! | goal | action |
//! |---|---|
//! | `Run`, user data never started | start its metadata service, run the user data in the instance's directory, in its own process group |
//! | `Run`, group frozen | SIGCONT |
//! | `Frozen` | SIGSTOP |
//! | `Ending` | SIGTERM (once) |
//! | `Gone` | SIGKILL to the group and to every process carrying the instance's mark, at least 5 real seconds after its SIGTERM (sent now if it never was; counted from now if a previous run sent it); stop its metadata service |
//!
//! The record is written before the user data starts, so a crash between the two can
//! lose a start but never cause a second one. After a restart [`Supervisor::recover`]
//! adopts the processes that outlived the control plane (found by their mark), kills
//! those of instances that are gone or unknown, and boots again the instances a clean
//! shutdown had stopped. [`Supervisor::shutdown`] stops every instance's processes
//! (SIGTERM, a grace period, SIGKILL), as powering off the host would.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ec2::{ProcessGoal, REGION};
use fleet::InstanceId;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::imds::{self, ImdsServer};
use crate::procscan::{self, MARK_ENV};
use crate::shared::Shared;
use crate::store::ProcessRecord;

/// How long a clean shutdown waits for instances to exit after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// The least real time between an instance's SIGTERM and its SIGKILL. The grace period
/// is virtual (it shrinks with the time scale), but a process needs real time to finish
/// what it does on SIGTERM (an agent's last report and checkpoint): at a high time
/// scale its processes may outlive the instance's `terminated` by up to this much.
const MIN_REAL_GRACE: Duration = Duration::from_secs(5);

/// One instance's processes as the host sees them.
struct Entry {
    record: ProcessRecord,
    imds: Option<ImdsServer>,
    /// When this control plane sent the group SIGTERM (not kept across restarts).
    term_sent_at: Option<tokio::time::Instant>,
    /// A reconcile is scheduled for when the real grace period is over.
    kill_scheduled: bool,
}

/// Runs instances' processes.
pub struct Supervisor {
    shared: Arc<Shared>,
    entries: HashMap<InstanceId, Entry>,
    /// Instances to reconcile again once their real grace period is over.
    later: mpsc::UnboundedSender<InstanceId>,
    later_rx: mpsc::UnboundedReceiver<InstanceId>,
}

impl Supervisor {
    /// A supervisor with the records the store holds.
    pub fn new(shared: Arc<Shared>) -> anyhow::Result<Supervisor> {
        let entries = shared
            .store
            .processes()?
            .into_iter()
            .map(|(id, record)| {
                (
                    InstanceId::new(id),
                    Entry {
                        record,
                        imds: None,
                        term_sent_at: None,
                        kill_scheduled: false,
                    },
                )
            })
            .collect();
        let (later, later_rx) = mpsc::unbounded_channel();
        Ok(Supervisor {
            shared,
            entries,
            later,
            later_rx,
        })
    }

    /// After a (re)start: adopts live processes of known instances, kills those of
    /// unknown or gone ones, and reconciles every instance.
    pub async fn recover(&mut self) {
        let found = procscan::scan(&self.shared.cloud_uid);
        let known: BTreeSet<String> = self
            .shared
            .with_cloud(|cloud| cloud.instances_with_processes())
            .into_iter()
            .map(|id| id.to_string())
            .collect();
        for (instance, pids) in &found {
            if !known.contains(instance) {
                tracing::warn!(%instance, ?pids, "killing processes of an instance this cloud does not know");
                kill_pids(pids);
            }
        }
        let mut adopted = 0;
        for id in known.iter().map(|s| InstanceId::new(s.as_str())) {
            let Some(entry) = self.entries.get_mut(&id) else {
                continue;
            };
            if !entry.record.started || entry.record.finished || entry.record.stopped_by_host {
                continue;
            }
            if !found.contains_key(id.as_str()) {
                tracing::info!(instance = %id, "its processes ended while the control plane was down");
                continue;
            }
            adopted += 1;
            // Its processes were told this port: serve it there again.
            if let Some(port) = entry.record.imds_port {
                match imds::start(self.shared.clone(), id.clone(), Some(port)).await {
                    Ok(server) => entry.imds = Some(server),
                    Err(error) => {
                        tracing::error!(instance = %id, port, %error, "cannot serve the metadata service again")
                    }
                }
            }
        }
        if adopted > 0 {
            tracing::info!(
                adopted,
                "adopted instance processes that outlived the control plane"
            );
        }
        self.reconcile_all(known.iter().map(|s| InstanceId::new(s.as_str())))
            .await;
    }

    /// Reconciles instances as changes arrive, until `shutdown`.
    pub async fn run(
        mut self,
        mut changes: mpsc::UnboundedReceiver<BTreeSet<InstanceId>>,
        shutdown: CancellationToken,
    ) {
        loop {
            tokio::select! {
                batch = changes.recv() => match batch {
                    Some(mut batch) => {
                        // Take whatever else is waiting, to act on it in one pass.
                        while let Ok(more) = changes.try_recv() {
                            batch.extend(more);
                        }
                        self.reconcile_all(batch).await;
                    }
                    None => break,
                },
                Some(id) = self.later_rx.recv() => {
                    let mut batch = BTreeSet::from([id]);
                    while let Ok(more) = self.later_rx.try_recv() {
                        batch.insert(more);
                    }
                    self.reconcile_all(batch).await;
                }
                () = shutdown.cancelled() => break,
            }
        }
        self.shutdown().await;
    }

    /// Brings instances' processes to their goals. Records change in memory and are
    /// written in one transaction per phase: first what is about to start (so a crash
    /// can never start it twice), then what was started and signalled.
    async fn reconcile_all(&mut self, ids: impl IntoIterator<Item = InstanceId>) {
        let mut dirty = BTreeSet::new();
        let mut starts = Vec::new();
        // One scan of /proc serves every instance that goes in this pass.
        let mut marked = None;
        for id in ids {
            if let Some(user_data) = self.reconcile(&id, &mut dirty, &mut marked) {
                starts.push((id, user_data));
            }
        }
        for (id, user_data) in &starts {
            self.prepare_start(id, user_data.is_some()).await;
            dirty.insert(id.clone());
        }
        self.flush(&mut dirty);
        for (id, user_data) in &starts {
            self.start(id, user_data.as_deref());
            dirty.insert(id.clone());
            // Starting a process takes a fork and an exec: let the metadata services
            // and the endpoint answer between two, however many boot together.
            tokio::task::yield_now().await;
        }
        self.flush(&mut dirty);
    }

    /// Writes the records of `dirty` instances in one transaction.
    fn flush(&self, dirty: &mut BTreeSet<InstanceId>) {
        let batch: Vec<(String, ProcessRecord)> = dirty
            .iter()
            .filter_map(|id| {
                self.entries
                    .get(id)
                    .map(|e| (id.to_string(), e.record.clone()))
            })
            .collect();
        dirty.clear();
        if let Err(error) = self.shared.store.put_processes(&batch) {
            tracing::error!(%error, instances = batch.len(), "cannot record instances' processes");
        }
    }

    /// Acts on one instance's goal. Returns its user data when it must start (at
    /// first boot, or again after a clean shutdown of the host).
    fn reconcile(
        &mut self,
        id: &InstanceId,
        dirty: &mut BTreeSet<InstanceId>,
        marked: &mut Option<BTreeMap<String, Vec<i32>>>,
    ) -> Option<Option<String>> {
        let runtime = self.shared.with_cloud(|cloud| cloud.runtime(id))?;
        let entry = self.entries.entry(id.clone()).or_insert_with(|| Entry {
            record: ProcessRecord::default(),
            imds: None,
            term_sent_at: None,
            kill_scheduled: false,
        });
        match runtime.goal {
            ProcessGoal::Hold => {}
            ProcessGoal::Run => {
                if entry.record.stopped_by_host {
                    // The host was shut down cleanly while it ran: boot it again.
                    entry.record = ProcessRecord::default();
                }
                if !entry.record.started {
                    return Some(runtime.user_data);
                }
                if entry.record.frozen {
                    signal_group(entry.record.pgid, Signal::SIGCONT);
                    entry.record.frozen = false;
                    dirty.insert(id.clone());
                }
            }
            ProcessGoal::Frozen => {
                if entry.record.started && !entry.record.finished && !entry.record.frozen {
                    signal_group(entry.record.pgid, Signal::SIGSTOP);
                    entry.record.frozen = true;
                    dirty.insert(id.clone());
                }
            }
            ProcessGoal::Ending { .. } => {
                if entry.record.started && !entry.record.finished && !entry.record.term_sent {
                    if entry.record.frozen {
                        signal_group(entry.record.pgid, Signal::SIGCONT);
                        entry.record.frozen = false;
                    }
                    signal_group(entry.record.pgid, Signal::SIGTERM);
                    entry.record.term_sent = true;
                    entry.term_sent_at = Some(tokio::time::Instant::now());
                    dirty.insert(id.clone());
                }
            }
            ProcessGoal::Gone => {
                if entry.record.started && !entry.record.finished && !entry.record.frozen {
                    // Never SIGKILL without a SIGTERM first and a real moment to act on it
                    // (time may have jumped past the whole virtual grace period).
                    let now = tokio::time::Instant::now();
                    let termed = match entry.term_sent_at {
                        Some(at) => at,
                        None => {
                            // Sent by a previous run of the control plane (when is not
                            // known, so the grace starts now), or never sent.
                            if !entry.record.term_sent {
                                signal_group(entry.record.pgid, Signal::SIGTERM);
                                entry.record.term_sent = true;
                                dirty.insert(id.clone());
                            }
                            entry.term_sent_at = Some(now);
                            now
                        }
                    };
                    let kill_at = termed + MIN_REAL_GRACE;
                    if kill_at > now {
                        if !entry.kill_scheduled {
                            entry.kill_scheduled = true;
                            let later = self.later.clone();
                            let id = id.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep_until(kill_at).await;
                                let _ = later.send(id);
                            });
                        }
                        return None;
                    }
                }
                if entry.record.started && !entry.record.finished {
                    signal_group(entry.record.pgid, Signal::SIGKILL);
                    if entry.record.pgid.is_some() {
                        // Processes that left the group still carry the mark.
                        let marked =
                            marked.get_or_insert_with(|| procscan::scan(&self.shared.cloud_uid));
                        if let Some(pids) = marked.get(id.as_str()) {
                            kill_pids(pids);
                        }
                    }
                    entry.record.finished = true;
                    entry.record.frozen = false;
                    dirty.insert(id.clone());
                }
                if let Some(server) = entry.imds.take() {
                    server.stop();
                }
            }
        }
        None
    }

    /// The first half of a start, before anything runs: the instance's metadata
    /// service (only when there is user data: an instance that runs nothing has no
    /// client for it) and the record that it started, so a crash from here on never
    /// runs it twice.
    async fn prepare_start(&mut self, id: &InstanceId, has_user_data: bool) {
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        if entry.imds.is_none() && has_user_data {
            match imds::start(self.shared.clone(), id.clone(), None).await {
                Ok(server) => {
                    entry.record.imds_port = Some(server.port());
                    entry.imds = Some(server);
                }
                Err(error) => {
                    tracing::error!(instance = %id, %error, "cannot start the metadata service");
                }
            }
        }
        entry.record.started = true;
    }

    /// The second half: runs the user data.
    fn start(&mut self, id: &InstanceId, user_data: Option<&str>) {
        let dir = self.shared.state_dir.join("instances").join(id.as_str());
        let port = self.entries.get(id).and_then(|e| e.record.imds_port);
        let pgid = match spawn(&self.shared, id, &dir, user_data, port) {
            Ok(pgid) => pgid,
            Err(error) => {
                console_note(&dir, &format!("could not run the user data: {error:#}"));
                tracing::warn!(instance = %id, error = %format!("{error:#}"), "user data did not start");
                None
            }
        };
        if let Some(entry) = self.entries.get_mut(id) {
            entry.record.pgid = pgid;
        }
    }

    /// Stops every instance's processes: SIGTERM, a grace period, SIGKILL. They boot
    /// again when the control plane next starts on this state.
    pub async fn shutdown(&mut self) {
        let running: Vec<InstanceId> = self
            .entries
            .iter()
            .filter(|(_, e)| e.record.started && !e.record.finished && e.record.pgid.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        for id in &running {
            if let Some(entry) = self.entries.get(id) {
                if entry.record.frozen {
                    signal_group(entry.record.pgid, Signal::SIGCONT);
                }
                signal_group(entry.record.pgid, Signal::SIGTERM);
            }
        }
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while tokio::time::Instant::now() < deadline {
            let alive = running.iter().any(|id| {
                self.entries
                    .get(id)
                    .is_some_and(|e| group_alive(e.record.pgid))
            });
            if !alive {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let marked = procscan::scan(&self.shared.cloud_uid);
        let mut dirty = BTreeSet::new();
        for id in &running {
            if let Some(entry) = self.entries.get_mut(id) {
                signal_group(entry.record.pgid, Signal::SIGKILL);
                if let Some(pids) = marked.get(id.as_str()) {
                    kill_pids(pids);
                }
                entry.record.stopped_by_host = true;
                entry.record.frozen = false;
                if let Some(server) = entry.imds.take() {
                    server.stop();
                }
                dirty.insert(id.clone());
            }
        }
        self.flush(&mut dirty);
        if !running.is_empty() {
            tracing::info!(instances = running.len(), "stopped instance processes");
        }
    }
}

/// Runs the user data: a `#!` script is executed, anything else is read by `/bin/sh`.
/// Returns the process group.
fn spawn(
    shared: &Shared,
    id: &InstanceId,
    dir: &Path,
    user_data: Option<&str>,
    imds_port: Option<u16>,
) -> anyhow::Result<Option<i32>> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let Some(encoded) = user_data else {
        console_note(dir, "no user data; nothing to run");
        return Ok(None);
    };
    let script = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .context("user data is not base64")?;
    let path = dir.join("user-data");
    std::fs::write(&path, &script).with_context(|| format!("writing {}", path.display()))?;
    let executable = script.starts_with(b"#!");
    if executable {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    let console = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("console.log"))
        .context("opening console.log")?;
    let mut command = if executable {
        tokio::process::Command::new(&path)
    } else {
        let mut sh = tokio::process::Command::new("/bin/sh");
        sh.arg(&path);
        sh
    };
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(console.try_clone()?)
        .stderr(console)
        .process_group(0)
        .env_clear()
        .envs(instance_env(shared, id, dir, imds_port));
    let mut child = command.spawn().context("starting the user data")?;
    let pid = child.id().and_then(|p| i32::try_from(p).ok());
    let dir = dir.to_owned();
    tokio::spawn(async move {
        let text = match child.wait().await {
            Ok(status) => format!("user data exited: {status}"),
            Err(error) => format!("user data: {error}"),
        };
        console_note(&dir, &text);
    });
    Ok(pid)
}

/// The environment an instance's processes get: the host's, without any AWS or
/// spotlab settings, plus the instance's own endpoint, metadata service, region,
/// credentials, clock and mark.
fn instance_env(
    shared: &Shared,
    id: &InstanceId,
    dir: &Path,
    imds_port: Option<u16>,
) -> Vec<(String, String)> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !k.starts_with("AWS_") && !k.starts_with("SPOTLAB_"))
        .collect();
    let path = env.get("PATH").cloned().unwrap_or_default();
    if let Some(bin) = &shared.spotlab_dir {
        env.insert("PATH".to_owned(), join_path(bin, &path));
    }
    let origin = shared.clock.origin();
    let (key, secret) = &shared.instance_credentials;
    let fleet = shared.with_cloud(|cloud| {
        cloud
            .world()
            .engine()
            .instance(id)
            .map(|i| i.fleet.to_string())
    });
    let pairs = [
        ("HOME", dir.display().to_string()),
        ("AWS_ENDPOINT_URL", shared.endpoint_url.clone()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_DEFAULT_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", key.clone()),
        ("AWS_SECRET_ACCESS_KEY", secret.clone()),
        (
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            imds_port.map_or_else(String::new, |p| format!("http://127.0.0.1:{p}/")),
        ),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv4".to_owned()),
        (clock::SCALE_ENV, shared.clock.scale().to_string()),
        (clock::ORIGIN_ENV, origin.to_env_value()),
        (MARK_ENV, format!("{}/{id}", shared.cloud_uid)),
        ("SPOTLAB_FLEET_ID", fleet.unwrap_or_default()),
    ];
    for (key, value) in pairs {
        env.insert(key.to_owned(), value);
    }
    env.into_iter().collect()
}

fn join_path(first: &Path, rest: &str) -> String {
    if rest.is_empty() {
        first.display().to_string()
    } else {
        format!("{}:{rest}", first.display())
    }
}

/// Appends a line of the host's own to the instance's console output.
fn console_note(dir: &Path, text: &str) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(mut file) = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("console.log"))
    {
        let _ = writeln!(file, "[spotlab] {text}");
    }
}

fn signal_group(pgid: Option<i32>, signal: Signal) {
    if let Some(pgid) = pgid.filter(|p| *p > 1) {
        // ESRCH: the group is already gone, which is what every caller wants.
        let _ = killpg(Pid::from_raw(pgid), signal);
    }
}

fn group_alive(pgid: Option<i32>) -> bool {
    pgid.filter(|p| *p > 1)
        .is_some_and(|p| killpg(Pid::from_raw(p), None).is_ok())
}

fn kill_pids(pids: &[i32]) {
    for pid in pids.iter().filter(|p| **p > 1) {
        let _ = nix::sys::signal::kill(Pid::from_raw(*pid), Signal::SIGKILL);
    }
}

/// The directory holding an instance's files.
pub fn instance_dir(state_dir: &Path, id: &str) -> PathBuf {
    state_dir.join("instances").join(id)
}
