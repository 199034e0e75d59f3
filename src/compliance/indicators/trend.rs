//! The report against the body's report of the year before, beyond carry-over and copied
//! text: the stock of 规章 and 规范性文件 in force, and figures that change by an order of
//! magnitude. PURE. A cell absent on either side is not compared (absent is absent, never 0).

use super::{doubted, is};
use crate::compliance::{Evidence, Fault, Indicator, IndicatorId as Id};
use crate::model::catalogue;
use crate::model::finding::Code;
use crate::pb::{Report, Template};

/// Table 二's rows that keep a stock of documents in force (2021 format), with their names.
const STOCK_ROWS: [(&str, &str); 2] = [
    ("proactive.regulations", "规章"),
    ("proactive.normative_documents", "规范性文件"),
];

/// The figures compared for a jump: applications received, and the three groups of table
/// 四 (each a count of cases, where a jump is as telling as in applications).
const JUMP_PATHS: [(&str, &str); 4] = [
    ("applications.new_received.total", "本年新收申请"),
    ("review.total", "行政复议"),
    ("litigation_direct.total", "行政诉讼（未经复议直接起诉）"),
    ("litigation_after_review.total", "行政诉讼（复议后起诉）"),
];

/// Findings that say a cell was not printed as read: forced by the arithmetic, or read by
/// OCR and confirmed by no rule.
const NOT_PRINTED: [Code; 2] = [Code::CellInferred, Code::OcrUnconfirmed];

fn get(report: &Report, path: &str) -> Option<f64> {
    catalogue::index_of(path).and_then(|i| catalogue::get(report, i))
}

/// The cell at `path` as printed and read: present, and neither inferred nor an OCR
/// figure no rule confirmed (on the cell or its row).
fn printed(report: &Report, path: &str) -> Option<f64> {
    let unprinted = report.findings.iter().any(|f| {
        NOT_PRINTED.iter().any(|c| is(f, *c))
            && (f.path == path || path.starts_with(&format!("{}.", f.path)))
    });
    if unprinted {
        return None;
    }
    get(report, path)
}

/// The two reports are of neighbouring years (previous first), else why not.
fn neighbours(report: &Report, previous: &Report) -> Result<(), String> {
    match (previous.year, report.year) {
        (Some(p), Some(c)) if c == p + 1 => Ok(()),
        (p, c) => Err(format!("两份报告不是相邻年度（{p:?}、{c:?}）")),
    }
}

/// Table 二's 现行有效件数 of 规章 and of 规范性文件 equals the year before's plus this year's
/// 本年制发件数 minus 本年废止件数 (tolerance 0).
///
/// Only the 2021 format keeps a stock: the 2019 format's 对外公开总数量 counts documents
/// published, with no column for those repealed, so a pair with a 2019-format report is
/// NOT_ASSESSABLE. A row is compared only when all four cells are printed and read
/// ([`printed`]); none compared is NOT_ASSESSABLE. A break is the publisher's unless either
/// table 二 was read with doubts ([`doubted`]). Bodies often restate their stock after a
/// clean-up (清理) without repealing in the year's column, so the reason says the figure is
/// to be checked against the text, not that one year is wrong.
pub fn stock_continuous(report: &Report, previous: Option<&Report>) -> Indicator {
    let id = Id::StockContinuous;
    let Some(previous) = previous else {
        return Indicator::not_assessable(id, "没有上一年度的报告", vec![]);
    };
    if let Err(why) = neighbours(report, previous) {
        return Indicator::not_assessable(id, why, vec![]);
    }
    let f2021 = |r: &Report| r.template == Template::Template2021 as i32;
    if !(f2021(report) && f2021(previous)) {
        return Indicator::not_assessable(
            id,
            "两年须均为2021年格式（2019年格式没有现行有效件数和废止件数）",
            vec![],
        );
    }
    let mut evidence = Vec::new();
    let mut breaks = Vec::new();
    for (row, name) in STOCK_ROWS {
        let cell = |r: &Report, col: &str| printed(r, &format!("{row}.{col}"));
        let (Some(now), Some(before), Some(issued), Some(repealed)) = (
            cell(report, "in_force"),
            cell(previous, "in_force"),
            cell(report, "issued"),
            cell(report, "repealed"),
        ) else {
            continue;
        };
        let expected = before + issued - repealed;
        evidence.push(Evidence::Cell {
            path: format!("{row}.in_force"),
            value: Some(now),
            other: Some(expected),
        });
        evidence.push(Evidence::Note {
            text: format!(
                "{name}：上年现行有效 {before} + 本年制发 {issued} − 本年废止 {repealed} = {expected}，本年现行有效 {now}"
            ),
        });
        if now != expected {
            breaks.push(format!(
                "{name}现行有效 {now} 件，按上年推算应为 {expected} 件"
            ));
        }
    }
    if evidence.is_empty() {
        return Indicator::not_assessable(
            id,
            "两年中没有印出且读出的现行有效、制发、废止件数可供核对",
            vec![],
        );
    }
    if breaks.is_empty() {
        return Indicator::pass(id, "现行有效件数与上年度衔接", evidence);
    }
    let fault = if doubted(report, "proactive") || doubted(previous, "proactive") {
        Fault::Reader
    } else {
        Fault::Publisher
    };
    Indicator::fail(
        id,
        fault,
        format!(
            "{}（机关清理文件后常重新核定现行有效件数，须对照正文说明核实）",
            breaks.join("；")
        ),
        evidence,
    )
}

