#!/usr/bin/env python3
"""The DuckDB side of the system benchmark (benches/system): loads the facts CSV into an
in-memory table, runs the benchmark's five group-bys (two of them rankings) 300 times each and prints, per query,
p50 and p99 in milliseconds and the answer, as JSON.

usage: duckdb_compare.py FACTS.csv PROVINCE AGENCY
"""
import json
import sys
import time

import duckdb

csv, province, agency = sys.argv[1:4]
con = duckdb.connect()
con.execute(
    "CREATE TABLE r AS SELECT * FROM read_csv(?, header = true, columns = {"
    "'agency': 'VARCHAR', 'year': 'INTEGER', 'province': 'VARCHAR', 'city': 'VARCHAR', "
    "'new_received': 'DOUBLE', 'disclosed': 'DOUBLE', 'partially_disclosed': 'DOUBLE', "
    "'closed_total': 'DOUBLE'})",
    [csv],
)

QUERIES = {
    "new applications by year, everything": (
        "SELECT CAST(year AS VARCHAR), coalesce(sum(new_received), 0) FROM r "
        "GROUP BY year ORDER BY 1",
        [],
    ),
    "disclosure rate by city, one province": (
        # Like nianbao's rate: over the reports that print all three figures.
        "SELECT city, sum(disclosed + partially_disclosed) FILTER (WHERE closed_total IS NOT NULL)"
        " / sum(closed_total) FILTER (WHERE disclosed + partially_disclosed IS NOT NULL) "
        # nianbao leaves out the reports of no city unless include_unplaced is set.
        "FROM r WHERE province = ? AND city IS NOT NULL GROUP BY city ORDER BY city",
        [province],
    ),
    "top 20 agencies by new applications, everything": (
        "SELECT agency, coalesce(sum(new_received), 0) AS s FROM r "
        "GROUP BY agency ORDER BY s DESC, agency LIMIT 20",
        [],
    ),
    "top 10 cities by disclosure rate, at least 30 reports": (
        "SELECT city, sum(disclosed + partially_disclosed) FILTER (WHERE closed_total IS NOT NULL)"
        " / sum(closed_total) FILTER (WHERE disclosed + partially_disclosed IS NOT NULL) AS v "
        "FROM r WHERE city IS NOT NULL GROUP BY city HAVING count(*) >= 30 "
        "ORDER BY v DESC NULLS LAST, city LIMIT 10",
        [],
    ),
    "one agency across its years": (
        "SELECT CAST(year AS VARCHAR), coalesce(sum(new_received), 0) FROM r "
        "WHERE contains(agency, ?) GROUP BY year ORDER BY 1",
        [agency],
    ),
}

out = {}
for name, (sql, params) in QUERIES.items():
    times = []
    answer = None
    for _ in range(300):
        t = time.perf_counter()
        answer = con.execute(sql, params).fetchall()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    pick = lambda q: times[round((len(times) - 1) * q)]
    out[name] = {
        "p50_ms": pick(0.5),
        "p99_ms": pick(0.99),
        "answer": [[k, None if v is None else float(v)] for k, v in answer],
    }
print(json.dumps(out))
