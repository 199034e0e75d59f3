//! Profiles: how indicators become a score. PURE: a profile is JSON text, compiled in from
//! `profiles/` ([`builtin`]) or read from a user's file by the caller ([`Profile::from_json`]).
//!
//! Two kinds of scoring:
//! - **weighted** (the default profile): each indicator a weight; the score is
//!   `max × Σ weights passed / Σ weights assessed`, so an indicator that could not be
//!   assessed (or failed by the reader's fault) drops out and the others renormalise;
//! - **deductions** (published local schemes): a base, items each taking points off when any
//!   of their indicators fails by the publisher's fault, and an optional floor. An item none
//!   of whose indicators could be assessed takes nothing off and is listed as unassessed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{BodyKind, Indicator, IndicatorId};

/// The share of last year's text above which a report is called a copy, unless the profile
/// says otherwise: 宿迁's rule (与上年度重复率 > 50 % costs points), the one published
/// threshold found.
pub const DEFAULT_COPY_THRESHOLD: f64 = 0.5;

/// The share of a report's narrative found in another body's report of the same year above
/// which both are called 雷同 (泉州鲤城: 与其他单位雷同), unless the profile says otherwise.
/// No published scheme gives a figure; bodies of one kind share template phrases, so the
/// bar is higher than the year-on-year one: four fifths of the text the same.
pub const DEFAULT_COPY_ACROSS_THRESHOLD: f64 = 0.8;

/// The factor by which a figure must change from one year to the next before
/// [`IndicatorId::YearOverYearJumps`] flags it, unless the profile says otherwise: ten times
/// (or a tenth) is a change of order of magnitude, which a body's caseload rarely makes
/// without a cause worth a line in the report (a campaign of mass requests, a misprint, a
/// figure of another body or year).
pub const DEFAULT_JUMP_FACTOR: f64 = 10.0;

/// Figures both below this are not compared for a jump, unless the profile says otherwise:
/// between small numbers (1 → 12 applications) a factor of ten is ordinary noise.
pub const DEFAULT_JUMP_FLOOR: f64 = 20.0;

/// The profile `nianbao parse --score` uses unless told.
pub const DEFAULT_PROFILE: &str = "default";

/// The profiles shipped in `profiles/`, by name.
const BUILTIN: [(&str, &str); 3] = [
    ("default", include_str!("../../profiles/default.json")),
    (
        "quanzhou-licheng",
        include_str!("../../profiles/quanzhou-licheng.json"),
    ),
    ("suqian", include_str!("../../profiles/suqian.json")),
];

/// The names of the shipped profiles.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// A shipped profile by name.
pub fn builtin(name: &str) -> Option<Profile> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        // A shipped profile is checked by the tests; a broken one is a build defect.
        .map(|(_, json)| Profile::from_json(json).expect("a shipped profile is valid"))
}

/// The default profile, parsed once: the one the store scores every report under (what
/// rankings and exports show).
pub fn default_profile() -> &'static Profile {
    static DEFAULT: std::sync::OnceLock<Profile> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(|| builtin(DEFAULT_PROFILE).expect("the default profile is shipped"))
}

/// How reports are scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    /// What the profile reproduces, in a sentence.
    #[serde(default)]
    pub description: String,
    /// Where the scheme is published.
    #[serde(default)]
    pub source: String,
    /// The share of the previous year's narrative above which [`IndicatorId::NotCopied`]
    /// fails.
    #[serde(default = "default_copy_threshold")]
    pub copy_threshold: f64,
    /// The share of the narrative found in another body's report of the same year above
    /// which [`IndicatorId::NotCopiedFromOthers`] fails. The store finds the other report
    /// under the default profile's threshold.
    #[serde(default = "default_copy_across_threshold")]
    pub copy_across_threshold: f64,
    /// The factor of change between two years' figures that [`IndicatorId::YearOverYearJumps`]
    /// flags for review (at least 1).
    #[serde(default = "default_jump_factor")]
    pub jump_factor: f64,
    /// Figures both below this are too small to flag a jump between them.
    #[serde(default = "default_jump_floor")]
    pub jump_floor: f64,
    /// Local deadlines, `MM-DD` of the year after the report's, by kind of body; they take
    /// the place of art. 49's for that kind (and give one to kinds art. 49 does not name).
    #[serde(default)]
    pub deadlines: BTreeMap<BodyKind, String>,
    pub scoring: Scoring,
}

