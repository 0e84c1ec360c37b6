# Sourced by the bench scripts: start_server BIN starts the platform on a
# fresh data dir and a random port (stopped and removed on exit), signs up
# a user, and leaves dir, base, pid and cookie set and api (curl with the
# session, JSON) defined.
start_server() {
	dir=$(mktemp -d)
	chmod 0711 "$dir"
	local port=$((20000 + RANDOM % 10000))
	base="http://127.0.0.1:$port"
	ECODE_GO_CACHE_PREWARM=false ECODE_SANDBOX_CPUS=${CPUS:-1} "$1" serve -addr "127.0.0.1:$port" -data-dir "$dir/data" -log-level error >/dev/null &
	pid=$!
	trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
	for _ in $(seq 200); do curl -sf "$base/api/monitoring/health" >/dev/null && break; sleep 0.05; done
	cookie=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
		-d '{"username":"bench","email":"bench@example.com","password":"bench-password"}' \
		"$base/api/auth/signup" | sed -n 's/^[Ss]et-[Cc]ookie: \(ecode_session=[^;]*\).*/\1/p')
}

api() { curl -sf -H "Cookie: $cookie" -H 'Content-Type: application/json' "$@"; }
