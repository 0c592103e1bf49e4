//! moto's server (PyPI `moto[server]`, installed with the AWS CLI by
//! `scripts/python-env.sh`) started on loopback as a stand-in for AWS.
//!
//! The virtual environment is `SPOTLAB_VENV`, else `<workspace>/target/spotlab-venv`.
//! Without it a test skips its moto part with a message, unless `SPOTLAB_REQUIRE_MOTO`
//! or `SPOTLAB_REQUIRE_AWS_CLI` (which `cargo xtask ci` sets after creating the
//! environment) is set: then a missing moto fails the test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `moto_server`, killed when dropped so a failed assertion leaves nothing
/// running.
pub struct Moto {
    /// The process.
    child: Child,
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The virtual environment's `bin/` (the AWS CLI is there too).
    pub bin: PathBuf,
}

impl Moto {
    /// Starts moto's server on a free loopback port and waits until it listens; `None`
    /// (after saying so on stderr) when the virtual environment has no `moto_server`
    /// and no `SPOTLAB_REQUIRE_*` variable asks for it.
    pub fn start() -> Option<Moto> {
        let server = server()?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        // Owned from here, so a timeout below kills it.
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            bin: server.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moto_server` in the virtual environment, if it is there.
fn server() -> Option<PathBuf> {
    let venv = std::env::var_os("SPOTLAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/spotlab-venv"));
    let server = venv.join("bin/moto_server");
    if server.is_file() {
        return Some(server);
    }
    for required in ["SPOTLAB_REQUIRE_MOTO", "SPOTLAB_REQUIRE_AWS_CLI"] {
        assert!(
            std::env::var_os(required).is_none(),
            "{required} is set but {} is missing; run scripts/python-env.sh",
            server.display()
        );
    }
    eprintln!(
        "skipped the moto part: no {} (run scripts/python-env.sh, or set SPOTLAB_VENV)",
        server.display()
    );
    None
}
