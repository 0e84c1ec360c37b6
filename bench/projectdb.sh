#!/usr/bin/env bash
# Project databases: the time to create one on the embedded cluster (its
# first start included; after the Database pane was opened, which starts it
# in the background; then on a running cluster); SELECT 1 round
# trip from a sandbox through the relay vs directly on the host's socket;
# pgbench TPS (select-only and the TPC-B-like default) from a sandbox vs on
# the host; backup and restore of a 100 MB database.
# Usage: bench/projectdb.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
duration=${DURATION:-10}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
. "$(dirname "$0")/lib.sh"
start_server "$bin"
project() { api -d "{\"name\":\"$1\"}" "$base/api/projects" | grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4; }
# sandbox ID COMMAND: runs COMMAND in the project's sandbox, prints its output.
sandbox() {
	jq -n --arg c "$2" '{command: $c, timeoutSec: 600}' | api -d @- "$base/api/projects/$1/exec" | jq -r '.stdout + .stderr'
}

create() { curl -s -o /dev/null -w "$2: %{time_total} s\n" -H "Cookie: $cookie" -H 'Content-Type: application/json' -d '{}' "$base/api/projects/$1/database"; }
echo "== create a project database"
id=$(project "Db 0")
api "$base/api/projects/$id/database" >/dev/null # the pane opened: the cluster starts meanwhile
for _ in $(seq 100); do [ -S "$dir/data/postgres/run/.s.PGSQL.5432" ] && break; sleep 0.1; done
sleep 0.5
create "$id" "the first, 0.5 s after the pane was opened on a fresh data dir (initdb and start done meanwhile)"
for n in 1 2 3 4 5; do
	create "$(project "Db $n")" "database $n, the cluster running"
done
echo "-- a fresh data dir, Create without the pane opened before (initdb and start in the request)"
kill $pid
wait $pid 2>/dev/null || true
rm -rf "$dir"
start_server "$bin"
create "$(project "Cold")" "cold"

id=$(project "Bench")
api -d '{}' "$base/api/projects/$id/database" >/dev/null
creds=$(api "$base/api/projects/$id/database/dev/credentials")
name=$(echo "$creds" | jq -r .credentials.user)
password=$(echo "$creds" | jq -r .credentials.password)
sock="$dir/data/postgres/run"
host() { PGPASSWORD=$password "$@"; }
sandbox "$id" 'printf "SELECT 1;\n" > select1.sql' >/dev/null
cp_script="$dir/select1.sql"
printf 'SELECT 1;\n' >"$cp_script"
chmod 0644 "$cp_script"

echo "== SELECT 1 round trip, one client, ${duration}s (pgbench latency average)"
echo "-- host, unix socket"
host "$pgbin/pgbench" -h "$sock" -U "$name" -n -c 1 -T "$duration" -f "$cp_script" "$name" 2>/dev/null | grep -E 'latency average|tps'
echo "-- sandbox, 127.0.0.1:5432 through the relay"
sandbox "$id" "$pgbin/pgbench -n -c 1 -T $duration -f select1.sql 2>/dev/null | grep -E 'latency average|tps'"

echo "== pgbench scale 10, 4 clients, ${duration}s"
sandbox "$id" "$pgbin/pgbench -i -q -s 10 2>&1 | tail -1" >/dev/null
for mode in "-S" ""; do
	echo "-- host ${mode:-tpcb-like}"
	host "$pgbin/pgbench" -h "$sock" -U "$name" -n -c 4 -j 2 -T "$duration" $mode "$name" 2>/dev/null | grep -E '^tps'
	echo "-- sandbox ${mode:-tpcb-like}"
	sandbox "$id" "$pgbin/pgbench -n -c 4 -j 2 -T $duration $mode 2>/dev/null | grep -E '^tps'"
done

echo "== backup and restore of a 100 MB database"
sandbox "$id" "psql -q -c 'CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g*7)::text) AS pad FROM generate_series(1, 800000) g'" >/dev/null
api -X POST "$base/api/projects/$id/database/dev/refresh-size" | jq -r '"size: \(.database.sizeBytes / 1048576 | floor) MiB"'
start=$(date +%s.%N)
backup=$(api -d '{}' "$base/api/projects/$id/database/dev/backups")
end=$(date +%s.%N)
echo "backup: $(echo "$end - $start" | bc) s, dump $(echo "$backup" | jq -r '.backup.sizeBytes / 1048576 | floor') MiB"
bid=$(echo "$backup" | jq -r .backup.id)
start=$(date +%s.%N)
api -d '{}' "$base/api/projects/$id/database/dev/backups/$bid/restore" >/dev/null
end=$(date +%s.%N)
echo "restore (the current state backed up first): $(echo "$end - $start" | bc) s"
