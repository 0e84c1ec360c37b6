#!/usr/bin/env bash
# The shared Go build cache, in one server with a fresh data dir: seconds from
# Run pressed to the preview's first 200 for Go-template projects.
#   prewarm:      from the server's start until the shared cache is built (it
#                 builds by itself, at low priority, once per server and toolchain)
#   first, second: two new projects' first Runs once the shared cache is there
#   off first:    a new project whose ecode.toml sets GOCACHEPROG = "" and runs
#                 `go run .`: its go command compiles the standard library itself
#                 and caches the executable, as before the shared cache
#   warm second:  Run pressed again on a project with nothing changed, its sandbox
#                 up: the template builds with `go build -o`, which links again
#                 only when the code changed
#   warm gorun:   the same with `run = "go run ."`, which links on every Run when
#                 the cache program serves the go command
#   warm off:     the same for the project without the cache program
# Warm figures are the median of 9, the three kinds taken in turn.
# Usage: bench/gocache.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
dir=$(mktemp -d)
chmod 0711 "$dir"
port=$((20000 + RANDOM % 10000))
now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.2f\", $(now) - $1}"; }
started=$(now)
"$bin" serve -addr "127.0.0.1:$port" -data-dir "$dir/data" -log-level error >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/api/monitoring/health" >/dev/null && break; sleep 0.05; done
cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' \
	"http://127.0.0.1:$port/api/auth/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(ecode_session=[^;]*\).*/\1/p')
api() { curl -sf -H "Cookie: $cookie" -H 'Content-Type: application/json' "$@"; }

until [ -f "$dir/data/toolcache/go/toolchain" ]; do
	kill -0 $pid || { echo "server exited" >&2; exit 1; }
	[ "$(since "$started" | cut -d. -f1)" -lt 900 ] || { echo "no shared cache after 15 min" >&2; exit 1; }
	sleep 0.2
done
printf '%-14s %8ss\n' prewarm "$(since "$started")"

# create NAME [ECODE_TOML]: a new public Go-template project; prints its id
create() {
	local id
	id=$(api -d "{\"name\":\"$1\",\"template\":\"go\",\"visibility\":\"public\"}" "http://127.0.0.1:$port/api/projects" | sed 's/.*"id":"\([^"]*\)".*/\1/')
	[ -n "${2:-}" ] && api -X PUT --data-binary "$2" "http://127.0.0.1:$port/api/projects/$id/files/ecode.toml" >/dev/null
	echo "$id"
}

# run NAME ID: presses Run, prints seconds to the preview's first 200, stops the run
run() {
	local start code
	start=$(now)
	api -X POST "http://127.0.0.1:$port/api/projects/$2/run" >/dev/null
	for _ in $(seq 30000); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $1--bench.localhost:$port" "http://127.0.0.1:$port/")
		[ "$code" = 200 ] && break
		sleep 0.01
	done
	if [ "$code" = 200 ]; then since "$start"; else echo "failed($code)"; fi
	api -X POST "http://127.0.0.1:$port/api/projects/$2/stop" >/dev/null
}

first=$(create first)
printf '%-14s %8ss\n' first "$(run first "$first")"
second=$(create second)
printf '%-14s %8ss\n' second "$(run second "$second")"
gorun=$(create gorun $'run = "go run ."\n')
run gorun "$gorun" >/dev/null
off=$(create off $'run = "go run ."\n[env]\nGOCACHEPROG = ""\n')
printf '%-14s %8ss\n' 'off first' "$(run off "$off")"

# Warm Runs, the three kinds taken in turn so that the machine's load falls
# on each alike; the median of 9 each.
for _ in $(seq 9); do
	for p in second gorun off; do
		echo "$(run $p "${!p}")" >>"$dir/warm-$p"
	done
done
for p in second gorun off; do
	printf '%-14s %8ss\n' "warm $p" "$(sort -n "$dir/warm-$p" | sed -n 5p)"
done
