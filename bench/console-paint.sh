#!/usr/bin/env bash
# The SQL console's 10,000-row query to first paint in Chromium (console-paint.mjs).
# Usage: bench/console-paint.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
dir=$(mktemp -d)
chmod 0711 "$dir"
port=$((20000 + RANDOM % 10000))
ECODE_GO_CACHE_PREWARM=false "$bin" serve -addr "127.0.0.1:$port" -data-dir "$dir/data" -log-level error >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/api/monitoring/health" >/dev/null && break; sleep 0.05; done
node "$(dirname "$0")/console-paint.mjs" "http://127.0.0.1:$port"
