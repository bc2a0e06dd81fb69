#!/usr/bin/env bash
# test_replay.sh - `vpte replay` on real processes: a child that maps a
# file, anonymous memory and a THP-eligible region (tests/replay_child.c)
# is replayed and every number checked against the kernel's own account in
# /proc/PID/smaps (Rss, AnonHugePages), with page frames known and hidden,
# with PAGEMAP_SCAN and without; the tool's own process; the errors (no such
# process, a zombie, another user's process); --svg is valid XML.
# Run by CTest with VPTE_BIN, VPTE_SRC and CC set.
set -euo pipefail

vpte="${VPTE_BIN:?set VPTE_BIN to the directory of the vpte binary}/vpte"
src=${VPTE_SRC:?set VPTE_SRC to the source tree}
# shellcheck source=../scripts/deps.sh
. "$src/scripts/deps.sh"
vpte_need jq jq
vpte_need xmllint libxml2-utils
tmp=$(mktemp -d)
chmod 755 "$tmp"
checks=0
exec {to_child}>/dev/null
cleanup() {
	exec {to_child}>&- || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "test_replay: FAIL: $*" >&2
	exit 1
}
check() { # check WHAT GOT WANT
	[[ "$2" == "$3" ]] || fail "$1: got '$2', want '$3'"
	checks=$((checks + 1))
}

"${CC:-cc}" -O1 -o "$tmp/child" "$src/tests/replay_child.c" || fail "cannot build the child"
head -c 1M /dev/urandom >"$tmp/data.bin"
coproc CHILD { exec "$tmp/child" "$tmp/data.bin"; }
child=$CHILD_PID
exec {to_child}>&"${CHILD[1]}"
declare -A at
# (Bounded only against a hung child: a loaded machine is slow to fault
# its 6 MiB in, never wrong.)
for _ in 1 2 3 4 5; do
	read -r -t 300 name value <&"${CHILD[0]}" || fail "the child said nothing"
	at[$name]=$value
done

# smaps_kb START KEY: the KEY line of the mapping starting at START, in kB.
smaps_kb() {
	awk -v start="${1#0x}" -v key="$2:" '
		/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); hit = (r[1] == start) }
		hit && $1 == key { print $2; exit }' "/proc/$child/smaps"
}
# field JSON START EXPR: jq EXPR on the mapping starting at START.
field() {
	jq -rc --arg s "$2" ".mappings[] | select(.start == \$s) | $3" "$1"
}

# Huge pages are the kernel's to give (THP off, memory fragmented): without
# them the checks below still hold (no 2 MiB leaves), and we say so.
huge_kb=$(smaps_kb "${at[thp]}" AnonHugePages)
if ((huge_kb == 0)); then
	thp_enabled=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo absent)
	echo "test_replay: skipped: huge page checks (the kernel gave the MADV_HUGEPAGE" \
		"region none; THP: $thp_enabled)"
fi

# Frames as the kernel shows them to us; frames hidden; each without PAGEMAP_SCAN.
variants=("" "--presence-only" "--no-scan" "--no-scan --presence-only")
for v in "${variants[@]}"; do
	json="$tmp/replay${v// /}.json"
	# shellcheck disable=SC2086
	"$vpte" replay --pid "$child" --json $v >"$json" 2>"$tmp/stderr" ||
		fail "replay $v: $(cat "$tmp/stderr")"
	[[ ! -s "$tmp/stderr" ]] || fail "replay $v: stderr: $(cat "$tmp/stderr")"
	check "replay $v: pid" "$(jq .source.pid "$json")" "$child"
	[[ $v != *presence-only* ]] ||
		check "replay $v: frames" "$(jq -r .source.page_frames "$json")" unknown
	check "replay $v: formats" "$(jq '.formats | length' "$json")" \
		"$("$vpte" formats | wc -l)"
	for m in file anon thp; do
		rss=$(($(smaps_kb "${at[$m]}" Rss) * 1024))
		check "replay $v: $m present" "$(field "$json" "${at[$m]}" .present_bytes)" "$rss"
		check "replay $v: $m smaps Rss" "$(field "$json" "${at[$m]}" .smaps_rss_bytes)" "$rss"
		# Everything present is mapped in every 4 KiB format, nothing more,
		# also where the space had to be compacted (Sv39, arm64 39-bit).
		for f in x86_64 arm64-4k-48 riscv-sv48 riscv-sv39 arm64-4k-39; do
			check "replay $v: $m mapped in $f" \
				"$(field "$json" "${at[$m]}" ".formats[\"$f\"].mapped_bytes")" "$rss"
		done
		# A 16 KiB granule maps whole 16 KiB pages around them.
		mapped=$(field "$json" "${at[$m]}" '.formats["arm64-16k-48"].mapped_bytes')
		((mapped >= rss && mapped % 16384 == 0 && mapped <= 4 * rss)) ||
			fail "replay $v: $m mapped in arm64-16k-48: $mapped for $rss present"
	done
	check "replay $v: anon pages" "$(field "$json" "${at[anon]}" .present_bytes)" $((128 * 4096))
	check "replay $v: anon leaves" "$(field "$json" "${at[anon]}" '.formats.x86_64.leaves')" \
		'{"4096":128}'
	# The huge pages smaps counts are found and become 2 MiB leaves.
	check "replay $v: thp huge bytes" "$(field "$json" "${at[thp]}" .huge_bytes)" \
		$((huge_kb * 1024))
	check "replay $v: thp 2M leaves" \
		"$(field "$json" "${at[thp]}" '.formats.x86_64.leaves["2097152"] // 0')" \
		$((huge_kb / 2048))
	check "replay $v: thp 2M blocks on arm64" \
		"$(field "$json" "${at[thp]}" '.formats["arm64-4k-48"].leaves["2097152"] // 0')" \
		$((huge_kb / 2048))
