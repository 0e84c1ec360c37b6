#!/usr/bin/env bash
# Auto-grading: a burst of 100 submissions of a small Python (pytest) and a
# small Node (node --test) assignment, three visible and three hidden tests
# each, from 100 students at once, on a fresh server over SQLite and over
# PostgreSQL; throughput and submit→score times.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/ecode}
. bench/lib.sh
# Each student signs up from an address of its own (sign-ups are limited
# per address).
export ECODE_TRUSTED_PROXIES=127.0.0.1/32
burst() {
	echo "### $1"
	start_server "$bin"
	for runner in pytest node; do
		go run ./bench/grading -base "$base" -runner "$runner" -n "${N:-100}"
	done
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
burst "SQLite (the default)"
db=ecode_bench_grading
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
ECODE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" burst "PostgreSQL 127.0.0.1:5432"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db"
