#!/usr/bin/env bash
# Object storage from a sandbox: 1 MiB PutObject and GetObject through the
# S3 endpoint (bench/objstore/s3-bench.js, the unmodified @aws-sdk/client-s3
# configured by the environment alone) against writing (with fsync) and
# reading 1 MiB on the sandbox's own disk.
# Usage: bench/objstore.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
. "$(dirname "$0")/lib.sh"
start_server "$bin"
id=$(api -d '{"name":"Objects Bench"}' "$base/api/projects" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
api -X PUT --data-binary @"$(dirname "$0")/objstore/s3-bench.js" "$base/api/projects/$id/files/s3-bench.js"
api -X PUT --data-binary '{"name":"bench","version":"1.0.0","dependencies":{"@aws-sdk/client-s3":"3.1175.0"}}' "$base/api/projects/$id/files/package.json"
# curl's own SigV4 for the same GET, without the SDK's own cost: p50 of 50.
curlget='for i in $(seq 50); do curl -s -o /dev/null -w "%{time_total}\n" --aws-sigv4 aws:amz:us-east-1:s3 -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$AWS_ENDPOINT_URL/default/bench/0.bin"; done | sort -n | sed -n 25p | awk "{printf \"curl GET 1 MiB              p50 %.2f ms\n\", \$1*1000}"'
jq -n --arg curl "$curlget" '{command: ("npm install --no-audit --no-fund >/dev/null 2>&1 && node --no-warnings s3-bench.js && " + $curl), timeoutSec: 300}' | api -d @- "$base/api/projects/$id/exec" | jq -r '.stdout + .stderr'
