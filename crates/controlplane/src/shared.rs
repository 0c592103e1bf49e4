//! What every part of the control plane shares: the cloud behind one lock, the clock,
//! the journal of state-changing commands, and the channels that carry changes to the
//! process supervisor and to event followers.
//!
//! Every use of the region goes through [`Shared::with_region`] (or
//! [`Shared::with_cloud`] for EC2 reads): it brings the region up to the clock's now
//! first, and hands what changed to the supervisor, the delivery worker and the
//! followers afterwards, so no caller can forget any. The lock is a plain mutex, never
//! held across an `.await`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use clock::Clock;
use ec2::Cloud;
use fleet::InstanceId;
use region::{Command, Region, RegionError};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, watch};

use crate::store::{Recorded, Store, StoreError, digest};

/// The shared state of a running control plane.
pub struct Shared {
    /// The region.
    region: Mutex<Region>,
    /// Virtual time.
    pub clock: Clock,
    /// The state directory.
    pub state_dir: PathBuf,
    /// The database.
    pub store: Arc<Store>,
    /// The cloud's id, marking its processes.
    pub cloud_uid: String,
    /// The endpoint's URL, told to instances (`http://127.0.0.1:PORT`).
    pub endpoint_url: String,
    /// Where `spotlab` itself lives, put first on instances' `PATH`.
    pub spotlab_dir: Option<PathBuf>,
    /// Credentials instances get (the required ones when auth is on).
    pub instance_credentials: (String, String),
    journal: mpsc::UnboundedSender<(u64, Recorded)>,
    durable: watch::Receiver<u64>,
    next_seq: Mutex<u64>,
    supervisor: mpsc::UnboundedSender<BTreeSet<InstanceId>>,
    /// Wakes the delivery worker when deliveries may be due.
    pub deliveries: Notify,
    /// The bus's latest sequence number, for event followers.
    pub events: watch::Sender<u64>,
    /// Wakes the time driver when new work may be due sooner.
    pub wake: Notify,
}

/// The ends of the channels [`Shared`] feeds, for the tasks that drain them.
pub struct Channels {
    /// Recorded commands to persist, in order.
    pub journal: mpsc::UnboundedReceiver<(u64, Recorded)>,
    /// Where the journal writer reports what is durable.
    pub durable: watch::Sender<u64>,
    /// Instances whose processes need reconciling.
    pub supervisor: mpsc::UnboundedReceiver<BTreeSet<InstanceId>>,
}

/// How a [`Shared`] is set up.
pub struct Setup {
    /// The region, already rebuilt from the journal.
    pub region: Region,
    /// The clock.
    pub clock: Clock,
    /// The state directory.
    pub state_dir: PathBuf,
    /// The database.
    pub store: Arc<Store>,
    /// The cloud's id.
    pub cloud_uid: String,
    /// The endpoint's URL.
    pub endpoint_url: String,
    /// Where `spotlab` lives.
    pub spotlab_dir: Option<PathBuf>,
    /// Credentials for instances.
    pub instance_credentials: (String, String),
    /// The last sequence number in the journal.
    pub last_seq: u64,
}

impl Shared {
    /// The shared state and the receiving ends of its channels.
    pub fn new(setup: Setup) -> (Arc<Shared>, Channels) {
        let (journal, journal_rx) = mpsc::unbounded_channel();
        let (durable_tx, durable) = watch::channel(setup.last_seq);
        let (supervisor, supervisor_rx) = mpsc::unbounded_channel();
        let last_event = setup.region.bus().last_seq();
        let shared = Arc::new(Shared {
            region: Mutex::new(setup.region),
            clock: setup.clock,
            state_dir: setup.state_dir,
            store: setup.store,
            cloud_uid: setup.cloud_uid,
            endpoint_url: setup.endpoint_url,
            spotlab_dir: setup.spotlab_dir,
            instance_credentials: setup.instance_credentials,
            journal,
            durable,
            next_seq: Mutex::new(setup.last_seq + 1),
            supervisor,
            deliveries: Notify::new(),
            events: watch::channel(last_event).0,
            wake: Notify::new(),
        });
        (
            shared,
            Channels {
                journal: journal_rx,
                durable: durable_tx,
                supervisor: supervisor_rx,
            },
        )
    }

