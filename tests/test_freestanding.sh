#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_freestanding.sh - the core (walker, formats, operations) is
# freestanding C: it compiles with only the compiler's own freestanding
# headers reachable, and its objects reference no external symbol except
# vpte_* (defined by the core itself) and memset/memcpy/memmove/memcmp
# (which a freestanding C compiler may always emit, C11 5.1.2.1; GCC and
# Clang document them as required of the environment).
#
# The core sources are the VPTE_CORE_SOURCES list of CMakeLists.txt and a
# src/formats/NAME.c for each NAME of its VPTE_ALL_FORMATS, parsed here so
# the check follows the build; core.c's builtin_formats.h is made from its
# template (src/engine/builtin_formats.h.in) for all of them.  The
# compiler is the build's ($CC); scripts/test.sh runs this test in its gcc
# and in its clang configuration, so both compilers are checked.  Each
# source is compiled as
#
#   $CC -std=c11 -ffreestanding -nostdinc -isystem "$($CC -print-file-name=include)"
#       -I$VPTE_SRC/include -I$VPTE_SRC/src -I(builtin_formats.h) -O0 -c
#
# and checked again with -O2 -fsyntax-only (a source may include other
# headers when optimising): -nostdinc hides /usr/include, so a hosted
# header (stdio.h, string.h, errno.h, stdlib.h) fails to compile, while
# stdint.h, stddef.h, stdbool.h, stdatomic.h and limits.h come from the
# compiler.  Then `nm -u` lists what the -O0 objects need from outside, and
# what the optimised objects need: the build's own core objects
# ($VPTE_CORE_OBJS, colon-separated, which CMake passes from an
# unsanitized -O2 build: the same compiler, the same freestanding flags
# and no other code than compiling them again here would give, which cost
# a full build of every format), or without them the sources compiled here
# at -O2.  Anything else fails the test: libc or libgcc helpers,
# __atomic_* library calls (an atomic the target cannot do inline),
# __stack_chk_fail (a toolchain whose default is -fstack-protector: a
# kernel build of the core then needs -fno-stack-protector or its own
# __stack_chk_fail; see docs/formats.md).
#
# Before trusting a pass, two controls prove the check can fail: a file
# that includes <stdio.h> must not compile, and an object that calls
# strlen() must be caught by the symbol check.
#
# Environment: VPTE_SRC (source tree; default: this script's parent
# directory), CC (the build's compiler; default cc), VPTE_CORE_OBJS.  Exit
# 0 on pass, 1 on failure, 77 if the compiler cannot be run.
set -u