done
# With and without PAGEMAP_SCAN, the same tables.
check "replay: scan and no scan" "$(jq -c .formats "$tmp/replay.json")" \
	"$(jq -c .formats "$tmp/replay--no-scan.json")"
check "replay --presence-only: scan and no scan" \
	"$(jq -c .formats "$tmp/replay--presence-only.json")" \
	"$(jq -c .formats "$tmp/replay--no-scan--presence-only.json")"

# One format, text output, and the picture.
"$vpte" replay --pid "$child" --format arm64-16k-48 --svg "$tmp/replay.svg" >"$tmp/text"
grep -Eq "^process $child \(child\): [0-9]+ mappings" "$tmp/text" || fail "text: $(cat "$tmp/text")"
grep -Eq '^arm64-16k-48 +[0-9]+ ' "$tmp/text" || fail "text: no row: $(cat "$tmp/text")"
(($(grep -Ec '^[a-z0-9-]+ +[0-9]+ +[0-9]+[KMG]? ' "$tmp/text") == 1)) || fail "text: rows"
xmllint --noout "$tmp/replay.svg" || fail "replay --svg: not well-formed XML"
grep -q 'arm64-16k-48' "$tmp/replay.svg" || fail "replay --svg: no chart row"
checks=$((checks + 1))

# The tool's own process, as root and as an unprivileged user (frames hidden).
"$vpte" replay --json >"$tmp/self.json" || fail "replay of itself"
check "replay of itself: command" "$(jq -r .source.command "$tmp/self.json")" vpte
cp "$vpte" "$tmp/vpte"
chmod 755 "$tmp/vpte"
as_nobody=()
if command -v setpriv >/dev/null && [[ $(id -u) == 0 ]]; then
	as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${as_nobody[@]}" "$tmp/vpte" replay --json >"$tmp/nobody.json" || fail "replay as nobody"
	check "replay as nobody: frames" "$(jq -r .source.page_frames "$tmp/nobody.json")" unknown
	rc=0
	"${as_nobody[@]}" "$tmp/vpte" replay --pid "$child" 2>"$tmp/stderr" || rc=$?
	check "replay of root's process as nobody: status" "$rc" 1
	grep -q "/proc/$child/maps: Permission denied" "$tmp/stderr" ||
		fail "replay of root's process as nobody: $(cat "$tmp/stderr")"
fi

