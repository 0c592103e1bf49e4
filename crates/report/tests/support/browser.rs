//! Screenshots in headless Chromium, for the tests of the report crate and of the
//! commands that write reports (`#[path]`-included from `crates/spotlab/tests`).
//!
//! Chromium is `SPOTLAB_CHROMIUM` or `chromium` on `PATH`. Without it, callers skip
//! with a message, unless `SPOTLAB_REQUIRE_CHROMIUM` is set (as in CI).

#![allow(dead_code)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use report::testing::count_hex;

/// How long one screenshot may take before the browser is killed.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The browser to use, or `None` (after saying so) when the test should be skipped.
pub fn chromium() -> Option<PathBuf> {
    let found = match std::env::var_os("SPOTLAB_CHROMIUM") {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("chromium"))
                .find(|p| p.is_file())
        }),
    };
    if found.is_none() {
        assert!(
            std::env::var_os("SPOTLAB_REQUIRE_CHROMIUM").is_none(),
            "SPOTLAB_REQUIRE_CHROMIUM is set but no chromium was found (set SPOTLAB_CHROMIUM or put chromium on PATH)"
        );
        eprintln!("skipped: no chromium (set SPOTLAB_CHROMIUM or put chromium on PATH)");
    }
    found
}

/// A decoded screenshot: 8-bit pixels, `channels` bytes each.
pub struct Screenshot {
    pub pixels: Vec<u8>,
    pub channels: usize,
    pub width: u32,
    pub height: u32,
}

impl Screenshot {
    /// Pixels within a small tolerance of `hex`.
    pub fn count(&self, hex: &str) -> usize {
        count_hex(&self.pixels, self.channels, hex, 2)
    }
}

/// Writes `page` to a temporary file, screenshots it at 1280x`height` and decodes it.
/// Keeps the PNG at `keep` when given, for a person to look at.
pub fn screenshot(browser: &Path, page: &str, height: u32, keep: Option<&Path>) -> Screenshot {
    let dir = tempfile::tempdir().expect("temp dir");
    let html = dir.path().join("report.html");
    std::fs::write(&html, page).expect("write the page");
    let png = dir.path().join("shot.png");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--force-device-scale-factor=1",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--window-size=1280,{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium took longer than {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium failed: {status}");
    let bytes = std::fs::read(&png).expect("chromium wrote no screenshot");
    if let Some(keep) = keep {
        std::fs::write(keep, &bytes).expect("keep the screenshot");
    }
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    pixels.truncate(info.buffer_size());
    Screenshot {
        pixels,
        channels: info.color_type.samples(),
        width: info.width,
        height: info.height,
    }
}

/// Where to keep a screenshot for a person to look at: `SPOTLAB_SCREENSHOT_DIR`, if set.
pub fn keep(name: &str) -> Option<PathBuf> {
    std::env::var_os("SPOTLAB_SCREENSHOT_DIR").map(|dir| PathBuf::from(dir).join(name))
}
