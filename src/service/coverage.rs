//! The coverage register (Coverage): which bodies expected to publish a year's report have
//! one. Expected are the governments of every division under a place, listed from the
//! gazetteer ([`crate::place::divisions_under`]), and the bodies a caller lists (a county's
//! departments, say). A division's report is a counted report of the year placed at its
//! code whose body is its government by name ([`crate::compliance::body_kind`]); a listed
//! body's, the counted report of the year of the body that name names
//! ([`crate::place::body_named`]: 淮安市洪泽区交通运输局 finds 洪泽区交通运输局's).

use crate::compliance::{body_kind, BodyKind};
use crate::index::{division_prefix, level_of_code, Index};
use crate::model::catalogue;
use crate::pb::{CoverageRequest, CoverageResponse, ExpectedBody, PlaceLevel, RegionSum, Report};
use crate::place::{self, Level};

use super::request::invalid;
use super::ServiceError;

/// The metrics a place's government is compared on with the divisions below it.
const SUMMED: [&str; 2] = [
    "applications.new_received.total",
    "applications.closed_total.total",
];

/// Listed bodies one request may name.
const MAX_LISTED: usize = 10_000;

/// The register for `request`, from what `index` holds.
pub(super) fn coverage(
    index: &Index,
    request: CoverageRequest,
) -> Result<CoverageResponse, ServiceError> {
    let CoverageRequest {
        year,
        code,
        level,
        agencies,
    } = request;
    if !(1990..=2100).contains(&year) {
        return Err(invalid(format!("year {year}: the report year, e.g. 2023")));
    }
    if agencies.len() > MAX_LISTED {
        return Err(invalid(format!(
            "{} agencies: at most {MAX_LISTED} a request",
            agencies.len()
        )));
    }
    let code = code.trim();
    let mut bodies = Vec::new();
    let mut sums = Vec::new();
    if !code.is_empty() {
        let parent = level_of_code(code);
        if parent == PlaceLevel::Unspecified {
            return Err(invalid(format!(
                "code {code:?}: a division code such as 32, 320800 or 320813"
            )));
        }
        let level = match PlaceLevel::try_from(level).unwrap_or(PlaceLevel::Unspecified) {
            PlaceLevel::Unspecified => below(parent).ok_or_else(|| {
                invalid(format!(
                    "code {code:?} is a township: no division lies below it"
                ))
            })?,
            given if (given as i32) <= (parent as i32) => {
                return Err(invalid(format!(
                    "level {}: not below code {code:?}'s ({})",
                    given.as_str_name(),
                    parent.as_str_name()
                )))
            }
            given => given,
        };
        let prefix = division_prefix(code);
        let reports = index.counted_under(prefix, year);
        // The rows of the government of `division` (at `level`).
        let governments = |division: &str, level: PlaceLevel| -> Vec<u32> {
            reports
                .iter()
                .filter(|(_, agency, at)| {
                    division_prefix(at) == division_prefix(division) && governs(agency, level)
                })
                .map(|&(r, _, _)| r)
                .collect()
        };
        let expected = |name: &str, division: &str, level: PlaceLevel, rows: &[u32]| ExpectedBody {
            name: name.to_owned(),
            code: division.to_owned(),
            kind: if level == PlaceLevel::Township {
                "township"
            } else {
                "government"
            }
            .to_owned(),
            reports: rows.iter().map(|&r| index.id(r)).collect(),
            agencies: rows.iter().map(|&r| index.agency(r).to_owned()).collect(),
        };
        let own = governments(code, parent);
        if let Some(name) = place::name_of(prefix, year) {
            bodies.push(expected(name, code, parent, &own));
        }
        let mut below_rows = Vec::new();
        for (division, name) in place::divisions_under(prefix, gazetteer_level(level), year) {
            let rows = governments(division, level);
            bodies.push(expected(name, division, level, &rows));
            below_rows.extend(rows);
        }
        for path in SUMMED {
            let Some(m) = catalogue::index_of(path) else {
                continue;
            };
            let printed: Vec<f64> = below_rows
                .iter()
                .filter_map(|&r| index.value(r, m))
                .collect();
            sums.push(RegionSum {
                metric: path.to_owned(),
                region: own.first().and_then(|&r| index.value(r, m)),
                below: printed.iter().sum(),
                below_reports: printed.len() as u64,
            });
        }
    }
    for agency in &agencies {
        let agency = agency.trim();
        if agency.is_empty() {
            continue;
        }
        let row = index.latest_row(&place::body_named(agency, year), year);
        bodies.push(ExpectedBody {
            name: agency.to_owned(),
            code: String::new(),
            kind: "listed".to_owned(),
            reports: row.map(|r| index.id(r)).into_iter().collect(),
            agencies: row
                .map(|r| index.agency(r).to_owned())
                .into_iter()
                .collect(),
        });
    }
    if code.is_empty() && bodies.is_empty() {
        return Err(invalid(
            "nothing expected: give a division code (its divisions' governments) or agencies",
        ));
    }
    Ok(CoverageResponse {
        expected: bodies.len() as u64,
        reported: bodies.iter().filter(|b| !b.reports.is_empty()).count() as u64,
        bodies,
        edition: place::edition_of(year),
        sums,
    })
}

