#!/usr/bin/env bash
# The deployment edge, side by side with the same Node app run directly on
# the host: added latency (wrk -c1), throughput (wrk -c32) for a hello-world
# handler and a 1 ms one; the cold start from zero instances to the first
# byte; a rollback and a redeploy under wrk load (failed requests counted).
# Usage: bench/edge.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
duration=${DURATION:-10s}
dir=$(mktemp -d)
chmod 0711 "$dir"
port=$((20000 + RANDOM % 10000))
direct=$((port + 1))
base="http://127.0.0.1:$port"
# The shared Go cache is not built meanwhile: minutes of compiling on both cores.
ECODE_GO_CACHE_PREWARM=false ECODE_DEPLOY_IDLE=2s ECODE_SANDBOX_CPUS=${CPUS:-1} "$bin" serve -addr "127.0.0.1:$port" -data-dir "$dir/data" -log-level error >/dev/null &
pid=$!
npid=
trap 'kill $pid $npid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do curl -sf "$base/api/monitoring/health" >/dev/null && break; sleep 0.05; done
api() { curl -sf -H "Cookie: $cookie" -H 'Content-Type: application/json' "$@"; }
cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' \
	"$base/api/auth/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(ecode_session=[^;]*\).*/\1/p')

hello='require("http").createServer((q, s) => s.end("hello from the app\n")).listen(process.env.PORT)'
slow='require("http").createServer((q, s) => setTimeout(() => s.end("hello after 1 ms\n"), 1)).listen(process.env.PORT)'

# project NAME CODE: a public autoscale project of one instance running CODE.
project() {
	local id
	id=$(api -d "{\"name\":\"$1\",\"visibility\":\"public\"}" "$base/api/projects" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
	echo "$2" | api -X PUT --data-binary @- "$base/api/projects/$id/files/index.js"
	printf 'run = "node index.js"\n\n[deployment]\ntarget = "autoscale"\nmaxInstances = 1\nconcurrency = 1000\n' |
		api -X PUT --data-binary @- "$base/api/projects/$id/files/ecode.toml"
	echo "$id"
}

# deploy ID: deploys and waits for the release to end; prints its id.
deploy() {
	local rid
	rid=$(api -d '{}' "$base/api/projects/$1/deployments" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
	api "$base/api/projects/$1/releases/$rid/log" >"$dir/log.txt"
	grep -q '"status":"ready"' "$dir/log.txt" || { echo "release $rid failed:" >&2; cat "$dir/log.txt" >&2; exit 1; }
	echo "$rid"
}

measure() { # NAME CODE
	local id host
	id=$(project "$1" "$2")
	deploy "$id" >/dev/null
	host="$(echo "$1" | tr 'A-Z ' 'a-z-')--bench.app.localhost:$port"
	PORT=$direct node -e "$2" &
	npid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$direct/" >/dev/null && break; sleep 0.05; done
	for c in 1 32; do
		echo "== $1: direct, -c$c"
		wrk -t$((c < 2 ? 1 : 2)) -c$c -d"$duration" --latency "http://127.0.0.1:$direct/" | grep -E 'Requests/sec|50%|99%'
		echo "== $1: through the edge, -c$c"
		wrk -t$((c < 2 ? 1 : 2)) -c$c -d"$duration" --latency -H "Host: $host" "$base/" | grep -E 'Requests/sec|50%|99%|Non-2xx'
	done
	kill $npid
	wait $npid 2>/dev/null || true
	npid=
}

measure "Edge Hello" "$hello"
measure "Edge Slow" "$slow"

echo "== cold start: zero instances to the first byte (ECODE_DEPLOY_IDLE=2s)"
id=$(project "Edge Cold" "$hello")
deploy "$id" >/dev/null
host="edge-cold--bench.app.localhost:$port"
for _ in 1 2 3 4 5; do
	for _ in $(seq 100); do
		api "$base/api/projects/$id/deployment/instances" | grep -q '"instances":\[\]' && break
		sleep 0.2
	done
	curl -s -o /dev/null -w '%{time_starttransfer}\n' -H "Host: $host" "$base/"
done

echo "== rollback and redeploy under load (wrk -c32, 10 s each)"
first=$(api "$base/api/projects/$id/deployment" | sed 's/.*"liveReleaseId":"\([^"]*\)".*/\1/')
echo "$hello // v2" | api -X PUT --data-binary @- "$base/api/projects/$id/files/index.js"
deploy "$id" >/dev/null
wrk -t2 -c32 -d10s -H "Host: $host" "$base/" >"$dir/rollback.txt" &
wpid=$!
sleep 3
curl -s -o /dev/null -w 'rollback took %{time_total} s\n' -X POST -H "Cookie: $cookie" "$base/api/projects/$id/releases/$first/promote"
wait $wpid
grep -E 'requests in|Non-2xx|Socket errors' "$dir/rollback.txt" || true
wrk -t2 -c32 -d15s -H "Host: $host" "$base/" >"$dir/redeploy.txt" &
wpid=$!
sleep 2
start=$(date +%s.%N)
deploy "$id" >/dev/null
echo "redeploy took $(awk "BEGIN{print $(date +%s.%N) - $start}") s"
wait $wpid
grep -E 'requests in|Non-2xx|Socket errors' "$dir/redeploy.txt" || true
