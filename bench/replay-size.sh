#!/usr/bin/env bash
# Session replay bytes per minute of a typical session (replay-size.mjs).
# Usage: bench/replay-size.sh [bin/ecode]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
start_server "${1:-bin/ecode}"
node bench/replay-size.mjs "$base"