/// The level just below `level`.
fn below(level: PlaceLevel) -> Option<PlaceLevel> {
    match level {
        PlaceLevel::Province => Some(PlaceLevel::Prefecture),
        PlaceLevel::Prefecture => Some(PlaceLevel::County),
        PlaceLevel::County => Some(PlaceLevel::Township),
        _ => None,
    }
}

fn gazetteer_level(level: PlaceLevel) -> Level {
    match level {
        PlaceLevel::Province => Level::Province,
        PlaceLevel::Prefecture => Level::Prefecture,
        PlaceLevel::County => Level::County,
        _ => Level::Township,
    }
}

/// Whether a body named `agency` is the government of a division at `level`: a
/// township's government or street office at township level, a government above.
fn governs(agency: &str, level: PlaceLevel) -> bool {
    let kind = body_kind(agency, &Report::default());
    match level {
        PlaceLevel::Township => {
            matches!(kind, BodyKind::TownshipGovernment | BodyKind::StreetOffice)
        }
        _ => kind == BodyKind::Government,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counted report of `agency` for `year`, placed as the resolver places its name.
    fn placed(index: &mut Index, n: u64, agency: &str, year: i32, new: f64) {
        let region = place::resolve(&place::Clues {
            agency,
            ..Default::default()
        })
        .region;
        let mut r = Report {
            id: format!("{n:064x}"),
            agency: agency.into(),
            year: Some(year),
            region: Some(region),
            ..Default::default()
        };
        let m = catalogue::index_of("applications.new_received.total").unwrap();
        catalogue::set(&mut r, m, Some(new));
        index.insert(&r, n, &[]);
    }

    fn ask(
        index: &Index,
        code: &str,
        level: PlaceLevel,
        agencies: &[&str],
    ) -> Result<CoverageResponse, ServiceError> {
        coverage(
            index,
            CoverageRequest {
                year: 2023,
                code: code.into(),
                level: level as i32,
                agencies: agencies.iter().map(|a| a.to_string()).collect(),
            },
        )
    }

    #[test]
    fn the_register_lists_every_division_and_says_which_reported() {
        let mut index = Index::new();
        placed(&mut index, 1, "淮安市人民政府", 2023, 3000.0);
        placed(&mut index, 2, "淮安市洪泽区人民政府", 2023, 90.0);
        placed(&mut index, 3, "淮安市洪泽区人民政府", 2022, 80.0);
        placed(&mut index, 4, "盱眙县人民政府", 2023, 10.0);
        // A department of a county is not its government.
        placed(&mut index, 5, "淮安市涟水县财政局", 2023, 1.0);
        let got = ask(
            &index,
            "320800",
            PlaceLevel::Unspecified,
            &["淮安市涟水县财政局", "淮安市金湖县财政局"],
        )
        .unwrap();
        let reported: Vec<(&str, &str, usize)> = got
            .bodies
            .iter()
            .map(|b| (b.name.as_str(), b.kind.as_str(), b.reports.len()))
            .collect();
        assert_eq!(
            reported,
            [
                ("淮安市", "government", 1),
                ("淮安区", "government", 0),
                ("淮阴区", "government", 0),
                ("清江浦区", "government", 0),
                ("洪泽区", "government", 1),
                ("涟水县", "government", 0),
                ("盱眙县", "government", 1),
                ("金湖县", "government", 0),
                ("淮安市涟水县财政局", "listed", 1),
                ("淮安市金湖县财政局", "listed", 0),
            ]
        );
        assert_eq!((got.expected, got.reported), (10, 4));
        assert_eq!(got.edition, 2023);
        let new = &got.sums[0];
        assert_eq!(
            (new.region, new.below, new.below_reports),
            (Some(3000.0), 100.0, 2)
        );
        // A county's townships and street offices, at the level below by default.
        let towns = ask(&index, "320813", PlaceLevel::Unspecified, &[]).unwrap();
        assert!(towns.bodies.len() > 5, "{towns:?}");
        assert!(towns.bodies[1..].iter().all(|b| b.kind == "township"));
        assert_eq!(towns.bodies[0].reports.len(), 1);
    }

    #[test]
    fn a_register_that_cannot_be_made_is_refused_saying_why() {
        let index = Index::new();
        let why = |r: Result<CoverageResponse, ServiceError>| match r {
            Err(ServiceError::InvalidArgument(m)) => m,
            other => panic!("not refused: {other:?}"),
        };
        assert!(why(ask(&index, "32x", PlaceLevel::Unspecified, &[])).contains("division code"));
        assert!(why(ask(&index, "320800", PlaceLevel::Province, &[])).contains("not below"));
        assert!(why(ask(&index, "320813001", PlaceLevel::Unspecified, &[])).contains("township"));
        assert!(why(ask(&index, "", PlaceLevel::Unspecified, &[])).contains("nothing expected"));
    }
}
