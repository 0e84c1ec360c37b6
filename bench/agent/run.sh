#!/usr/bin/env bash
# The agent's eval harness (bench/agent/eval) against a fresh server with a
# temporary data dir. The scripted model (bench/agent/scripted-model) plays
# the model unless ANTHROPIC_API_KEY, ECODE_ANTHROPIC_API_KEY,
# ECODE_ANTHROPIC_BASE_URL or ECODE_OPENAI_BASE_URL names a real one
# (ECODE_AI_MODEL picks which). ECODE_BIN is the server binary (bin/ecode,
# built when missing). Arguments go to the harness, e.g.
#   bench/agent/run.sh -offline -cases todo-api,poll -json /tmp/report.json
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${ECODE_BIN:-bin/ecode}
[ -x "$bin" ] || make build
dir=$(mktemp -d)
chmod 0711 "$dir"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait || true # for the server to stop its sandboxes
	rm -rf "$dir"
}
trap cleanup EXIT

# free_port prints a port nothing listens on at 127.0.0.1.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		(echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
# wait_up URL: until it answers 2xx (30 s at most).
wait_up() {
	for _ in $(seq 600); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done
	echo "no answer from $1" >&2
	return 1
}

echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $(go version | cut -d' ' -f3), ecode $(git describe --always --dirty)"
if [ -n "${ANTHROPIC_API_KEY:-}${ECODE_ANTHROPIC_API_KEY:-}${ECODE_ANTHROPIC_BASE_URL:-}${ECODE_OPENAI_BASE_URL:-}" ]; then
	endpoint=${ECODE_ANTHROPIC_BASE_URL:-${ECODE_OPENAI_BASE_URL:-the Anthropic API}}
	echo "# model: a real one at $endpoint (${ECODE_AI_MODEL:-the default model})"
else
	echo "# model: scripted (bench/agent/scripted-model): this measures the platform, not a model"
	# Built, not `go run`: killing `go run` would leave its child serving.
	go build -o "$dir/scripted-model" ./bench/agent/scripted-model
	mport=$(free_port)
	"$dir/scripted-model" -addr "127.0.0.1:$mport" 2>"$dir/model.log" &
	pids+=($!)
	wait_up "http://127.0.0.1:$mport/health"
	export ECODE_ANTHROPIC_BASE_URL="http://127.0.0.1:$mport" ECODE_ANTHROPIC_API_KEY=test-key ECODE_AI_MODEL=scripted
fi
port=$(free_port)
"$bin" serve -addr "127.0.0.1:$port" -data-dir "$dir/data" -log-level warn >"$dir/server.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$port/api/monitoring/health"
go run ./bench/agent/eval -url "http://127.0.0.1:$port" "$@" || {
	rc=$?
	echo "# the harness failed ($rc); the server's log ends:" >&2
	tail -n 40 "$dir/server.log" >&2
	exit "$rc"
}
