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
# The core sources are the VPTE_CORE_SOURCES list of CMakeLists.txt, parsed
# here so the check follows the build.  Each is compiled, with every
# available compiler (the build's $CC, gcc, clang), as
#
#   $CC -std=c11 -ffreestanding -nostdinc -isystem "$($CC -print-file-name=include)"
#       -I$VPTE_SRC/include -I$VPTE_SRC/src -O2 -c
#
# (and at -O0 as well): -nostdinc hides /usr/include, so a hosted header
# (stdio.h, string.h, errno.h, stdlib.h) fails to compile, while stdint.h,
# stddef.h, stdbool.h, stdatomic.h and limits.h come from the compiler.
# Then `nm -u` lists what the objects need from outside.  Anything else
# fails the test: libc or libgcc helpers, __atomic_* library calls (an
# atomic the target cannot do inline), __stack_chk_fail (a toolchain whose
# default is -fstack-protector: a kernel build of the core then needs
# -fno-stack-protector or its own __stack_chk_fail; see docs/formats.md).
#
# Before trusting a pass, two controls prove the check can fail: a file
# that includes <stdio.h> must not compile, and an object that calls
# strlen() must be caught by the symbol check.
#
# Environment: VPTE_SRC (source tree; default: this script's parent
# directory), CC (the build's compiler; default cc).  Exit 0 on pass, 1 on
# failure, 77 if no compiler could be run at all.
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
sources=$(sed -n '/^[[:space:]]*set(VPTE_CORE_SOURCES/,/)/p' "$src/CMakeLists.txt" |
	sed -e 's/set(VPTE_CORE_SOURCES//' -e 's/)//' | tr -s ' \t' '\n\n' | grep '\.c$')
if [ -z "$sources" ]; then
	echo "FAIL: no VPTE_CORE_SOURCES list found in $src/CMakeLists.txt"
	exit 1
fi
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

# ---- compilers ----
compilers=""
seen=""
add_compiler() {
	local path real
	path=$(command -v "$1" 2>/dev/null) || return 0
	real=$(readlink -f "$path")
	case " $seen " in *" $real "*) return 0 ;; esac
	seen="$seen $real"
	compilers="$compilers $path"
}
add_compiler "${CC:-cc}"
add_compiler gcc
add_compiler clang
if [ -z "$compilers" ]; then
	echo "SKIP: no C compiler found"
	exit 77
fi

allowed='^(vpte_[A-Za-z0-9_]*|memset|memcpy|memmove|memcmp)$'

# flags_for CC: the freestanding flags, as an array in $flags.
flags_for() {
	local cc=$1 inc
	inc=$("$cc" -print-file-name=include)
	# The same freestanding flags the build gives the core (CMakeLists.txt).
	flags=(-std=c11 -ffreestanding -fno-stack-protector -nostdinc -isystem "$inc"
		-I"$src/include" -I"$src/src")
}

# undefined OBJ...: the external symbols the objects need (one a line).
undefined() {
	nm -u "$@" 2>/dev/null | awk 'NF >= 2 && $(NF-1) ~ /^[Uuvw]$/ { print $NF }' | sort -u
}

# defined OBJ...: the global symbols they define.
defined() {
	nm -g --defined-only "$@" 2>/dev/null | awk 'NF >= 3 { print $3 }' | sort -u
}

for cc in $compilers; do
	flags_for "$cc"
	name=$(basename "$cc")
	echo "== $name ($("$cc" --version | head -n 1)); headers: ${flags[5]}"

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

	for opt in -O2 -O0; do
		objs=()
		ok=1
		# Compile in parallel, then look at the results in order.
		for f in $sources; do
			obj="$work/$name$opt-$(echo "$f" | tr '/' '_').o"
			("$cc" "${flags[@]}" "$opt" -c "$src/$f" -o "$obj" 2>"$obj.err" ||
				rm -f "$obj") &
		done
		wait
		for f in $sources; do
			obj="$work/$name$opt-$(echo "$f" | tr '/' '_').o"
			if [ ! -f "$obj" ]; then
				fail "$name $opt: $f does not compile freestanding:"
				sed 's/^/    /' "$obj.err" | head -n 20
				ok=0
				continue
			fi
			objs+=("$obj")
			bad=$(undefined "$obj" | grep -Ev "$allowed" | paste -sd ' ' -)
			if [ -n "$bad" ]; then
				fail "$name $opt: $f references $bad"
				case "$bad" in *__stack_chk*)
					echo "    (the compiler defaults to -fstack-protector: build the core" \
						"with -fno-stack-protector, or provide __stack_chk_fail)" ;;
				esac
				case "$bad" in *__atomic_*)
					echo "    (an atomic operation the target cannot inline)" ;;
				esac
				ok=0
			fi
		done
		# Every vpte_* symbol one object needs, another defines (only
		# meaningful when every source compiled).
		[ $ok = 1 ] || continue
		missing=$(comm -23 <(undefined "${objs[@]}" | grep '^vpte_') <(defined "${objs[@]}") |
			paste -sd ' ' -)
		if [ -n "$missing" ]; then
			fail "$name $opt: vpte symbols referenced but defined by no core object: $missing"
			ok=0
		fi
		libc=$(undefined "${objs[@]}" | grep -E '^mem(set|cpy|move|cmp)$' | paste -sd ' ' -)
		if [ $ok = 1 ]; then
			echo "$name $opt: ${#objs[@]} objects compile freestanding;" \
				"external symbols: ${libc:-none} (besides the core's own vpte_*)"
		fi
	done
done

if [ $failures -ne 0 ]; then
	echo "test_freestanding: $failures failure(s)"
	exit 1
fi
echo "test_freestanding: ok"
exit 0
