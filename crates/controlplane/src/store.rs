//! The state directory's database (redb): everything needed to rebuild the local cloud
//! after a restart or a crash.
//!
//! - `meta`: the cloud's configuration (seed, start, limits), the clock's origin and
//!   scale, the endpoint address, and the cloud's unique id (marks its processes).
//! - `commands`: every state-changing command in the order it was applied, with its
//!   virtual time and a digest of its answer. The cloud is deterministic, so applying
//!   them again at their times rebuilds it exactly; the digests prove it did.
//! - `processes`: per instance, what the host did for it (user data started, the
//!   metadata port, the process group), so a restarted control plane adopts or reaps
//!   what outlived it and never starts user data twice.
//!
//! Every write is one transaction committed with immediate durability.

use std::path::Path;

use ec2::CloudConfig;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use region::Command;
use serde::{Deserialize, Serialize};
use simtime::SimTime;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const COMMANDS: TableDefinition<u64, &[u8]> = TableDefinition::new("commands");
const PROCESSES: TableDefinition<&str, &[u8]> = TableDefinition::new("processes");

/// The layout version of the database; bumped when it changes incompatibly.
pub const FORMAT: u32 = 2;

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened (another `spotlab up` holds it, or it is not a
    /// spotlab state directory).
    #[error("cannot open the state database {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: redb::DatabaseError,
    },
    /// A read or write failed.
    #[error("state database: {0}")]
    Io(String),
    /// A record did not decode.
    #[error("state database record {key}: {source}")]
    Decode {
        /// Which record.
        key: String,
        /// Why.
        source: serde_json::Error,
    },
}

fn io(error: impl std::fmt::Display) -> StoreError {
    StoreError::Io(error.to_string())
}

/// What fixes a local cloud across restarts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Layout version.
    pub format: u32,
    /// The cloud's id, written into its processes' environment.
    pub cloud_uid: String,
    /// The cloud's configuration.
    pub cloud: CloudConfig,
    /// Time scale (virtual seconds per real second).
    pub time_scale: u32,
    /// Real Unix milliseconds at which virtual time was `origin_virtual`.
    pub origin_real_ms: u64,
    /// The virtual instant at `origin_real_ms`.
    pub origin_virtual: SimTime,
    /// The address the endpoint listened on (instances were told it).
    pub listen: String,
}

/// One recorded command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    /// The virtual time it was applied at.
    pub at: SimTime,
    /// The command.
    pub command: Command,
    /// FNV-1a digest of its answer, to check a replay reproduces it.
    pub digest: u64,
}

/// What the host did for one instance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// The user data was started (it runs once per boot; never twice at once).
    pub started: bool,
    /// The process group leader's pid, once spawned.
    pub pgid: Option<i32>,
    /// The instance's metadata service port.
    pub imds_port: Option<u16>,
    /// Its processes were stopped by a clean shutdown of the control plane: the next
    /// start boots them again.
    pub stopped_by_host: bool,
    /// The group is frozen (hibernated).
    pub frozen: bool,
    /// SIGTERM was sent.
    pub term_sent: bool,
    /// Everything was killed; nothing more to do.
    pub finished: bool,
}

