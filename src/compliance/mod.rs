//! The compliance score of one report: indicators of what the law and the format notices ask
//! of a 政府信息公开工作年度报告, each PASS / FAIL / NOT_ASSESSABLE with its evidence, who is
//! at fault for each failure, and a score under a profile. PURE: no I/O, no tonic, sled or
//! tokio; a profile file is read by the caller and handed over as text
//! ([`Profile::from_json`]).
//!
//! What this room owns:
//! - the indicators ([`IndicatorId`]) and how each is decided ([`indicators`]), over the
//!   parsed [`Report`] (its cells and the findings of reading and validation) and the
//!   document's text (the text [`crate::Reader::text`] gives, which is what the parser read);
//! - the section headings as the text numbers them ([`text`]), and the similarity of two
//!   years' narrative ([`text::similarity`]);
//! - the kind of body a report is from (government, department, township…) by its name
//!   ([`BodyKind`]), which decides the statutory deadline and the art. 50 contents;
//! - profiles and scores ([`profile`]): weights that renormalise over what could be assessed,
//!   or a published local scheme's deductions.
//!
//! What it must not do: blame the publisher for what nianbao could not read. A failure says
//! whose it is ([`Fault`]); only the publisher's cost points, and an indicator the reader
//! could not assess drops out of the score. Performance rates (disclosure rate, correction
//! rates) are not compliance and are never part of the score ([`crate::model::rates`]).
//! Where the text is ambiguous the answer is NOT_ASSESSABLE, never a guess.

pub mod indicators;
pub mod profile;
pub mod render;
pub mod text;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::pb::Report;
pub use profile::{Deduction, Profile, ProfileError, Scoring};

/// One thing the law or the format notices ask of a report. The snake_case name is stable:
/// profiles name indicators by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorId {
    /// Published by the deadline (art. 49, or the profile's local one).
    Timeliness,
    /// The six sections present, in order, each numbered once and rightly (art. 50; format).
    Sections,
    /// Tables 二, 三 and 四 printed as tables (not left out, not only an image's caption).
    TablesPresent,
    /// No blank or "/" cell in the tables (the publisher's blanks, not unread cells).
    NoBlankCells,
    /// The format of the report's year: 2021 format from the 2021 reports on.
    Template,
    /// 总体情况 covers its five aspects (2021 notice: 主动公开、依申请公开、政府信息管理、
    /// 政府信息公开平台建设、监督保障).
    OverviewAspects,
    /// Governments report 工作考核、社会评议和责任追究 (art. 50(4)).
    AssessmentReported,
    /// Section 五 (存在的主要问题及改进情况) says something: not empty, not "无".
    ProblemsSubstantive,
    /// Section 六 states the 信息处理费 collected (2021 format).
    FeeStatement,
    /// Every arithmetic rule of the tables holds (balance, outcome sums, row and group
    /// totals, signs and types).
    Arithmetic,
    /// Section 一's stated figure of received applications equals table 三.
    NarrativeMatchesTables,
    /// The agency and the year the document states agree across it: title lines, the
    /// statistics period, section 一's opening year, and the body the text names as its
    /// author.
    AgencyYearConsistent,
    /// The narrative does not contradict the tables: no "全部办结" while table 三 carries
    /// applications forward to next year.
    NoContradiction,
    /// 上年结转 equals the previous year's 结转下年度继续办理, per column.
    CarryOver,
    /// The narrative is not copied from the body's previous year.
    NotCopied,
    /// The narrative is not the same as another body's report of the same year (泉州鲤城:
    /// 与其他单位雷同), as far as the store holds them.
    NotCopiedFromOthers,
    /// Table 二's 现行有效件数 of 规章 and 规范性文件 equals last year's plus this year's
    /// 制发 minus 废止 (2021 format, both years).
    StockContinuous,
    /// No figure changed by an order of magnitude from the previous year (flagged for
    /// review; weighed 0 by the default profile).
    YearOverYearJumps,
}