fn default_copy_threshold() -> f64 {
    DEFAULT_COPY_THRESHOLD
}

fn default_copy_across_threshold() -> f64 {
    DEFAULT_COPY_ACROSS_THRESHOLD
}

fn default_jump_factor() -> f64 {
    DEFAULT_JUMP_FACTOR
}

fn default_jump_floor() -> f64 {
    DEFAULT_JUMP_FLOOR
}

/// How a profile turns indicators into points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Scoring {
    /// `max × Σ weights passed / Σ weights assessed`.
    Weighted {
        max: f64,
        weights: BTreeMap<IndicatorId, f64>,
    },
    /// `base − Σ points of the items failed`, not below `floor`.
    Deductions {
        base: f64,
        #[serde(default)]
        floor: Option<f64>,
        items: Vec<Item>,
    },
}

/// A deduction item of a local scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// The item as the scheme words it.
    pub name: String,
    /// Points taken off when the item fails.
    pub points: f64,
    /// The indicators that make it fail (any of them failing by the publisher's fault).
    pub indicators: Vec<IndicatorId>,
}

/// Points taken off, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deduction {
    pub item: String,
    pub points: f64,
    pub indicators: Vec<IndicatorId>,
}

/// What [`Profile::score`] gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub score: Option<f64>,
    pub max: f64,
    pub deductions: Vec<Deduction>,
    pub unassessed: Vec<IndicatorId>,
    /// The share of the profile's weight (weighted) or points (deductions) that was
    /// assessed, 0–1: an item is assessed when it took points off or when every indicator
    /// it names could be assessed. 0 when the profile weighs nothing.
    pub coverage: f64,
}

/// Why a profile is refused.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Not JSON of the profile's shape (an unknown indicator or field, a missing one).
    #[error("profile: {0}")]
    Json(#[from] serde_json::Error),
    /// A deadline that is no `MM-DD`.
    #[error("profile {profile}: deadline {deadline:?} for {kind} is not MM-DD")]
    Deadline {
        profile: String,
        kind: &'static str,
        deadline: String,
    },
    /// A weight or points below zero, a max or base that is not finite, a threshold outside
    /// (0, 1], a jump factor below 1 or a jump floor below 0.
    #[error("profile {profile}: {what}")]
    Value { profile: String, what: String },
}

impl Profile {
    /// Reads and checks a profile from JSON.
    pub fn from_json(json: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = serde_json::from_str(json)?;
        profile.check()?;
        Ok(profile)
    }

    fn check(&self) -> Result<(), ProfileError> {
        let bad = |what: String| ProfileError::Value {
            profile: self.name.clone(),
            what,
        };
        for (name, t) in [
            ("copy_threshold", self.copy_threshold),
            ("copy_across_threshold", self.copy_across_threshold),
        ] {
            if !(t > 0.0 && t <= 1.0) {
                return Err(bad(format!("{name} {t} is not in (0, 1]")));
            }
        }
        if !(self.jump_factor.is_finite() && self.jump_factor >= 1.0) {
            return Err(bad(format!(
                "jump_factor {} is not a number of at least 1",
                self.jump_factor
            )));
        }
        if !(self.jump_floor.is_finite() && self.jump_floor >= 0.0) {
            return Err(bad(format!(
                "jump_floor {} is not a number of at least 0",
                self.jump_floor
            )));
        }
        for (kind, md) in &self.deadlines {
            let ok = md.len() == 5
                && md.as_bytes()[2] == b'-'
                && md[..2].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
                && md[3..].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
            if !ok {
                return Err(ProfileError::Deadline {
                    profile: self.name.clone(),
                    kind: kind.as_str(),
                    deadline: md.clone(),
                });
            }
        }
        match &self.scoring {
            Scoring::Weighted { max, weights } => {
                if !max.is_finite() || *max <= 0.0 {
                    return Err(bad(format!("max {max} is not a positive number")));
                }
                if let Some((id, w)) = weights.iter().find(|(_, w)| !w.is_finite() || **w < 0.0) {
                    return Err(bad(format!("weight {w} of {} is negative", id.as_str())));
                }
            }
            Scoring::Deductions { base, floor, items } => {
                if !base.is_finite() || floor.is_some_and(|f| !f.is_finite()) {
                    return Err(bad("base or floor is not a number".into()));
                }
                if let Some(i) = items
                    .iter()
                    .find(|i| !i.points.is_finite() || i.points < 0.0)
                {
                    return Err(bad(format!("item {:?} takes off negative points", i.name)));
                }
            }
        }
        Ok(())
    }

