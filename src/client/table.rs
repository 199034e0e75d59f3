//! What `nianbao query` prints: one table of typed cells, rendered as aligned columns for a
//! terminal (Chinese text aligned by its display width), as CSV, or as JSON lines with the
//! keys in column order. PURE: rendering returns text; the caller writes it.

use std::fmt::Write as _;

use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// How a table is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Style {
    /// Aligned columns (the default on a terminal).
    Table,
    /// CSV with a header line (the default when standard output is not a terminal).
    Csv,
    /// One JSON object a line, keys in column order.
    Json,
}

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A count (reports, findings, a count metric).
    Int(i64),
    /// An amount or a signed sum that may have decimals.
    Num(f64),
    /// A year (a number, printed without a thousands separator).
    Year(i32),
    /// A share, 0 to 1: a percentage in a terminal, the fraction elsewhere.
    Share(f64),
    /// No value (a rate with no denominator, a finding with no expected value).
    Empty,
}

impl Cell {
    fn numeric(&self) -> bool {
        matches!(
            self,
            Cell::Int(_) | Cell::Num(_) | Cell::Share(_) | Cell::Year(_)
        )
    }

    /// The value for a person: thousands apart, a share as a percentage.
    fn for_people(&self) -> String {
        match self {
            Cell::Text(t) => t.replace(['\n', '\r', '\t'], " "),
            Cell::Int(n) => grouped(&n.to_string()),
            Cell::Year(y) => y.to_string(),
            Cell::Num(v) if v.fract() == 0.0 && v.abs() < 9e15 => grouped(&format!("{v:.0}")),
            Cell::Num(v) => {
                let text = format!("{v:.2}");
                let (whole, decimals) = text.split_once('.').unwrap_or((&text, ""));
                format!("{}.{decimals}", grouped(whole))
            }
            Cell::Share(v) => format!("{:.1}%", v * 100.0),
            Cell::Empty => "-".to_owned(),
        }
    }

    /// The value for a program: the exact number, nothing for no value.
    fn for_programs(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Year(y) => y.to_string(),
            Cell::Num(v) | Cell::Share(v) if v.fract() == 0.0 && v.abs() < 9e15 => {
                format!("{v:.0}")
            }
            Cell::Num(v) | Cell::Share(v) => format!("{v}"),
            Cell::Empty => String::new(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(t) => Value::String(t.clone()),
            Cell::Int(n) => Value::from(*n),
            Cell::Year(y) => Value::from(*y),
            Cell::Num(v) | Cell::Share(v) if v.fract() == 0.0 && v.abs() < 9e15 => {
                Value::from(*v as i64)
            }
            Cell::Num(v) | Cell::Share(v) => {
                serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number)
            }
            Cell::Empty => Value::Null,
        }
    }
}

/// `1234567` → `1,234,567` (a leading minus kept).
fn grouped(digits: &str) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", digits),
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    out.push_str(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Columns and rows, every row as long as the columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(columns: impl IntoIterator<Item = impl Into<String>>) -> Table {
        Table {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(
            row.len(),
            self.columns.len(),
            "a row as long as the columns"
        );
        self.rows.push(row);
    }

    /// The table as text in `style`; `header` says whether CSV and aligned text start with
    /// the column names (a later page of the same table leaves them out).
    pub fn render(&self, style: Style, header: bool) -> String {
        match style {
            Style::Table => self.aligned(header),
            Style::Csv => self.csv(header),
            Style::Json => self.json_lines(),
        }
    }

    fn aligned(&self, header: bool) -> String {
        let texts: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(Cell::for_people).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.width()).collect();
        for row in &texts {
            for (w, text) in widths.iter_mut().zip(row) {
                *w = (*w).max(text.width());
            }
        }
        // A column is right-aligned when every value in it is a number.
        let right: Vec<bool> = (0..self.columns.len())
            .map(|c| {
                !self.rows.is_empty()
                    && self
                        .rows
                        .iter()
                        .all(|row| row[c].numeric() || row[c] == Cell::Empty)
            })
            .collect();
        let mut out = String::new();
        let mut line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut text = String::new();
            for (c, cell) in cells.enumerate() {
                if c > 0 {
                    text.push_str("  ");
                }
                let pad = widths[c].saturating_sub(cell.width());
                if right[c] {
                    text.extend(std::iter::repeat_n(' ', pad));
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        if header {
            line(&mut self.columns.iter().map(String::as_str));
        }
        for row in &texts {
            line(&mut row.iter().map(String::as_str));
        }
        out
    }

    fn csv(&self, header: bool) -> String {
        let mut out = String::new();
        let mut line = |fields: &mut dyn Iterator<Item = String>| {
            for (i, field) in fields.enumerate() {
                super::export::push_field(&mut out, i, &field);
            }
            out.push('\n');
        };
        if header {
            line(&mut self.columns.iter().cloned());
        }
        for row in &self.rows {
            line(&mut row.iter().map(Cell::for_programs));
        }
        out
    }

    fn json_lines(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            out.push('{');
            for (i, (name, cell)) in self.columns.iter().zip(row).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:{}", Value::from(name.as_str()), cell.json());
            }
            out.push_str("}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(["city", "reports", "rate"]);
        t.push(vec![
            Cell::Text("淮安市".into()),
            Cell::Int(1234),
            Cell::Share(0.8126),
        ]);
        t.push(vec![
            Cell::Text("Suzhou, 苏州".into()),
            Cell::Int(7),
            Cell::Empty,
        ]);
        t
    }

    #[test]
    fn chinese_names_align_by_display_width_and_numbers_to_the_right() {
        let text = sample().render(Style::Table, true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "city          reports   rate",
                "淮安市          1,234  81.3%",
                "Suzhou, 苏州        7      -",
            ]
        );
        // Every line ends its second column at the same display column.
        let ends: Vec<usize> = lines
            .iter()
            .map(|l| l[..l.find("  ").unwrap()].width())
            .collect();
        assert!(ends.iter().all(|&e| e <= 12));
    }

    #[test]
    fn csv_quotes_what_must_be_quoted_and_keeps_exact_numbers() {
        assert_eq!(
            sample().render(Style::Csv, true),
            "city,reports,rate\n淮安市,1234,0.8126\n\"Suzhou, 苏州\",7,\n"
        );
        assert_eq!(
            sample().render(Style::Csv, false),
            "淮安市,1234,0.8126\n\"Suzhou, 苏州\",7,\n"
        );
    }

    #[test]
    fn json_lines_keep_the_column_order_and_null_for_no_value() {
        assert_eq!(
            sample().render(Style::Json, true),
            "{\"city\":\"淮安市\",\"reports\":1234,\"rate\":0.8126}\n{\"city\":\"Suzhou, 苏州\",\"reports\":7,\"rate\":null}\n"
        );
    }

    #[test]
    fn amounts_show_two_decimals_and_thousands_for_people() {
        let mut t = Table::new(["fee"]);
        t.push(vec![Cell::Num(1570764.5)]);
        t.push(vec![Cell::Num(-2000.0)]);
        assert_eq!(
            t.render(Style::Table, false),
            "1,570,764.50\n      -2,000\n"
        );
        assert_eq!(t.render(Style::Csv, false), "1570764.5\n-2000\n");
    }
}
