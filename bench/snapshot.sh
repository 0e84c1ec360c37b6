#!/usr/bin/env bash
# Checkpoints with data: the time to snapshot and to restore a project with a
# 100 MB database, 5,000 keys (as many as a store may hold) and 1 GB of
# objects (100 objects of 10 MiB), besides its files. A restore also
# snapshots what is there first (its undo).
# Usage: bench/snapshot.sh [bin/ecode]
set -euo pipefail
bin=${1:-bin/ecode}
objects=${OBJECTS:-100} # of 10 MiB each
. "$(dirname "$0")/lib.sh"
start_server "$bin"
id=$(api -d '{"name":"Snapshot Bench"}' "$base/api/projects" | jq -r .project.id)
sandbox() {
	jq -n --arg c "$1" '{command: $c, timeoutSec: 600}' | api -d @- "$base/api/projects/$id/exec" | jq -r '.stdout + .stderr'
}
# timed LABEL CURL-ARGS...: one API call, its wall time.
timed() {
	local label=$1 start end
	shift
	start=$(date +%s.%N)
	api "$@" >"$dir/out.json"
	end=$(date +%s.%N)
	printf '%s: %.2f s\n' "$label" "$(echo "$end - $start" | bc)"
}

echo "== filling: a 100 MB database, 5,000 keys, $objects objects of 10 MiB"
api -d '{}' "$base/api/projects/$id/database" >/dev/null
sandbox "psql -q -c 'CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g*7)::text) AS pad FROM generate_series(1, 950000) g'" >/dev/null
sandbox "psql -Atc \"SELECT pg_size_pretty(pg_database_size(current_database()))\"" | head -1 | sed 's/^/database: /'
sandbox 'seq 1 5000 | sed "s/.*/key&=value-&/" | paste -sd"&" | curl -sf --data-binary @- "$REPLIT_DB_URL" && curl -s "$REPLIT_DB_URL?prefix=key" | awk "END { print NR }"' | head -1 | sed 's/^/keys: /'
head -c $((10 << 20)) /dev/urandom >"$dir/blob"
for n in $(seq "$objects"); do
	api -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$dir/blob" \
		"$base/api/projects/$id/storage/dev/buckets/default/object?key=blob-$n" >/dev/null
done
api "$base/api/projects/$id/storage/dev" | jq -r '"objects: \(.usage.objects), \(.usage.bytes / 1048576 | floor) MiB"'

echo "== snapshot and restore"
timed "checkpoint with data (pg_dump, key rows copied, object rows copied)" -d '{"message":"bench"}' "$base/api/projects/$id/snapshots"
commit=$(jq -r .checkpoint.id "$dir/out.json")
jq -r '.snapshot | "snapshot: database \(.database), \(.kvKeys) keys, \(.objectCount) objects, \(.objectBytes / 1048576 | floor) MiB"' "$dir/out.json"
du -sh "$dir/data/backups" | sed 's/^/database backups on disk: /'
sandbox "psql -q -c 'DELETE FROM filler WHERE id % 2 = 0' && curl -sf -d key1=changed \"\$REPLIT_DB_URL\"" >/dev/null
timed "restore (an undo snapshot first, then pg_restore, keys, objects, files)" -X POST "$base/api/projects/$id/snapshots/$commit/restore"
sandbox "psql -Atc 'SELECT count(*) FROM filler' && curl -s \"\$REPLIT_DB_URL/key1\"; echo" | paste -sd' ' | sed 's/^/after the restore: rows, key1 = /'
undo=$(jq -r .undo "$dir/out.json")
timed "undo (restore the checkpoint before)" -X POST "$base/api/projects/$id/snapshots/$undo/restore"
timed "another checkpoint with data" -d '{"message":"bench again"}' "$base/api/projects/$id/snapshots"
echo "-- for comparison, the database part alone"
timed "a database backup (pg_dump)" -d '{}' "$base/api/projects/$id/database/dev/backups"
backup=$(jq -r .backup.id "$dir/out.json")
timed "its restore (a backup first, then pg_restore)" -d '{}' "$base/api/projects/$id/database/dev/backups/$backup/restore"
echo "-- without the database: keys and objects only"
api -X DELETE "$base/api/projects/$id/database/dev" >/dev/null
timed "checkpoint with data" -d '{"message":"no database"}' "$base/api/projects/$id/snapshots"
commit=$(jq -r .checkpoint.id "$dir/out.json")
timed "restore" -X POST "$base/api/projects/$id/snapshots/$commit/restore"
du -sh "$dir/data/objects" 2>/dev/null | sed 's/^/object blobs on disk (shared by every snapshot): /'