impl IndicatorId {
    pub const ALL: [IndicatorId; 18] = [
        IndicatorId::Timeliness,
        IndicatorId::Sections,
        IndicatorId::TablesPresent,
        IndicatorId::NoBlankCells,
        IndicatorId::Template,
        IndicatorId::OverviewAspects,
        IndicatorId::AssessmentReported,
        IndicatorId::ProblemsSubstantive,
        IndicatorId::FeeStatement,
        IndicatorId::Arithmetic,
        IndicatorId::NarrativeMatchesTables,
        IndicatorId::AgencyYearConsistent,
        IndicatorId::NoContradiction,
        IndicatorId::CarryOver,
        IndicatorId::NotCopied,
        IndicatorId::NotCopiedFromOthers,
        IndicatorId::StockContinuous,
        IndicatorId::YearOverYearJumps,
    ];

    /// The stable name profiles use.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorId::Timeliness => "timeliness",
            IndicatorId::Sections => "sections",
            IndicatorId::TablesPresent => "tables_present",
            IndicatorId::NoBlankCells => "no_blank_cells",
            IndicatorId::Template => "template",
            IndicatorId::OverviewAspects => "overview_aspects",
            IndicatorId::AssessmentReported => "assessment_reported",
            IndicatorId::ProblemsSubstantive => "problems_substantive",
            IndicatorId::FeeStatement => "fee_statement",
            IndicatorId::Arithmetic => "arithmetic",
            IndicatorId::NarrativeMatchesTables => "narrative_matches_tables",
            IndicatorId::AgencyYearConsistent => "agency_year_consistent",
            IndicatorId::NoContradiction => "no_contradiction",
            IndicatorId::CarryOver => "carry_over",
            IndicatorId::NotCopied => "not_copied",
            IndicatorId::NotCopiedFromOthers => "not_copied_from_others",
            IndicatorId::StockContinuous => "stock_continuous",
            IndicatorId::YearOverYearJumps => "year_over_year_jumps",
        }
    }

    /// What the indicator asks, in Chinese, for a report card.
    pub fn title(self) -> &'static str {
        match self {
            IndicatorId::Timeliness => "按时公开",
            IndicatorId::Sections => "六部分齐全、顺序和编号正确",
            IndicatorId::TablesPresent => "表二、表三、表四以表格公布",
            IndicatorId::NoBlankCells => "表格无空项",
            IndicatorId::Template => "使用当年格式",
            IndicatorId::OverviewAspects => "总体情况涵盖五个方面",
            IndicatorId::AssessmentReported => "报告工作考核、社会评议和责任追究",
            IndicatorId::ProblemsSubstantive => "存在的主要问题及改进情况不空泛",
            IndicatorId::FeeStatement => "其他需要报告的事项说明信息处理费",
            IndicatorId::Arithmetic => "表格数据勾稽正确",
            IndicatorId::NarrativeMatchesTables => "总体情况数字与表格一致",
            IndicatorId::AgencyYearConsistent => "机关名称和报告年度前后一致",
            IndicatorId::NoContradiction => "文字表述与表格数据不矛盾",
            IndicatorId::CarryOver => "上年结转与上年度报告衔接",
            IndicatorId::NotCopied => "未照抄上年度报告",
            IndicatorId::NotCopiedFromOthers => "未与同年度其他单位的报告雷同",
            IndicatorId::StockContinuous => "规章、规范性文件现行有效件数与上年度衔接",
            IndicatorId::YearOverYearJumps => "与上年度相比数据无异常跳变（供复核）",
        }
    }
}

/// The verdict on one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pass,
    Fail,
    /// The text does not decide (no date, a section cut off, a cell not read), or the
    /// indicator does not apply to this body or format: it drops out of the score.
    NotAssessable,
}

/// Whose a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The document prints it: it costs points.
    Publisher,
    /// nianbao could not read what decides it (a row unreadable, an inferred or
    /// OCR-unconfirmed cell, a table not in the text): it never costs points.
    Reader,
}

/// What an indicator's verdict rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Evidence {
    /// A date and what it is (the publication date, a deadline).
    Date { what: String, date: String },
    /// A span of the text (byte offsets into the text assessed) and what it says.
    Text {
        start: usize,
        end: usize,
        quote: String,
    },
    /// A cell of the catalogue, and the figure it is compared with when there is one.
    Cell {
        path: String,
        value: Option<f64>,
        other: Option<f64>,
    },
    /// A finding of the parser or the validator.
    Finding {
        code: String,
        path: String,
        message: String,
    },
    /// The share of this year's narrative found in the other report's.
    Share {
        share: f64,
        jaccard: f64,
        shingles: usize,
        other_agency: String,
        other_year: Option<i32>,
    },
    /// Anything else worth saying.
    Note { text: String },
}

