#!/bin/sh
# Runs every benchmark once and rewrites the generated section of
# BENCHMARKS.md. Extra arguments go to the bench command, e.g.
#   bench/run.sh -quick            (smoke run, rough numbers)
#   bench/run.sh -only receiver    (one part)
set -eu
cd "$(dirname "$0")/.."
exec go run ./bench/cmd/bench -update BENCHMARKS.md -json "${TMPDIR:-/tmp}/sail-bench.json" "$@"
