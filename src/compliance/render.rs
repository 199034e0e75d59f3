//! An [`Assessment`] as plain text for a terminal (`nianbao parse --score`), and as the
//! proto message GetReport answers with. PURE.

use std::fmt::Write;

use super::{Assessment, Evidence, Fault, Status};

/// How many characters of a text span the listing quotes.
const QUOTE_CHARS: usize = 40;

/// The assessment as lines: one per indicator (status, fault, reason, evidence indented),
/// then the score and each deduction.
pub fn text(name: &str, a: &Assessment) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{name}  [{} · {}]", a.body.as_str(), a.profile);
    for i in &a.indicators {
        let status = match (i.status, i.fault) {
            (Status::Pass, _) => "PASS",
            (Status::Fail, Some(Fault::Reader)) => "FAIL(reader)",
            (Status::Fail, _) => "FAIL",
            (Status::NotAssessable, _) => "N/A",
        };
        let _ = writeln!(out, "  {status:<13}{:<26}{}", i.id.as_str(), i.reason);
        for e in &i.evidence {
            let _ = writeln!(out, "      {}", evidence(e));
        }
    }
    match a.score {
        Some(s) => {
            let _ = writeln!(
                out,
                "  score {} / {} ({:.0}% of the profile assessed)",
                round(s),
                round(a.max),
                a.coverage * 100.0
            );
        }
        None => {
            let _ = writeln!(out, "  score — / {} (nothing assessable)", round(a.max));
        }
    }
    for d in &a.deductions {
        let ids: Vec<&str> = d.indicators.iter().map(|i| i.as_str()).collect();
        let _ = writeln!(
            out,
            "    −{} {} ({})",
            round(d.points),
            d.item,
            ids.join(", ")
        );
    }
    if !a.unassessed.is_empty() {
        let ids: Vec<&str> = a.unassessed.iter().map(|i| i.as_str()).collect();
        let _ = writeln!(out, "    not assessed: {}", ids.join(", "));
    }
    out
}

fn round(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    format!("{r}")
}

fn evidence(e: &Evidence) -> String {
    match e {
        Evidence::Date { what, date } => format!("{what}: {date}"),
        Evidence::Text { start, end, quote } => {
            let q: String = quote.chars().take(QUOTE_CHARS).collect();
            format!("text {start}..{end}: {}", q.replace('\n', " ⏎ "))
        }
        Evidence::Cell { path, value, other } => {
            let v = |x: &Option<f64>| x.map_or("—".to_owned(), round);
            match other {
                Some(_) => format!("{path} = {} (vs {})", v(value), v(other)),
                None => format!("{path} = {}", v(value)),
            }
        }
        Evidence::Finding {
            code,
            path,
            message,
        } => format!("{code} {path}: {message}"),
        Evidence::Share {
            share,
            jaccard,
            shingles,
            other_agency,
            other_year,
        } => format!(
            "share {:.1}% (jaccard {:.1}%, {shingles} shingles) of {other_agency} {}",
            share * 100.0,
            jaccard * 100.0,
            other_year.map_or(String::new(), |y| y.to_string())
        ),
        Evidence::Note { text } => text.clone(),
    }
}

/// The assessment as the proto's `Compliance`; `previous` names the report the cross-year
/// indicators compared with, `other` the other body's report found alike.
pub fn to_proto(a: &Assessment, previous: &str, other: &str) -> crate::pb::Compliance {
    crate::pb::Compliance {
        profile: a.profile.clone(),
        score: a.score,
        max: a.max,
        body: a.body.as_str().to_owned(),
        previous: previous.to_owned(),
        coverage: a.coverage,
        other: other.to_owned(),
        indicators: a
            .indicators
            .iter()
            .map(|i| crate::pb::ComplianceIndicator {
                id: i.id.as_str().to_owned(),
                title: i.id.title().to_owned(),
                status: match i.status {
                    Status::Pass => "PASS",
                    Status::Fail => "FAIL",
                    Status::NotAssessable => "NOT_ASSESSABLE",
                }
                .to_owned(),
                fault: match i.fault {
                    Some(Fault::Publisher) => "publisher",
                    Some(Fault::Reader) => "reader",
                    None => "",
                }
                .to_owned(),
                reason: i.reason.clone(),
                evidence: i
                    .evidence
                    .iter()
                    .map(|e| serde_json::to_string(e).unwrap_or_default())
                    .collect(),
            })
            .collect(),
        deductions: a
            .deductions
            .iter()
            .map(|d| crate::pb::Deduction {
                item: d.item.clone(),
                points: d.points,
                indicators: d.indicators.iter().map(|i| i.as_str().to_owned()).collect(),
            })
            .collect(),
    }
}