/// One indicator's verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    pub id: IndicatorId,
    pub status: Status,
    /// Whose failure it is; `None` unless the status is [`Status::Fail`].
    pub fault: Option<Fault>,
    /// Why, in one sentence (Chinese).
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

impl Indicator {
    pub fn pass(id: IndicatorId, reason: impl Into<String>, evidence: Vec<Evidence>) -> Self {
        Indicator {
            id,
            status: Status::Pass,
            fault: None,
            reason: reason.into(),
            evidence,
        }
    }

    pub fn fail(
        id: IndicatorId,
        fault: Fault,
        reason: impl Into<String>,
        evidence: Vec<Evidence>,
    ) -> Self {
        Indicator {
            id,
            status: Status::Fail,
            fault: Some(fault),
            reason: reason.into(),
            evidence,
        }
    }

    pub fn not_assessable(
        id: IndicatorId,
        reason: impl Into<String>,
        evidence: Vec<Evidence>,
    ) -> Self {
        Indicator {
            id,
            status: Status::NotAssessable,
            fault: None,
            reason: reason.into(),
            evidence,
        }
    }

    /// Whether the score counts this indicator: a pass, or a failure of the publisher's.
    pub fn counts(&self) -> bool {
        match self.status {
            Status::Pass => true,
            Status::Fail => self.fault == Some(Fault::Publisher),
            Status::NotAssessable => false,
        }
    }

    /// Whether this is a failure the publisher is charged with.
    pub fn publisher_fails(&self) -> bool {
        self.status == Status::Fail && self.fault == Some(Fault::Publisher)
    }
}

/// What kind of body publishes the report, read from its name as printed. It decides the
/// statutory deadline (art. 49) and whether art. 50(4)'s 考核、评议、追究 are due.
///
/// Decisions (see [`body_kind`]): a name ending in 人民政府 is a government, a township's
/// (乡/镇/苏木…人民政府) apart, because art. 49's 31 March binds only 县级以上地方人民政府;
/// a bare division name (淮安市洪泽区) reports as its government. The general office
/// (人民政府办公室/办公厅) is a department of its government (31 January). A 街道办事处 is
/// the district's 派出机关 and a 管委会 / development zone a 派出机构: art. 49 names neither,
/// so they have no statutory deadline (a profile may set a local one) and art. 50(4), which
/// binds 各级人民政府, does not apply to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// 县级以上地方人民政府 (and a bare division name: 洪泽区, 亳州市).
    Government,
    /// 乡、镇、民族乡、苏木人民政府 (or a bare township name).
    TownshipGovernment,
    /// 街道办事处.
    StreetOffice,
    /// 管委会, 开发区, 高新区, 实验区, 新区, 园区.
    Zone,
    /// A department of a government at county level or above (局, 委员会, 办公室, 中心…),
    /// or of the State Council (部, 署, 总局).
    Department,
    /// The name does not tell.
    Unknown,
}

impl BodyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyKind::Government => "government",
            BodyKind::TownshipGovernment => "township_government",
            BodyKind::StreetOffice => "street_office",
            BodyKind::Zone => "zone",
            BodyKind::Department => "department",
            BodyKind::Unknown => "unknown",
        }
    }

    /// Whether art. 50(4) (考核、评议、追究) binds the body: 各级人民政府.
    pub fn is_government(self) -> bool {
        matches!(self, BodyKind::Government | BodyKind::TownshipGovernment)
    }
}

/// Name endings of a government's general office: a department, not the government.
const GENERAL_OFFICE: [&str; 4] = [
    "人民政府办公室",
    "人民政府办公厅",
    "政府办公室",
    "政府办公厅",
];
/// Endings of a development zone's or 派出机构's name (checked before the division endings:
/// 平潭综合实验区 and 高新区 end in 区 but are no 市辖区).
const ZONE_ENDINGS: [&str; 8] = [
    "管委会",
    "开发区",
    "高新区",
    "实验区",
    "试验区",
    "新区",
    "园区",
    "示范区",
];
/// Endings of a township's name, before 人民政府 or bare.
const TOWNSHIP_ENDINGS: [&str; 3] = ["乡", "镇", "苏木"];
/// Endings of a street office's name.
const STREET_ENDINGS: [&str; 3] = ["街道办事处", "街道办", "街道"];
/// Endings of a division at county level or above (a bare division name is its government).
const DIVISION_ENDINGS: [&str; 8] = ["省", "自治区", "市", "区", "县", "旗", "州", "盟"];
/// Endings of a department's name: bureaus, commissions, offices, centres, ministries.
const DEPARTMENT_ENDINGS: [&str; 14] = [
    "局",
    "委员会",
    "委",
    "厅",
    "办公室",
    "办",
    "部",
    "署",
    "中心",
    "院",
    "队",
    "所",
    "处",
    "站",
];

