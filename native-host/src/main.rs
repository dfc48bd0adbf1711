use std::process::ExitCode;

use clap::Parser;
use parla_host::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Say(args) => parla_host::say::run(&args),
        Command::Bench(args) => parla_host::bench::run(&args),
        Command::Normalize(args) => parla_host::text::run(&args, parla_host::text::Stage::Normalize),
        Command::Phonemize(args) => parla_host::text::run(&args, parla_host::text::Stage::Phonemize),
        Command::Serve(args) => parla_host::serve::run(&args),
        Command::BenchServe(args) => parla_host::bench_serve::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parla: {e}");
            ExitCode::FAILURE
        }
    }
}
