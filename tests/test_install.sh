#!/usr/bin/env bash
# Install into a scratch prefix, then build the README's example against the
# installed headers and libraries through pkg-config, statically and shared.
set -euo pipefail
build=$(dirname "$VPTE_BIN")
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib64/pkgconfig:$(find "$prefix" -name pkgconfig -type d | tr '\n' ':')"
kinds="shared static"
[ -n "${VPTE_CFLAGS:-}" ] && kinds=shared # sanitizer runtimes do not link statically
for kind in $kinds; do
	flags=$(pkg-config --cflags --libs vpte)
	extra=""
	[ "$kind" = static ] && extra="-static"
	# shellcheck disable=SC2086
	${CC:-cc} -std=c11 -Wall -Wextra -Werror ${VPTE_CFLAGS:-} $extra "$VPTE_SRC/examples/quickstart.c" $flags \
		-Wl,-rpath,"$(pkg-config --variable=libdir vpte)" -o "$prefix/quickstart-$kind"
	out=$("$prefix/quickstart-$kind")
	expected="0x40201234 -> 0x80201234 (leaf shift 21)
leaf 0x40000000 shift 21
leaf 0x40200000 shift 21
leaf 0x40400000 shift 12
leaf 0x40401000 shift 12"
	if [ "$out" != "$expected" ]; then
		printf 'quickstart (%s) printed:\n%s\nexpected:\n%s\n' "$kind" "$out" "$expected"
		exit 1
	fi
done
test -f "$prefix/include/vpte/vpte.h" && test -f "$prefix/include/vpte/hosted.h"
ls "$prefix"/lib*/libvpte_core.a >/dev/null


# The README shows the example verbatim: keep them one program.
readme_code=$(sed -n '/^```c$/,/^```$/p' "$VPTE_SRC/README.md" | sed '1d;$d')
example_code=$(sed '1d' "$VPTE_SRC/examples/quickstart.c")
if [ "$readme_code" != "$example_code" ]; then
	echo "README.md's example differs from examples/quickstart.c"
	exit 1
fi
echo "test_install: ok"
