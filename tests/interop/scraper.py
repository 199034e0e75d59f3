"""A scraper written against the protos with grpcio-tools: streams every corpus file over the
bidirectional Ingest, checks each acknowledgement, then queries an aggregate. With --twice, it
instead sends one corpus file twice in one stream (scrapers save the same page under two
names), as a client without retries: the stream must complete with an answer for each copy,
STORED then DUPLICATE, the same id (the SHA-256 of the bytes), each tag echoed.

Usage: python scraper.py ADDRESS CORPUS_DIR GENERATED_DIR [--twice NAME]
Prints one JSON line with what it checked; exits non-zero on any mismatch.
"""
import hashlib
import json
import os
import sys

address, corpus, generated = sys.argv[1], sys.argv[2], sys.argv[3]
twice = sys.argv[5] if sys.argv[4:5] == ["--twice"] else None
sys.path.insert(0, generated)

import grpc  # noqa: E402
from nianbao.v1 import report_pb2, service_pb2, service_pb2_grpc  # noqa: E402,F401


def stream_twice(channel, name):
    with open(os.path.join(corpus, name), "rb") as f:
        content = f.read()
    tags = [f"{name}#1", f"{name}#2"]
    documents = (service_pb2.Document(content=content, source=name, tag=t) for t in tags)
    # One call, no retries: it returns only when the server ends the stream cleanly.
    answers = list(service_pb2_grpc.IngestServiceStub(channel).Ingest(documents))
    problems = []
    if [a.tag for a in answers] != tags:
        problems.append(f"tags {[a.tag for a in answers]}, want {tags}")
    want = [service_pb2.OUTCOME_STORED, service_pb2.OUTCOME_DUPLICATE]
    if [a.outcome for a in answers] != want:
        problems.append(f"outcomes {[a.outcome for a in answers]}, want {want}")
    sha = hashlib.sha256(content).hexdigest()
    if [a.id for a in answers] != [sha, sha]:
        problems.append(f"ids {[a.id for a in answers]}, want {sha} twice")
    return {
        "answers": len(answers),
        "outcomes": [service_pb2.Outcome.Name(a.outcome) for a in answers],
        "ids": [a.id for a in answers],
        "tags": [a.tag for a in answers],
        "problems": problems,
    }


if twice:
    checked = stream_twice(grpc.insecure_channel(address), twice)
    print(json.dumps(checked, ensure_ascii=False))
    sys.exit(1 if checked["problems"] else 0)

files = sorted(f for f in os.listdir(corpus) if f.endswith(".txt"))
expected = {}
for name in os.listdir(os.path.join(corpus, "expected")):
    exp = json.load(open(os.path.join(corpus, "expected", name), encoding="utf-8"))
    expected[exp["file"]] = exp


def documents():
    for name in files:
        with open(os.path.join(corpus, name), "rb") as f:
            yield service_pb2.Document(content=f.read(), source=name, tag=name)


channel = grpc.insecure_channel(address)
ingest = service_pb2_grpc.IngestServiceStub(channel)
answers = list(ingest.Ingest(documents()))
problems = []
if [a.tag for a in answers] != files:
    problems.append(f"answers out of order or missing: {[a.tag for a in answers]}")
seen_bodies = {}
for a in answers:
    exp = expected[a.tag]
    body = (a.agency, a.year)
    # A second document of a body and year reads the same figures here: a rendition.
    want = service_pb2.OUTCOME_RENDITION if body in seen_bodies else service_pb2.OUTCOME_STORED
    seen_bodies[body] = a.tag
    if a.outcome != want:
        problems.append(f"{a.tag}: outcome {a.outcome}, want {want} ({a.reason})")
    if exp["agency_contains"] not in a.agency or a.year != exp["year"]:
        problems.append(f"{a.tag}: agency {a.agency!r} year {a.year}")
    if len(a.id) != 64:
        problems.append(f"{a.tag}: id {a.id!r}")

# The aggregate over the latest revision of each body and year.
latest = {}
for a in answers:
    latest[(a.agency, a.year)] = a.tag
want_sum = sum(expected[t]["facts"].get("applications.new_received.total", 0) for t in latest.values())
reports = service_pb2_grpc.ReportServiceStub(channel)
agg = reports.Aggregate(service_pb2.AggregateRequest(metrics=["applications.new_received.total"]))
got_sum = agg.groups[0].sums[0].sum if agg.groups else None
if got_sum != want_sum:
    problems.append(f"aggregate new_received.total {got_sum}, want {want_sum}")

print(json.dumps({"answers": len(answers), "aggregate": got_sum, "problems": problems}, ensure_ascii=False))
sys.exit(1 if problems else 0)
