#!/usr/bin/env bash
# The main job: build vpte and run the tool's built-in example, which lays
# out a realistic address space in every format and compares them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
vpte_need_build
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build/demo -j"$(nproc)" >/dev/null
exec build/demo/tools/vpte demo "$@"
