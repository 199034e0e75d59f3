//! The checks of query requests: each turns what a client sent into what the index reads,
//! or into an INVALID_ARGUMENT that says what to fix. Page tokens are made and read here.

use std::hash::{Hash, Hasher};

use base64::Engine;

use super::ServiceError;
use crate::index::{Dim, Order, Ranking, Selection};
use crate::model::catalogue;
use crate::model::form::template_by_name;
use crate::model::rates::RATES;
use crate::pb::{AggregateRequest, Filter, Severity};

pub(super) fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::InvalidArgument(message.into())
}

/// The request's filter, checked, as the typed selection the index reads.
pub(super) fn check_filter(filter: Option<Filter>) -> Result<Selection, ServiceError> {
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
    let code = filter.code.trim().to_owned();
    let well_formed =
        matches!(code.len(), 2 | 4 | 6 | 9 | 12) && code.bytes().all(|b| b.is_ascii_digit());
    if !code.is_empty() && !well_formed {
        return Err(invalid(format!(
            "filter.code {code:?}: a division code is 6 digits (320000 Jiangsu, 320800 Huai'an, 320813 Hongze) or 9 for a township"
        )));
    }
    // The statistics bureau's twelve digits end in three zeros for a township.
    let code = match code.len() {
        12 if code.ends_with("000000") => code[..6].to_owned(),
        12 => code[..9].to_owned(),
        _ => code,
    };
    let date = |name: &str, value: &str| -> Result<Option<u32>, ServiceError> {
        match value.trim() {
            "" => Ok(None),
            v => crate::index::date_number(v).map(Some).ok_or_else(|| {
                invalid(format!("filter.{name} {v:?}: write the date as YYYY-MM-DD"))
            }),
        }
    };
    let published_from = date("published_from", &filter.published_from)?;
    let published_to = date("published_to", &filter.published_to)?;
    if let (Some(from), Some(to)) = (published_from, published_to) {
        if from > to {
            return Err(invalid(format!(
                "filter.published_from {} is after filter.published_to {}",
                filter.published_from, filter.published_to
            )));
        }
    }
    Ok(Selection {
        code,
        published_from,
        published_to,
        placed: [false; 4],
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

/// Groups one Aggregate answer may hold: more would pass the 4 MiB a gRPC client takes by
/// default (a group with its six rates is about 1 KB), so a caller who wants more pages.
pub(crate) const MAX_GROUPS: usize = 4_000;

/// An Aggregate request, checked.
pub(super) struct AggregateQuery {
    pub(super) metrics: Vec<usize>,
    pub(super) rates: Vec<usize>,
    pub(super) dims: Vec<Dim>,
    pub(super) selection: Selection,
    pub(super) ranking: Ranking,
    /// Names the request apart from its page: a page token is only good for its own query.
    pub(super) fingerprint: u64,
}

pub(super) fn check_aggregate(request: AggregateRequest) -> Result<AggregateQuery, ServiceError> {
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
        include_unplaced,
    } = request;
    let mut selection = check_filter(filter)?;
    let mut rates = check_rates(&rates, sums_only)?;
    let mut metrics: Vec<usize> = metrics
        .iter()
        .map(|m| catalogue::index_of(m.trim()).ok_or_else(|| invalid(format!("metric {m:?} is not a catalogue path; ListMetrics lists them (e.g. applications.new_received.total)"))))
        .collect::<Result<_, _>>()?;
    let dims = check_group_by(&group_by)?;
    if !include_unplaced {
        // The reports a grouped place level does not know are no place of their own.
        for dim in &dims {
            match dim {
                Dim::Province => selection.placed[0] = true,
                Dim::City => selection.placed[1] = true,
                Dim::County => selection.placed[2] = true,
                Dim::Township => selection.placed[3] = true,
                _ => {}
            }
        }
    }
    let order = check_order(order_by.trim(), &mut metrics, &mut rates, sums_only)?;
    let fingerprint = {
        let mut h = rustc_hash::FxHasher::default();
        format!(
            "{metrics:?}|{rates:?}|{dims:?}|{selection:?}|{order:?}|{descending}|{min_reports}"
        )
        .hash(&mut h);
        h.finish()
    };
    if limit as usize > MAX_GROUPS {
        return Err(invalid(format!(
            "limit {limit}: at most {MAX_GROUPS} groups an answer; page with page_token"
        )));
    }
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
pub(super) fn check_rates(rates: &[String], sums_only: bool) -> Result<Vec<usize>, ServiceError> {
    match (sums_only, rates.is_empty()) {
        (true, false) => Err(invalid("sums_only asks for no rates, yet rates names some")),
        (true, true) => Ok(Vec::new()),
        (false, true) => Ok((0..RATES.len()).collect()),
        (false, false) => rates.iter().map(|name| rate_index(name.trim())).collect(),
    }
}

pub(super) fn rate_index(name: &str) -> Result<usize, ServiceError> {
    RATES.iter().position(|r| r.name == name).ok_or_else(|| {
        let known: Vec<&str> = RATES.iter().map(|r| r.name).collect();
        invalid(format!("rate {name:?}: use any of {}", known.join(", ")))
    })
}

pub(super) fn check_group_by(group_by: &[String]) -> Result<Vec<Dim>, ServiceError> {
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
pub(super) fn check_order(
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
pub(super) fn encode_group_token(offset: usize, fingerprint: u64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(offset as u64).to_be_bytes());
    bytes[8..].copy_from_slice(&fingerprint.to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(super) fn decode_group_token(token: &str, fingerprint: u64) -> Result<usize, ServiceError> {
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

pub(super) fn check_id(id: &str) -> Result<(), ServiceError> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "id {id:?}: want the 64 hex digits IngestOne or ListReports returned"
        )));
    }
    Ok(())
}

pub(super) fn encode_token(seq: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seq.to_be_bytes())
}

pub(super) fn decode_token(token: &str) -> Result<u64, ServiceError> {
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
