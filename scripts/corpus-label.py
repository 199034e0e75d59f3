#!/usr/bin/env python3
"""Writes an expected file of tests/corpus/real/ from a hand-written spec, and checks its arithmetic.

usage: scripts/corpus-label.py SPEC.json...   (specs live in tests/corpus/real/spec/)

The expected file is written beside the spec's folder: SPEC_DIR/../expected/NAME.json.

A spec is what a person reads off the text, in table order, so that no cell is typed twice:

  {"file": "NAME.txt", "source": "URL or repo:path", "layout": "pipe-cells",
   "agency_contains": "...", "year": 2021, "template": "2021",
   "proactive": {"regulations.issued": 0, ...},        # paths under proactive., as printed
   "table3": [[7 numbers or null], ...],               # rows in the official order; fewer rows if cut
   "table4": [15 numbers or null] or null,
   "narrative": {"overview.applications_received": 3},  # only figures the text states exactly
   "optional": {...}, "issues": [{"path_prefix": "...", "why": "..."}],
   "complete": ["proactive", "applications", "review"]}  # tables whose every unlisted cell is absent

Every cell of a table named in `complete` that is neither in the facts nor optional is written to
`absent`: the text does not give it (blank, cut off, image), so the parser must leave it unset.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "tools"))
here = os.path.dirname(os.path.abspath(__file__))

COLUMNS = ["natural_person", "commercial_enterprise", "research_institution",
           "social_welfare_org", "legal_service_org", "other_org", "total"]
WITHHELD = ["state_secret", "prohibited_by_law", "security_stability", "third_party_rights",
            "internal_affairs", "process_information", "enforcement_case_file", "administrative_query"]
UNAVAILABLE = ["not_held", "needs_creation", "unclear_after_correction"]
NOT_PROCESSED = ["complaint_petition", "repeated_application", "publication_request",
                 "mass_repetitive", "reconfirmation"]
OTHER_2021 = ["overdue_correction", "unpaid_fee", "other"]
GROUPS = ["review", "litigation_direct", "litigation_after_review"]
DISPOSITION = ["upheld", "corrected", "other", "pending", "total"]
PROACTIVE = {
    "2019": ["regulations.new_made", "regulations.new_published", "regulations.total_published",
             "normative_documents.new_made", "normative_documents.new_published",
             "normative_documents.total_published",
             "licensing.previous", "licensing.change", "licensing.decisions",
             "other_services.previous", "other_services.change", "other_services.decisions",
             "penalty.previous", "penalty.change", "penalty.decisions",
             "enforcement.previous", "enforcement.change", "enforcement.decisions",
             "fees.previous", "fees.change", "procurement.projects", "procurement.amount_wan_yuan"],
    "2021": ["regulations.issued", "regulations.repealed", "regulations.in_force",
             "normative_documents.issued", "normative_documents.repealed", "normative_documents.in_force",
             "licensing.decisions", "penalty.decisions", "enforcement.decisions", "fees.amount_wan_yuan"],
}


def table3_rows(template):
    rows = ["new_received", "carried_over", "disclosed", "partially_disclosed"]
    rows += ["withheld." + r for r in WITHHELD] + ["unavailable." + r for r in UNAVAILABLE]
    rows += ["not_processed." + r for r in NOT_PROCESSED]
    rows += ["other_handling.total"] if template == "2019" else ["other_handling." + r for r in OTHER_2021]
    return ["applications." + r for r in rows + ["closed_total", "carried_forward"]]


def build(spec):
    t = spec.get("template")
    if t not in ("2019", "2021"):
        t = None  # no table header in the text: no cell of either format may be stated
    facts = {}
    for k, v in (spec.get("proactive") or {}).items():
        full = "proactive." + k
        if t and k not in PROACTIVE[t]:
            sys.exit(f"{spec['file']}: {full} is not a {t} catalogue cell")
        facts[full] = v
    rows = table3_rows(t or "2021")
    t3 = spec.get("table3") or []
    if len(t3) > len(rows):
        sys.exit(f"{spec['file']}: {len(t3)} table-三 rows, the {t} format has {len(rows)}")
    for name, vals in zip(rows, t3):
        if len(vals) != 7:
            sys.exit(f"{spec['file']}: row {name} has {len(vals)} cells, not 7")
        for col, v in zip(COLUMNS, vals):
            if v is not None:
                facts[f"{name}.{col}"] = v
    t4 = spec.get("table4")
    if t4 is not None:
        if len(t4) != 15:
            sys.exit(f"{spec['file']}: table 四 has {len(t4)} cells, not 15")
        for i, v in enumerate(t4):
            if v is not None:
                facts[f"{GROUPS[i // 5]}.{DISPOSITION[i % 5]}"] = v
    facts.update(spec.get("narrative") or {})
    optional = spec.get("optional") or {}
    absent = []
    complete = spec.get("complete", [])
    every = []
    for fmt in [t] if t else ["2019", "2021"]:
        if "proactive" in complete:
            every += ["proactive." + p for p in PROACTIVE[fmt]]
        if "applications" in complete:
            every += [f"{r}.{c}" for r in table3_rows(fmt) for c in COLUMNS]
    if "review" in complete:
        every += [f"{g}.{d}" for g in GROUPS for d in DISPOSITION]
    absent = sorted({p for p in every if p not in facts and p not in optional})
    out = {k: spec[k] for k in ("file", "source", "layout", "agency_contains", "year", "template")
           if spec.get(k) is not None}
    out.update(facts=facts, optional=optional, absent=absent, issues=spec.get("issues", []))
    if "note" in spec:
        out["note"] = spec["note"]
    return out, rows


def check(d, rows):
    f = dict(d["facts"])
    f.update(d.get("optional", {}))
    bad = []
    for r in rows:
        v = [f.get(f"{r}.{c}") for c in COLUMNS]
        if None not in v and sum(v[:6]) != v[6]:
            bad.append(f"row total {r}: {v}")
    for c in COLUMNS:
        parts = [f.get(f"{r}.{c}") for r in rows[2:-2]]
        closed = f.get(f"applications.closed_total.{c}")
        if None not in parts and closed is not None and sum(parts) != closed:
            bad.append(f"closed total {c}: sum {sum(parts)} vs {closed}")
        a, b, x, y = (f.get(f"applications.{k}.{c}") for k in ("new_received", "carried_over", "closed_total", "carried_forward"))
        if None not in (a, b, x, y) and a + b != x + y:
            bad.append(f"balance {c}: {a}+{b} != {x}+{y}")
    for g in GROUPS:
        v = [f.get(f"{g}.{k}") for k in DISPOSITION]
        if None not in v and sum(v[:4]) != v[4]:
            bad.append(f"{g} total: {v}")
    return bad


def main():
    status = 0
    for p in sys.argv[1:]:
        spec = json.load(open(p, encoding="utf-8"))
        doc, rows = build(spec)
        bad = check(doc, rows)
        noted = {i["path_prefix"] for i in doc["issues"]}
        unexplained = [b for b in bad if not noted]
        folder = os.path.join(os.path.dirname(os.path.abspath(p)), "..", "expected")
        os.makedirs(folder, exist_ok=True)
        target = os.path.join(folder, os.path.splitext(spec["file"])[0] + ".json")
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.write("\n")
        print(f"{spec['file']}: {len(doc['facts'])} facts, {len(doc['absent'])} absent; "
              + ("rules hold" if not bad else "RULES FAIL: " + "; ".join(bad)
                 + ("" if not unexplained else "  <- record the document's own error under issues")))
        if unexplained:
            status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
