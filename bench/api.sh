#!/usr/bin/env bash
# Authenticated GET /api/projects throughput with wrk, on SQLite and on
# PostgreSQL (when it answers at $PGURL). Usage: bench/api.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
duration=${DURATION:-10s}
conns=${CONNS:-32}
pgurl=${PGURL:-postgres://postgres@127.0.0.1:5432/ecode_bench?sslmode=disable}

run_one() { # engine database-url
	local engine=$1 dburl=$2 dir port pid cookie
	dir=$(mktemp -d)
	port=$((20000 + RANDOM % 10000))
	ECODE_DATABASE_URL=$dburl "$bin" serve -addr "127.0.0.1:$port" -data-dir "$dir" -log-level ${LOGLEVEL:-error} &
	pid=$!
	trap 'kill $pid 2>/dev/null; rm -rf "$dir"' RETURN
	for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/api/monitoring/health" >/dev/null && break; sleep 0.05; done
	cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
		-d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' \
		"http://127.0.0.1:$port/api/auth/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(ecode_session=[^;]*\).*/\1/p')
	for i in $(seq 10); do
		curl -sf -o /dev/null -H "Cookie: $cookie" -H 'Content-Type: application/json' -d "{\"name\":\"Project $i\"}" \
			"http://127.0.0.1:$port/api/projects"
	done
	echo "== $engine: wrk -t2 -c$conns -d$duration, GET /api/projects (10 projects, session cookie)"
	wrk -t2 -c"$conns" -d"$duration" --latency -H "Cookie: $cookie" "http://127.0.0.1:$port/api/projects" |
		grep -E 'Requests/sec|Latency|50%|99%|Non-2xx'
}

run_one sqlite ""
if psql "${pgurl%/*}/postgres" -qtc "DROP DATABASE IF EXISTS ecode_bench" -c "CREATE DATABASE ecode_bench" >/dev/null 2>&1; then
	run_one postgres "$pgurl"
	psql "${pgurl%/*}/postgres" -qtc "DROP DATABASE IF EXISTS ecode_bench" >/dev/null 2>&1 || true
else
	echo "== postgres: not reachable at $pgurl, skipped"
fi
