#!/usr/bin/env bash
# Build vpte-bench (Release, into build/bench) and run it; arguments go to
# vpte-bench: --quick, --json, --format NAME, --case OP, --reps N, --list.
# See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
vpte_need_build
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build/bench -j"$(nproc)" --target vpte-bench >/dev/null
exec build/bench/bench/vpte-bench "$@"
