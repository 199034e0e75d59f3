use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use nianbao::config::{Cli, Command, ParseArgs};
use nianbao::decode::ContentHint;
use nianbao::{output, parse_document, Hints};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    let result = match cli.command {
        Command::Parse(args) => parse_files(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(json: bool) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn parse_files(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for file in &args.files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("nianbao: {}: {e}", file.display());
                failed = true;
                continue;
            }
        };
        let hints = Hints {
            agency: args.agency.clone(),
            year: args.year,
            encoding: args.encoding.clone(),
            content: if args.html {
                ContentHint::Html
            } else {
                ContentHint::Unknown
            },
            source: Some(file.display().to_string()),
        };
        let report = parse_document(&bytes, &hints);
        let value = if args.facts {
            output::facts_json(&report)
        } else {
            output::report_json(&report)
        };
        let text = if args.facts {
            serde_json::to_string(&value)?
        } else {
            serde_json::to_string_pretty(&value)?
        };
        writeln!(stdout, "{text}").context("writing to stdout")?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
