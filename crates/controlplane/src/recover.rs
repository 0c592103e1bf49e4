//! Rebuilding the region after a restart: a new region from the stored configuration, the
//! journal's commands applied again at their virtual times (each answer's digest must
//! match the one recorded), then virtual time brought up to now. And `--reset`: the
//! old cloud's processes killed and its state removed.

use std::path::Path;

use anyhow::Context as _;
use clock::Clock;
use region::{Region, RegionConfig};

use crate::procscan;
use crate::shared::answer_digest;
use crate::store::Store;

/// A rebuilt region.
pub struct Rebuilt {
    /// The region at the clock's now.
    pub region: Region,
    /// The journal's last sequence number (0 if empty).
    pub last_seq: u64,
    /// How many commands were applied again.
    pub replayed: usize,
}

/// Applies the journal to a new region. A digest that does not match means this
/// spotlab does not rebuild the region the journal was written by (a different version
/// with different behaviour): refuse rather than serve a different region.
pub fn rebuild(config: &RegionConfig, store: &Store, clock: &Clock) -> anyhow::Result<Rebuilt> {
    let mut cloud = Region::new(config.clone());
    let commands = store.commands()?;
    let mut last_seq = 0;
    for (seq, recorded) in &commands {
        cloud.advance_to(recorded.at);
        let result = cloud.apply(&recorded.command);
        let digest = answer_digest(&result);
        if digest != recorded.digest {
            anyhow::bail!(
                "replaying command {seq} ({}) gave a different answer than when it was recorded; \
                 this state directory was written by a spotlab that behaves differently. \
                 Start with --reset to start over.",
                recorded.command.describe()
            );
        }
        last_seq = *seq;
    }
    let now = clock.now().max(cloud.now());
    cloud.advance_to(now);
    // Everything replayed is history: the supervisor reconciles every instance anyway.
    cloud.take_changes();
    Ok(Rebuilt {
        region: cloud,
        last_seq,
        replayed: commands.len(),
    })
}

/// Forgets a state directory's cloud: kills its processes, removes its database and
/// instance directories.
pub fn reset(dir: &Path) -> anyhow::Result<()> {
    let db = dir.join("state.redb");
    if db.exists() {
        let store = Store::open(dir)?;
        if let Some(meta) = store.meta()? {
            for pids in procscan::scan(&meta.cloud_uid).values() {
                for pid in pids {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(*pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
        drop(store);
        std::fs::remove_file(&db).with_context(|| format!("removing {}", db.display()))?;
    }
    let instances = dir.join("instances");
    if instances.exists() {
        std::fs::remove_dir_all(&instances)
            .with_context(|| format!("removing {}", instances.display()))?;
    }
    Ok(())
}
