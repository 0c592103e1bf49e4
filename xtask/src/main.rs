//! `cargo xtask ci`: every check CI runs, in order — formatting, clippy with warnings
//! denied, the architecture invariants, the Python environment of the AWS CLI tests,
//! and the tests. Nothing here is CI-specific: a developer runs the same command before
//! pushing.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "ci" => ci(),
        _ => {
            eprintln!("usage: cargo xtask ci");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    architecture_invariants()?;
    // The AWS CLI conformance tests need the CLI from PyPI in a virtual environment;
    // with SPOTLAB_REQUIRE_AWS_CLI set, a missing one fails them instead of skipping.
    python_env()?;
    // The dashboard test renders the page in headless Chromium; with
    // SPOTLAB_REQUIRE_CHROMIUM set, a missing browser fails it instead of skipping.
    browser_env()?;
    cargo_with(
        &["test", "--workspace", "--locked"],
        &[
            ("SPOTLAB_REQUIRE_AWS_CLI", "1"),
            ("SPOTLAB_REQUIRE_CHROMIUM", "1"),
        ],
    )?;
    // Benchmarks must keep compiling even though CI does not time them. Only the bench
    // crate has benchmarks; naming it keeps every other crate's test-only dependencies
    // (aws-sdk-ec2 among them) out of an optimised build.
    cargo(&["bench", "-p", "spotlab-bench", "--locked", "--no-run"])?;
    Ok(())
}

/// The pure crates must not depend, even transitively, on an async runtime, an HTTP
/// stack or a filesystem abstraction.
fn architecture_invariants() -> Result<(), String> {
    const FORBIDDEN: [&str; 6] = ["tokio", "hyper", "axum", "reqwest", "object_store", "redb"];
    for pure in [
        "simtime",
        "market",
        "fleet",
        "world",
        "agent-wire",
        "aws-wire",
        "ec2",
        "watch",
        "monitoring",
        "iam",
        "region",
        "report",
    ] {
        let output = Command::new(env!("CARGO"))
            .args([
                "tree", "--locked", "-e", "normal", "--prefix", "none", "-p", pure,
            ])
            .output()
            .map_err(|e| format!("cargo tree: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo tree -p {pure} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        for line in tree.lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            if FORBIDDEN.contains(&name) {
                return Err(format!(
                    "architecture invariant broken: pure crate `{pure}` depends on `{name}`"
                ));
            }
        }
    }
    eprintln!(
        "xtask: architecture invariants hold (pure crates have no runtime, HTTP or storage deps)"
    );
    Ok(())
}

/// Makes the Python virtual environment of the AWS CLI tests (scripts/python-env.sh).
fn python_env() -> Result<(), String> {
    script("scripts/python-env.sh")
}

/// Installs the Chromium the dashboard test drives, if missing (scripts/browser-env.sh).
fn browser_env() -> Result<(), String> {
    script("scripts/browser-env.sh")
}

/// Runs one of the workspace's setup scripts with bash, its output discarded.
fn script(path: &str) -> Result<(), String> {
    eprintln!("xtask: {path}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask lives inside the workspace")?;
    let status = Command::new("bash")
        .arg(root.join(path))
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("could not run {path}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{path} failed ({status})"))
    }
}

fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_with(args, &[])
}

fn cargo_with(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")))
    }
}
