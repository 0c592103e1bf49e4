//! The reports in a real browser: render them, screenshot them with headless Chromium
//! and check that each chart really drew, by counting pixels of each series'
//! distinctive colour (the report's fills are opaque, so they render exactly).
//!
//! Chromium is `SPOTLAB_CHROMIUM` or `chromium` on `PATH`. Without it the tests print a
//! skip message and pass, unless `SPOTLAB_REQUIRE_CHROMIUM` is set (as in CI).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use report::testing::{self, count_hex};

/// How long one screenshot may take before the browser is killed.
const TIMEOUT: Duration = Duration::from_secs(120);

/// The browser to use, or `None` (after saying so) when the test should be skipped.
fn chromium() -> Option<PathBuf> {
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
struct Screenshot {
    pixels: Vec<u8>,
    channels: usize,
    width: u32,
    height: u32,
}

impl Screenshot {
    /// Pixels within a small tolerance of `hex`.
    fn count(&self, hex: &str) -> usize {
        count_hex(&self.pixels, self.channels, hex, 2)
    }
}

/// Writes `page` to a temporary file, screenshots it at 1280x`height` and decodes it.
/// Keeps the PNG at `keep` when given, for a person to look at.
fn screenshot(browser: &Path, page: &str, height: u32, keep: Option<&Path>) -> Screenshot {
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
fn keep(name: &str) -> Option<PathBuf> {
    std::env::var_os("SPOTLAB_SCREENSHOT_DIR").map(|dir| PathBuf::from(dir).join(name))
}

/// A legend swatch is 14x10 pixels; a drawn series covers far more.
const DRAWN: usize = 2_000;

#[test]
fn run_report_charts_draw() {
    let Some(browser) = chromium() else { return };
    let report = testing::sample_run();
    let shot = screenshot(
        &browser,
        &report::html(&report),
        4000,
        keep("run-report.png").as_deref(),
    );
    assert_eq!((shot.width, shot.height), (1280, 4000));
    let counts = [
        ("successful requests", testing::SUCCESS_FILL, DRAWN),
        ("failed requests", testing::ERROR_FILL, DRAWN),
        ("ALARM band", testing::ALARM_BAND, DRAWN),
        ("OK band", testing::OK_BAND, DRAWN),
        ("INSUFFICIENT_DATA band", testing::INSUFFICIENT_BAND, DRAWN),
        ("first pool", testing::POOLS[0], DRAWN),
        ("second pool", testing::POOLS[1], DRAWN),
        ("third pool", testing::POOLS[2], DRAWN),
        // Two markers and their dotted lines.
        ("interruption markers", testing::INTERRUPTION, 150),
    ];
    for (what, colour, at_least) in counts {
        let n = shot.count(colour);
        eprintln!("{what} ({colour}): {n} pixels");
        assert!(
            n >= at_least,
            "{what} ({colour}): {n} pixels, expected at least {at_least}"
        );
    }
}

#[test]
fn empty_charts_draw_no_series() {
    let Some(browser) = chromium() else { return };
    let mut report = testing::sample_run();
    report.requests.clear();
    report.error_rate.clear();
    report.capacity.clear();
    report.prices.clear();
    report.alarm = None;
    let shot = screenshot(
        &browser,
        &report::html(&report),
        4000,
        keep("empty-report.png").as_deref(),
    );
    // Only the legends' swatches remain.
    for colour in [
        testing::SUCCESS_FILL,
        testing::ERROR_FILL,
        testing::ALARM_BAND,
    ] {
        let n = shot.count(colour);
        eprintln!("no series ({colour}): {n} pixels");
        assert!(n < DRAWN, "{colour}: {n} pixels in a report with no series");
    }
}

#[test]
fn limit_report_charts_draw() {
    let Some(browser) = chromium() else { return };
    let report = testing::sample_limit();
    let shot = screenshot(
        &browser,
        &report::limit_html(&report),
        1400,
        keep("limit-report.png").as_deref(),
    );
    // Lines and dots, thinner than areas.
    for (what, colour) in [
        ("successful rate", testing::SUCCESS),
        ("error rate", testing::ERROR),
    ] {
        let n = shot.count(colour);
        eprintln!("{what} ({colour}): {n} pixels");
        assert!(n >= 500, "{what} ({colour}): {n} pixels");
    }
}
