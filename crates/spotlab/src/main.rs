//! The `spotlab` binary: parse the command line, run the command, report errors.
//! Everything else lives in the library crates.

mod alarms;
mod aws;
mod cli;
mod ec2;
mod events;
mod fault;
mod run;
mod simulate;
mod stack;
mod topics;
mod up;
mod view;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Simulate(args) => simulate::run(args),
        cli::Command::Target(args) => {
            init_logging();
            target::run(args)
        }
        cli::Command::Agent(args) => {
            init_logging();
            agent::run(args)
        }
        cli::Command::Up(args) => {
            init_logging();
            up::run(args)
        }
        cli::Command::Events(args) => events::run(args),
        cli::Command::Alarms(args) => alarms::run(args),
        cli::Command::Topics(args) => topics::run(args),
        cli::Command::Fault(args) => fault::run(args),
        cli::Command::Stack(args) => stack::run(args),
        cli::Command::Cleanup(args) => stack::run(cli::StackArgs {
            action: cli::StackAction::Cleanup(args),
        }),
        cli::Command::Demo(args) => run::demo(args),
        cli::Command::Run(args) => run::run(args),
        cli::Command::FindLimit(args) => run::find_limit(args),
        cli::Command::Ec2(args) => ec2::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("spotlab: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `SPOTLAB_LOG` (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SPOTLAB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
