//! What the tests that run `spotlab up` share: starting it on a free loopback port (or
//! its recorded one), stopping it, and SDK clients for it; moto's server (`moto.rs`).
//! Each test file uses a part of this module, so unused parts are not warnings.
#![allow(dead_code)]

pub mod moto;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};

/// A running `spotlab up`; stopped (SIGTERM, then SIGKILL after 10 s) when dropped, so
/// a failed assertion never leaves it running.
pub struct Up {
    /// The process.
    pub child: Child,
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Up {
    /// Starts `spotlab up ARGS --state-dir STATE` and waits for its address.
    pub fn start(state: &Path, args: &[&str]) -> Up {
        let mut child = Command::new(env!("CARGO_BIN_EXE_spotlab"))
            .arg("up")
            .args(args)
            .arg("--state-dir")
            .arg(state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spotlab up starts");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .expect("spotlab up prints its address");
        // Keep draining what it prints.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("spotlab up did not start: {line:?}"))
            .to_owned();
        Up { child, url }
    }

    /// Stops it as a user would (SIGTERM) and waits, for up to 10 s.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if self.stop().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An aws-sdk-ec2 client for the local cloud at `url`.
pub fn client(url: &str) -> Client {
    Client::from_conf(
        aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(url)
            .credentials_provider(Credentials::new("spotlab", "spotlab", None, None, "test"))
            .build(),
    )
}

/// A client of each service the local cloud serves, for the local cloud at `url`.
pub struct Sdk {
    /// EC2.
    pub ec2: aws_sdk_ec2::Client,
    /// CloudWatch.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// EventBridge.
    pub events: aws_sdk_eventbridge::Client,
}

/// Clients for the local cloud at `url`, with its dummy credentials.
pub fn sdk(url: &str) -> Sdk {
    use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
    let credentials = Credentials::new("spotlab", "spotlab", None, None, "test");
    Sdk {
        ec2: client(url),
        cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(url)
                .credentials_provider(credentials.clone())
                .build(),
        ),
        sns: aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(url)
                .credentials_provider(credentials.clone())
                .build(),
        ),
        events: aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(url)
                .credentials_provider(credentials)
                .build(),
        ),
    }
}

/// What a command printed on stdout; the test fails with its stderr if it failed.
pub fn stdout(what: &str, output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A command's stdout as JSON; the test fails if the command failed or printed no JSON.
pub fn json(what: &str, output: &std::process::Output) -> serde_json::Value {
    let text = stdout(what, output);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"))
}
