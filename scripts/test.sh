#!/usr/bin/env bash
# Every test: the suite built with gcc and with clang (warnings are errors),
# then again under AddressSanitizer + UBSan.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
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
run_config() { # run_config NAME CMAKE-ARGS...
	local name=$1 dir=build/test-$1
	shift
	echo "=== $name"
	if ! cmake -S . -B "$dir" "$@" >"$dir.log" 2>&1 ||
		! cmake --build "$dir" -j"$(nproc)" >>"$dir.log" 2>&1; then
		cat "$dir.log"
		echo "$name: build failed"
		failed=$((failed + 1))
		return
	fi
	local out
	out=$(cd "$dir" && ctest --output-on-failure -j"$(nproc)" 2>&1)
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
# QEMU conformance runs in the gcc configuration only: the tables it checks
# do not depend on the compiler, and it is the slowest test.
run_config clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVPTE_CONFORMANCE=OFF
run_config asan -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug -DVPTE_SANITIZE=ON \
	-DVPTE_CONFORMANCE=OFF

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
