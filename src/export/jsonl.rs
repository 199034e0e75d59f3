//! JSON lines: one object per report, the fixed columns then one key per metric (null where
//! the report does not print it); counts are integers, as in `nianbao parse --facts`.

use std::io::Write;

use serde_json::{Map, Value};

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
        let mut object = Map::new();
        for (i, name) in COLUMNS.iter().enumerate() {
            let value = match *name {
                "year" => r.year.map_or(Value::Null, Value::from),
                "latest" => Value::from(r.latest),
                "errors" => Value::from(r.errors),
                "warnings" => Value::from(r.warnings),
                "infos" => Value::from(r.infos),
                _ => Value::from(row.text(i).into_owned()),
            };
            object.insert((*name).to_owned(), value);
        }
        for (metric, value) in self.metrics.iter().zip(&row.values) {
            let value = value.map_or(Value::Null, |v| crate::output::number(metric.kind, v));
            object.insert(metric.path.clone(), value);
        }
        serde_json::to_writer(&mut self.out, &Value::Object(object))?;
        self.out.write_all(b"\n")
    }

    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.out.flush()
    }
}
