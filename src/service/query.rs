//! nianbao.v1.ReportService: queries for other services.

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::model::catalogue::{MetricKind, METRICS};
use crate::model::finding::Code;
use crate::model::rates::RATES;
use crate::pb::report_service_server::ReportService;
use crate::pb::{
    AggregateRequest, AggregateResponse, ExportChunk, ExportRequest, Finding, GetReportRequest,
    GetReportResponse, ListMetricsRequest, ListMetricsResponse, ListReportsRequest,
    ListReportsResponse, MetricInfo, SummarizeFindingsRequest, SummarizeFindingsResponse,
};
use crate::pb::{CoverageRequest, CoverageResponse};
use crate::store::Store;

use super::request::{
    check_aggregate, check_filter, check_id, decode_token, encode_group_token, encode_token,
    invalid, MAX_GROUPS,
};
use super::ServiceError;

/// Reports in one chunk of Export: about 0.8 MB a chunk, below the 4 MiB a gRPC client
/// takes by default.
const EXPORT_CHUNK_ROWS: usize = 500;
/// Chunks made ahead of a slow reader, at most (so an export holds little memory).
const EXPORT_AHEAD: usize = 2;

/// Page size when the request leaves it 0, and the most one page may hold.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

#[derive(Clone)]
pub struct QueryHandler {
    store: Store,
    /// The server's one reader (its OCR engine and extraction workers), the one ingest reads
    /// with: GetReport's text is what the table reader saw.
    reader: crate::Reader,
}

impl QueryHandler {
    pub fn new(store: Store, reader: crate::Reader) -> QueryHandler {
        QueryHandler { store, reader }
    }
}

impl QueryHandler {
    /// The stored document as the table reader saw it, or why it has no text. Extraction
    /// (a PDF, a scan through OCR) runs on the blocking pool, not on the runtime's threads.
    async fn text(&self, id: &str) -> Result<String, ServiceError> {
        let Some((content, hints)) = self.store.document(id)? else {
            return Ok(String::new());
        };
        let reader = self.reader.clone();
        let text = tokio::task::spawn_blocking(move || {
            reader.text(&content, &hints).unwrap_or_else(|why| why)
        })
        .await
        .unwrap_or_else(|_| "提取文本时出错".to_owned());
        Ok(text)
    }
}

impl QueryHandler {
    /// The findings of `code` in report `id`: its own and those against other reports
    /// (a revision's changes).
    fn findings_of(&self, id: &str, code: Code) -> Result<Vec<Finding>, ServiceError> {
        let own = self.store.get(id)?.map(|r| r.findings).unwrap_or_default();
        let changes = self.store.index().changes(id);
        Ok(own
            .into_iter()
            .chain(changes)
            .filter(|f| f.code == code.as_str())
            .collect())
    }
}

/// Records a query's duration when dropped (whatever path the handler returns by).
struct QueryTimer {
    rpc: &'static str,
    started: std::time::Instant,
}

impl QueryTimer {
    fn start(rpc: &'static str) -> QueryTimer {
        QueryTimer {
            rpc,
            started: std::time::Instant::now(),
        }
    }
}

impl Drop for QueryTimer {
    fn drop(&mut self) {
        metrics::histogram!(crate::telemetry::QUERY_SECONDS, "rpc" => self.rpc)
            .record(self.started.elapsed().as_secs_f64());
    }
}

fn kind_name(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Count => "count",
        MetricKind::SignedCount => "signed_count",
        MetricKind::Amount => "amount",
    }
}

/// Streams the rows `rows` of the index as Export chunks into `tx`, the first chunk naming
/// the metrics. The index is read a chunk at a time (commits go on in between); rows stay
/// valid because rows are only ever added.
async fn export_rows(store: Store, rows: Vec<u32>, tx: mpsc::Sender<Result<ExportChunk, Status>>) {
    let mut metrics: Vec<String> = METRICS.iter().map(|m| m.path.to_owned()).collect();
    let mut chunks = rows.chunks(EXPORT_CHUNK_ROWS).peekable();
    if chunks.peek().is_none() {
        let _ = tx
            .send(Ok(ExportChunk {
                metrics,
                rows: Vec::new(),
            }))
            .await;
        return;
    }
    for chunk in chunks {
        let rows = {
            let index = store.index();
            chunk.iter().map(|&r| index.export_row(r)).collect()
        };
        let chunk = ExportChunk {
            metrics: std::mem::take(&mut metrics),
            rows,
        };
        if tx.send(Ok(chunk)).await.is_err() {
            return; // the client went away
        }
    }
}

