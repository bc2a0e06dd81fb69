#!/usr/bin/env bash
# Every test: the suite built with gcc and with clang (warnings are errors),
# then again under AddressSanitizer + UBSan, and the concurrency stress test
# under ThreadSanitizer.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. scripts/deps.sh
vpte_need cmake cmake
vpte_need gcc gcc
vpte_need clang clang
vpte_need make make
vpte_need pkg-config pkg-config
vpte_need nm binutils
# The conformance test (docs/conformance.md): QEMU and the cross binutils
# that assemble its stubs.
vpte_need qemu-system-x86_64 qemu-system-x86
vpte_need qemu-system-aarch64 qemu-system-arm
vpte_need qemu-system-riscv64 qemu-system-misc
vpte_need aarch64-linux-gnu-as binutils-aarch64-linux-gnu
vpte_need riscv64-linux-gnu-as binutils-riscv64-linux-gnu

passed=0
failed=0
# run_config NAME CMAKE-ARGS...: build everything and run every test; with
# ONLY="TARGET..." in the environment, build and run those tests alone.
run_config() {
	local name=$1 dir=build/test-$1 only=${ONLY:-}
	shift
	echo "=== $name"
	# shellcheck disable=SC2086 # $only: one target a word
	if ! cmake -S . -B "$dir" "$@" >"$dir.log" 2>&1 ||
		! cmake --build "$dir" -j"$(nproc)" ${only:+--target $only} >>"$dir.log" 2>&1; then
		cat "$dir.log"
		echo "$name: build failed"
		failed=$((failed + 1))
		return
	fi
	local out
	out=$(cd "$dir" && ctest --output-on-failure -j"$(nproc)" ${only:+-R "^(${only// /|})\$"} 2>&1)
	echo "$out" | tail -n 40
	local line total bad
	line=$(echo "$out" | grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' | tail -n 1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		return
	fi
	total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
	bad=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed.*/\1/')
	passed=$((passed + total - bad))
	failed=$((failed + bad))
}

mkdir -p build
run_config gcc -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo
# QEMU conformance and test_harvest_stores run in the gcc configuration
# only: what they check does not depend on the build's compiler, and they
# are the slowest test and the costliest compile.  The freestanding check
# runs in both: each checks its own compiler, on the build's objects.  The
# configurations after the first keep line tables only (function names and
# lines in a failure's backtrace and in the sanitizers' reports, no
# variables): full debug information cost 17% (clang) and 23% (gcc under
# ASan) of the compile of every format.
line_tables="-O2 -gline-tables-only -DNDEBUG"
once_only=(-DVPTE_CONFORMANCE=OFF -DVPTE_STORE_COUNT_TEST=OFF)
run_config clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo "${once_only[@]}" \
	-DCMAKE_C_FLAGS_RELWITHDEBINFO="$line_tables"
# -Og: at -O0 the random model test under ASan took minutes; -Og compiles
# in half the time of -O1 and its tests take a minute more CPU, which the
# sharded model test spreads over both cores.
run_config asan -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g1 -Og" \
	-DVPTE_SANITIZE=ON "${once_only[@]}" -DVPTE_FREESTANDING_TEST=OFF
# ThreadSanitizer: the concurrency stress test (docs/concurrency.md) and
# the heap backend's, whose chunks pass between CPUs' shards, only, on one
# format of each family and arm64's two-level one (VPTE_FORMATS:
# each format is a whole engine to compile, the races are the engine's).
# Clang, because GCC's TSan warns (an error here) on atomic_thread_fence.
ONLY="test_concurrency test_heap" run_config tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DVPTE_FORMATS="x86_64;arm64_4k_48;arm64_64k_42;riscv_sv39" \
	-DCMAKE_C_FLAGS_RELWITHDEBINFO="$line_tables" \
	-DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
	-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread "${once_only[@]}"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
