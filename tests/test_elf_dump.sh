#!/usr/bin/env bash
# test_elf_dump.sh - `vpte dump` and `vpte translate` on a QEMU
# dump-guest-memory ELF file made by QEMU itself: page tables built with
# `vpte build` are loaded into the RAM of an x86-64 guest whose firmware is
# four instructions that load their root into CR3 and halt; QMP stops the
# guest and dumps its memory; the tool must find the root in the dump's
# CPU state and read the tables across the dump's segments exactly as from
# the raw image.  Corrupt and truncated dumps must be clear errors.
# Run by CTest with VPTE_BIN set to the directory holding the vpte binary.
set -euo pipefail

vpte="${VPTE_BIN:?set VPTE_BIN to the directory of the vpte binary}/vpte"
qemu=qemu-system-x86_64
tmp=$(mktemp -d)
checks=0
qemu_pid=
cleanup() {
	[[ -z $qemu_pid ]] || kill "$qemu_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
[[ -z ${KEEP:-} ]] || trap - EXIT

fail() {
	echo "test_elf_dump: FAIL: $*" >&2
	exit 1
}
command -v "$qemu" >/dev/null || fail "$qemu not found (scripts/test.sh installs qemu-system-x86)"

# The tables: placed from 1 MiB, above the legacy VGA/ROM hole, so that the
# dump's RAM segments carry them.
base=0x100000
out=$("$vpte" build --format x86_64 --base $base -o "$tmp/pt.img" - <<'EOF'
map 0x400000 0x10400000 0x2a5000 r-xu
map 1G 2G 4M rw-u
unmap 0x40101000 8K
map 0xffff888000000000 0 2G rw-g
map 0x7fffffe00000 0x5000000 2M rw-u
EOF
)
root=$(sed -n 's/^root //p' <<<"$out")
[[ $root =~ ^0x[0-9a-f]+$ ]] || fail "build printed: $out"

# Firmware: 64 KiB (QEMU wants a multiple of it) ending at 4 GiB; the reset
# vector at offset 0xfff0 runs, in real mode, mov eax, ROOT (66 b8 imm32);
# mov cr3, eax (0f 22 d8); hlt (f4); jmp back to the hlt (eb fd).
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) \
	$(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
head -c 65520 /dev/zero >"$tmp/bios.bin"
printf "\\x66\\xb8$(le32 "$root")\\x0f\\x22\\xd8\\xf4\\xeb\\xfd\\x00\\x00\\x00\\x00" >>"$tmp/bios.bin"
(($(wc -c <"$tmp/bios.bin") == 65536)) || fail "firmware is not 64 KiB"

# QMP over the guest's stdio, through two FIFOs: one JSON object a line.
# (Not a coproc: bash unsets a coproc's variables as soon as it reaps the
# process, so a QEMU that exits early made the script die on an unbound
# variable with no word of why; a FIFO just reads end-of-file.)
mkfifo "$tmp/qmp.in" "$tmp/qmp.out"
"$qemu" -machine q35 -m 64 -accel tcg -nodefaults -no-user-config -display none \
	-bios "$tmp/bios.bin" -device "loader,file=$tmp/pt.img,addr=$base,force-raw=on" \
	-qmp stdio <"$tmp/qmp.in" >"$tmp/qmp.out" 2>"$tmp/qemu.err" &
qemu_pid=$!
exec {to_qemu}>"$tmp/qmp.in" {from_qemu}<"$tmp/qmp.out"

# Every wait below is for an answer from QEMU, bounded generously (a hung
# QEMU fails the test instead of blocking CTest): a loaded machine makes
# QEMU slow, never wrong.
patience=300
qemu_gone() {
	fail "QEMU did not answer $1 within ${patience}s or exited: $(cat "$tmp/qemu.err")"
}
# qmp COMMAND-JSON: send it and leave its reply line (events skipped) in $reply.
# The write is in a subshell so that a QEMU gone (SIGPIPE) fails the test
# with a message instead of killing the script.
qmp() {
	(echo "$1" >&"$to_qemu") 2>/dev/null || qemu_gone "$1"
	while IFS= read -r -t $patience reply <&"$from_qemu"; do
		[[ $reply == *'"event"'* ]] || return 0
	done
	qemu_gone "$1"
}
IFS= read -r -t $patience reply <&"$from_qemu" || qemu_gone "with its greeting"
qmp '{"execute":"qmp_capabilities"}'
# Wait for the firmware to have set CR3 (printed with 8 hex digits outside
# long mode, 16 in it): the guest runs as soon as QEMU starts, but a loaded
# machine may not schedule its CPU thread at once.
want_cr3="CR3=0*${root#0x} "
started=$SECONDS
while qmp '{"execute":"human-monitor-command","arguments":{"command-line":"info registers"}}'
	[[ ! $reply =~ $want_cr3 ]]; do
	((SECONDS - started < patience)) || fail "the guest never set $want_cr3: $reply"
	sleep 0.05
done
qmp '{"execute":"stop"}'
qmp "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$tmp/guest.elf\"}}"
[[ $reply == *'"return"'* ]] || fail "dump-guest-memory: $reply"
qmp '{"execute":"quit"}'
wait "$qemu_pid" || true
qemu_pid=
exec {to_qemu}>&- {from_qemu}<&-
[[ -s "$tmp/guest.elf" ]] || fail "QEMU wrote no dump"

expect_same() { # expect_same WHAT EXPECTED GOT
	if [[ "$2" != "$3" ]]; then
		diff <(echo "$2") <(echo "$3") >&2 || true
		fail "$1 (diff above: < expected, > got)"
	fi
	checks=$((checks + 1))
}

# The dump has several segments with holes between them (the ROM hole below
# 1 MiB, the firmware at the top of 4 GiB): the test means something only then.
class=$(od -An -tu1 -j4 -N1 "$tmp/guest.elf" | tr -d ' ')   # e_phnum: at 44 in ELF32, 56 in ELF64
segments=$(od -An -tu2 -j$((class == 2 ? 56 : 44)) -N2 "$tmp/guest.elf" | tr -d ' ')
((segments >= 3)) || fail "the dump has only $segments program headers"

raw_dump=$("$vpte" dump --format x86_64 --image "$tmp/pt.img" --base $base --root "$root")
(($(wc -l <<<"$raw_dump") == 7)) || fail "raw dump: $raw_dump"
# The root comes from the dump's CPU state...
expect_same "dump of the ELF (root from CR3)" "$raw_dump" \
	"$("$vpte" dump --format x86_64 --image "$tmp/guest.elf")"
# ... or from --root, which wins.
expect_same "dump of the ELF with --root" "$raw_dump" \
	"$("$vpte" dump --format x86_64 --image "$tmp/guest.elf" --root "$root")"
vas="0x400000 0x6a4fff 0x6a5000 0x40100fff 0x40101000 0x403fffff 0xffff888012345678 0x7fffffffffff"
expect_same "translate in the ELF" \
	"$("$vpte" translate --format x86_64 --image "$tmp/pt.img" --base $base --root "$root" $vas)" \
	"$("$vpte" translate --format x86_64 --image "$tmp/guest.elf" $vas)"
expect_same "stats of the ELF" \
	"$("$vpte" stats --format x86_64 --image "$tmp/pt.img" --base $base --root "$root" | sed 1d)" \
	"$("$vpte" stats --format x86_64 --image "$tmp/guest.elf" | sed 1d)"
# convert reads it too (its tables go to --out-base: a dump has no --base).
cv_root=$("$vpte" convert --from x86_64 --to riscv-sv48 --image "$tmp/guest.elf" -o "$tmp/cv.img" \
	--out-base 0x1000000 | sed -n 's/^root //p')
expect_same "convert of the ELF" "$raw_dump" \
	"$("$vpte" dump --format riscv-sv48 --image "$tmp/cv.img" --base 0x1000000 --root "$cv_root")"
# A root elsewhere in RAM (zeroed guest memory: an empty table) maps nothing.
expect_same "dump with another --root" "" \
	"$("$vpte" dump --format x86_64 --image "$tmp/guest.elf" --root 0x3000000)"

# expect_error STATUS PATTERN COMMAND...: exit status and a message on stderr.
expect_error() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
	[[ $rc == "$want" ]] || fail "$* exited $rc, want $want: $(cat "$tmp/stderr")"
	grep -Eq -- "$pattern" "$tmp/stderr" || fail "$*: stderr lacks /$pattern/: $(cat "$tmp/stderr")"
	checks=$((checks + 1))
}
expect_error 2 'drop --base' "$vpte" dump --format x86_64 --image "$tmp/guest.elf" --base 0
expect_error 2 'missing --out-base' "$vpte" convert --from x86_64 --to riscv-sv48 \
	--image "$tmp/guest.elf" -o "$tmp/cv.img"
