#!/usr/bin/env bash
# Every figure in docs/BENCHMARKS.md, in one run on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $(go version | cut -d' ' -f3)"
echo "## cold start to healthy, idle RSS (fresh data dir each start: migrations included)"
go run ./bench/coldstart -bin bin/ecode -n 20
echo "## the same with an existing data dir"
go run ./bench/coldstart -bin bin/ecode -n 20 -warm
echo "## authenticated GET /api/projects"
bash bench/api.sh bin/ecode
echo "## 10 KB file write+read round trip through the API vs the bare disk"
go test -run '^$' -bench 'RoundTrip10KB' -benchtime 2s -count 6 ./internal/project/ > /tmp/ecode-roundtrip.txt
(cd /tmp && GOFLAGS=-mod=mod go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da /tmp/ecode-roundtrip.txt)
echo "## sandboxes: cold start, exec, run to first output (and podman when installed)"
bash bench/sandbox.sh
echo "## preview proxy vs the app directly"
bash bench/preview.sh bin/ecode
echo "## the deploy edge vs the app directly; cold start from zero; rollback and redeploy under load"
bash bench/edge.sh bin/ecode
echo "## deploys: the React template's static deploy, rollback, cancel, the edge in process"
go test -run '^$' -bench 'StaticDeployReact|Rollback|Cancel' -benchtime 5x ./internal/deploy/
go test -run '^$' -bench 'Edge' -benchtime 5s ./internal/deploy/
echo "## the docker deploy driver (Podman): base image, cold and warm instance start"
go test -run '^$' -bench . -benchtime 5x ./internal/deploy/docker/
echo "## project databases: create, the relay vs the host, pgbench, backup and restore of ~100 MB"
bash bench/projectdb.sh bin/ecode
echo "## the SQL console: 10,000 rows through the server, and to first paint in Chromium"
go test -run '^$' -bench 'Console10k' -benchtime 20x -count 3 ./internal/projectdb/
bash bench/console-paint.sh bin/ecode
echo "## the key-value store from a sandbox: set+get round trip, 32 clients"
bash bench/kv.sh bin/ecode
go test -run '^$' -bench SetGet -benchtime 1000x ./internal/kv/
echo "## object storage: 1 MiB through S3 from a sandbox vs its disk; the server alone"
bash bench/objstore.sh bin/ecode
go test -run '^$' -bench S3OneMiB ./internal/objstore/
echo "## checkpoints with data: 100 MB database, 5,000 keys, 1 GB of objects"
bash bench/snapshot.sh bin/ecode
echo "## auto-grading: a burst of 100 submissions (Python, Node): submissions/min, submit→score p50/p95"
bash bench/grading.sh bin/ecode
echo "## monitoring: ingest of batched events over HTTP (SQLite, PostgreSQL), the handler alone, the 24 h dashboard over 10 M events' rollups"
bash bench/monitor.sh bin/ecode
go test -run '^$' -bench 'Ingest|Overview24h' -benchtime 3x ./internal/telemetry/
echo "## the browser SDK's size; session replay bytes per minute"
(cd web && node sdk/size.mjs)
bash bench/replay-size.sh bin/ecode
echo "## billing: ledger postings/s (one per transaction, batched), a balance read with a million transfers; metering a sandbox"
bash bench/ledger.sh 2000
go test -run '^$' -bench MeterPass ./internal/run/
