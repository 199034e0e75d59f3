//! `nianbao query`: the analyst's questions over the query RPCs, answered as a [`Table`]:
//! rankings of places, bodies or years by a metric or a rate (Aggregate), the reports a
//! filter selects (ListReports), finding counts (SummarizeFindings) and the reports with a
//! given finding, where and with what values (ListReports with `filter.finding`).

use super::channel::{self, Authorized, ConnectError, Remote};
use super::table::{Cell, Table};
use crate::model::finding::severity_name;
use crate::model::form::template_name;
use crate::pb::report_service_client::ReportServiceClient;
use crate::pb::{
    AggregateRequest, Filter, ListMetricsRequest, ListReportsRequest, ReportSummary,
    SummarizeFindingsRequest,
};

/// The ordering that ranks groups by their reports' mean compliance score.
const SCORE: &str = "compliance_score";

type Client = ReportServiceClient<Authorized>;

/// One question.
#[derive(Debug, Clone)]
pub enum Question {
    /// Groups ranked by `order` (a metric path, a rate name or `reports`).
    Top {
        order: String,
        by: Vec<String>,
        /// More metrics to show beside the one ranked by.
        also: Vec<String>,
        ascending: bool,
        min_reports: u64,
        /// A score counts in its group's mean only above this coverage (the server's
        /// default when `None`).
        min_coverage: Option<f64>,
        include_unplaced: bool,
        filter: Filter,
    },
    Reports {
        filter: Filter,
    },
    /// Finding counts by code, or with `filter.finding` the reports with it.
    Findings {
        filter: Filter,
    },
    Metrics,
}

/// A page of an answer and the token of the next, if there is more.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub table: Table,
    pub next_page_token: String,
    /// What a person should know beside the table (how many match, what was left out).
    pub note: String,
}

/// How an answer is printed: in what style, how many rows a page, from which page, and
/// whether every page.
#[derive(Debug, Clone)]
pub struct Pages {
    pub style: super::table::Style,
    pub limit: u32,
    pub page_token: String,
    pub all: bool,
}

/// Asks `question` and writes the answer to `out`, and to `notes` how many matched and the
/// next page's token. An aligned table is aligned over every page, so it is written once at
/// the end; CSV and JSON lines are written page by page.
pub async fn answer(
    remote: &Remote,
    question: &Question,
    pages: &Pages,
    out: &mut impl std::io::Write,
    notes: &mut impl std::io::Write,
) -> Result<(), QueryError> {
    use super::table::Style;
    let mut asker = Asker::new(remote)?;
    let mut token = pages.page_token.clone();
    let mut first = true;
    let mut whole: Option<Table> = None;
    loop {
        let page = asker.ask(question, pages.limit, &token).await?;
        if pages.style == Style::Table {
            match &mut whole {
                Some(t) => t.rows.extend(page.table.rows),
                None => whole = Some(page.table),
            }
        } else {
            out.write_all(page.table.render(pages.style, first).as_bytes())?;
        }
        first = false;
        token = page.next_page_token;
        if !pages.all || token.is_empty() {
            if let Some(table) = &whole {
                out.write_all(table.render(pages.style, true).as_bytes())?;
            }
            out.flush()?;
            if !page.note.is_empty() {
                writeln!(notes, "{}", page.note)?;
            }
            if !token.is_empty() {
                writeln!(notes, "more: add --page-token {token} (or --all)")?;
            }
            return Ok(());
        }
    }
}

/// Why a question was not answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("server {}: {}", channel::with_scheme(&.0.endpoint), .0.why)]
    Endpoint(ConnectError),
    #[error("server {endpoint} cannot be reached ({why}); is `nianbao serve` running there? (--server or NIANBAO_SERVER)")]
    Unreachable { endpoint: String, why: String },
    #[error("{0}")]
    Refused(String),
    /// Writing the answer failed (a closed pipe ends the command quietly).
    #[error("writing the answer: {0}")]
    Write(#[from] std::io::Error),
}

/// A connection to the server's ReportService.
pub struct Asker {
    client: Client,
    endpoint: String,
}

