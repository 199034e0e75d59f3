//! The findings vocabulary: one stable code per thing the parser or the validator can report,
//! each with its severity and rule group. PURE.

use crate::pb::{Finding, Severity};

/// Every finding code. The string form (`as_str`) is stable: clients filter and count by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    // Rule 1-4: the arithmetic the tables print.
    /// new_received + carried_over != closed_total + carried_forward in a column.
    Balance,
    /// closed_total != the sum of the outcome rows in a column.
    OutcomesSum,
    /// A row's total != the sum of its six applicant columns.
    RowTotal,
    /// A review or litigation group's total != upheld + corrected + other + pending.
    GroupTotal,
    // Rule 5: blanks.
    /// A cell the table should print is blank or unreadable.
    CellBlank,
    /// A sum could not be checked because an addend is absent.
    Unverifiable,
    // Rule 6: signs and types.
    /// A count is negative.
    NegativeCount,
    /// A count has a fractional part, or a cell holds no number at all.
    NotInteger,
    // Rule 7.
    /// A total stated in section 一 differs from the table.
    NarrativeMismatch,
    // Rule 8.
    /// A report for 2021 or later printed on the 2019 format.
    FormatYear,
    // Rule 9.
    /// A body below a city with districts reports regulations (规章).
    RegulationsImplausible,
    // Rule 10 (needs two reports of one body).
    /// carried_over of year N != carried_forward of year N-1.
    CarryOverMismatch,
    /// The tables equal the body's previous year's tables.
    CopiedReport,
    // Rule 11: missing pieces.
    /// A section heading was not found.
    SectionMissing,
    /// A table is missing; where its caption remains it was probably an image.
    TableMissing,
    /// The document is plainly not a yearly disclosure report (no report title, no sections,
    /// no tables): another government document, a notice, a news page.
    NotAReport,
    /// No agency could be read from the text or a hint.
    AgencyMissing,
    /// No report year could be read from the text or a hint.
    YearMissing,
    // Reading.
    /// A row's printed cells could not be placed in its columns (dropped or fused cells).
    RowUnreadable,
    /// A row of a table that the text does not print at all (a page cut short, a row left out).
    RowMissing,
    /// A cell the text does not print was forced by the arithmetic rules.
    CellInferred,
    /// The body's place on the administrative divisions could not be resolved: the text
    /// names none, or names one that exists in several places and does not say which.
    PlaceUnresolved,
    /// A revision states a figure differently from the reading of the same body and year
    /// it supersedes (the body corrected its report, or one rendition was misprinted).
    RevisionChanged,
    /// Numbers printed out of the official order were placed by the arithmetic rules.
    OrderRecovered,
    /// Two or more readings of the printed cells satisfy every rule (scrambled groups, fused
    /// digits, dropped cells): none is stated, the message lists the candidates.
    Ambiguous,
    /// A hint (agency, year) disagrees with the text; the text wins.
    HintMismatch,
    /// Some bytes were invalid in the detected encoding.
    EncodingErrors,
    /// A row or column the catalogue does not name, kept as an extra row.
    ExtraRow,
    /// Figures read by OCR that no table rule confirms: left unset.
    OcrUnconfirmed,
    /// The file cannot be read at all (broken, encrypted, a kind not read, a scan with OCR
    /// off): the service rejects it with the reason.
    Unreadable,
}

