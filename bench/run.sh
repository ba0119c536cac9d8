#!/usr/bin/env bash
# One command: build the release binary (profile fat, as the image) and the bench, seed, run every point on SQLite and
# PostgreSQL, and print BENCHMARKS.md-ready tables (also written to bench/last-run.md).
#   bench/run.sh                         # the full run (about 15 minutes on 2 cores)
#   bench/run.sh --size 2000 --seconds 0.5 --runs 1 --clients 1,4   # a quick look
# Needs PostgreSQL (--postgres URL, default postgres://postgres@127.0.0.1:5432/postgres)
# and pgbench (Debian: postgresql-client).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
# The image's profile (fat LTO, Cargo.toml) unless BENCH_PROFILE says otherwise.
profile="${BENCH_PROFILE:-fat}"
if [ "$profile" != dev ]; then
    cargo build --quiet --profile "$profile" --bin rongcuo --example bench
    dir="$CARGO_TARGET_DIR/$profile"
else
    cargo build --quiet --bin rongcuo --example bench
    dir="$CARGO_TARGET_DIR/debug"
fi
exec "$dir/examples/bench" --bin "$dir/rongcuo" --out bench/last-run.md "$@"
