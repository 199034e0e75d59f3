//! nianbao.v1.ReportService: queries for other services.

use base64::Engine;
use tonic::{Request, Response, Status};

use std::hash::{Hash, Hasher};

use crate::index::{Dim, Order, Ranking, Selection};
use crate::model::catalogue::{self, MetricKind, METRICS};
use crate::model::form::template_by_name;
use crate::model::rates::RATES;
use crate::pb::report_service_server::ReportService;
use crate::pb::{
    AggregateRequest, AggregateResponse, Filter, GetReportRequest, GetReportResponse,
    ListMetricsRequest, ListMetricsResponse, ListReportsRequest, ListReportsResponse, MetricInfo,
    Severity, SummarizeFindingsRequest, SummarizeFindingsResponse,
};
use crate::store::Store;
use crate::Hints;

use super::ServiceError;

/// Page size when the request leaves it 0, and the most one page may hold.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

#[derive(Clone)]
pub struct QueryHandler {
    store: Store,
}

impl QueryHandler {
    pub fn new(store: Store) -> QueryHandler {
        QueryHandler { store }
    }
}

impl QueryHandler {
    /// The stored document as the table reader saw it, or why it has no text.
    fn text(&self, id: &str) -> Result<String, ServiceError> {
        let Some((content, hints)) = self.store.document(id)? else {
            return Ok(String::new());
        };
        Ok(crate::Reader::default()
            .text(&content, &Hints::from(&hints))
            .unwrap_or_else(|why| why))
    }
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::InvalidArgument(message.into())
}

/// The request's filter, checked, as the typed selection the index reads.
fn check_filter(filter: Option<Filter>) -> Result<Selection, ServiceError> {
    let filter = filter.unwrap_or_default();
    let template = match filter.template.as_str() {
        "" => None,
        name => Some(template_by_name(name).ok_or_else(|| {
            invalid(format!(
                "filter.template {name:?}: use \"2019\", \"2021\", \"unknown\" or leave it empty"
            ))
        })?),
    };
    let severity = match filter.severity.as_str() {
        "" => None,
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        other => {
            return Err(invalid(format!(
                "filter.severity {other:?}: use \"error\", \"warning\", \"info\" or leave it empty"
            )))
        }
    };
    if let (Some(from), Some(to)) = (filter.year_from, filter.year_to) {
        if from > to {
            return Err(invalid(format!(
                "filter.year_from {from} is after filter.year_to {to}"
            )));
        }
    }
    Ok(Selection {
        agency: filter.agency,
        province: filter.province,
        city: filter.city,
        county: filter.county,
        township: filter.township,
        year_from: filter.year_from,
        year_to: filter.year_to,
        template,
        severity,
        all_revisions: filter.all_revisions,
    })
}

/// An Aggregate request, checked.
struct AggregateQuery {
    metrics: Vec<usize>,
    rates: Vec<usize>,
    dims: Vec<Dim>,
    selection: Selection,
    ranking: Ranking,
    /// Names the request apart from its page: a page token is only good for its own query.
    fingerprint: u64,
}

fn check_aggregate(request: AggregateRequest) -> Result<AggregateQuery, ServiceError> {
    let AggregateRequest {
        metrics,
        group_by,
        filter,
        rates,
        sums_only,
        order_by,
        descending,
        limit,
        page_token,
        min_reports,
    } = request;
    let selection = check_filter(filter)?;
    let mut rates = check_rates(&rates, sums_only)?;
    let mut metrics: Vec<usize> = metrics
        .iter()
        .map(|m| catalogue::index_of(m.trim()).ok_or_else(|| invalid(format!("metric {m:?} is not a catalogue path; ListMetrics lists them (e.g. applications.new_received.total)"))))
        .collect::<Result<_, _>>()?;
    let dims = check_group_by(&group_by)?;
    let order = check_order(order_by.trim(), &mut metrics, &mut rates, sums_only)?;
    let fingerprint = {
        let mut h = rustc_hash::FxHasher::default();
        format!(
            "{metrics:?}|{rates:?}|{dims:?}|{selection:?}|{order:?}|{descending}|{min_reports}"
        )
        .hash(&mut h);
        h.finish()
    };
    let ranking = Ranking {
        order,
        descending,
        offset: decode_group_token(&page_token, fingerprint)?,
        limit: (limit > 0).then_some(limit as usize),
        min_reports,
    };
    Ok(AggregateQuery {
        metrics,
        rates,
        dims,
        selection,
        ranking,
        fingerprint,
    })
}

/// The rates asked for: by name, all six when none are named, none for `sums_only`.
fn check_rates(rates: &[String], sums_only: bool) -> Result<Vec<usize>, ServiceError> {
    match (sums_only, rates.is_empty()) {
        (true, false) => Err(invalid("sums_only asks for no rates, yet rates names some")),
        (true, true) => Ok(Vec::new()),
        (false, true) => Ok((0..RATES.len()).collect()),
        (false, false) => rates.iter().map(|name| rate_index(name.trim())).collect(),
    }
}

fn rate_index(name: &str) -> Result<usize, ServiceError> {
    RATES.iter().position(|r| r.name == name).ok_or_else(|| {
        let known: Vec<&str> = RATES.iter().map(|r| r.name).collect();
        invalid(format!("rate {name:?}: use any of {}", known.join(", ")))
    })
}

