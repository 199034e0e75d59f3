//! The checks of query requests: each turns what a client sent into what the index reads,
//! or into an INVALID_ARGUMENT that says what to fix. Page tokens are made and read here.

use std::hash::{Hash, Hasher};

use base64::Engine;

use super::ServiceError;
use crate::index::{Dim, Order, Ranking, Selection};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::model::form::template_by_name;
use crate::model::rates::RATES;
use crate::pb::{AggregateRequest, Filter, Severity};
use crate::place::Level;

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
    let finding = match filter.finding.trim() {
        "" => None,
        name => Some(Code::parse(&name.to_ascii_uppercase()).ok_or_else(|| {
            invalid(format!(
                "filter.finding {name:?}: not a finding code; SummarizeFindings lists the codes the store holds (e.g. ROW_TOTAL, CELL_BLANK)"
            ))
        })?),
    };
    Ok(Selection {
        code,
        published_from,
        published_to,
        placed: [false; 4],
        agency: filter.agency,
        province: place_name("province", Level::Province, filter.province)?,
        city: place_name("city", Level::Prefecture, filter.city)?,
        county: place_name("county", Level::County, filter.county)?,
        township: place_name("township", Level::Township, filter.township)?,
        finding,
        year_from: filter.year_from,
        year_to: filter.year_to,
        template,
        severity,
        all_revisions: filter.all_revisions,
    })
}

/// A filter's place name as the index holds it: the full name, from a short form that
/// names one division of the level; a name no division of the level has, or one that
/// stands for several, is refused with the names it could mean.
fn place_name(field: &str, level: Level, given: String) -> Result<String, ServiceError> {
    if given.trim().is_empty() {
        return Ok(String::new());
    }
    match crate::place::full_name(level, &given) {
        Ok(full) => Ok(full.to_owned()),
        Err(several) if several.is_empty() => Err(invalid(format!(
            "filter.{field} {given:?}: no {field} has that name (write it as the statistics bureau does, e.g. {})",
            match level {
                Level::Province => "江苏省",
                Level::Prefecture => "淮安市",
                Level::County => "洪泽区",
                Level::Township => "高良涧街道",
            }
        ))),
        Err(several) => Err(invalid(format!(
            "filter.{field} {given:?} could be {}: write the full name (and filter.code to tell places of one name apart)",
            several.join(", ")
        ))),
    }
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
        include_compliance,
        min_compliance_coverage,
    } = request;
    let min_coverage = check_min_coverage(min_compliance_coverage)?;
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
            "{metrics:?}|{rates:?}|{dims:?}|{selection:?}|{order:?}|{descending}|{min_reports}|{min_coverage}"
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
        compliance: include_compliance || order == Order::Score,
        min_coverage,
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

/// The share of the profile a score must have assessed to count in a group's mean when the
/// request does not say: half. A complete township report without a year before assesses
/// about two thirds of the default profile; a page cut at 2,000 bytes a fifth.
pub(crate) const DEFAULT_MIN_COVERAGE: f64 = 0.5;

