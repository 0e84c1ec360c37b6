#!/usr/bin/env bash
# Time from "create from template" to the preview answering, per template:
# cold (new project: a fresh sandbox installs its dependencies from the
# registry, with an empty npm cache inside) and warm (Run again: the
# dependencies are installed, the sandbox is up). Usage: bench/templates.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
dir=$(mktemp -d)
chmod 0711 "$dir"
port=$((20000 + RANDOM % 10000))
"$bin" serve -addr "127.0.0.1:$port" -data-dir "$dir/data" -log-level error >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/api/monitoring/health" >/dev/null && break; sleep 0.05; done
cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' \
	"http://127.0.0.1:$port/api/auth/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(ecode_session=[^;]*\).*/\1/p')
api() { curl -sf -H "Cookie: $cookie" -H 'Content-Type: application/json' "$@"; }
now() { date +%s.%N; }
# wait_preview HOST: until the app's page answers 200 (5 minutes at most)
wait_preview() {
	for _ in $(seq 3000); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$port/")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}
printf '%-16s %10s %10s\n' template cold warm
for t in html python node go express-api react-dashboard nextjs-blog; do
	start=$(now)
	id=$(api -d "{\"name\":\"t $t\",\"template\":\"$t\",\"visibility\":\"public\"}" "http://127.0.0.1:$port/api/projects" | sed 's/.*"id":"\([^"]*\)".*/\1/')
	api -X POST "http://127.0.0.1:$port/api/projects/$id/run" >/dev/null
	host="t-$t--bench.localhost:$port"
	wait_preview "$host" || { echo "$t: no preview"; continue; }
	cold=$(awk "BEGIN{print $(now) - $start}")
	api -X POST "http://127.0.0.1:$port/api/projects/$id/stop" >/dev/null
	start=$(now)
	api -X POST "http://127.0.0.1:$port/api/projects/$id/run" >/dev/null
	wait_preview "$host" || { echo "$t: no preview on the second run"; continue; }
	warm=$(awk "BEGIN{print $(now) - $start}")
	api -X POST "http://127.0.0.1:$port/api/projects/$id/stop" >/dev/null
	printf '%-16s %9.2fs %9.2fs\n' "$t" "$cold" "$warm"
done