/// No figure of [`JUMP_PATHS`] changed from the year before by `factor` or more (either
/// way; a year at 0 counts as 1), unless both years' figures are below `floor`.
///
/// This is a flag for a human to look, not a fault: a jump may be real (a campaign of mass
/// requests, a new duty) or a misprint. It is a FAIL so that the report card shows it and
/// says whose figures they are: the publisher's as printed (the reader's when either
/// table was read with doubts, [`doubted`]). What keeps it from costing points is the
/// profile: the default profile weighs it 0 and no published local scheme names it, so a
/// profile charges it only when its author chooses to. NOT_ASSESSABLE without the year
/// before, when no figure is read in both years, or when every figure read in both is
/// below `floor` (between small numbers a factor of ten is noise).
pub fn year_over_year_jumps(
    report: &Report,
    previous: Option<&Report>,
    factor: f64,
    floor: f64,
) -> Indicator {
    let id = Id::YearOverYearJumps;
    let Some(previous) = previous else {
        return Indicator::not_assessable(id, "没有上一年度的报告", vec![]);
    };
    if let Err(why) = neighbours(report, previous) {
        return Indicator::not_assessable(id, why, vec![]);
    }
    let mut evidence = Vec::new();
    let mut jumps = Vec::new();
    let mut doubts = false;
    let mut large = 0usize;
    for (path, name) in JUMP_PATHS {
        let (Some(now), Some(before)) = (get(report, path), get(previous, path)) else {
            continue;
        };
        evidence.push(Evidence::Cell {
            path: path.to_owned(),
            value: Some(now),
            other: Some(before),
        });
        let (lo, hi) = (now.min(before), now.max(before));
        if hi < floor {
            continue;
        }
        large += 1;
        if hi / lo.max(1.0) >= factor {
            jumps.push(format!("{name}由 {before} 变为 {now}"));
            doubts |= doubted(report, path) || doubted(previous, path);
        }
    }
    if evidence.is_empty() {
        return Indicator::not_assessable(id, "两年中没有都读出的申请、复议、诉讼总数", vec![]);
    }
    if !jumps.is_empty() {
        let fault = if doubts {
            Fault::Reader
        } else {
            Fault::Publisher
        };
        return Indicator::fail(
            id,
            fault,
            format!(
                "供复核：{}，变化达 {factor} 倍以上，须人工核实是否属实",
                jumps.join("；")
            ),
            evidence,
        );
    }
    if large == 0 {
        return Indicator::not_assessable(
            id,
            format!("两年的数字均小于 {floor}，倍数变化无意义"),
            evidence,
        );
    }
    Indicator::pass(
        id,
        format!("{large} 项数字与上年度相比变化不足 {factor} 倍"),
        evidence,
    )
}
