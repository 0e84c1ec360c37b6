#!/usr/bin/env bash
# Sandbox figures: cold start to a finished user process and exec in a
# running sandbox (Go benchmarks of the bwrap driver), beside podman's
# run and exec of the same command when podman is installed. podman needs
# an image; one is made from the host's /usr (`podman import`), as the
# sandbox also runs the host's toolchain. On hosts without CAP_SYS_RESOURCE
# (VMs like ours) podman needs `default_ulimits = []` and `runtime = "runc"`
# in /etc/containers/containers.conf.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'ColdStart|ExecTrue|HostTrue' -benchtime 200x -count 6 ./internal/runtime/bwrap > /tmp/ecode-sandbox.txt
(cd /tmp && GOFLAGS=-mod=mod go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da /tmp/ecode-sandbox.txt)
go test -run '^$' -bench 'FirstOutput' -benchtime 200x -count 6 ./internal/run > /tmp/ecode-firstoutput.txt
(cd /tmp && GOFLAGS=-mod=mod go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da /tmp/ecode-firstoutput.txt)
if command -v podman >/dev/null; then
	podman image exists localhost/hostroot || tar -C / -c usr bin lib lib64 2>/dev/null | podman import - hostroot >/dev/null
	hyperfine -N --warmup 3 -r 30 'podman run --rm --network none localhost/hostroot /usr/bin/true'
	podman rm -f ecode-bench >/dev/null 2>&1 || true
	podman run -d --name ecode-bench --network none localhost/hostroot /usr/bin/sleep 600 >/dev/null
	hyperfine -N --warmup 3 -r 50 'podman exec ecode-bench /usr/bin/true'
	podman rm -f ecode-bench >/dev/null
else
	echo "podman is not installed: no comparison"
fi
command -v runsc >/dev/null && hyperfine -N --warmup 3 -r 30 'runsc --network=none do /usr/bin/true' || echo "runsc is not installed: no comparison"
