#!/usr/bin/env bash
# test_build_formats.sh - CMake's VPTE_FORMATS (docs/formats.md, "Building
# fewer formats"): an unknown name or an empty list stops the configure
# with a message, before anything is built; a list out of order and with a
# repeat gives the registry's order, each format once; and such a build
# (at -O0, the build's compiler) builds `all` - the library, the tools and
# the benchmark, the tests left out - and its `vpte formats` lists exactly
# those formats.
set -euo pipefail
src=${VPTE_SRC:?set VPTE_SRC to the source tree}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "test_build_formats: FAIL: $*" >&2
	exit 1
}
# configure DIR ARGS...: a scratch configuration into $tmp/DIR, output in $tmp/DIR.log.
configure() {
	local dir=$1
	shift
	cmake -S "$src" -B "$tmp/$dir" -DCMAKE_C_COMPILER="${CC:-cc}" -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_FLAGS_DEBUG=-O0 -DVPTE_CONFORMANCE=OFF "$@" >"$tmp/$dir.log" 2>&1
}

! configure bogus -DVPTE_FORMATS="x86_64;bogus" || fail "an unknown format configured"
grep -q "VPTE_FORMATS: no format bogus" "$tmp/bogus.log" ||
	fail "an unknown format: no message: $(cat "$tmp/bogus.log")"
[ ! -e "$tmp/bogus/builtin/builtin_formats.h" ] || fail "an unknown format: the registry was written"
! configure empty -DVPTE_FORMATS= || fail "an empty list configured"
grep -q "VPTE_FORMATS is empty" "$tmp/empty.log" ||
	fail "an empty list: no message: $(cat "$tmp/empty.log")"

configure two -DVPTE_FORMATS="riscv_sv39;x86_64;riscv_sv39" ||
	fail "two formats did not configure: $(cat "$tmp/two.log")"
got=$(grep '^VPTE_BUILTIN' "$tmp/two/builtin/builtin_formats.h" | paste -sd ' ' -)
[ "$got" = "VPTE_BUILTIN(x86_64) VPTE_BUILTIN(riscv_sv39)" ] || fail "registry: $got"
cmake --build "$tmp/two" -j"$(nproc)" >"$tmp/build.log" 2>&1 ||
	fail "two formats: the build failed: $(tail -n 30 "$tmp/build.log")"
got=$("$tmp/two/tools/vpte" formats | awk '{ print $1 }' | paste -sd ' ' -)
[ "$got" = "x86_64 riscv-sv39" ] || fail "vpte formats: $got"
echo "test_build_formats: ok"
