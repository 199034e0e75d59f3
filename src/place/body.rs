//! Which body a report is from, as the store tells bodies apart: the one rule behind "one
//! report per body and year" and the link between a body's years.

use super::gazetteer;
use crate::pb::{Region, Report};

/// The body a report belongs to and its year, when it has both (see [`body`]).
pub fn body_key(report: &Report) -> Option<(String, i32)> {
    let agency = report.agency.trim();
    let year = report.year?;
    if agency.is_empty() {
        return None;
    }
    let names = report.region.as_ref().map_or([""; 4], names);
    Some((body(agency, names, Some(year)).to_owned(), year))
}

/// The body `agency` names when nothing but the name says where it is (a body a caller
/// lists): its place resolved from the name alone ([`super::resolve`]).
pub fn body_named(agency: &str, year: i32) -> String {
    let region = super::resolve(&super::Clues {
        agency,
        text: "",
        titles: &[],
        source: None,
        url: None,
        year: Some(year),
    })
    .region;
    body(agency, names(&region), Some(year)).to_owned()
}

/// A region's division names from the province down.
fn names(region: &Region) -> [&str; 4] {
    [
        &region.province,
        &region.city,
        &region.county,
        &region.township,
    ]
}

/// The body `agency` names, given the divisions its report was placed in (`names`, from
/// the province down to the township, empty below the deepest resolved) and the report's
/// year: the agency as printed, without the names of the divisions above its place printed
/// before the place's own name, when that name is one division's only in the gazetteer.
///
/// So 淮安市洪泽区人民政府 and 洪泽区人民政府 are one body: there is one 洪泽区, and its
/// reports name it either way. 北京市朝阳区人民政府 stays as printed, since 朝阳区 alone
/// would also name Changchun's, and 洪泽区高良涧街道办事处's township keeps its county
/// only when another 高良涧街道 exists. Nothing else is dropped or rewritten, so two bodies
/// are never made one: the names dropped are those of divisions the place lies in, and
/// what remains names that place alone. The body is always the end of the agency's name,
/// so it is given as a part of it.
pub fn body<'a>(agency: &'a str, names: [&str; 4], year: Option<i32>) -> &'a str {
    let agency = agency.trim();
    let Some(deepest) = names.iter().rposition(|n| !n.trim().is_empty()) else {
        return agency;
    };
    let own = names[deepest].trim();
    let mut rest = agency;
    for above in &names[..deepest] {
        let above = above.trim();
        if !above.is_empty() {
            rest = rest.strip_prefix(above).unwrap_or(rest);
        }
    }
    if rest.len() == agency.len() || !rest.starts_with(own) || !names_one(own, year) {
        return agency;
    }
    rest
}

/// True when `name` is the name of one division only among those valid in `year`.
fn names_one(name: &str, year: Option<i32>) -> bool {
    let gz = gazetteer::get();
    let mut codes = gz
        .by_name(name)
        .iter()
        .map(|&i| &gz.divisions[i as usize])
        .filter(|d| d.valid_in(year))
        .map(|d| d.code);
    codes
        .next()
        .is_some_and(|first| codes.all(|code| code == first))
}
