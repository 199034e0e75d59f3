//! JSON lines: one object per report, its keys in a fixed order (`id` first, the fixed columns,
//! then one key per metric in the catalogue's order); null where the report has no value (no
//! agency, place or date; a metric it does not print); counts are integers, as in `nianbao
//! parse --facts`.

use std::io::Write;

use serde_json::Value;

use super::{MetricColumn, Row, Sink, COLUMNS};

pub struct Jsonl {
    out: Box<dyn Write + Send>,
    metrics: Vec<MetricColumn>,
}

impl Jsonl {
    pub fn new(out: Box<dyn Write + Send>, metrics: Vec<MetricColumn>) -> Jsonl {
        Jsonl { out, metrics }
    }
}

impl Sink for Jsonl {
    fn row(&mut self, row: &Row<'_>) -> std::io::Result<()> {
        let r = row.row;
        // Written key by key: a JSON map would sort the keys.
        let mut line = String::from("{");
        let field = |line: &mut String, key: &str, value: Value| {
            if line.len() > 1 {
                line.push(',');
            }
            line.push_str(&Value::from(key).to_string());
            line.push(':');
            line.push_str(&value.to_string());
        };
        for (i, name) in COLUMNS.iter().enumerate() {
            let value = match *name {
                "year" => r.year.map_or(Value::Null, Value::from),
                "latest" => Value::from(r.latest),
                "errors" => Value::from(r.errors),
                "warnings" => Value::from(r.warnings),
                "infos" => Value::from(r.infos),
                "compliance_score" | "compliance_coverage" => {
                    row.double(i).map_or(Value::Null, Value::from)
                }
                _ => match row.text(i) {
                    text if text.is_empty() => Value::Null,
                    text => Value::from(text.into_owned()),
                },
            };
            field(&mut line, name, value);
        }
        for (metric, value) in self.metrics.iter().zip(&row.values) {
            let value = value.map_or(Value::Null, |v| crate::output::number(metric.kind, v));
            field(&mut line, &metric.path, value);
        }
        line.push_str("}\n");
        self.out.write_all(line.as_bytes())
    }

    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.out.flush()
    }
}
