//! The command line: one clap-derive struct per command, with env fallbacks.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "nianbao",
    version,
    about = "政府信息公开工作年度报告: parse, validate, store, aggregate"
)]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "NIANBAO_LOG_JSON")]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse report files and print them as JSON (one document per file).
    Parse(ParseArgs),
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// Report files (UTF-8 or GB18030 text, or HTML).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one flat JSON object per file: agency, year, template, facts by path, findings.
    #[arg(long)]
    pub facts: bool,
    /// The agency, for documents that do not print it (the text wins when it does).
    #[arg(long)]
    pub agency: Option<String>,
    /// The report year, for documents that do not print it (the text wins when it does).
    #[arg(long)]
    pub year: Option<i32>,
    /// The encoding (a WHATWG label such as gbk), when detection should not decide.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Read the files as HTML (default: detected).
    #[arg(long)]
    pub html: bool,
}
