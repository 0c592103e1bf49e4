//! `spotlab up`: serves the local cloud in the foreground until Ctrl-C or SIGTERM.

use std::io::Write as _;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::UpArgs;

/// Runs the command.
pub fn run(args: UpArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("spotlab-up")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut terminate = signal(SignalKind::terminate()).context("cannot catch SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot catch SIGINT")?;
        let config = args.config()?;
        let state_dir = config.state_dir.clone();
        let controlplane::Running {
            addr,
            started_at,
            replayed,
            time_scale,
            stop,
            mut done,
        } = controlplane::start(config).await?;
        // Best effort: a closed stdout must not take the cloud down.
        let url = format!("http://{addr}");
        let _ = announce(&url, started_at, time_scale, &state_dir, replayed);
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
            result = &mut done => return result.context("the local cloud stopped")?,
        }
        eprintln!("spotlab up: stopping (instance processes get SIGTERM, then SIGKILL)");
        stop.cancel();
        done.await.context("the local cloud stopped")?
    })
}

fn announce(
    url: &str,
    started_at: simtime::SimTime,
    time_scale: clock::TimeScale,
    state_dir: &std::path::Path,
    replayed: usize,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "spotlab up: local cloud at {url}")?;
    writeln!(
        out,
        "  virtual time {started_at} (scale {time_scale}), state in {}, {replayed} command(s) replayed",
        state_dir.display(),
    )?;
    writeln!(
        out,
        "  export AWS_ENDPOINT_URL={url} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=spotlab AWS_SECRET_ACCESS_KEY=spotlab"
    )?;
    out.flush()
}
