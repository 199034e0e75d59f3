//! Report to JSON: proto3 JSON (what grpcurl shows) and the flat `--facts` shape. PURE.

use std::sync::OnceLock;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::{json, Map, Value};

use crate::model::catalogue::{self, MetricKind, METRICS};
use crate::model::finding::severity_name;
use crate::model::form::template_name;
use crate::pb::{self, Report};

/// The descriptor pool of every nianbao proto (built once).
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).expect("descriptor set built by build.rs")
    })
}

/// Any generated message as proto3 JSON, by its full name (e.g. "nianbao.v1.Report").
pub fn proto_json<M: Message>(message: &M, full_name: &str) -> Value {
    let Some(desc) = pool().get_message_by_name(full_name) else {
        return Value::Null;
    };
    let Ok(dynamic) = DynamicMessage::decode(desc, message.encode_to_vec().as_slice()) else {
        return Value::Null;
    };
    let options = SerializeOptions::new().skip_default_fields(true);
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &options)
        .unwrap_or(Value::Null)
}

/// A report as proto3 JSON.
pub fn report_json(report: &Report) -> Value {
    proto_json(report, "nianbao.v1.Report")
}

/// A metric value as JSON: counts as integers, amounts as decimals (integers when whole).
pub fn number(kind: MetricKind, v: f64) -> Value {
    if kind != MetricKind::Amount || (v.fract() == 0.0 && v.abs() < 9e15) {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn optional_number(v: Option<f64>) -> Value {
    match v {
        Some(v) if v.fract() == 0.0 && v.abs() < 9e15 => json!(v as i64),
        Some(v) => json!(v),
        None => Value::Null,
    }
}

/// One line for people: the file, then the body, year, template, the document's kind, how
/// many figures were read and the findings by severity; or NOT A REPORT / UNREADABLE with the
/// reason ([`crate::read::refusal`], as ingest words it).
pub fn verdict(file: &str, kind: &str, report: &Report, refusal: Option<&str>) -> String {
    if let Some(why) = refusal {
        let (label, why) = match why.split_once(": ") {
            Some(("not a report", why)) => ("NOT A REPORT", why),
            Some(("unreadable", why)) => ("UNREADABLE", why),
            _ => ("REFUSED", why),
        };
        return format!("{file}: {label} ({kind}): {why}");
    }
    let figures = (0..METRICS.len())
        .filter(|&i| catalogue::get(report, i).is_some())
        .count();
    let count = |severity: pb::Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity as i32)
            .count()
    };
    let agency = if report.agency.is_empty() {
        "(agency not printed)"
    } else {
        &report.agency
    };
    let year = report
        .year
        .map_or_else(|| "(year not printed)".to_owned(), |y| y.to_string());
    format!(
        "{file}: {agency} {year}, template {}, {kind}: {figures} figures; {} errors, {} warnings, {} notes",
        template_name(report.template),
        count(pb::Severity::Error),
        count(pb::Severity::Warning),
        count(pb::Severity::Info),
    )
}

/// The `--facts` shape: agency, year, template, every present cell by path, findings.
pub fn facts_json(report: &Report) -> Value {
    let mut facts = Map::new();
    for (i, m) in METRICS.iter().enumerate() {
        if let Some(v) = catalogue::get(report, i) {
            facts.insert(m.path.to_owned(), number(m.kind, v));
        }
    }
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "code": f.code,
                "severity": severity_name(f.severity),
                "path": f.path,
                "expected": optional_number(f.expected),
                "actual": optional_number(f.actual),
                "message": f.message,
            })
        })
        .collect();
    json!({
        "agency": report.agency,
        "year": report.year,
        "template": template_name(report.template),
        "facts": facts,
        "findings": findings,
    })
}
