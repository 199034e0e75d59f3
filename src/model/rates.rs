//! The rates of domain.md over sums of catalogue metrics. PURE.

use crate::pb;

/// Aggregate's request for a ranking of the `group_by` groups by `order` (a metric path, a
/// rate name or `reports`), largest first unless not `descending`, with the `also` metrics
/// beside it: only the rate it orders by is computed, or none. The one place the command
/// line and the ranking page build such a request.
pub fn ranking_request(
    order: &str,
    also: &[String],
    group_by: Vec<String>,
    filter: pb::Filter,
    descending: bool,
    limit: u32,
) -> pb::AggregateRequest {
    let is_rate = RATES.iter().any(|r| r.name == order);
    let mut metrics = also.to_vec();
    if crate::model::catalogue::index_of(order).is_some() && !metrics.iter().any(|m| m == order) {
        metrics.insert(0, order.to_owned());
    }
    pb::AggregateRequest {
        metrics,
        group_by,
        filter: Some(filter),
        rates: if is_rate {
            vec![order.to_owned()]
        } else {
            Vec::new()
        },
        sums_only: !is_rate,
        order_by: order.to_owned(),
        descending,
        limit,
        ..Default::default()
    }
}

/// A rate of domain.md: sum of numerator paths over (signed) sum of denominator paths.
pub struct RateDef {
    pub name: &'static str,
    pub numerator: &'static [&'static str],
    pub denominator: &'static [(f64, &'static str)],
}

/// Below this denominator a rate is noisy (domain.md: about 30 closed applications).
const SMALL_SAMPLE: f64 = 30.0;

pub const RATES: &[RateDef] = &[
    RateDef {
        name: "disclosure_rate",
        numerator: &[
            "applications.disclosed.total",
            "applications.partially_disclosed.total",
        ],
        denominator: &[(1.0, "applications.closed_total.total")],
    },
    RateDef {
        name: "not_held_rate",
        numerator: &["applications.unavailable.not_held.total"],
        denominator: &[(1.0, "applications.closed_total.total")],
    },
    RateDef {
        name: "review_correction_rate",
        numerator: &["review.corrected"],
        denominator: &[(1.0, "review.total"), (-1.0, "review.pending")],
    },
    RateDef {
        name: "litigation_direct_correction_rate",
        numerator: &["litigation_direct.corrected"],
        denominator: &[
            (1.0, "litigation_direct.total"),
            (-1.0, "litigation_direct.pending"),
        ],
    },
    RateDef {
        name: "litigation_after_review_correction_rate",
        numerator: &["litigation_after_review.corrected"],
        denominator: &[
            (1.0, "litigation_after_review.total"),
            (-1.0, "litigation_after_review.pending"),
        ],
    },
    RateDef {
        name: "dispute_rate",
        numerator: &["review.total", "litigation_direct.total"],
        denominator: &[(1.0, "applications.new_received.total")],
    },
];

impl RateDef {
    pub fn definition(&self) -> String {
        let den: Vec<String> = self
            .denominator
            .iter()
            .enumerate()
            .map(|(i, (sign, p))| match (i, *sign < 0.0) {
                (0, _) => (*p).to_owned(),
                (_, true) => format!("- {p}"),
                (_, false) => format!("+ {p}"),
            })
            .collect();
        format!("({}) / ({})", self.numerator.join(" + "), den.join(" "))
    }

    pub fn to_rate(&self, numerator: f64, denominator: f64, reports: u64) -> pb::Rate {
        pb::Rate {
            name: self.name.to_owned(),
            value: (denominator != 0.0).then(|| numerator / denominator),
            numerator,
            denominator,
            definition: self.definition(),
            reports,
            small_sample: denominator < SMALL_SAMPLE,
        }
    }
}