impl Asker {
    pub fn new(remote: &Remote) -> Result<Asker, QueryError> {
        let endpoint = channel::with_scheme(&remote.endpoint);
        let (channel, bearer) = remote.connect().map_err(QueryError::Endpoint)?;
        let client = ReportServiceClient::with_interceptor(channel, bearer)
            .max_decoding_message_size(64 << 20);
        Ok(Asker { client, endpoint })
    }

    fn status(&self, status: tonic::Status) -> QueryError {
        match status.code() {
            tonic::Code::Unavailable => QueryError::Unreachable {
                endpoint: self.endpoint.clone(),
                why: status.message().to_owned(),
            },
            tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
                QueryError::Refused(format!("{} (--token or NIANBAO_TOKEN)", status.message()))
            }
            _ => QueryError::Refused(status.message().to_owned()),
        }
    }

    /// One page of the answer to `question`, from `page_token`, of at most `limit` rows.
    pub async fn ask(
        &mut self,
        question: &Question,
        limit: u32,
        page_token: &str,
    ) -> Result<Page, QueryError> {
        match question {
            Question::Top {
                order,
                by,
                also,
                ascending,
                min_reports,
                min_coverage,
                include_unplaced,
                filter,
            } => {
                let is_rate = crate::model::rates::RATES.iter().any(|r| r.name == order);
                let request = AggregateRequest {
                    page_token: page_token.to_owned(),
                    min_reports: *min_reports,
                    min_compliance_coverage: *min_coverage,
                    include_unplaced: *include_unplaced,
                    ..crate::model::rates::ranking_request(
                        order,
                        also,
                        by.clone(),
                        filter.clone(),
                        !ascending,
                        limit,
                    )
                };
                let metrics = request.metrics.clone();
                let answer = self
                    .client
                    .aggregate(request)
                    .await
                    .map_err(|s| self.status(s))?
                    .into_inner();
                let mut columns: Vec<String> = answer.group_by.clone();
                columns.push("reports".into());
                columns.extend(metrics.iter().cloned());
                let by_score = order == SCORE;
                if is_rate {
                    columns.extend([order.clone(), "numerator".into(), "denominator".into()]);
                }
                if by_score {
                    columns.extend([
                        SCORE.to_owned(),
                        "scored".into(),
                        "coverage".into(),
                        "below_coverage".into(),
                    ]);
                }
                let mut table = Table::new(columns);
                for group in &answer.groups {
                    let mut row: Vec<Cell> = (group.key.iter().zip(&answer.group_by))
                        .map(|(key, dim)| match (dim.as_str(), key.parse()) {
                            ("year", Ok(year)) => Cell::Year(year),
                            _ => text(key),
                        })
                        .collect();
                    row.push(Cell::Int(group.reports as i64));
                    for m in &metrics {
                        let sum = group.sums.iter().find(|s| &s.metric == m);
                        row.push(match sum {
                            Some(s) if s.reports > 0 => number(s.sum),
                            _ => Cell::Empty,
                        });
                    }
                    if is_rate {
                        let rate = group.rates.iter().find(|r| &r.name == order);
                        row.push(rate.and_then(|r| r.value).map_or(Cell::Empty, Cell::Share));
                        row.push(rate.map_or(Cell::Empty, |r| Cell::Num(r.numerator)));
                        row.push(rate.map_or(Cell::Empty, |r| Cell::Num(r.denominator)));
                    }
                    if by_score {
                        let c = group.compliance.clone().unwrap_or_default();
                        row.push(c.mean.map_or(Cell::Empty, Cell::Num));
                        row.push(Cell::Int(c.scored as i64));
                        row.push(c.coverage.map_or(Cell::Empty, Cell::Share));
                        row.push(Cell::Int(c.below_coverage as i64));
                    }
                    table.push(row);
                }
                let note = format!(
                    "{} groups of {} reports",
                    answer.total_groups, answer.reports
                );
                Ok(Page {
                    table,
                    next_page_token: answer.next_page_token,
                    note,
                })
            }
            Question::Reports { filter } => {
                let answer = self.list(filter, limit, page_token).await?;
                let mut table = Table::new([
                    "id",
                    "agency",
                    "year",
                    "province",
                    "city",
                    "county",
                    "template",
                    "published",
                    "errors",
                    "warnings",
                    "source",
                ]);
                for r in &answer.reports {
                    let region = r.region.clone().unwrap_or_default();
                    table.push(vec![
                        text(&r.id),
                        text(&r.agency),
                        year_cell(r),
                        text(&region.province),
                        text(&region.city),
                        text(&region.county),
                        text(template_name(r.template)),
                        text(&r.published),
                        Cell::Int(i64::from(r.errors)),
                        Cell::Int(i64::from(r.warnings)),
                        text(&r.source),
                    ]);
                }
                Ok(Page {
                    table,
                    note: format!("{} reports match", answer.total),
                    next_page_token: answer.next_page_token,
                })
            }
            Question::Findings { filter } if !filter.finding.is_empty() => {
                let answer = self.list(filter, limit, page_token).await?;
                let mut table = Table::new([
                    "id", "agency", "year", "code", "severity", "path", "expected", "actual",
                    "message",
                ]);
                for r in &answer.reports {
                    for f in &r.findings {
                        table.push(vec![
                            text(&r.id),
                            text(&r.agency),
                            year_cell(r),
                            text(&f.code),
                            text(severity_name(f.severity)),
                            text(&f.path),
                            f.expected.map_or(Cell::Empty, number),
                            f.actual.map_or(Cell::Empty, number),
                            text(&f.message),
                        ]);
                    }
                }
                Ok(Page {
                    table,
                    note: format!("{} reports have {}", answer.total, filter.finding),
                    next_page_token: answer.next_page_token,
                })
            }
            Question::Findings { filter } => {
                let answer = self
                    .client
                    .summarize_findings(SummarizeFindingsRequest {
                        filter: Some(filter.clone()),
                    })
                    .await
                    .map_err(|s| self.status(s))?
                    .into_inner();
                let mut counts = answer.counts;
                counts.sort_by(|a, b| b.reports.cmp(&a.reports).then(a.code.cmp(&b.code)));
                let mut table = Table::new(["code", "severity", "rule", "reports", "findings"]);
                for c in &counts {
                    table.push(vec![
                        text(&c.code),
                        text(severity_name(c.severity)),
                        Cell::Int(i64::from(c.rule)),
                        Cell::Int(c.reports as i64),
                        Cell::Int(c.findings as i64),
                    ]);
                }
                Ok(Page {
                    table,
                    note: format!(
                        "over {} reports; `nianbao query findings CODE` lists the reports with one",
                        answer.reports
                    ),
                    next_page_token: String::new(),
                })
            }
            Question::Metrics => {
                let answer = self
                    .client
                    .list_metrics(ListMetricsRequest {})
                    .await
                    .map_err(|s| self.status(s))?
                    .into_inner();
                let mut table = Table::new(["path", "kind", "formats", "label"]);
                for m in &answer.metrics {
                    table.push(vec![
                        text(&m.path),
                        text(&m.kind),
                        text(&m.formats.join(" ")),
                        text(&m.label),
                    ]);
                }
                for r in &answer.rates {
                    table.push(vec![
                        text(&r.name),
                        text("rate"),
                        Cell::Empty,
                        text(&r.definition),
                    ]);
                }
                Ok(Page {
                    table,
                    ..Page::default()
                })
            }
        }
    }

    async fn list(
        &mut self,
        filter: &Filter,
        limit: u32,
        page_token: &str,
    ) -> Result<crate::pb::ListReportsResponse, QueryError> {
        self.client
            .list_reports(ListReportsRequest {
                filter: Some(filter.clone()),
                page_size: limit,
                page_token: page_token.to_owned(),
            })
            .await
            .map_err(|s| self.status(s))
            .map(tonic::Response::into_inner)
    }
}

fn text(s: &str) -> Cell {
    match s {
        "" => Cell::Empty,
        s => Cell::Text(s.to_owned()),
    }
}

fn year_cell(r: &ReportSummary) -> Cell {
    r.year.map_or(Cell::Empty, Cell::Year)
}

/// A sum or a finding's value: an integer when it is one, else with its decimals.
fn number(v: f64) -> Cell {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        Cell::Int(v as i64)
    } else {
        Cell::Num(v)
    }
}
