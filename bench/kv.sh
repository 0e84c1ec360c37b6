#!/usr/bin/env bash
# The key-value store from a sandbox: set+get round trips of one client
# through REPLIT_DB_URL (bench/kv/kv-bench.py, Python's http.client;
# bench/kv/kv-bench.js, Node's fetch) and ops/s with 32 clients.
# Usage: bench/kv.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
dir=$(mktemp -d)
chmod 0711 "$dir"
port=$((20000 + RANDOM % 10000))
base="http://127.0.0.1:$port"
ECODE_GO_CACHE_PREWARM=false ECODE_SANDBOX_CPUS=${CPUS:-1} "$bin" serve -addr "127.0.0.1:$port" -data-dir "$dir/data" -log-level error >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do curl -sf "$base/api/monitoring/health" >/dev/null && break; sleep 0.05; done
api() { curl -sf -H "Cookie: $cookie" -H 'Content-Type: application/json' "$@"; }
cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' \
	"$base/api/auth/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(ecode_session=[^;]*\).*/\1/p')
id=$(api -d '{"name":"Kv Bench"}' "$base/api/projects" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
for f in kv-bench.js kv-bench.py; do
	api -X PUT --data-binary @"$(dirname "$0")/kv/$f" "$base/api/projects/$id/files/$f"
done
jq -n '{command: "python3 kv-bench.py && node kv-bench.js", timeoutSec: 300}' | api -d @- "$base/api/projects/$id/exec" | jq -r '.stdout + .stderr'
