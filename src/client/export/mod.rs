//! `nianbao export`: the facts of every report a filter selects, from a server's Export
//! stream into a file an analytics engine reads (Parquet, CSV or JSON lines). One row per
//! report: its id, agency, region levels and division code, year, template, whether it is
//! the report counted for its body and year, its publication date, finding counts and source, then one column per catalogue metric (blank
//! where the report does not print it). Rows are written as they arrive, so memory stays
//! flat however many reports there are.

mod csv;
mod jsonl;
mod parquet;

pub(crate) use self::csv::push_field;

use std::io::Write;
use std::path::{Path, PathBuf};

use super::channel::{ConnectError, Remote};
use crate::model::catalogue::{self, MetricKind};
use crate::model::form::template_name;
use crate::pb::report_service_client::ReportServiceClient;
use crate::pb::{ExportRequest, ExportRow, Filter};

/// The file formats `nianbao export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Parquet,
    Csv,
    Jsonl,
}

/// What `nianbao export` was asked to do.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub remote: Remote,
    pub format: Format,
    /// The file to write; `-` for standard output (CSV and JSON lines only).
    pub output: PathBuf,
    pub filter: Filter,
    /// CSV for Excel: starts with a UTF-8 byte-order mark.
    pub excel: bool,
}

/// Why an export stopped. A file left behind by a failed export is removed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("server {}: {}", .0.endpoint, .0.why)]
    Endpoint(ConnectError),
    #[error("the server answered {code:?}: {message}")]
    Status { code: tonic::Code, message: String },
    #[error("{path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("Parquet needs a file to write, not standard output")]
    ParquetToStdout,
    #[error("the server's stream is malformed: {0}")]
    Malformed(String),
}

/// The fixed columns before the metrics, in order.
pub const COLUMNS: [&str; 17] = [
    "id",
    "agency",
    "province",
    "city",
    "county",
    "township",
    "code",
    "year",
    "template",
    "latest",
    "published",
    "errors",
    "warnings",
    "infos",
    "compliance_score",
    "compliance_coverage",
    "source",
];

/// One metric column: its catalogue path and how its values print.
#[derive(Debug, Clone)]
pub struct MetricColumn {
    pub path: String,
    pub kind: MetricKind,
}

/// Where rows go: a file format.
trait Sink {
    fn row(&mut self, row: &Row<'_>) -> std::io::Result<()>;
    /// Writes what is buffered and the format's footer.
    fn finish(self: Box<Self>) -> std::io::Result<()>;
}

/// One exported row, read for writing: the fixed columns and each metric's value (`None`
/// where the report does not print it).
pub struct Row<'a> {
    pub row: &'a ExportRow,
    pub values: Vec<Option<f64>>,
}