#[tonic::async_trait]
impl ReportService for QueryHandler {
    type ExportStream = ReceiverStream<Result<ExportChunk, Status>>;

    async fn export(
        &self,
        request: Request<ExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        let _timer = QueryTimer::start("export");
        let selection = check_filter(request.into_inner().filter)?;
        let rows = self.store.index().select(&selection);
        let (tx, rx) = mpsc::channel(EXPORT_AHEAD);
        tokio::spawn(export_rows(self.store.clone(), rows, tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_report(
        &self,
        request: Request<GetReportRequest>,
    ) -> Result<Response<GetReportResponse>, Status> {
        let _timer = QueryTimer::start("get_report");
        let GetReportRequest {
            id,
            include_text,
            include_compliance,
            profile,
        } = request.into_inner();
        let id = id.trim().to_ascii_lowercase();
        check_id(&id)?;
        let profile = include_compliance
            .then(|| super::assess::check_profile(&profile))
            .transpose()?;
        let report = self
            .store
            .get(&id)
            .map_err(ServiceError::from)?
            .ok_or_else(|| ServiceError::NotFound(format!("no report with id {id}")))?;
        let text = match include_text {
            true => self.text(&id).await?,
            false => String::new(),
        };
        let compliance = match profile {
            Some(profile) => Some(
                super::assess::compliance(&self.store, &self.reader, &id, report.clone(), profile)
                    .await?,
            ),
            None => None,
        };
        let (revisions, (renditions, counted), changes) = {
            let index = self.store.index();
            (
                index.revisions(&id),
                index.renditions(&id),
                index.changes(&id),
            )
        };
        Ok(Response::new(GetReportResponse {
            report: Some(report),
            text,
            revisions,
            renditions,
            counted,
            changes,
            compliance,
        }))
    }

    async fn list_reports(
        &self,
        request: Request<ListReportsRequest>,
    ) -> Result<Response<ListReportsResponse>, Status> {
        let _timer = QueryTimer::start("list_reports");
        let ListReportsRequest {
            filter,
            page_size,
            page_token,
        } = request.into_inner();
        let selection = check_filter(filter)?;
        let after = decode_token(&page_token, &selection)?;
        let size = match page_size as usize {
            0 => DEFAULT_PAGE,
            n if n > MAX_PAGE => {
                return Err(invalid(format!("page_size {n}: at most {MAX_PAGE}")).into())
            }
            n => n,
        };
        let mut page = self.store.index().page(&selection, after, size);
        if let Some(code) = selection.finding {
            for summary in &mut page.reports {
                summary.findings = self.findings_of(&summary.id, code)?;
            }
        }
        Ok(Response::new(ListReportsResponse {
            reports: page.reports,
            next_page_token: page
                .next_after
                .map(|seq| encode_token(seq, &selection))
                .unwrap_or_default(),
            total: page.total,
        }))
    }

    async fn aggregate(
        &self,
        request: Request<AggregateRequest>,
    ) -> Result<Response<AggregateResponse>, Status> {
        let _timer = QueryTimer::start("aggregate");
        let mut query = check_aggregate(request.into_inner())?;
        let paged = query.ranking.limit.is_some();
        if !paged {
            query.ranking.limit = Some(MAX_GROUPS);
        }
        let mut answer = self.store.index().rank(
            &query.metrics,
            &query.rates,
            &query.dims,
            &query.selection,
            &query.ranking,
        );
        let end = query.ranking.offset + answer.groups.len();
        if !paged && (end as u64) < answer.total_groups {
            return Err(invalid(format!(
                "{} groups are more than one answer holds without a limit ({MAX_GROUPS}): \
                 set limit (with order_by for a ranking) and page with page_token, or narrow the filter",
                answer.total_groups
            ))
            .into());
        }
        if paged && (end as u64) < answer.total_groups {
            answer.next_page_token = encode_group_token(end, query.fingerprint);
        }
        Ok(Response::new(answer))
    }

    async fn summarize_findings(
        &self,
        request: Request<SummarizeFindingsRequest>,
    ) -> Result<Response<SummarizeFindingsResponse>, Status> {
        let _timer = QueryTimer::start("summarize_findings");
        let selection = check_filter(request.into_inner().filter)?;
        Ok(Response::new(self.store.index().summarize(&selection)))
    }

    async fn coverage(
        &self,
        request: Request<CoverageRequest>,
    ) -> Result<Response<CoverageResponse>, Status> {
        let _timer = QueryTimer::start("coverage");
        let answer = super::coverage::coverage(&self.store.index(), request.into_inner())?;
        Ok(Response::new(answer))
    }

    async fn list_metrics(
        &self,
        _request: Request<ListMetricsRequest>,
    ) -> Result<Response<ListMetricsResponse>, Status> {
        let _timer = QueryTimer::start("list_metrics");
        let metrics = METRICS
            .iter()
            .map(|m| MetricInfo {
                path: m.path.to_owned(),
                label: m.label.to_owned(),
                kind: kind_name(m.kind).to_owned(),
                formats: [("2019", m.formats.f2019), ("2021", m.formats.f2021)]
                    .iter()
                    .filter(|f| f.1)
                    .map(|f| f.0.to_owned())
                    .collect(),
            })
            .collect();
        let rates = RATES.iter().map(|r| r.to_rate(0.0, 0.0, 0)).collect();
        Ok(Response::new(ListMetricsResponse { metrics, rates }))
    }
}

/// The handler called as tonic calls it, without a socket: a real store in a temporary
/// directory, one real report committed.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{report_id, Hints, NewDocument};

    const REPORT: &str = include_str!("../../tests/corpus/huaian-city-2024.txt");

    fn handler() -> (tempfile::TempDir, QueryHandler, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (report, basis) =
            crate::Reader::default().read_assessed(REPORT.as_bytes(), &Hints::default());
        let id = report_id(REPORT.as_bytes());
        let doc = NewDocument::new(
            id.clone(),
            REPORT.as_bytes(),
            Hints::default(),
            report,
            basis,
        )
        .unwrap();
        store.commit(vec![doc]).unwrap();
        (dir, QueryHandler::new(store, crate::Reader::default()), id)
    }

    #[tokio::test]
    async fn get_report_answers_the_stored_report_its_text_and_its_compliance() {
        let (_dir, handler, id) = handler();
        let answer = handler
            .get_report(Request::new(GetReportRequest {
                id: id.to_ascii_uppercase(),
                include_text: true,
                include_compliance: true,
                profile: "quanzhou-licheng".into(),
            }))
            .await
            .unwrap()
            .into_inner();
        let report = answer.report.unwrap();
        assert_eq!(report.id, id);
        assert_eq!(report.year, Some(2024));
        assert!(answer.text.contains("淮安市"), "{}", &answer.text[..200]);
        assert_eq!(answer.renditions, vec![id.clone()]);
        let compliance = answer.compliance.unwrap();
        assert_eq!(compliance.profile, "quanzhou-licheng");
        assert_eq!(compliance.max, 10.0);
        // Without include_compliance there is none, and none is computed.
        let plain = handler
            .get_report(Request::new(GetReportRequest {
                id: id.clone(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(plain.compliance.is_none() && plain.text.is_empty());
    }

    #[tokio::test]
    async fn get_report_refuses_what_it_cannot_answer_with_the_status_that_says_why() {
        let (_dir, handler, id) = handler();
        let ask = |id: &str, profile: &str| GetReportRequest {
            id: id.into(),
            include_compliance: !profile.is_empty(),
            profile: profile.into(),
            ..Default::default()
        };
        let cases = [
            (ask("xyz", ""), tonic::Code::InvalidArgument),
            (ask(&"0".repeat(64), ""), tonic::Code::NotFound),
            (ask(&id, "no-such-profile"), tonic::Code::InvalidArgument),
        ];
        for (request, code) in cases {
            let status = handler.get_report(Request::new(request)).await.unwrap_err();
            assert_eq!(status.code(), code, "{}", status.message());
        }
    }
}
