//! Row labels as real documents print them, matched to catalogue rows. PURE.
//!
//! Labels arrive with spaces and line breaks inside (`本 年 度`), full-width or ASCII
//! punctuation, item numbers (`（三）`, `1.`, `3、`) and typos; matching strips all of that and
//! looks for a distinctive keyword, so a fragment of a broken label still finds its row.
//! Which rows each table prints, and in what order, is the form's ([`crate::model::form`]).

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use crate::pb::Template;

/// `text` without its whitespace. The runs between whitespace are copied whole into a string
/// sized once, rather than char by char into one that grows.
pub fn without_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for run in text.split(char::is_whitespace) {
        out.push_str(run);
    }
    out
}

/// What a table 三 label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T3Label {
    Row(&'static str),
    /// （六）其他处理: a row in 2019, the header of three rows in 2021.
    OtherHandling,
    /// (七)总计 or a bare 总计, which the column header also prints.
    Total,
}

/// Keywords of table 三's row labels, most distinctive first. Each keyword appears in one
/// official label only, and is short enough to survive a label broken across cells.
const T3_KEYWORDS: &[(&str, &str)] = &[
    ("新收", "applications.new_received"),
    ("上年结转", "applications.carried_over"),
    ("上年度结转", "applications.carried_over"),
    ("结转下年", "applications.carried_forward"),
    ("结转下一年", "applications.carried_forward"),
    ("国家秘密", "applications.withheld.state_secret"),
    ("法律行政法规", "applications.withheld.prohibited_by_law"),
    ("法律法规禁止", "applications.withheld.prohibited_by_law"),
    // A PDF's text may lose characters inside the label (`其他法律行政止公开`).
    ("其他法律行政", "applications.withheld.prohibited_by_law"),
    ("法规禁止", "applications.withheld.prohibited_by_law"),
    ("三安全", "applications.withheld.security_stability"),
    ("一稳定", "applications.withheld.security_stability"),
    ("第三方", "applications.withheld.third_party_rights"),
    ("内部事务", "applications.withheld.internal_affairs"),
    ("过程性", "applications.withheld.process_information"),
    ("执法案卷", "applications.withheld.enforcement_case_file"),
    ("查询事项", "applications.withheld.administrative_query"),
    ("不掌握", "applications.unavailable.not_held"),
    ("现成信息", "applications.unavailable.needs_creation"),
    ("另行制作", "applications.unavailable.needs_creation"),
    (
        "补正后",
        "applications.unavailable.unclear_after_correction",
    ),
    (
        "仍不明确",
        "applications.unavailable.unclear_after_correction",
    ),
    ("信访", "applications.not_processed.complaint_petition"),
    ("举报投诉", "applications.not_processed.complaint_petition"),
    (
        "重复申请",
        "applications.not_processed.repeated_application",
    ),
    ("出版物", "applications.not_processed.publication_request"),
    ("大量反复", "applications.not_processed.mass_repetitive"),
    ("重新出具", "applications.not_processed.reconfirmation"),
    ("确认或重新", "applications.not_processed.reconfirmation"),
    (
        "逾期不补正",
        "applications.other_handling.overdue_correction",
    ),
    ("逾期不补", "applications.other_handling.overdue_correction"),
    ("缴纳费用", "applications.other_handling.unpaid_fee"),
    ("收费通知", "applications.other_handling.unpaid_fee"),
    ("部分公开", "applications.partially_disclosed"),
    ("予以公开", "applications.disclosed"),
];

/// One automaton over every keyword of [`T3_KEYWORDS`], then 其他处理 as the last pattern.
fn t3_automaton() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        let patterns = T3_KEYWORDS
            .iter()
            .map(|(k, _)| *k)
            .chain(std::iter::once("其他处理"));
        AhoCorasick::new(patterns).expect("static patterns")
    })
}

/// Matches one text cell of table 三.
pub fn t3_label(text: &str) -> Option<T3Label> {
    let core = core_label(text);
    if core.is_empty() {
        return None;
    }
    // The keyword earliest in the list wins, wherever it stands in the label.
    let best = t3_automaton()
        .find_overlapping_iter(&core)
        .map(|m| m.pattern().as_usize())
        .min();
    match best {
        Some(i) if i < T3_KEYWORDS.len() => return Some(T3Label::Row(T3_KEYWORDS[i].1)),
        Some(_) => return Some(T3Label::OtherHandling),
        None => {}
    }
    if core == "其他" {
        // `（六）其他` is the group 其他处理 cut short; the row 其他 is numbered `3.`.
        let t = text.trim_start_matches(|c: char| c == '#' || c.is_whitespace());
        let group = ["（六）", "(六)", "（六)", "(六）", "六、"]
            .iter()
            .any(|p| t.starts_with(p));
        return Some(if group {
            T3Label::OtherHandling
        } else {
            T3Label::Row("applications.other_handling.other")
        });
    }
    if core == "总计" || core == "七总计" || core == "合计" {
        return Some(T3Label::Total);
    }
    None
}