    /// The score of a report's indicators under this profile.
    pub fn score(&self, indicators: &[Indicator]) -> Scored {
        let of = |id: IndicatorId| indicators.iter().find(|i| i.id == id);
        match &self.scoring {
            Scoring::Weighted { max, weights } => {
                let weighed: Vec<(IndicatorId, f64)> = weights
                    .iter()
                    .filter(|(_, w)| **w > 0.0)
                    .map(|(id, w)| (*id, *w))
                    .collect();
                let counted: Vec<(&Indicator, f64)> = weighed
                    .iter()
                    .filter_map(|(id, w)| of(*id).filter(|i| i.counts()).map(|i| (i, *w)))
                    .collect();
                let unassessed = weighed
                    .iter()
                    .filter(|(id, _)| !of(*id).is_some_and(Indicator::counts))
                    .map(|(id, _)| *id)
                    .collect();
                let total: f64 = counted.iter().map(|(_, w)| w).sum();
                let weight: f64 = weighed.iter().map(|(_, w)| w).sum();
                // (An empty sum is −0.0: a coverage of nothing is 0.)
                let coverage = if total > 0.0 { total / weight } else { 0.0 };
                if total <= 0.0 {
                    return Scored {
                        score: None,
                        max: *max,
                        deductions: vec![],
                        unassessed,
                        coverage,
                    };
                }
                let deductions: Vec<Deduction> = counted
                    .iter()
                    .filter(|(i, _)| i.publisher_fails())
                    .map(|(i, w)| Deduction {
                        item: i.id.title().to_owned(),
                        points: max * w / total,
                        indicators: vec![i.id],
                    })
                    .collect();
                let lost: f64 = deductions.iter().map(|d| d.points).sum();
                Scored {
                    score: Some(max - lost),
                    max: *max,
                    deductions,
                    unassessed,
                    coverage,
                }
            }
            Scoring::Deductions { base, floor, items } => {
                let mut deductions = Vec::new();
                let mut unassessed = Vec::new();
                let (mut assessed, mut points) = (0.0, 0.0);
                for item in items {
                    points += item.points;
                    let failed: Vec<IndicatorId> = item
                        .indicators
                        .iter()
                        .copied()
                        .filter(|id| of(*id).is_some_and(Indicator::publisher_fails))
                        .collect();
                    let decided = !failed.is_empty()
                        || item
                            .indicators
                            .iter()
                            .all(|id| of(*id).is_some_and(Indicator::counts));
                    if decided {
                        assessed += item.points;
                    }
                    if !failed.is_empty() {
                        deductions.push(Deduction {
                            item: item.name.clone(),
                            points: item.points,
                            indicators: failed,
                        });
                    } else {
                        unassessed.extend(
                            item.indicators
                                .iter()
                                .copied()
                                .filter(|id| !of(*id).is_some_and(Indicator::counts)),
                        );
                    }
                }
                unassessed.sort();
                unassessed.dedup();
                let lost: f64 = deductions.iter().map(|d| d.points).sum();
                let score = floor.map_or(base - lost, |f| (base - lost).max(f));
                Scored {
                    score: Some(score),
                    max: *base,
                    deductions,
                    unassessed,
                    coverage: if points > 0.0 { assessed / points } else { 0.0 },
                }
            }
        }
    }
}