expect_error 1 'holds no page-table root for arm64-4k-48.*give --root' \
	"$vpte" dump --format arm64-4k-48 --image "$tmp/guest.elf"
expect_error 2 'missing --root \(a raw image needs --base and --root\)' \
	"$vpte" dump --format x86_64 --image "$tmp/pt.img" --base $base
# A root outside every segment: the walk meets no memory there.
expect_error 1 'EFAULT' "$vpte" dump --format x86_64 --image "$tmp/guest.elf" --root 0x80000000

# Truncated dumps: inside the ELF header, inside the program headers, inside
# the memory: each a clear error, never a crash.
for cut in 10 40 70 200 4096 1000000; do
	head -c $cut "$tmp/guest.elf" >"$tmp/cut.elf"
	expect_error 1 'cut.elf: (truncated|not an ELF|.*beyond the end of the file)' \
		"$vpte" dump --format x86_64 --image "$tmp/cut.elf"
done
# Random corruption of the headers and notes (QEMU writes them in the first
# 2 KiB for one CPU; the memory follows): any outcome but a crash or a hang.
# The seed is fixed, so a failure reproduces.
RANDOM=7
# Only the corrupted bytes are restored between rounds (not 64 MiB copied
# 100 times: disk traffic that slows every test running beside this one).
cp "$tmp/guest.elf" "$tmp/fuzz.elf"
chmod u+w "$tmp/fuzz.elf"
for ((i = 0; i < 100; i++)); do
	dd if="$tmp/guest.elf" of="$tmp/fuzz.elf" bs=2048 count=1 conv=notrunc status=none
	for ((j = 0; j < 4; j++)); do
		printf "\\x$(printf %02x $((RANDOM % 256)))" |
			dd of="$tmp/fuzz.elf" bs=1 seek=$((RANDOM % 2048)) conv=notrunc status=none
	done
	rc=0
	timeout 20 "$vpte" dump --format x86_64 --image "$tmp/fuzz.elf" --max-ranges 1000 \
		>/dev/null 2>&1 || rc=$?
	((rc <= 3)) || fail "corrupt dump $i: exit status $rc (saved as $tmp/fuzz.elf)"
done
checks=$((checks + 1))

echo "test_elf_dump: $checks checks ok"