impl Code {
    pub const ALL: &'static [Code] = &[
        Code::Balance,
        Code::OutcomesSum,
        Code::RowTotal,
        Code::GroupTotal,
        Code::CellBlank,
        Code::Unverifiable,
        Code::NegativeCount,
        Code::NotInteger,
        Code::NarrativeMismatch,
        Code::FormatYear,
        Code::RegulationsImplausible,
        Code::CarryOverMismatch,
        Code::CopiedReport,
        Code::SectionMissing,
        Code::TableMissing,
        Code::NotAReport,
        Code::AgencyMissing,
        Code::YearMissing,
        Code::RowUnreadable,
        Code::RowMissing,
        Code::CellInferred,
        Code::OrderRecovered,
        Code::Ambiguous,
        Code::HintMismatch,
        Code::EncodingErrors,
        Code::ExtraRow,
        Code::OcrUnconfirmed,
        Code::Unreadable,
        // New codes go last: a code's position in this list is kept in index snapshots.
        Code::PlaceUnresolved,
        Code::RevisionChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Balance => "BALANCE",
            Code::OutcomesSum => "OUTCOMES_SUM",
            Code::RowTotal => "ROW_TOTAL",
            Code::GroupTotal => "GROUP_TOTAL",
            Code::CellBlank => "CELL_BLANK",
            Code::Unverifiable => "UNVERIFIABLE",
            Code::NegativeCount => "NEGATIVE_COUNT",
            Code::NotInteger => "NOT_INTEGER",
            Code::NarrativeMismatch => "NARRATIVE_MISMATCH",
            Code::FormatYear => "FORMAT_YEAR",
            Code::RegulationsImplausible => "REGULATIONS_IMPLAUSIBLE",
            Code::CarryOverMismatch => "CARRY_OVER_MISMATCH",
            Code::CopiedReport => "COPIED_REPORT",
            Code::SectionMissing => "SECTION_MISSING",
            Code::TableMissing => "TABLE_MISSING",
            Code::NotAReport => "NOT_A_REPORT",
            Code::AgencyMissing => "AGENCY_MISSING",
            Code::YearMissing => "YEAR_MISSING",
            Code::RowUnreadable => "ROW_UNREADABLE",
            Code::RowMissing => "ROW_MISSING",
            Code::CellInferred => "CELL_INFERRED",
            Code::OrderRecovered => "ORDER_RECOVERED",
            Code::Ambiguous => "AMBIGUOUS",
            Code::HintMismatch => "HINT_MISMATCH",
            Code::EncodingErrors => "ENCODING_ERRORS",
            Code::ExtraRow => "EXTRA_ROW",
            Code::OcrUnconfirmed => "OCR_UNCONFIRMED",
            Code::Unreadable => "UNREADABLE",
            Code::PlaceUnresolved => "PLACE_UNRESOLVED",
            Code::RevisionChanged => "REVISION_CHANGED",
        }
    }

    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// The rule group of domain.md (1-11); reading findings belong to group 11 or 5.
    pub fn rule(self) -> u8 {
        match self {
            Code::Balance => 1,
            Code::OutcomesSum => 2,
            Code::RowTotal => 3,
            Code::GroupTotal => 4,
            Code::CellBlank
            | Code::Unverifiable
            | Code::RowUnreadable
            | Code::CellInferred
            | Code::OcrUnconfirmed
            | Code::Ambiguous => 5,
            Code::RowMissing => 11,
            Code::NegativeCount | Code::NotInteger => 6,
            Code::NarrativeMismatch => 7,
            Code::FormatYear => 8,
            Code::RegulationsImplausible => 9,
            Code::CarryOverMismatch | Code::CopiedReport | Code::RevisionChanged => 10,
            Code::SectionMissing
            | Code::TableMissing
            | Code::NotAReport
            | Code::AgencyMissing
            | Code::YearMissing
            | Code::OrderRecovered
            | Code::HintMismatch
            | Code::EncodingErrors
            | Code::Unreadable
            | Code::PlaceUnresolved
            | Code::ExtraRow => 11,
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::Balance
            | Code::OutcomesSum
            | Code::RowTotal
            | Code::GroupTotal
            | Code::NegativeCount
            | Code::NotInteger
            | Code::RowUnreadable
            | Code::Ambiguous
            | Code::NotAReport
            | Code::Unreadable
            | Code::TableMissing => Severity::Error,
            Code::CellBlank
            | Code::NarrativeMismatch
            | Code::FormatYear
            | Code::RegulationsImplausible
            | Code::CarryOverMismatch
            | Code::CopiedReport
            | Code::SectionMissing
            | Code::RowMissing
            | Code::AgencyMissing
            | Code::YearMissing
            | Code::HintMismatch
            | Code::OcrUnconfirmed
            | Code::PlaceUnresolved
            | Code::EncodingErrors => Severity::Warning,
            Code::Unverifiable
            | Code::CellInferred
            | Code::OrderRecovered
            | Code::ExtraRow
            | Code::RevisionChanged => Severity::Info,
        }
    }
}

/// Builds a finding with the code's severity.
pub fn finding(
    code: Code,
    path: impl Into<String>,
    expected: Option<f64>,
    actual: Option<f64>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        code: code.as_str().to_owned(),
        severity: code.severity() as i32,
        path: path.into(),
        expected,
        actual,
        message: message.into(),
    }
}

/// The lowercase name of a severity, as the `--facts` JSON prints it.
pub fn severity_name(severity: i32) -> &'static str {
    match Severity::try_from(severity).unwrap_or(Severity::Unspecified) {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
        Severity::Unspecified => "unspecified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert!((1..=11).contains(&c.rule()));
        }
        assert_eq!(Code::parse("NOPE"), None);
    }
}
