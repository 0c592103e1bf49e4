//! `spotlab target` as a process: runtime, socket, signals and the lines it prints.
//!
//! This is the shell around [`crate::serve`]: it builds the multi-thread runtime with
//! the requested workers, binds, announces the bound address on stdout (one line, which
//! scripts wait for), serves until SIGTERM or SIGINT, and summarises the counters on
//! stderr. It decides nothing about requests.

use std::io::Write as _;
use std::sync::Arc;

use anyhow::Context as _;
use clock::Clock;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::access_log::AccessLog;
use crate::config::TargetArgs;
use crate::server::serve;
use crate::target::Target;

/// Runs `spotlab target` until SIGTERM or SIGINT, then shuts down gracefully.
///
/// Prints exactly one line to stdout, `spotlab target listening on http://ADDR` with the
/// bound address, then its settings on stderr, and on exit a summary of the counters on
/// stderr. Virtual time comes from `--time-scale` and the origin in the environment
/// (see [`Clock::from_env`]).
pub fn run(args: TargetArgs) -> anyhow::Result<()> {
    let threads = args.worker_threads();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.get())
        .thread_name("spotlab-target")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let clock = Clock::from_env(Some(args.time_scale)).context("bad clock settings")?;
        let config = args.target_config();
        let mut target = Target::new(config, clock).context("bad rate limit")?;
        if let Some(path) = &args.access_log {
            let log = AccessLog::create(path)
                .with_context(|| format!("cannot create the access log {}", path.display()))?;
            target = target.with_access_log(log);
        }
        let target = Arc::new(target);
        // Signal handlers go in before the address is announced, so a supervisor that
        // signals as soon as it reads the line is never too early.
        let mut terminate = signal(SignalKind::terminate()).context("cannot catch SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot catch SIGINT")?;
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener
            .local_addr()
            .context("cannot read the bound address")?;
        {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "spotlab target listening on http://{address}")
                .and_then(|()| stdout.flush())
                .context("cannot write to stdout")?;
        }
        eprintln!(
            "spotlab target: rate {} per virtual second, burst {}, time scale {}, \
             latency {}, error ratio {}, seed {}, {} worker threads",
            config.quota.rate_per_sec,
            config.quota.burst,
            clock.scale(),
            config.latency,
            config.error_ratio,
            config.seed,
            threads,
        );
        let shutdown = async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        };
        serve(listener, Arc::clone(&target), shutdown)
            .await
            .context("server failed")?;
        if let Some(log) = target.access_log() {
            log.flush().context("cannot flush the access log")?;
        }
        let counts = target.snapshot();
        eprintln!(
            "spotlab target stopped: {} allowed, {} throttled, {} errors, {} health, \
             {} connections",
            counts.allowed,
            counts.throttled,
            counts.errors,
            counts.health,
            counts.connections_total,
        );
        Ok(())
    })
}