/// Table 二's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T2Row {
    Regulations,
    NormativeDocuments,
    Licensing,
    OtherServices,
    Penalty,
    Enforcement,
    Fees,
    Procurement,
}

impl T2Row {
    pub fn path(self) -> &'static str {
        match self {
            T2Row::Regulations => "proactive.regulations",
            T2Row::NormativeDocuments => "proactive.normative_documents",
            T2Row::Licensing => "proactive.licensing",
            T2Row::OtherServices => "proactive.other_services",
            T2Row::Penalty => "proactive.penalty",
            T2Row::Enforcement => "proactive.enforcement",
            T2Row::Fees => "proactive.fees",
            T2Row::Procurement => "proactive.procurement",
        }
    }

    /// The columns this row prints in a format; empty when the format has no such row.
    pub fn columns(self, template: Template) -> &'static [&'static str] {
        let is2021 = template == Template::Template2021;
        match (self, is2021) {
            (T2Row::Regulations | T2Row::NormativeDocuments, false) => {
                &["new_made", "new_published", "total_published"]
            }
            (T2Row::Regulations | T2Row::NormativeDocuments, true) => {
                &["issued", "repealed", "in_force"]
            }
            (
                T2Row::Licensing | T2Row::OtherServices | T2Row::Penalty | T2Row::Enforcement,
                false,
            ) => &["previous", "change", "decisions"],
            (T2Row::Licensing | T2Row::Penalty | T2Row::Enforcement, true) => &["decisions"],
            (T2Row::Fees, false) => &["previous", "change"],
            (T2Row::Fees, true) => &["amount_wan_yuan"],
            (T2Row::Procurement, false) => &["projects", "amount_wan_yuan"],
            (T2Row::OtherServices | T2Row::Procurement, true) => &[],
        }
    }
}

/// The full printed label of each table 二 row, as [`core_label`] leaves it.
const T2_FULL_LABELS: &[(T2Row, &str)] = &[
    (T2Row::NormativeDocuments, "规范性文件"),
    (T2Row::Regulations, "规章"),
    (T2Row::Licensing, "行政许可"),
    (T2Row::OtherServices, "其他对外管理服务事项"),
    (T2Row::Penalty, "行政处罚"),
    (T2Row::Enforcement, "行政强制"),
    (T2Row::Fees, "行政事业性收费"),
    (T2Row::Procurement, "政府集中采购"),
];

/// The fewest characters after a row's name that make a split row's name (行政检查).
const SPLIT_ROW_CHARS: usize = 2;

/// The longest label ending in 规章 that is read as the 规章 row whatever precedes the word;
/// a longer one must end in a column header run into it (…件数规章).
const REGULATIONS_LABEL_CHARS: usize = 4;

/// Matches one text cell of table 二, and says what the cell prints after the row's name:
/// `其他对外管理服务事项行政检查` is the split row 行政检查 of 其他对外管理服务事项.
pub fn t2_label_split(text: &str) -> Option<(T2Row, Option<String>)> {
    // One core label serves both the match and the rest of the cell.
    let core = core_label(text);
    let row = t2_row(&core)?;
    let full = T2_FULL_LABELS
        .iter()
        .find(|(r, _)| *r == row)
        .map_or("", |(_, l)| *l);
    let rest = core.find(full).map_or("", |i| &core[i + full.len()..]);
    let harmless = ["", "事项", "类", "情况", "数量", "(件)", "件"];
    if rest.chars().count() >= SPLIT_ROW_CHARS && !harmless.contains(&rest) {
        return Some((row, Some(rest.to_owned())));
    }
    Some((row, None))
}

/// Matches one text cell of table 二.
pub fn t2_label(text: &str) -> Option<T2Row> {
    t2_row(&core_label(text))
}