fn check_group_by(group_by: &[String]) -> Result<Vec<Dim>, ServiceError> {
    let dims: Vec<Dim> = group_by
        .iter()
        .map(|g| {
            Dim::parse(g.trim()).ok_or_else(|| {
                invalid(format!(
                    "group_by {g:?}: use any of {}",
                    Dim::NAMES.join(", ")
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    if let Some(d) = dims
        .iter()
        .enumerate()
        .find(|(k, d)| dims[..*k].contains(d))
    {
        let name = Dim::NAMES[*d.1 as usize];
        return Err(invalid(format!("group_by names {name:?} twice")));
    }
    Ok(dims)
}

/// What `order_by` names; a metric or rate not asked for is added to what is computed.
fn check_order(
    order_by: &str,
    metrics: &mut Vec<usize>,
    rates: &mut Vec<usize>,
    sums_only: bool,
) -> Result<Order, ServiceError> {
    let position_or_push =
        |list: &mut Vec<usize>, item: usize| match list.iter().position(|&x| x == item) {
            Some(i) => i,
            None => {
                list.push(item);
                list.len() - 1
            }
        };
    if let Some(m) = catalogue::index_of(order_by) {
        return Ok(Order::Sum(position_or_push(metrics, m)));
    }
    if let Some(r) = RATES.iter().position(|r| r.name == order_by) {
        if sums_only {
            return Err(invalid(format!(
                "order_by {order_by:?} is a rate, yet sums_only asks for no rates"
            )));
        }
        return Ok(Order::Rate(position_or_push(rates, r)));
    }
    match order_by {
        "" | "key" => Ok(Order::Key),
        "reports" => Ok(Order::Reports),
        other => {
            let known: Vec<&str> = RATES.iter().map(|r| r.name).collect();
            Err(invalid(format!(
                "order_by {other:?}: use \"key\", \"reports\", a metric path (ListMetrics lists them) or a rate ({})",
                known.join(", ")
            )))
        }
    }
}

/// A page token of Aggregate: the offset of the next page and the query it belongs to.
fn encode_group_token(offset: usize, fingerprint: u64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(offset as u64).to_be_bytes());
    bytes[8..].copy_from_slice(&fingerprint.to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_group_token(token: &str, fingerprint: u64) -> Result<usize, ServiceError> {
    if token.is_empty() {
        return Ok(0);
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(|| {
            invalid("page_token: not a token this service returned; start with an empty token")
        })?;
    let (offset, of) = bytes.split_at(8);
    if u64::from_be_bytes(of.try_into().expect("8 bytes")) != fingerprint {
        return Err(invalid(
            "page_token: it belongs to another query (metrics, rates, group_by, filter, order or min_reports differ); start with an empty token",
        ));
    }
    usize::try_from(u64::from_be_bytes(offset.try_into().expect("8 bytes")))
        .map_err(|_| invalid("page_token: offset out of range"))
}

fn check_id(id: &str) -> Result<(), ServiceError> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "id {id:?}: want the 64 hex digits IngestOne or ListReports returned"
        )));
    }
    Ok(())
}

fn encode_token(seq: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seq.to_be_bytes())
}

fn decode_token(token: &str) -> Result<u64, ServiceError> {
    if token.is_empty() {
        return Ok(0);
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .ok_or_else(|| {
            invalid("page_token: not a token this service returned; start with an empty token")
        })?;
    Ok(u64::from_be_bytes(bytes))
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

#[tonic::async_trait]
impl ReportService for QueryHandler {
    async fn get_report(
        &self,
        request: Request<GetReportRequest>,
    ) -> Result<Response<GetReportResponse>, Status> {
        let _timer = QueryTimer::start("get_report");
        let GetReportRequest { id, include_text } = request.into_inner();
        let id = id.trim().to_ascii_lowercase();
        check_id(&id)?;
        let report = self
            .store
            .get(&id)
            .map_err(ServiceError::from)?
            .ok_or_else(|| ServiceError::NotFound(format!("no report with id {id}")))?;
        let text = match include_text {
            true => self.text(&id)?,
            false => String::new(),
        };
        let revisions = self.store.index().revisions(&id);
        Ok(Response::new(GetReportResponse {
            report: Some(report),
            text,
            revisions,
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
        let after = decode_token(&page_token)?;
        let size = match page_size as usize {
            0 => DEFAULT_PAGE,
            n if n > MAX_PAGE => {
                return Err(invalid(format!("page_size {n}: at most {MAX_PAGE}")).into())
            }
            n => n,
        };
        let page = self.store.index().page(&selection, after, size);
        Ok(Response::new(ListReportsResponse {
            reports: page.reports,
            next_page_token: page.next_after.map(encode_token).unwrap_or_default(),
            total: page.total,
        }))
    }

    async fn aggregate(
        &self,
        request: Request<AggregateRequest>,
    ) -> Result<Response<AggregateResponse>, Status> {
        let _timer = QueryTimer::start("aggregate");
        let query = check_aggregate(request.into_inner())?;
        let mut answer = self.store.index().rank(
            &query.metrics,
            &query.rates,
            &query.dims,
            &query.selection,
            &query.ranking,
        );
        let end = query.ranking.offset + answer.groups.len();
        if query.ranking.limit.is_some() && (end as u64) < answer.total_groups {
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
