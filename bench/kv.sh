#!/usr/bin/env bash
# The key-value store from a sandbox: set+get round trips of one client
# through REPLIT_DB_URL (bench/kv/kv-bench.py, Python's http.client;
# bench/kv/kv-bench.js, Node's fetch) and ops/s with 32 clients.
# Usage: bench/kv.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
. "$(dirname "$0")/lib.sh"
start_server "$bin"
id=$(api -d '{"name":"Kv Bench"}' "$base/api/projects" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
for f in kv-bench.js kv-bench.py; do
	api -X PUT --data-binary @"$(dirname "$0")/kv/$f" "$base/api/projects/$id/files/$f"
done
jq -n '{command: "python3 kv-bench.py && node kv-bench.js", timeoutSec: 300}' | api -d @- "$base/api/projects/$id/exec" | jq -r '.stdout + .stderr'
