#!/usr/bin/env python3
"""Scores `nianbao parse --facts` against ../shared/corpus/expected (or a given corpus dir).

Usage: scripts/score_corpus.py [CORPUS_DIR] [NIANBAO_BIN]
Prints one line per file and exits non-zero when any check fails.
"""
import json, os, subprocess, sys

corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "corpus")
binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/nianbao"
failed = 0
totals = [0, 0]
for name in sorted(os.listdir(os.path.join(corpus, "expected"))):
    exp = json.load(open(os.path.join(corpus, "expected", name)))
    out = subprocess.run([binary, "parse", "--facts", os.path.join(corpus, exp["file"])], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    errs = []
    for path, want in exp["facts"].items():
        have = got["facts"].get(path)
        totals[1] += 1
        if have is None or abs(have - want) > 1e-9:
            errs.append(f"fact {path}: want {want} got {have}")
        else:
            totals[0] += 1
    for path, want in exp.get("optional", {}).items():
        have = got["facts"].get(path)
        if have is not None and abs(have - want) > 1e-9:
            errs.append(f"optional {path}: want {want} got {have}")
    for path in exp.get("absent", []):
        if path in got["facts"]:
            errs.append(f"absent {path}: got {got['facts'][path]}")
    for issue in exp.get("issues", []):
        if not any(f["path"].startswith(issue["path_prefix"]) for f in got["findings"]):
            errs.append(f"issue {issue['path_prefix']} not reported ({issue['why']})")
    if exp.get("agency_contains") and exp["agency_contains"] not in (got.get("agency") or ""):
        errs.append(f"agency {got.get('agency')!r} lacks {exp['agency_contains']!r}")
    if exp.get("year") != got.get("year"):
        errs.append(f"year want {exp.get('year')} got {got.get('year')}")
    if exp.get("template") != got.get("template"):
        errs.append(f"template want {exp.get('template')} got {got.get('template')}")
    print(f"{'ok  ' if not errs else 'FAIL'} {exp['file']}: {len(errs)} problems")
    for e in errs[:25]:
        print("     ", e)
    failed += bool(errs)
print(f"facts read exactly: {totals[0]}/{totals[1]}; files passing: {len(os.listdir(os.path.join(corpus, 'expected'))) - failed}")
sys.exit(1 if failed else 0)
