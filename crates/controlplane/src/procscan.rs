//! Finding an instance's processes by the mark every one of them carries in its
//! environment (`SPOTLAB_INSTANCE=<cloud id>/<instance id>`, inherited by every
//! descendant, even one that left its process group). Used after a restart to adopt or
//! reap what outlived the control plane, and to kill stragglers when an instance
//! terminates. Reads `/proc`, so it finds nothing on systems without it.

use std::collections::BTreeMap;

/// The environment variable that marks an instance's processes.
pub const MARK_ENV: &str = "SPOTLAB_INSTANCE";

/// Every live process marked as belonging to the cloud `cloud_uid`, by instance id.
pub fn scan(cloud_uid: &str) -> BTreeMap<String, Vec<i32>> {
    let mut found: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    let prefix = format!("{MARK_ENV}={cloud_uid}/");
    let me = std::process::id();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        if u32::try_from(pid).ok() == Some(me) {
            continue;
        }
        // Processes of other users, and ones that exit meanwhile, cannot be read.
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if is_zombie(pid) {
            continue;
        }
        for var in environ.split(|b| *b == 0) {
            if let Some(rest) = var.strip_prefix(prefix.as_bytes())
                && let Ok(instance) = std::str::from_utf8(rest)
            {
                found.entry(instance.to_owned()).or_default().push(pid);
                break;
            }
        }
    }
    found
}

/// A process that has exited but not been reaped holds no resources worth killing.
fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(|s| s == "Z"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn finds_marked_processes() {
        let uid = format!("test-{}", std::process::id());
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env(MARK_ENV, format!("{uid}/i-0123456789abcdef0"))
            .spawn()
            .expect("spawn sleep");
        let pid = i32::try_from(child.id()).expect("pid");
        // Until the child has exec'd, its environment is still its parent's.
        let mut found = scan(&uid);
        for _ in 0..200 {
            if !found.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            found = scan(&uid);
        }
        assert_eq!(found.get("i-0123456789abcdef0"), Some(&vec![pid]));
        assert!(scan("some-other-cloud").is_empty());
        child.kill().expect("kill");
        child.wait().expect("wait");
    }
}
