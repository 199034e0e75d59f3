//! CSV (RFC 4180): a header row of the column names, then one row per report; a field is
//! quoted when it holds a comma, a quote or a line break. Absent metrics are empty fields.

use std::io::Write;

use super::{MetricColumn, Row, Sink, COLUMNS};
use crate::model::catalogue::MetricKind;

pub struct Csv {
    out: Box<dyn Write + Send>,
    metrics: Vec<MetricColumn>,
    line: String,
}

impl Csv {
    /// With `bom`, the file starts with a UTF-8 byte-order mark, by which Excel on a Chinese
    /// Windows reads it as UTF-8 (without one it takes GBK and shows mojibake).
    pub fn new(
        mut out: Box<dyn Write + Send>,
        metrics: Vec<MetricColumn>,
        bom: bool,
    ) -> std::io::Result<Csv> {
        if bom {
            out.write_all("\u{feff}".as_bytes())?;
        }
        let mut line = String::new();
        let names = COLUMNS
            .iter()
            .copied()
            .chain(metrics.iter().map(|m| m.path.as_str()));
        for (i, name) in names.enumerate() {
            push_field(&mut line, i, name);
        }
        line.push_str("\r\n");
        out.write_all(line.as_bytes())?;
        Ok(Csv { out, metrics, line })
    }
}

/// Appends one field (after a comma unless it is the first), quoted when it must be.
pub(crate) fn push_field(line: &mut String, i: usize, text: &str) {
    if i > 0 {
        line.push(',');
    }
    if text.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}

/// A value as CSV text: counts as integers, amounts as the shortest decimal that reads back.
pub fn number_text(kind: MetricKind, v: f64) -> String {
    match kind {
        MetricKind::Count | MetricKind::SignedCount if v.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v}"),
    }
}

impl Sink for Csv {
    fn row(&mut self, row: &Row<'_>) -> std::io::Result<()> {
        self.line.clear();
        for i in 0..COLUMNS.len() {
            push_field(&mut self.line, i, &row.text(i));
        }
        for (metric, value) in self.metrics.iter().zip(&row.values) {
            self.line.push(',');
            if let Some(v) = value {
                self.line.push_str(&number_text(metric.kind, *v));
            }
        }
        self.line.push_str("\r\n");
        self.out.write_all(self.line.as_bytes())
    }

    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_must_be_quoted() {
        let mut line = String::new();
        for (i, f) in ["a", "b,c", "say \"hi\"", "two\nlines", ""]
            .iter()
            .enumerate()
        {
            push_field(&mut line, i, f);
        }
        assert_eq!(line, "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\",");
        assert_eq!(number_text(MetricKind::Count, 12.0), "12");
        assert_eq!(number_text(MetricKind::Amount, 12.5), "12.5");
        assert_eq!(number_text(MetricKind::Amount, 3.0), "3");
    }
}