/// The row of table 二 a cell's [`core_label`] names.
fn t2_row(core: &str) -> Option<T2Row> {
    // Taiwanese conversion turns 文件 into 档案 (规范性档案).
    let row = if core.contains("规范性文件") || core.contains("规范性档案") {
        T2Row::NormativeDocuments
    } else if core == "规章"
        || core.ends_with("规章")
            // Fused text runs the column headers into the first label (…现行有效件数规章).
            && (core.chars().count() <= REGULATIONS_LABEL_CHARS
                || core.ends_with("数量规章")
                || core.ends_with("件数规章"))
    {
        T2Row::Regulations
    } else if core.contains("行政许可") {
        T2Row::Licensing
    } else if core.contains("其他对外管理服务") || core.contains("对外管理服务事项")
    {
        T2Row::OtherServices
    } else if core.contains("行政处罚") {
        T2Row::Penalty
    } else if core.contains("行政强制") {
        T2Row::Enforcement
    } else if core.contains("事业性收费") {
        T2Row::Fees
    } else if core.contains("集中采购") {
        T2Row::Procurement
    } else {
        return None;
    };
    Some(row)
}

/// A label without spaces, punctuation and leading item numbers: `（三）不 予 公开` → `不予公开`,
/// `3、其他` → `其他`, `(七) 总计` → `七总计`... the enumerator survives only for (七).
pub fn core_label(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    // Pinyin glosses inserted by mirror sites (`规(guī)章`) are letters: dropped with the
    // punctuation around them.
    // Runs of kept characters are copied whole.
    let mut run = 0;
    for (i, c) in text.char_indices() {
        if !(is_cjk(c) || !(c.is_whitespace() || is_punct(c) || c.is_alphabetic())) {
            s.push_str(&text[run..i]);
            run = i + c.len_utf8();
        }
    }
    s.push_str(&text[run..]);
    // Leading item numbers: ASCII digits, or one Chinese numeral before the label proper.
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    s.drain(..digits);
    // (一)..(六) prefixes: a single numeral followed by more text.
    let mut chars = s.chars();
    if let (Some(first), Some(second), Some(_)) = (chars.next(), chars.next(), chars.next()) {
        if matches!(
            first,
            '一' | '二' | '三' | '四' | '五' | '六' | '八' | '九' | '十'
        ) && second != '类'
            && second != '稳'
        {
            s.drain(..first.len_utf8());
        }
    }
    s
}

fn is_cjk(c: char) -> bool {
    ('\u{3400}'..='\u{9FFF}').contains(&c)
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(
            c,
            '、' | '，'
                | '。'
                | '：'
                | '；'
                | '（'
                | '）'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '《'
                | '》'
                | '·'
                | '．'
                | '【'
                | '】'
                | '—'
                | '…'
        )
}

/// Header words of table 二 that tell the format.
const T2_2019_WORDS: &[&str] = &[
    "新制作数量",
    "新公开数量",
    "对外公开总数量",
    "上一年项目数量",
    "本年增",
    "采购项目数量",
    "采购总金额",
    "其他对外管理服务",
    "集中采购",
];
const T2_2021_WORDS: &[&str] = &[
    "制发件数",
    "废止件数",
    "现行有效件数",
    "本年处理决定数量",
    "本年收费金额",
];
/// Row labels of table 三 that only the 2021 format prints.
const T3_2021_WORDS: &[&str] = &["逾期不补正", "逾期不补", "缴纳费用", "收费通知要求"];

/// Every word that votes on the format.
const VOTING_WORDS: usize = T2_2019_WORDS.len() + T2_2021_WORDS.len() + T3_2021_WORDS.len();

/// The votes the table 三 rows only the 2021 format prints are worth together (each header
/// word of table 二 is worth one).
const T3_2021_VOTES: usize = 2;

