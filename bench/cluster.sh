#!/usr/bin/env bash
# Two servers of one cluster (one PostgreSQL database, one data dir, NATS with
# JetStream on 127.0.0.1:4222): wrk reads a project's file through the server
# holding the project, then through the other one, which forwards each
# request (signed) to the first.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/ecode}
db=ecode_bench_cluster
dir=$(mktemp -d)
chmod 0711 "$dir"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" 2>/dev/null' EXIT
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
serve() { # serve ID PORT
	ECODE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" ECODE_GO_CACHE_PREWARM=false \
		ECODE_NATS_URL=nats://127.0.0.1:4222 ECODE_NATS_STREAM="BENCH_$1" ECODE_SERVER_ID="$1" ECODE_PEER_URL="http://127.0.0.1:$2" \
		"$bin" serve -addr "127.0.0.1:$2" -data-dir "$dir/data" -log-level error > /dev/null &
	pids+=($!)
	for _ in $(seq 200); do curl -sf "http://127.0.0.1:$2/api/monitoring/health" > /dev/null && break; sleep 0.05; done
}
a=$((20000 + RANDOM % 10000))
b=$((a + 1))
serve a "$a"
serve b "$b"
cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' \
	"http://127.0.0.1:$a/api/auth/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(ecode_session=[^;]*\).*/\1/p')
api() { curl -sf -H "Cookie: $cookie" -H 'Content-Type: application/json' "$@"; }
project=$(api -d '{"name":"bench-cluster","template":"html"}' "http://127.0.0.1:$a/api/projects" | jq -r .project.id)
curl -sf -H "Cookie: $cookie" -X PUT --data-binary 'hello from the holder' "http://127.0.0.1:$a/api/projects/$project/files/hello.txt" > /dev/null
path="/api/projects/$project/files/hello.txt"
for server in "a (holds the project) $a" "b (forwards to a) $b"; do
	port=${server##* }
	echo "### through ${server% *}"
	wrk -t 1 -c 8 -d 3s -H "Cookie: $cookie" "http://127.0.0.1:$port$path" > /dev/null # warm
	wrk -t 1 -c ${CONNS:-8} -d 10s --latency -H "Cookie: $cookie" "http://127.0.0.1:$port$path" | grep -E 'Requests/sec|Non-2xx|50%|99%|errors'
done