# Frames hidden by the kernel (pagemap's PFNs read as zero without
# CAP_SYS_ADMIN): an unprivileged user's replay of its own child says so and
# runs on presence alone, every present page still found.
if ((${#as_nobody[@]})); then
	mkfifo "$tmp/nobody.in" "$tmp/nobody.out"
	"${as_nobody[@]}" "$tmp/child" "$tmp/data.bin" <"$tmp/nobody.in" >"$tmp/nobody.out" &
	nobody_child=$!
	exec {to_nobody}>"$tmp/nobody.in" {from_nobody}<"$tmp/nobody.out"
	declare -A nat
	for _ in 1 2 3 4 5; do
		read -r -t 300 name value <&"$from_nobody" || fail "nobody's child said nothing"
		nat[$name]=$value
	done
	"${as_nobody[@]}" "$tmp/vpte" replay --pid "$nobody_child" --json >"$tmp/nobody-child.json" \
		2>"$tmp/stderr" || fail "replay of nobody's child as nobody: $(cat "$tmp/stderr")"
	"${as_nobody[@]}" "$tmp/vpte" replay --pid "$nobody_child" --format x86_64 \
		>"$tmp/nobody-child.txt" || fail "replay of nobody's child as nobody (text)"
	check "nobody's child: frames" "$(jq -r .source.page_frames "$tmp/nobody-child.json")" unknown
	grep -q '^page frames: unknown' "$tmp/nobody-child.txt" ||
		fail "nobody's child: text does not say the frames are unknown: $(cat "$tmp/nobody-child.txt")"
	check "nobody's child: anon pages" \
		"$(field "$tmp/nobody-child.json" "${nat[anon]}" .present_bytes)" $((128 * 4096))
	check "nobody's child: file pages" \
		"$(field "$tmp/nobody-child.json" "${nat[file]}" .formats.x86_64.mapped_bytes)" \
		"$(field "$tmp/nobody-child.json" "${nat[file]}" .smaps_rss_bytes)"
	exec {to_nobody}>&- {from_nobody}<&-
	wait "$nobody_child" || fail "nobody's child exited $?"
fi

# A process that exits while it is read: a child that exits once it has set
# itself up and its stdin closes (0 to 0.45 s later, a different moment each
# round), replayed at once and again and again until it is gone.
# Each replay either reads it whole (alive throughout: a consistent report)
# or says it is gone; never a crash or another error.
whole=0 exited=0 gone=0
for ((round = 0; round < 10; round++)); do
	"$tmp/child" "$tmp/data.bin" < <(sleep "$(printf '0.%02d' $((round * 5)))") >/dev/null &
	short=$!
	rc=0
	while ((rc == 0)); do
		rc=0
		"$vpte" replay --pid "$short" --format x86_64 --json >"$tmp/short.json" \
			2>"$tmp/stderr" || rc=$?
		if ((rc == 0)); then
			check "exiting child: pid" "$(jq .source.pid "$tmp/short.json")" "$short"
			whole=$((whole + 1))
		elif ((rc == 1)) && grep -q "process $short exited while it was read" "$tmp/stderr"; then
			exited=$((exited + 1))
			rc=0 # and again, until it is gone
		elif ((rc == 1)) && grep -q "no process $short" "$tmp/stderr"; then
			gone=$((gone + 1)) # a zombie: exited, not yet waited for
		else
			fail "exiting child: status $rc: $(cat "$tmp/stderr")"
		fi
	done
	wait "$short" || true
	rc=0
	"$vpte" replay --pid "$short" 2>"$tmp/stderr" || rc=$?
	check "reaped child: status" "$rc" 1
done
echo "test_replay: exiting children: $whole replays read them whole, $exited saw them" \
	"exit while read, $gone found them gone"

# A progress line on a terminal (script(1) gives it one), erased at the end.
if command -v script >/dev/null; then
	script -qec "'$vpte' replay --format x86_64 >/dev/null" /dev/null >"$tmp/tty" </dev/null ||
		fail "replay on a terminal"
	grep -q $'vpte: replay: building tables 100%\r\e\\[K' "$tmp/tty" ||
		fail "replay on a terminal: no progress line: $(od -c "$tmp/tty" | head)"
	checks=$((checks + 1))
fi

# Errors: no such process; a process that has exited (a zombie: no memory).
rc=0
"$vpte" replay --pid 2147483647 2>"$tmp/stderr" || rc=$?
check "no such process: status" "$rc" 1
grep -q "no process 2147483647" "$tmp/stderr" || fail "no such process: $(cat "$tmp/stderr")"
rc=0
"$vpte" replay --pid "${at[zombie]}" 2>"$tmp/stderr" || rc=$?
check "zombie: status" "$rc" 1
grep -q "no process ${at[zombie]}" "$tmp/stderr" || fail "zombie: $(cat "$tmp/stderr")"
rc=0
"$vpte" replay --pid 0 2>"$tmp/stderr" || rc=$?
check "--pid 0: status" "$rc" 2
rc=0
"$vpte" replay --format arm 2>"$tmp/stderr" || rc=$?
check "--format arm: status" "$rc" 2

echo "test_replay: $checks checks ok"