    fn lock(&self) -> MutexGuard<'_, Region> {
        // A panic while holding the lock leaves the region as it was between calls
        // (every call completes or fails as a whole), so the poison is not a concern.
        self.region
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the region brought up to now, then dispatches what changed.
    pub fn with_region<T>(&self, f: impl FnOnce(&mut Region) -> T) -> T {
        let (out, changes) = {
            let mut region = self.lock();
            let now = self.clock.now().max(region.now());
            region.advance_to(now);
            let out = f(&mut region);
            (out, region.take_changes())
        };
        if !changes.instances.is_empty() {
            // The supervisor outlives every caller; a closed channel means shutdown.
            let _ = self.supervisor.send(changes.instances);
        }
        if changes.deliveries {
            self.deliveries.notify_one();
        }
        if let Some((_, last)) = changes.events {
            self.events.send_replace(last);
        }
        out
    }

    /// Runs `f` on EC2 brought up to now (reads: every change is a [`Command`]).
    pub fn with_cloud<T>(&self, f: impl FnOnce(&Cloud) -> T) -> T {
        self.with_region(|region| f(region.ec2()))
    }

    /// Applies a command. One that changed the cloud is journaled; every answer waits
    /// until what it may show is durable (its own command, and those applied before).
    pub async fn apply(&self, command: Command) -> Result<Value, RegionError> {
        let (result, wait_for) = self.with_region(|region| {
            let at = region.now();
            let (result, changed) = region.apply_and_tell(&command);
            let mut next = self
                .next_seq
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if !changed {
                // Nothing to record; but the answer may show what earlier commands did,
                // so it waits until they are durable too.
                return (result, *next - 1);
            }
            let seq = *next;
            *next += 1;
            let recorded = Recorded {
                at,
                command,
                digest: answer_digest(&result),
            };
            // Sent under the cloud lock, so the journal's order is the order applied.
            let _ = self.journal.send((seq, recorded));
            (result, seq)
        });
        // The command may have made something due sooner than the driver is waiting for.
        self.wake.notify_one();
        let mut durable = self.durable.clone();
        if durable.wait_for(|done| *done >= wait_for).await.is_err() {
            return Err(RegionError::Ec2(ec2::ApiError::internal(
                "the state database stopped accepting writes; the change is not durable",
            )));
        }
        result
    }
}

/// The digest of an answer, recorded with its command and checked on replay.
pub fn answer_digest(result: &Result<Value, RegionError>) -> u64 {
    match result {
        Ok(value) => digest(value.to_string().as_bytes()),
        Err(error) => digest(format!("{}:{}", error.code(), error.message()).as_bytes()),
    }
}

/// Persists journaled commands in order, as many per transaction as are waiting, and
/// reports the last durable sequence number. Stops (dropping `durable`, which fails
/// every waiter) if the database refuses a write, or once `stop` is cancelled and what
/// was sent before has been written.
pub async fn journal_writer(
    store: Arc<Store>,
    mut commands: mpsc::UnboundedReceiver<(u64, Recorded)>,
    durable: watch::Sender<u64>,
    stop: tokio_util::sync::CancellationToken,
) -> Result<(), StoreError> {
    loop {
        let first = tokio::select! {
            first = commands.recv() => first,
            () = stop.cancelled() => commands.try_recv().ok(),
        };
        let Some(first) = first else {
            return Ok(());
        };
        let mut batch = vec![first];
        while let Ok(more) = commands.try_recv() {
            batch.push(more);
        }
        let last = batch.last().map_or(0, |(seq, _)| *seq);
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.append(&batch))
            .await
            .map_err(|e| StoreError::Io(e.to_string()))??;
        durable.send_replace(last);
    }
}