/// `min_compliance_coverage` as whole percent (unset: [`DEFAULT_MIN_COVERAGE`]).
fn check_min_coverage(given: Option<f64>) -> Result<u8, ServiceError> {
    let share = given.unwrap_or(DEFAULT_MIN_COVERAGE);
    if !(0.0..=1.0).contains(&share) {
        return Err(invalid(format!(
            "min_compliance_coverage {share}: a share between 0 and 1 (0.5 = half the profile's weights assessed)"
        )));
    }
    Ok((share * 100.0).ceil() as u8)
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
        "compliance_score" => Ok(Order::Score),
        other => {
            let known: Vec<&str> = RATES.iter().map(|r| r.name).collect();
            Err(invalid(format!(
                "order_by {other:?}: use \"key\", \"reports\", \"compliance_score\", a metric path (ListMetrics lists them) or a rate ({})",
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

/// A page token of ListReports: the last report's sequence number and the filter it
/// belongs to.
pub(super) fn encode_token(seq: u64, selection: &Selection) -> String {
    encode_group_token(seq as usize, selection_fingerprint(selection))
}

pub(super) fn decode_token(token: &str, selection: &Selection) -> Result<u64, ServiceError> {
    let fingerprint = selection_fingerprint(selection);
    decode_group_token(token, fingerprint)
        .map(|seq| seq as u64)
        .map_err(|e| match e {
            ServiceError::InvalidArgument(m) if m.contains("another query") => {
                invalid("page_token: it belongs to another filter; start with an empty token")
            }
            e => e,
        })
}

fn selection_fingerprint(selection: &Selection) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    format!("{selection:?}").hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(f: impl FnOnce(&mut Filter)) -> Result<Selection, ServiceError> {
        let mut filter = Filter::default();
        f(&mut filter);
        check_filter(Some(filter))
    }

    fn refusal(result: Result<Selection, ServiceError>) -> String {
        match result {
            Err(ServiceError::InvalidArgument(m)) => m,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn the_minimum_coverage_is_a_share_defaulting_to_half() {
        let min = |m: Option<f64>| {
            check_aggregate(AggregateRequest {
                group_by: vec!["province".into()],
                order_by: "compliance_score".into(),
                min_compliance_coverage: m,
                ..Default::default()
            })
            .map(|q| q.ranking.min_coverage)
        };
        assert_eq!(min(None).unwrap(), 50);
        assert_eq!(min(Some(0.0)).unwrap(), 0);
        assert_eq!(min(Some(1.0)).unwrap(), 100);
        for bad in [-0.1, 1.5, f64::NAN] {
            match min(Some(bad)) {
                Err(ServiceError::InvalidArgument(m)) => {
                    assert!(m.contains("min_compliance_coverage"), "{m}")
                }
                other => panic!("{bad} not refused: {}", other.is_ok()),
            }
        }
    }

    #[test]
    fn place_names_in_their_short_form_are_the_division_they_name() {
        let s = filter(|f| {
            f.province = "江苏".into();
            f.city = "淮安".into();
            f.county = "洪泽区".into();
        })
        .unwrap();
        assert_eq!(
            (&*s.province, &*s.city, &*s.county),
            ("江苏省", "淮安市", "洪泽区")
        );
        let s = filter(|f| f.province = "广西".into()).unwrap();
        assert_eq!(s.province, "广西壮族自治区");
        let s = filter(|f| f.province = "北京".into()).unwrap();
        assert_eq!(s.province, "北京市");
    }

    #[test]
    fn a_place_name_of_several_divisions_or_of_none_is_refused_naming_why() {
        let m = refusal(filter(|f| f.county = "朝阳".into()));
        assert!(m.contains("朝阳区") && m.contains("朝阳县"), "{m}");
        let m = refusal(filter(|f| f.province = "江苏x".into()));
        assert!(m.contains("no province has that name"), "{m}");
        // A city's name is not a province's.
        refusal(filter(|f| f.province = "淮安市".into()));
    }

    #[test]
    fn a_finding_code_is_checked_in_any_case() {
        let s = filter(|f| f.finding = "row_total".into()).unwrap();
        assert_eq!(s.finding, Some(Code::RowTotal));
        let m = refusal(filter(|f| f.finding = "ROWTOTAL".into()));
        assert!(m.contains("not a finding code"), "{m}");
    }

    #[test]
    fn a_list_page_token_is_good_only_for_its_filter() {
        let a = filter(|f| f.year_from = Some(2021)).unwrap();
        let b = filter(|f| f.year_from = Some(2022)).unwrap();
        let token = encode_token(42, &a);
        assert_eq!(decode_token(&token, &a).unwrap(), 42);
        match decode_token(&token, &b) {
            Err(ServiceError::InvalidArgument(m)) => assert!(m.contains("another filter"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(decode_token("not a token", &a).is_err());
        assert_eq!(decode_token("", &b).unwrap(), 0);
    }

    #[test]
    fn ranges_that_end_before_they_start_are_refused() {
        refusal(filter(|f| {
            f.year_from = Some(2023);
            f.year_to = Some(2021);
        }));
        refusal(filter(|f| {
            f.published_from = "2024-03-01".into();
            f.published_to = "2024-01-01".into();
        }));
        refusal(filter(|f| f.published_from = "1 March 2024".into()));
        refusal(filter(|f| f.code = "32080".into()));
    }
}
