#!/usr/bin/env bash
# The ledger's figures on SQLite and PostgreSQL (when it answers at
# $ECODE_TEST_POSTGRES_URL or the default test server): postings/s one per
# transaction (one caller and eight), 100 per transaction (the rating
# job's shape), and a balance read and a statement page with a million
# transfers. Usage: bench/ledger.sh [count, default 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
go test -run '^$' -bench . -benchtime "${n}x" -v ./internal/ledger |
	grep -E '^Benchmark|loaded in|reconciled|^ok|FAIL'
