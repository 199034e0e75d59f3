//! The server's HTTP side (`serve --metrics-listen ADDR`): Prometheus metrics at `/metrics`,
//! open as before, and pages for people behind the `read` scope when tokens are configured:
//! `/` (the reports stored last), `/reports/{id}` (a report's card: its tables as printed
//! with the cells behind each finding marked, the year before, its renditions and
//! revisions) and `/rankings` (Aggregate as a table, with a form). A browser sends the token
//! as the password of HTTP Basic authentication (it asks for it on a 401); a program may
//! send `authorization: Bearer <token>`. The pages are rendered by [`html`].

pub mod html;

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use metrics_exporter_prometheus::PrometheusHandle;

use super::auth::Gate;
use super::request::check_aggregate;
use crate::index::Selection;
use crate::store::Store;

/// Reports the home page lists.
const HOME_REPORTS: usize = 50;
/// Groups the ranking page shows.
const RANKING_GROUPS: u32 = 100;
/// A gRPC path of the read scope: the pages need what ReportService needs.
const READ_PATH: &str = "/nianbao.v1.ReportService/GetReport";

#[derive(Clone)]
struct Pages {
    store: Store,
    gate: Gate,
    metrics: Option<PrometheusHandle>,
    /// The server's reader: a card's compliance reads the stored text with it.
    reader: crate::Reader,
}

/// The HTTP router: metrics and the pages.
pub fn router(
    store: Store,
    gate: Gate,
    metrics: Option<PrometheusHandle>,
    reader: crate::Reader,
) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/", get(home))
        .route("/reports/{id}", get(report))
        .route("/rankings", get(rankings))
        .with_state(Pages {
            store,
            gate,
            metrics,
            reader,
        })
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn metrics_text(State(pages): State<Pages>) -> Response {
    match &pages.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not recorded").into_response(),
    }
}

/// Lets a person with the read scope through, or answers 401 (asking a browser for the
/// token) or 403.
fn admit(gate: &Gate, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let mut headers = headers.clone();
    // HTTP Basic: the token is the password (any user name).
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| pair.split_once(':').map(|(_, token)| token.to_owned()));
    if let Some(token) = basic {
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            headers.insert(header::AUTHORIZATION, value);
        }
    }
    gate.admit(READ_PATH, &headers)
        .map_err(|status| Box::new(refusal(&status)))
}

/// 403 for a token without the scope; 401, asking for Basic authentication, for none.
fn refusal(status: &tonic::Status) -> Response {
    let denied = status.code() == tonic::Code::PermissionDenied;
    let mut response = (
        if denied {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        },
        status.message().to_owned(),
    )
        .into_response();
    if !denied {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"nianbao (token as password)\""),
        );
    }
    response
}

async fn home(State(pages): State<Pages>, headers: HeaderMap) -> Response {
    if let Err(refused) = admit(&pages.gate, &headers) {
        return *refused;
    }
    let index = pages.store.index();
    let rows = index.select(&Selection::default());
    let total = rows.len() as u64;
    let last: Vec<_> = rows
        .iter()
        .rev()
        .take(HOME_REPORTS)
        .map(|&r| index.summary(r))
        .collect();
    drop(index);
    Html(html::home(&last, total)).into_response()
}

async fn report(
    State(pages): State<Pages>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(&pages.gate, &headers) {
        return *refused;
    }
    let id = id.trim().to_ascii_lowercase();
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            Html(html::page(
                "没有这份报告",
                &format!(
                    "<h1>没有这份报告</h1><p><code>{}</code></p>",
                    html::esc(&id)
                ),
            )),
        )
            .into_response()
    };
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return not_found();
    }
    let report = match pages.store.get(&id) {
        Ok(Some(report)) => report,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "report page");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("storage error: {e}"),
            )
                .into_response();
        }
    };
    let (revisions, (renditions, counted), changes, previous_id) = {
        let index = pages.store.index();
        let previous = crate::place::body_key(&report)
            .and_then(|(agency, year)| index.latest_id(&agency, year - 1));
        (
            index.revisions(&id),
            index.renditions(&id),
            index.changes(&id),
            previous,
        )
    };
    let previous = previous_id
        .as_deref()
        .and_then(|p| pages.store.get(p).ok().flatten().map(|r| (p, r)));
    let profile =
        match super::assess::check_profile(&query.get("profile").cloned().unwrap_or_default()) {
            Ok(p) => p,
            Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        };
    let compliance =
        match super::assess::compliance(&pages.store, &pages.reader, &id, report.clone(), profile)
            .await
        {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "report page: no compliance");
                None
            }
        };
    let page = html::card(&html::Card {
        compliance: compliance.as_ref(),
        id: &id,
        report: &report,
        changes: &changes,
        renditions: &renditions,
        counted: &counted,
        revisions: &revisions,
        previous: previous.as_ref().map(|(p, r)| (*p, r)),
    });
    Html(page).into_response()
}

async fn rankings(
    State(pages): State<Pages>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(&pages.gate, &headers) {
        return *refused;
    }
    let param = |name: &str, default: &str| {
        params
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    let order = param("order", "applications.new_received.total");
    let by = param("by", "province");
    let province = param("province", "");
    let year_text = param("year", "");
    let year = year_text.parse::<i32>().ok();
    let query = html::RankingQuery {
        order: &order,
        by: &by,
        year,
        province: &province,
    };
    if !year_text.is_empty() && year.is_none() {
        let why = format!("年度 {year_text:?}：应为四位数字");
        return Html(html::ranking(&query, Err(&why))).into_response();
    }
    let filter = crate::pb::Filter {
        year_from: year,
        year_to: year,
        province: province.clone(),
        ..Default::default()
    };
    let request = crate::model::rates::ranking_request(
        &order,
        &[],
        vec![by.clone()],
        filter,
        true,
        RANKING_GROUPS,
    );
    let answer = check_aggregate(request).map(|q| {
        pages
            .store
            .index()
            .rank(&q.metrics, &q.rates, &q.dims, &q.selection, &q.ranking)
    });
    let page = match &answer {
        Ok(answer) => html::ranking(&query, Ok(answer)),
        Err(e) => html::ranking(&query, Err(&e.to_string())),
    };
    Html(page).into_response()
}
