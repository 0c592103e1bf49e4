//! The optional access log: one line per answered request, in the format nginx writes
//! with `log_format ts '$msec $remote_port $status'`, so the same analysis reads both.
//!
//! `$msec` is the virtual time of the response in seconds with millisecond resolution
//! (at time scale 1 without an origin, that is the wall clock, as nginx logs it). Lines
//! go through one buffered writer behind a lock; nothing is dropped, so the log is exact
//! at the cost of a little CPU per request. Flushed on shutdown.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use simtime::SimTime;

/// Buffer size: about 10,000 lines.
const BUFFER: usize = 256 * 1024;

/// An open access log.
#[derive(Debug)]
pub struct AccessLog {
    /// The file, buffered; locked per line.
    out: Mutex<BufWriter<File>>,
}

impl AccessLog {
    /// Creates (or truncates) the log at `path`.
    pub fn create(path: &Path) -> io::Result<AccessLog> {
        Ok(AccessLog {
            out: Mutex::new(BufWriter::with_capacity(BUFFER, File::create(path)?)),
        })
    }

    /// Logs one response.
    pub fn record(&self, at: SimTime, remote_port: u16, status: u16) {
        let ms = at.as_millis();
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = writeln!(out, "{}.{:03} {remote_port} {status}", ms / 1000, ms % 1000) {
            tracing::warn!(%error, "access log write failed");
        }
    }

    /// Writes out everything buffered.
    pub fn flush(&self) -> io::Result<()> {
        self.out
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nginx_ts_lines() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("access.log");
        let log = AccessLog::create(&path).expect("creates the file");
        log.record(SimTime::from_millis(1_764_040_000_123), 53412, 200);
        log.record(SimTime::from_millis(1_764_040_000_005), 53413, 429);
        log.flush().expect("flushes");
        assert_eq!(
            std::fs::read_to_string(&path).expect("the file is readable"),
            "1764040000.123 53412 200\n1764040000.005 53413 429\n"
        );
    }
}