src=${VPTE_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
work=$(mktemp -d "${TMPDIR:-/tmp}/vpte-freestanding.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# ---- the core sources, from CMakeLists.txt ----
# cmake_list NAME: the words of CMakeLists.txt's set(NAME ...), one a line.
cmake_list() {
	sed -n "/^[[:space:]]*set($1/,/)/p" "$src/CMakeLists.txt" |
		sed -e "s/set($1//" -e 's/)//' | tr -s ' \t' '\n\n' | grep -v '^$'
}
formats=$(cmake_list VPTE_ALL_FORMATS)
sources=$(cmake_list VPTE_CORE_SOURCES | grep '\.c$'; for n in $formats; do
	echo "src/formats/$n.c"
done)
if [ -z "$formats" ] || [ -z "$sources" ]; then
	echo "FAIL: no VPTE_ALL_FORMATS or VPTE_CORE_SOURCES list found in $src/CMakeLists.txt"
	exit 1
fi
mkdir "$work/builtin"
lines=$(for n in $formats; do echo "VPTE_BUILTIN($n)"; done)
awk -v lines="$lines" '{ sub(/@VPTE_BUILTIN_LINES@/, lines) } 1' \
	"$src/src/engine/builtin_formats.h.in" >"$work/builtin/builtin_formats.h"
for f in $sources; do
	[ -f "$src/$f" ] || fail "core source $f (from CMakeLists.txt) does not exist"
done
# Everything under src/engine and src/formats is core: a .c file there that
# the list misses would escape this check (and the library).
for f in "$src"/src/engine/*.c "$src"/src/formats/*.c; do
	rel=${f#"$src"/}
	case " $(echo $sources) " in
	*" $rel "*) ;;
	*) fail "$rel is not in VPTE_CORE_SOURCES" ;;
	esac
done
echo "core sources ($(echo "$sources" | wc -l)): $(echo $sources)"

# ---- the compiler ----
cc=$(command -v "${CC:-cc}" 2>/dev/null) || {
	echo "SKIP: no C compiler ${CC:-cc}"
	exit 77
}
name=$(basename "$cc")
inc=$("$cc" -print-file-name=include)
# The same freestanding flags the build gives the core (CMakeLists.txt).
flags=(-std=c11 -ffreestanding -fno-stack-protector -nostdinc -isystem "$inc"
	-I"$src/include" -I"$src/src" -I"$work/builtin")
allowed='^(vpte_[A-Za-z0-9_]*|memset|memcpy|memmove|memcmp)$'

# undefined OBJ...: the external symbols the objects need (one a line).
undefined() {
	nm -u "$@" 2>/dev/null | awk 'NF >= 2 && $(NF-1) ~ /^[Uuvw]$/ { print $NF }' | sort -u
}

# defined OBJ...: the global symbols they define.
defined() {
	nm -g --defined-only "$@" 2>/dev/null | awk 'NF >= 3 { print $3 }' | sort -u
}

# compile OPT MODE: every core source at OPT, in parallel; MODE -c leaves the
# objects in $objs, -fsyntax-only none.  ok=0 when a source did not compile.
compile() {
	local opt=$1 mode=$2 f out
	local -a what
	objs=()
	ok=1
	for f in $sources; do
		out="$work/$opt$mode-$(echo "$f" | tr '/' '_')"
		if [ "$mode" = -c ]; then what=(-c -o "$out.o"); else what=(-fsyntax-only); fi
		("$cc" "${flags[@]}" "$opt" "${what[@]}" "$src/$f" 2>"$out.err" && : >"$out.ok") &
	done
	wait
	for f in $sources; do
		out="$work/$opt$mode-$(echo "$f" | tr '/' '_')"
		if [ ! -f "$out.ok" ]; then
			fail "$name $opt: $f does not compile freestanding:"
			sed 's/^/    /' "$out.err" | head -n 20
			ok=0
		elif [ "$mode" = -c ]; then
			objs+=("$out.o")
		fi
	done
}

# check_objects WHAT OBJ...: the objects of every core source need nothing
# from outside but mem* and the vpte_* symbols they define themselves.
check_objects() {
	local what=$1 obj bad missing libc
	shift
	local good=1
	for obj in "$@"; do
		bad=$(undefined "$obj" | grep -Ev "$allowed" | paste -sd ' ' -)
		[ -n "$bad" ] || continue
		fail "$name $what: $(basename "$obj") references $bad"
		case "$bad" in *__stack_chk*)
			echo "    (the compiler defaults to -fstack-protector: build the core" \
				"with -fno-stack-protector, or provide __stack_chk_fail)" ;;
		esac
		case "$bad" in *__atomic_*)
			echo "    (an atomic operation the target cannot inline)" ;;
		esac
		good=0
	done
	missing=$(comm -23 <(undefined "$@" | grep '^vpte_') <(defined "$@") | paste -sd ' ' -)
	if [ -n "$missing" ]; then
		fail "$name $what: vpte symbols referenced but defined by no core object: $missing"
		good=0
	fi
	libc=$(undefined "$@" | grep -E '^mem(set|cpy|move|cmp)$' | paste -sd ' ' -)
	[ $good = 1 ] && echo "$name $what: $# objects freestanding;" \
		"external symbols: ${libc:-none} (besides the core's own vpte_*)"
}

echo "== $name ($("$cc" --version | head -n 1)); headers: $inc"

# Control 1: a hosted header must be out of reach.
printf '#include <stdio.h>\nint vpte_control(void) { return 0; }\n' >"$work/hosted.c"
if "$cc" "${flags[@]}" -O2 -c "$work/hosted.c" -o "$work/hosted.o" 2>/dev/null; then
	fail "$name: <stdio.h> is reachable under -nostdinc: the check would prove nothing"
else
	echo "control: <stdio.h> does not compile (good)"
fi
# Control 2: a libc call must be caught.
printf 'unsigned long strlen(const char *);\nunsigned long vpte_control(const char *s) { return strlen(s); }\n' \
	>"$work/libc.c"
if "$cc" "${flags[@]}" -O2 -c "$work/libc.c" -o "$work/libc.o" 2>"$work/err"; then
	if undefined "$work/libc.o" | grep -Evq "$allowed"; then
		echo "control: a strlen() call is caught by the symbol check (good)"
	else
		fail "$name: the symbol check misses a strlen() call"
	fi
else
	fail "$name: control file did not compile: $(cat "$work/err")"
fi

compile -O0 -c
# The vpte_* check is only meaningful when every source compiled.
[ $ok = 1 ] && check_objects -O0 "${objs[@]}"
if [ -n "${VPTE_CORE_OBJS:-}" ]; then
	compile -O2 -fsyntax-only
	IFS=: read -r -a objs <<<"$VPTE_CORE_OBJS"
	if [ ${#objs[@]} -ne "$(echo "$sources" | wc -l)" ]; then
		fail "VPTE_CORE_OBJS has ${#objs[@]} objects for $(echo "$sources" | wc -l) core sources"
	else
		check_objects "-O2 (the build's objects)" "${objs[@]}"
	fi
else
	compile -O2 -c
	[ $ok = 1 ] && check_objects -O2 "${objs[@]}"
fi

if [ $failures -ne 0 ]; then
	echo "test_freestanding: $failures failure(s)"
	exit 1
fi
echo "test_freestanding: ok"
exit 0