/// The state database.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join("state.redb");
        let db = Database::create(&path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let txn = db.begin_write().map_err(io)?;
        txn.open_table(META).map_err(io)?;
        txn.open_table(COMMANDS).map_err(io)?;
        txn.open_table(PROCESSES).map_err(io)?;
        txn.commit().map_err(io)?;
        Ok(Store { db })
    }

    /// The stored configuration, if the cloud was created before.
    pub fn meta(&self) -> Result<Option<Meta>, StoreError> {
        let txn = self.db.begin_read().map_err(io)?;
        let table = txn.open_table(META).map_err(io)?;
        let Some(bytes) = table.get("meta").map_err(io)? else {
            return Ok(None);
        };
        let meta: Meta = decode("meta", bytes.value())?;
        if meta.format != FORMAT {
            return Err(StoreError::Io(format!(
                "the state directory has layout {} and this spotlab reads layout {FORMAT}; start with --reset",
                meta.format
            )));
        }
        Ok(Some(meta))
    }

    /// Writes the configuration.
    pub fn put_meta(&self, meta: &Meta) -> Result<(), StoreError> {
        let bytes = encode(meta)?;
        let txn = self.db.begin_write().map_err(io)?;
        {
            let mut table = txn.open_table(META).map_err(io)?;
            table.insert("meta", bytes.as_slice()).map_err(io)?;
        }
        txn.commit().map_err(io)
    }

    /// Every recorded command, in order.
    pub fn commands(&self) -> Result<Vec<(u64, Recorded)>, StoreError> {
        let txn = self.db.begin_read().map_err(io)?;
        let table = txn.open_table(COMMANDS).map_err(io)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(io)? {
            let (key, value) = entry.map_err(io)?;
            let seq = key.value();
            out.push((seq, decode(&format!("command {seq}"), value.value())?));
        }
        Ok(out)
    }

    /// Appends commands (one durable transaction for the batch).
    pub fn append(&self, batch: &[(u64, Recorded)]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(io)?;
        {
            let mut table = txn.open_table(COMMANDS).map_err(io)?;
            for (seq, recorded) in batch {
                let bytes = encode(recorded)?;
                table.insert(*seq, bytes.as_slice()).map_err(io)?;
            }
        }
        txn.commit().map_err(io)
    }

    /// Every instance's process record.
    pub fn processes(&self) -> Result<Vec<(String, ProcessRecord)>, StoreError> {
        let txn = self.db.begin_read().map_err(io)?;
        let table = txn.open_table(PROCESSES).map_err(io)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(io)? {
            let (key, value) = entry.map_err(io)?;
            let id = key.value().to_owned();
            let record = decode(&id, value.value())?;
            out.push((id, record));
        }
        Ok(out)
    }

    /// Writes one instance's process record.
    pub fn put_process(&self, instance: &str, record: &ProcessRecord) -> Result<(), StoreError> {
        self.put_processes(&[(instance.to_owned(), record.clone())])
    }

    /// Writes instances' process records in one transaction.
    pub fn put_processes(&self, batch: &[(String, ProcessRecord)]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(io)?;
        {
            let mut table = txn.open_table(PROCESSES).map_err(io)?;
            for (instance, record) in batch {
                let bytes = encode(record)?;
                table
                    .insert(instance.as_str(), bytes.as_slice())
                    .map_err(io)?;
            }
        }
        txn.commit().map_err(io)
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(io)
}

fn decode<T: serde::de::DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
        key: key.to_owned(),
        source,
    })
}

/// FNV-1a over bytes: a stable digest of an answer.
pub fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_processes_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let at = SimTime::from_millis(1_000);
        {
            let store = Store::open(dir.path()).expect("open");
            assert_eq!(store.meta().expect("meta"), None);
            store
                .append(&[(
                    1,
                    Recorded {
                        at,
                        command: Command::Ec2 {
                            action: "CreateVpc".to_owned(),
                            input: serde_json::json!({"CidrBlock": "10.0.0.0/16"}),
                        },
                        digest: 7,
                    },
                )])
                .expect("append");
            store
                .put_process(
                    "i-1",
                    &ProcessRecord {
                        started: true,
                        pgid: Some(42),
                        ..ProcessRecord::default()
                    },
                )
                .expect("process");
        }
        let store = Store::open(dir.path()).expect("reopen");
        let commands = store.commands().expect("commands");
        assert_eq!(commands.len(), 1);
        assert_eq!(
            (commands[0].0, commands[0].1.at, commands[0].1.digest),
            (1, at, 7)
        );
        let processes = store.processes().expect("processes");
        assert_eq!(processes[0].0, "i-1");
        assert_eq!(processes[0].1.pgid, Some(42));
    }
}