/// The kind of body named `agency` (as printed), by its ending. A department whose report
/// the region places in a township is no 县级以上 department: unknown.
pub fn body_kind(agency: &str, report: &Report) -> BodyKind {
    let name: String = agency.chars().filter(|c| !c.is_whitespace()).collect();
    let name = name.trim_end_matches(['）', ')']);
    if name.is_empty() {
        return BodyKind::Unknown;
    }
    let ends = |set: &[&str]| set.iter().any(|e| name.ends_with(e));
    if ends(&GENERAL_OFFICE) {
        return BodyKind::Department;
    }
    if let Some(place) = name
        .strip_suffix("人民政府")
        .or_else(|| name.strip_suffix("政府"))
    {
        return if TOWNSHIP_ENDINGS.iter().any(|e| place.ends_with(e)) {
            BodyKind::TownshipGovernment
        } else if DIVISION_ENDINGS.iter().any(|e| place.ends_with(e)) {
            BodyKind::Government
        } else {
            BodyKind::Unknown
        };
    }
    if ends(&STREET_ENDINGS) {
        return BodyKind::StreetOffice;
    }
    // 管理委员会 alone is also a department's ending (国有资产监督管理委员会): a zone's
    // committee names its zone.
    let zone_committee =
        name.ends_with("管理委员会") && ZONE_ENDINGS.iter().any(|z| name.contains(z));
    if ends(&ZONE_ENDINGS) || zone_committee {
        return BodyKind::Zone;
    }
    if ends(&TOWNSHIP_ENDINGS) {
        return BodyKind::TownshipGovernment;
    }
    if ends(&DIVISION_ENDINGS) {
        return BodyKind::Government;
    }
    if ends(&DEPARTMENT_ENDINGS) {
        let township = report
            .region
            .as_ref()
            .is_some_and(|r| r.level == crate::pb::PlaceLevel::Township as i32);
        return if township {
            BodyKind::Unknown
        } else {
            BodyKind::Department
        };
    }
    BodyKind::Unknown
}

/// The previous year's report of the same body, with its narrative (sections 一, 五 and
/// 六: [`text::narrative`]), for the cross-year indicators.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    pub report: &'a Report,
    pub narrative: Option<&'a str>,
    /// The narrative's shingles when the caller has them made ([`Basis::shingles`]);
    /// made from `narrative` otherwise.
    pub shingles: Option<&'a text::Shingles>,
}

/// What the store found when it searched the same year's reports of other bodies for a
/// narrative like this report's ([`text::simhash`], confirmed by [`text::similarity`]).
#[derive(Debug, Clone, Copy)]
pub enum Others<'a> {
    /// Not searched: a report scored alone (`nianbao parse --score`).
    NotSearched,
    /// Searched, and no other body's report of the year is like it.
    NoneFound,
    /// Another body's report of the same year, with its narrative, that this one's is like.
    Found(Previous<'a>),
}

/// What a report's own document decides of its compliance under one profile: the
/// indicators that read only this report and its text, and its narrative for comparing it
/// with the year after's. Made where the text is (at ingest, on the command line), it is
/// kept with the stored report, so the score is made again without reading the document
/// when the body's report of the year before arrives later ([`Basis::finish`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Basis {
    /// The profile the own indicators were decided under (timeliness reads its deadline).
    pub profile: String,
    pub body: BodyKind,
    /// The indicators of this report alone, in [`IndicatorId::ALL`] order.
    pub own: Vec<Indicator>,
    /// Sections 一, 五 and 六 as far as the text bounds them; `None` when not even section
    /// 一 is found.
    pub narrative: Option<String>,
    /// The narrative's shingles, made once when first asked for (never stored).
    #[serde(skip)]
    shingles: ShinglesOnce,
}

