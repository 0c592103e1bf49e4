//! The `spotlab` binary: parse the command line, run the command, report errors.
//! Everything else lives in the library crates.

mod cli;
mod simulate;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Simulate(args) => simulate::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("spotlab: {error:#}");
            ExitCode::FAILURE
        }
    }
}