impl Row<'_> {
    /// A fixed column's text (`year`, `latest` and the counts as their decimal digits).
    fn text(&self, column: usize) -> std::borrow::Cow<'_, str> {
        let r = self.row;
        let level = |name: fn(&crate::pb::Region) -> &str| r.region.as_ref().map_or("", name);
        match COLUMNS[column] {
            "id" => r.id.as_str().into(),
            "agency" => r.agency.as_str().into(),
            "province" => level(|g| &g.province).into(),
            "city" => level(|g| &g.city).into(),
            "county" => level(|g| &g.county).into(),
            "township" => level(|g| &g.township).into(),
            "code" => level(|g| &g.code).into(),
            "published" => r.published.as_str().into(),
            "year" => r.year.map(|y| y.to_string()).unwrap_or_default().into(),
            "template" => template_name(r.template).into(),
            "latest" => r.latest.to_string().into(),
            "errors" => r.errors.to_string().into(),
            "warnings" => r.warnings.to_string().into(),
            "infos" => r.infos.to_string().into(),
            "compliance_score" | "compliance_coverage" => self
                .double(column)
                .map(|s| s.to_string())
                .unwrap_or_default()
                .into(),
            _ => r.source.as_str().into(),
        }
    }

    /// A fixed column of optional numbers: the compliance score and its coverage.
    fn double(&self, column: usize) -> Option<f64> {
        match COLUMNS[column] {
            "compliance_score" => self.row.compliance_score,
            "compliance_coverage" => self.row.compliance_coverage,
            _ => None,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub reports: u64,
}

/// Streams the export into `options.output`; see the module doc.
pub async fn export(options: ExportOptions) -> Result<ExportSummary, ExportError> {
    let to_stdout = options.output == Path::new("-");
    if to_stdout && options.format == Format::Parquet {
        return Err(ExportError::ParquetToStdout);
    }
    let (channel, bearer) = options.remote.connect().map_err(ExportError::Endpoint)?;
    let mut client = ReportServiceClient::with_interceptor(channel, bearer)
        .max_decoding_message_size(usize::MAX);
    let status = |s: tonic::Status| ExportError::Status {
        code: s.code(),
        message: s.message().to_owned(),
    };
    let mut stream = client
        .export(ExportRequest {
            filter: Some(options.filter.clone()),
        })
        .await
        .map_err(status)?
        .into_inner();
    let write_error = |error: std::io::Error| ExportError::Write {
        path: options.output.clone(),
        error,
    };
    let mut sink: Option<Box<dyn Sink>> = None;
    let mut width = 0;
    let mut summary = ExportSummary::default();
    let result = async {
        while let Some(chunk) = stream.message().await.map_err(status)? {
            if sink.is_none() {
                let metrics = metric_columns(&chunk.metrics)?;
                width = metrics.len();
                sink = Some(open_sink(&options, metrics).map_err(write_error)?);
            }
            let sink = sink.as_mut().expect("opened above");
            for row in &chunk.rows {
                sink.row(&read_row(row, width)?).map_err(write_error)?;
                summary.reports += 1;
            }
        }
        match sink.take() {
            Some(sink) => sink.finish().map_err(write_error),
            None => Err(ExportError::Malformed(
                "it ended before naming the metrics".into(),
            )),
        }
    }
    .await;
    if result.is_err() && !to_stdout {
        let _ = std::fs::remove_file(&options.output);
    }
    result.map(|()| summary)
}

/// The metric columns the stream's first chunk names.
fn metric_columns(paths: &[String]) -> Result<Vec<MetricColumn>, ExportError> {
    if paths.is_empty() {
        return Err(ExportError::Malformed(
            "its first chunk names no metrics".into(),
        ));
    }
    Ok(paths
        .iter()
        .map(|path| MetricColumn {
            path: path.clone(),
            // A metric this build does not know prints as a decimal.
            kind: catalogue::index_of(path)
                .map_or(MetricKind::Amount, |m| catalogue::METRICS[m].kind),
        })
        .collect())
}

/// A row's values with the absent ones unset; it must hold one value per metric.
fn read_row(row: &ExportRow, metrics: usize) -> Result<Row<'_>, ExportError> {
    if row.values.len() != metrics {
        return Err(ExportError::Malformed(format!(
            "row {} holds {} values for {metrics} metrics",
            row.id,
            row.values.len()
        )));
    }
    let mut values: Vec<Option<f64>> = row.values.iter().copied().map(Some).collect();
    for &m in &row.absent {
        *values.get_mut(m as usize).ok_or_else(|| {
            ExportError::Malformed(format!(
                "row {} marks metric {m} absent, past its values",
                row.id
            ))
        })? = None;
    }
    Ok(Row { row, values })
}

fn open_sink(
    options: &ExportOptions,
    metrics: Vec<MetricColumn>,
) -> std::io::Result<Box<dyn Sink>> {
    if options.format == Format::Parquet {
        let file = std::fs::File::create(&options.output)?;
        return Ok(Box::new(parquet::Parquet::new(file, metrics)?));
    }
    let out: Box<dyn Write + Send> = if options.output == Path::new("-") {
        Box::new(std::io::BufWriter::new(std::io::stdout()))
    } else {
        Box::new(std::io::BufWriter::new(std::fs::File::create(
            &options.output,
        )?))
    };
    Ok(match options.format {
        Format::Csv => Box::new(csv::Csv::new(out, metrics, options.excel)?),
        _ => Box::new(jsonl::Jsonl::new(out, metrics)),
    })
}
