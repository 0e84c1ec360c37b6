#!/usr/bin/env bash
# Preview proxy throughput and added latency: wrk against a Node app through
# the preview proxy (host → agent → app in the sandbox) and against the same
# app run directly on the host. Usage: bench/preview.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
duration=${DURATION:-10s}
dir=$(mktemp -d)
chmod 0711 "$dir"
port=$((20000 + RANDOM % 10000))
direct=$((port + 1))
app='require("http").createServer((q, s) => s.end("hello from the app\n")).listen(process.env.PORT, "127.0.0.1")'
# The shared Go cache is not built meanwhile: minutes of compiling on both cores.
ECODE_GO_CACHE_PREWARM=false "$bin" serve -addr "127.0.0.1:$port" -data-dir "$dir/data" -log-level error >/dev/null &
pid=$!
trap 'kill $pid $npid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/api/monitoring/health" >/dev/null && break; sleep 0.05; done
api() { curl -sf -H "Cookie: $cookie" -H 'Content-Type: application/json' "$@"; }
cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' \
	"http://127.0.0.1:$port/api/auth/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(ecode_session=[^;]*\).*/\1/p')
id=$(api -d '{"name":"Preview Bench","visibility":"public"}' "http://127.0.0.1:$port/api/projects" | sed 's/.*"id":"\([^"]*\)".*/\1/')
echo "$app" | api -X PUT --data-binary @- "http://127.0.0.1:$port/api/projects/$id/files/index.js"
printf 'run = "node index.js"\n' | api -X PUT --data-binary @- "http://127.0.0.1:$port/api/projects/$id/files/ecode.toml"
api -X POST "http://127.0.0.1:$port/api/projects/$id/run" >/dev/null
host="preview-bench--bench.localhost:$port"
for _ in $(seq 200); do curl -sf -H "Host: $host" "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.05; done
PORT=$direct node -e "$app" &
npid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$direct/" >/dev/null && break; sleep 0.05; done

for c in 1 32; do
	echo "== direct, -c$c"
	wrk -t$((c < 2 ? 1 : 2)) -c$c -d"$duration" --latency "http://127.0.0.1:$direct/" | grep -E 'Requests/sec|50%|99%'
	echo "== through the preview proxy, -c$c"
	wrk -t$((c < 2 ? 1 : 2)) -c$c -d"$duration" --latency -H "Host: $host" "http://127.0.0.1:$port/" | grep -E 'Requests/sec|50%|99%|Non-2xx'
done