/// [`Basis::shingles`], made once; equal to any other (it is derived from the narrative).
#[derive(Debug, Clone, Default)]
struct ShinglesOnce(std::sync::OnceLock<Option<text::Shingles>>);

impl PartialEq for ShinglesOnce {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Basis {
    /// The basis of `report`, read from `text` (see [`assess`]), under `profile`. Its
    /// narrative's shingles are made here too, where the text is read (a parse thread at
    /// ingest), so that the store's one writer compares them without making them.
    pub fn of(report: &Report, text: &str, profile: &Profile) -> Basis {
        let outline = text::Outline::of(text);
        let body = body_kind(&report.agency, report);
        let basis = Basis {
            profile: profile.name.clone(),
            body,
            own: indicators::own(report, text, &outline, profile, body),
            narrative: text::narrative_in(text, &outline),
            shingles: ShinglesOnce::default(),
        };
        basis.shingles();
        basis
    }

    /// The narrative's shingles ([`text::Shingles`]), made at the first call.
    pub fn shingles(&self) -> Option<&text::Shingles> {
        self.shingles
            .0
            .get_or_init(|| self.narrative.as_deref().map(text::Shingles::of))
            .as_ref()
    }

    /// This basis's report with its narrative, as another report compares with it.
    pub fn compared<'a>(&'a self, report: &'a Report) -> Previous<'a> {
        Previous {
            report,
            narrative: self.narrative.as_deref(),
            shingles: self.shingles(),
        }
    }

    /// The assessment of `report` (the one this basis was made of) under `profile` (the
    /// one it was made under), with the same body's report of the year before and its
    /// narrative (its basis's) when there is one, and what the search of the year's other
    /// bodies found.
    pub fn finish(
        &self,
        report: &Report,
        previous: Option<Previous<'_>>,
        others: Others<'_>,
        profile: &Profile,
    ) -> Assessment {
        let mut indicators = self.own.clone();
        let now = self.compared(report);
        indicators.extend(indicators::against_previous(now, previous, profile));
        indicators.push(indicators::not_copied_from_others(
            now,
            others,
            profile.copy_across_threshold,
        ));
        indicators.sort_by_key(|i| i.id);
        let scored = profile.score(&indicators);
        Assessment {
            profile: profile.name.clone(),
            body: self.body,
            indicators,
            score: scored.score,
            max: scored.max,
            deductions: scored.deductions,
            unassessed: scored.unassessed,
            coverage: scored.coverage,
        }
    }
}

/// One report's compliance: the indicators, the score under a profile and what it deducted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub profile: String,
    pub body: BodyKind,
    pub indicators: Vec<Indicator>,
    /// The score; `None` when nothing the profile weighs could be assessed.
    pub score: Option<f64>,
    /// The most the profile gives.
    pub max: f64,
    /// The points taken off, each with the indicators behind it.
    pub deductions: Vec<Deduction>,
    /// Indicators the profile weighs that could not be assessed (or failed by the
    /// reader's fault): the score is silent on them.
    pub unassessed: Vec<IndicatorId>,
    /// The share of what the profile weighs that was assessed (0–1): a score over a tenth
    /// of the weights says less than one over all of them ([`profile::Scored::coverage`]).
    pub coverage: f64,
}

impl Assessment {
    /// The verdict on `id`.
    pub fn indicator(&self, id: IndicatorId) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// Scores one report. `text` is the document's text as the reader saw it
/// ([`crate::Reader::text`], `nianbao parse --text`): the same text the report was parsed
/// from, so a text span is a span of what the parser read. `previous` is the same body's
/// report of the year before, with its text, when the caller has it (the cross-year
/// indicators are NOT_ASSESSABLE without it). Other bodies' reports are not searched
/// ([`Others::NotSearched`]): that is the store's.
pub fn assess(
    report: &Report,
    text: &str,
    previous: Option<(&Report, &str)>,
    profile: &Profile,
) -> Assessment {
    let before = previous.map(|(report, text)| {
        let narrative = text::narrative(text);
        (report, narrative)
    });
    let previous = before.as_ref().map(|(report, narrative)| Previous {
        report,
        narrative: narrative.as_deref(),
        shingles: None,
    });
    Basis::of(report, text, profile).finish(report, previous, Others::NotSearched, profile)
}