/// Votes on the format from the table headers and labels: (2019 votes, 2021 votes).
/// One automaton pass over the text; each word votes once.
pub fn template_votes(tables: &str) -> (usize, usize) {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    let words = || {
        T2_2019_WORDS
            .iter()
            .chain(T2_2021_WORDS)
            .chain(T3_2021_WORDS)
    };
    let ac = AC.get_or_init(|| AhoCorasick::new(words()).expect("static patterns"));
    let mut seen = [false; VOTING_WORDS];
    for m in ac.find_overlapping_iter(tables) {
        seen[m.pattern().as_usize()] = true;
    }
    let (a, b) = (T2_2019_WORDS.len(), T2_2021_WORDS.len());
    let v2019 = seen[..a].iter().filter(|s| **s).count();
    let v2021 = seen[a..a + b].iter().filter(|s| **s).count()
        + T3_2021_VOTES * usize::from(seen[a + b..a + b + T3_2021_WORDS.len()].iter().any(|s| *s));
    (v2019, v2021)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_table_three_labels_as_printed() {
        let cases: &[(&str, Option<T3Label>)] = &[
            (
                "一、本年新收政府信息公开申请数量",
                Some(T3Label::Row("applications.new_received")),
            ),
            (
                "二、上年结转政府信息公开申请数量",
                Some(T3Label::Row("applications.carried_over")),
            ),
            (
                "四、结转下年度继续办理",
                Some(T3Label::Row("applications.carried_forward")),
            ),
            (
                "(一) 予以公开",
                Some(T3Label::Row("applications.disclosed")),
            ),
            (
                "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
                Some(T3Label::Row("applications.partially_disclosed")),
            ),
            (
                "2.其他法律行政法规禁",
                Some(T3Label::Row("applications.withheld.prohibited_by_law")),
            ),
            (
                "3.危及“三安 全一稳定”",
                Some(T3Label::Row("applications.withheld.security_stability")),
            ),
            (
                "5.属于三类 内部事务信 息",
                Some(T3Label::Row("applications.withheld.internal_affairs")),
            ),
            (
                "1.本机关不 掌握相关政 府信息",
                Some(T3Label::Row("applications.unavailable.not_held")),
            ),
            (
                "1. 本机关不掌握相关信息",
                Some(T3Label::Row("applications.unavailable.not_held")),
            ),
            (
                "2.没有现成 信息需要另 行制作",
                Some(T3Label::Row("applications.unavailable.needs_creation")),
            ),
            (
                "5.要求行政机关确认或重新出",
                Some(T3Label::Row("applications.not_processed.reconfirmation")),
            ),
            (
                "1、申请人无正当理由逾期不补",
                Some(T3Label::Row(
                    "applications.other_handling.overdue_correction",
                )),
            ),
            (
                "2、申请人逾期未按收费通知要",
                Some(T3Label::Row("applications.other_handling.unpaid_fee")),
            ),
            (
                "3、其他",
                Some(T3Label::Row("applications.other_handling.other")),
            ),
            (
                "3.其他",
                Some(T3Label::Row("applications.other_handling.other")),
            ),
            ("(六) 其他处理", Some(T3Label::OtherHandling)),
            ("(六) 其他", Some(T3Label::OtherHandling)),
            ("### （六）其他", Some(T3Label::OtherHandling)),
            ("（七）总计", Some(T3Label::Total)),
            ("总计", Some(T3Label::Total)),
            ("形，不计其他情形）", None),
            ("（三）不予公开", None),
            ("三、本 年 度 办 理 结 果", None),
            ("法人或其他组织", None),
            (
                "其他",
                Some(T3Label::Row("applications.other_handling.other")),
            ),
            ("商业企业", None),
        ];
        for (input, want) in cases {
            assert_eq!(t3_label(input), *want, "{input}");
        }
    }

    #[test]
    fn matches_table_two_labels_as_printed() {
        let cases: &[(&str, Option<T2Row>)] = &[
            ("规章", Some(T2Row::Regulations)),
            ("规范性文件", Some(T2Row::NormativeDocuments)),
            ("行政规范性文件", Some(T2Row::NormativeDocuments)),
            ("行政许可", Some(T2Row::Licensing)),
            ("其他对外管理服务事项", Some(T2Row::OtherServices)),
            ("行政处罚", Some(T2Row::Penalty)),
            ("行政强制", Some(T2Row::Enforcement)),
            ("行政事业性收费", Some(T2Row::Fees)),
            ("政府集中采购", Some(T2Row::Procurement)),
            ("行政检查", None),
            ("信息内容", None),
            ("本年制发件数", None),
        ];
        for (input, want) in cases {
            assert_eq!(t2_label(input), *want, "{input}");
        }
    }

    #[test]
    fn split_rows_glued_to_their_parent() {
        assert_eq!(
            t2_label_split("其他对外管理服务事项行政检查"),
            Some((T2Row::OtherServices, Some("行政检查".to_owned())))
        );
        assert_eq!(
            t2_label_split("其他对外管理服务事项"),
            Some((T2Row::OtherServices, None))
        );
        assert_eq!(
            t2_label_split("行政规范性文件"),
            Some((T2Row::NormativeDocuments, None))
        );
        assert_eq!(
            t2_label_split("行政许可事项"),
            Some((T2Row::Licensing, None))
        );
    }
}
