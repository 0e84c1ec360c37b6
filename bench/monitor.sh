#!/usr/bin/env bash
# Monitoring ingest: batches of 200 events (BATCH=500 for the largest the API takes) (the SDK's mix) posted by wrk to
# POST /api/monitoring/event with a project's ingest key, over SQLite and
# over PostgreSQL; events/s = requests/s × the batch. The per-client rate limit is
# raised so the server, not the limiter, is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/ecode}
. bench/lib.sh
work=$(mktemp -d)
batch=${BATCH:-200}
python3 bench/monitor/batch.py "$batch" > "$work/batch.json"
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
local f = io.open("$work/batch.json"); wrk.body = f:read("*a"); f:close()
done = function(summary, latency, requests)
  io.write(string.format("events/s: %.0f  (non-2xx or errors: %d)\n",
    summary.requests / (summary.duration / 1e6) * $batch, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
ingest() {
	local label=$1
	start_server "$bin"
	local project key
	project=$(api -d '{"name":"bench-monitor","template":"html"}' "$base/api/projects" | jq -r .project.id)
	key=$(api "$base/api/projects/$project/monitoring" | jq -r .ingestKey)
	echo "### $label"
	wrk -t 2 -c 4 -d 3s -s "$work/post.lua" "$base/api/monitoring/event?key=$key" > /dev/null # warm
	wrk -t 1 -c ${CONNS:-4} -d 15s --latency -s "$work/post.lua" "$base/api/monitoring/event?key=$key" | grep -E 'Requests/sec|events/s|50%|99%'
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
export ECODE_MONITOR_EVENTS_PER_SECOND=100000000
ingest "SQLite (the default)"
db=ecode_bench_monitor
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
ECODE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" ingest "PostgreSQL 127.0.0.1:5432"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db"
rm -rf "$work"
