#!/usr/bin/env bash
# test_tool.sh - the `vpte` command-line tool, end to end: formats, build
# (map, unmap, protect, split, collapse), translate, dump (hostile images
# included), demo, usage errors.
# Run by CTest with VPTE_BIN set to the directory holding the vpte binary.
set -euo pipefail

vpte="${VPTE_BIN:?set VPTE_BIN to the directory of the vpte binary}/vpte"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checks=0

fail() {
	echo "test_tool: FAIL: $*" >&2
	exit 1
}

# expect_output EXPECTED COMMAND...: the command succeeds and prints exactly EXPECTED.
expect_output() {
	local expected=$1 got rc=0
	shift
	got=$("$@" 2>"$tmp/stderr") || rc=$?
	[[ $rc == 0 ]] || fail "$* exited $rc: $(cat "$tmp/stderr")"
	if [[ "$got" != "$expected" ]]; then
		diff <(echo "$expected") <(echo "$got") >&2 || true
		fail "$*: unexpected output (diff above: < expected, > got)"
	fi
	checks=$((checks + 1))
}

# expect_status STATUS PATTERN COMMAND...: the command exits with STATUS and
# its stderr matches the extended regular expression PATTERN (is empty for
# an empty PATTERN); its stdout is left in $tmp/stdout.
expect_status() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
	[[ $rc == "$want" ]] || fail "$* exited $rc, want $want: $(cat "$tmp/stderr")"
	if [[ -z $pattern ]]; then
		[[ ! -s "$tmp/stderr" ]] || fail "$*: unexpected stderr: $(cat "$tmp/stderr")"
	else
		grep -Eq -- "$pattern" "$tmp/stderr" ||
			fail "$*: stderr lacks /$pattern/: $(cat "$tmp/stderr")"
	fi
	checks=$((checks + 1))
}

# build FORMAT BASE IMAGE: build IMAGE from the script on stdin at BASE and
# check what build prints; the root is then in $root.
build() {
	local out size
	out=$("$vpte" build --format "$1" --base "$2" -o "$3" -) || fail "build $1 exited $?"
	root=$(sed -n 's/^root //p' <<<"$out")
	size=$(wc -c <"$3")
	[[ "$(sed 1d <<<"$out")" == "$(printf 'base 0x%x\nsize %d' "$2" "$size")" ]] ||
		fail "build $1 printed: $out"
	[[ $root =~ ^0x[0-9a-f]+$ ]] || fail "build $1: bad root in: $out"
	checks=$((checks + 1))
}

# entry_escapes VALUE: a 64-bit entry's little-endian bytes as printf escapes.
entry_escapes() {
	local s= b
	for i in 0 1 2 3 4 5 6 7; do
		printf -v b '\\x%02x' $((($1 >> (8 * i)) & 255))
		s+=$b
	done
	echo "$s"
}

# page VALUE: one 4 KiB table page whose 512 entries all hold VALUE.
page() {
	local entry
	entry=$(entry_escapes "$1")
	printf "$entry%.0s" $(seq 512)
}

# poke FILE OFFSET VALUE: store one entry.
poke() {
	printf "$(entry_escapes "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# ---- formats ----
expect_output "x86_64 x86_64-la57 arm64-4k-39 arm64-4k-48 arm64-16k-47 arm64-16k-48 \
arm64-64k-42 arm64-64k-48 riscv-sv39 riscv-sv48 riscv-sv57" \
	bash -c '"$1" formats | awk "{print \$1}" | paste -sd" "' _ "$vpte"
[[ $("$vpte" formats | wc -l) == 11 ]] || fail "formats: not 11 lines"
checks=$((checks + 1))
expect_output "x86_64        levels=4 va_bits=48 pa_bits=52 leaves=4K,2M,1G contiguous=none
arm64-4k-48   levels=4 va_bits=48 pa_bits=48 leaves=4K,2M,1G contiguous=64K(16x4K),32M(16x2M),16G(16x1G)
arm64-64k-42  levels=2 va_bits=42 pa_bits=48 leaves=64K,512M contiguous=2M(32x64K),16G(32x512M)
riscv-sv39    levels=3 va_bits=39 pa_bits=56 leaves=4K,2M,1G contiguous=64K(16x4K)" \
	bash -c '"$1" formats | grep -E "^(x86_64|arm64-4k-48|arm64-64k-42|riscv-sv39) "' _ "$vpte"

# ---- x86_64: 1G leaves in the upper half, ragged ends, a hole in a 2M leaf ----
build x86_64 0x1000000 "$tmp/x86.img" <<'EOF'
# kernel direct map: two 1 GiB leaves in the upper half
map 0xffff888000000000 0 2G rw-g
map 0x400000 0x10400000 0x2a5000 r-xu   # a 2M leaf, then a ragged 4K tail
map 1G 2G 4M rw-u
unmap 0x40101000 8K                     # punches a hole out of a 2M leaf

map 0x7ffffffff000 0x5000 4K rw-u       # the last page of the lower half
EOF
x86=(--format x86_64 --image "$tmp/x86.img" --base 0x1000000 --root "$root")
expect_output "0x400000-0x600000 -> 0x10400000 shift=21 r-xu-a--
0x600000-0x6a5000 -> 0x10600000 shift=12 r-xu-a--
0x40000000-0x40101000 -> 0x80000000 shift=12 rw-u-a--
0x40103000-0x40200000 -> 0x80103000 shift=12 rw-u-a--
0x40200000-0x40400000 -> 0x80200000 shift=21 rw-u-a--
0x7ffffffff000-0x800000000000 -> 0x5000 shift=12 rw-u-a--
0xffff888000000000-0xffff888080000000 -> 0x0 shift=30 rw--ga--" \
	"$vpte" dump "${x86[@]}"
expect_output "0x400000 -> 0x10400000 shift=21 r-xu-a--
0x6a4fff -> 0x106a4fff shift=12 r-xu-a--
0x6a5000 -> none
0x40101000 -> none
0x40102fff -> none
0x40103000 -> 0x80103000 shift=12 rw-u-a--
0xffff8880449a0123 -> 0x449a0123 shift=30 rw--ga--
0xffff888080000000 -> none" \
	"$vpte" translate "${x86[@]}" 0x400000 0x6a4fff 0x6a5000 0x40101000 0x40102fff \
	0x40103000 0xffff8880449a0123 0xffff888080000000
# VAs from stdin, with blank lines and comments; - may sit among other VAs.
expect_output "0x400000 -> 0x10400000 shift=21 r-xu-a--
0x7ffffffff008 -> 0x5008 shift=12 rw-u-a--
0x1000 -> none
0xffff888000000000 -> 0x0 shift=30 rw--ga--" \
	"$vpte" translate "${x86[@]}" 4M - 0xffff888000000000 <<<$'0x7ffffffff008\n\n# a hole:\n4K\n'
expect_status 1 'translate: 0x800000000000: EINVAL' "$vpte" translate "${x86[@]}" 0x800000000000
expect_status 1 "translate: <stdin>:2: bad VA 'zz'" "$vpte" translate "${x86[@]}" - <<<$'4M\nzz\n'

# ---- x86_64-la57: the upper half of a 57-bit space ----
build x86_64-la57 0 "$tmp/la57.img" <<<'map 0xff00000000000000 0x40000000 1G rwxg'
expect_output "0xff00000000000000-0xff00000040000000 -> 0x40000000 shift=30 rwx-ga--" \
	"$vpte" dump --format x86_64-la57 --image "$tmp/la57.img" --base 0 --root "$root"

# ---- arm64 4K: contiguous runs (16 x 4K = 64K, 16 x 2M = 32M), max=, memory types ----
build arm64-4k-48 0x80000000 "$tmp/arm.img" <<'EOF'
map 0x10000 0x80010000 64K rw              # one run of 16 x 4K
map 0x21000 0x90021000 0x4f000 r-x         # 15 x 4K, then four 64K runs
map 0x40000000 0x40000000 32M rw-g,device  # one run of 16 x 2M
map 0x80000000 0xc0000000 6M rw max=12     # only 4K leaves
map 4G 4G 2M rw,nc max=16                  # 64K runs, no 2M block
map 0x200000000 0x200000000 1G rw
unmap 0x200000000 4K
EOF
arm=(--format arm64-4k-48 --image "$tmp/arm.img" --base 0x80000000 --root "$root")
expect_output "0x10000-0x20000 -> 0x80010000 shift=16 rw---a--
0x21000-0x30000 -> 0x90021000 shift=12 r-x--a--
0x30000-0x70000 -> 0x90030000 shift=16 r-x--a--
0x40000000-0x42000000 -> 0x40000000 shift=25 rw--ga--,device
0x80000000-0x80600000 -> 0xc0000000 shift=12 rw---a--
0x100000000-0x100200000 -> 0x100000000 shift=16 rw---a--,nc
0x200001000-0x200010000 -> 0x200001000 shift=12 rw---a--
0x200010000-0x200200000 -> 0x200010000 shift=16 rw---a--
0x200200000-0x202000000 -> 0x200200000 shift=21 rw---a--
0x202000000-0x240000000 -> 0x202000000 shift=25 rw---a--" \
	"$vpte" dump "${arm[@]}"
expect_output "0x1fffe -> 0x8001fffe shift=16 rw---a--
0x41234567 -> 0x41234567 shift=25 rw--ga--,device" \
	"$vpte" translate "${arm[@]}" 0x1fffe 0x41234567
# TTBR0 only: nothing at or above 2^48.
expect_status 1 'ERANGE' "$vpte" translate "${arm[@]}" 0x1000000000000

# ---- arm64 64K: 512M blocks and 32 x 64K runs ----
build arm64-64k-42 0 "$tmp/arm64k.img" <<'EOF'
map 512M 512M 512M rw
map 0x200000 0x40200000 0x210000 rw    # a 2M run, then one 64K page
EOF
expect_output "0x200000-0x400000 -> 0x40200000 shift=21 rw---a--
0x400000-0x410000 -> 0x40400000 shift=16 rw---a--
0x20000000-0x40000000 -> 0x20000000 shift=29 rw---a--" \
	"$vpte" dump --format arm64-64k-42 --image "$tmp/arm64k.img" --base 0 --root "$root"

# ---- RISC-V Sv39: upper half, Svnapot, the last page of the VA space, unmap splits ----
build riscv-sv39 0x80000000 "$tmp/rv.img" <<'EOF'
map 0xffffffc000000000 0x80000000 1G rwxg
map 0xfffffffffff00000 0x200000 1M rw-g    # Svnapot runs up to the end of the space
map 0x10000 0x81001000 64K rw-u            # PA not 64K-aligned: 4K leaves
map 0x200000 0x40000000 2M rw
unmap 0x210000 64K
map 0x400000 0x40000000 4K rw insert       # insert: PA aliases are fine, not overlaps
EOF
rv=(--format riscv-sv39 --image "$tmp/rv.img" --base 0x80000000 --root "$root")
expect_output "0x10000-0x20000 -> 0x81001000 shift=12 rw-u-a--
0x200000-0x210000 -> 0x40000000 shift=16 rw---a--
0x220000-0x400000 -> 0x40020000 shift=16 rw---a--
0x400000-0x401000 -> 0x40000000 shift=12 rw---a--
0xffffffc000000000-0xffffffc040000000 -> 0x80000000 shift=30 rwx-ga--
0xfffffffffff00000-0x10000000000000000 -> 0x200000 shift=16 rw--ga--" \
	"$vpte" dump "${rv[@]}"
expect_output "0xffffffffffffffff -> 0x2fffff shift=16 rw--ga--" \
	"$vpte" translate "${rv[@]}" 0xffffffffffffffff

# ---- the insert option ----
build x86_64 0 "$tmp/ins.img" <<'EOF'
map 0x200000 0x200000 2M rw
map 0x200000 0x200000 4M rw insert  # refills what is there, adds the rest
EOF
expect_output "0x200000-0x600000 -> 0x200000 shift=21 rw---a--" \
	"$vpte" dump --format x86_64 --image "$tmp/ins.img" --base 0 --root "$root"

# ---- protect, split and collapse ----
build arm64-4k-48 0 "$tmp/edit.img" <<'EOF'
map 1G 1G 1G rw
protect 0x40200000 0x3000 r-x        # splits the 1 GiB leaf at both edges
split 0x40400000 2M 16               # a 2 MiB block to 64 KiB runs
split 0x40600000 64K 12              # a run to pages
map 0x80000000 0x80000000 2M rw max=12
collapse 0x80000000 2M 0             # 512 pages back into one 2 MiB block
map 0x90000000 0x90000000 64K rwd max=12
protect 0x90000000 64K rw-ug,device  # attributes replaced; accessed, dirty kept
collapse 0x90000000 64K 16           # one 64 KiB run
EOF
expect_output "0x40000000-0x40200000 -> 0x40000000 shift=21 rw---a--
0x40200000-0x40203000 -> 0x40200000 shift=12 r-x--a--
0x40203000-0x40210000 -> 0x40203000 shift=12 rw---a--
0x40210000-0x40600000 -> 0x40210000 shift=16 rw---a--
0x40600000-0x40610000 -> 0x40600000 shift=12 rw---a--
0x40610000-0x40800000 -> 0x40610000 shift=16 rw---a--
0x40800000-0x42000000 -> 0x40800000 shift=21 rw---a--
0x42000000-0x80000000 -> 0x42000000 shift=25 rw---a--
0x80000000-0x80200000 -> 0x80000000 shift=21 rw---a--
0x90000000-0x90010000 -> 0x90000000 shift=16 rw-ugad-,device" \
	"$vpte" dump --format arm64-4k-48 --image "$tmp/edit.img" --base 0 --root "$root"
build x86_64 0 "$tmp/edit86.img" <<'EOF'
map 0 0 4M rw
split 0 4M 12                        # 1024 pages
collapse 0 4M 21                     # two 2 MiB leaves again
protect 0x200000 2M r
EOF
expect_output "0x0-0x200000 -> 0x0 shift=21 rw---a--
0x200000-0x400000 -> 0x200000 shift=21 r----a--" \
	"$vpte" dump --format x86_64 --image "$tmp/edit86.img" --base 0 --root "$root"

# ---- number and PROT syntax; printed PROTs parse back ----
build x86_64 0 "$tmp/num.img" <<'EOF'
map 0X10000 65536 4K rw
map 1M 0x100000 4096 rw
map 2M 2M 4K rwuds,nc,raw=0x400
map 4M 4M 4K r-x-ga--,device
EOF
expect_status 1 ':1: map: EINVAL' "$vpte" build --format x86_64 --base 0 -o "$tmp/x" - \
	<<<'map 0x10000 0x10000 1K rw' # 1K is a number, but not a page
expect_status 1 ':1: map: EINVAL' "$vpte" build --format x86_64 --base 0 -o "$tmp/x" - \
	<<<'map 0 0 4K rw,raw=0x1' # bit 0 is Present, not a raw bit
expect_output "0x10000-0x11000 -> 0x10000 shift=12 rw---a--
0x100000-0x101000 -> 0x100000 shift=12 rw---a--
0x200000-0x201000 -> 0x200000 shift=12 rw-u-ads,nc,raw=0x400
0x400000-0x401000 -> 0x400000 shift=12 r-x-ga--,device" \
	"$vpte" dump --format x86_64 --image "$tmp/num.img" --base 0 --root "$root"

# ---- script errors: the line, the command, the reason; no image ----
script_error() {
	local pattern=$1
	rm -f "$tmp/bad.img"
	expect_status 1 "$pattern" "$vpte" build --format x86_64 --base 0 -o "$tmp/bad.img" -
	[[ ! -e "$tmp/bad.img" ]] || fail "an image was written despite: $pattern"
}
script_error "^<stdin>:2: map: bad SIZE '4Q'" <<<$'map 0 0 4K rw\nmap 4K 4K 4Q rw'
script_error "^<stdin>:3: unknown command 'mapp'" <<<$'# comment\n\nmapp 0 0 4K rw'
script_error "^<stdin>:2: map: EEXIST: range overlaps an existing mapping" \
	<<<$'map 0 0 2M rw\nmap 1M 1M 4K rw'
script_error "^<stdin>:1: map: EINVAL" <<<'map 0x1800 0 4K rw'
script_error "^<stdin>:1: map: bad PA '0x'" <<<'map 0 0x 4K rw'
script_error "^<stdin>:1: map: bad VA '18446744073709551616'" <<<'map 18446744073709551616 0 4K rw'
script_error "^<stdin>:1: map: bad PROT 'rq'" <<<'map 0 0 4K rq'
script_error "^<stdin>:1: map: bad PROT 'rw,wc'" <<<'map 0 0 4K rw,wc'
script_error "^<stdin>:1: map: unknown option 'max'" <<<'map 0 0 4K rw max'
script_error "^<stdin>:1: unmap: want 'unmap VA SIZE'" <<<'unmap 0'
script_error "^<stdin>:1: protect: want 'protect VA SIZE PROT'" <<<'protect 0 4K'
script_error "^<stdin>:1: protect: bad PROT 'rq'" <<<'protect 0 4K rq'
script_error "^<stdin>:2: protect: EINVAL" <<<$'map 0 0 4K rw\nprotect 0 4K w' # x86-64 pages are readable
script_error "^<stdin>:1: split: want 'split VA SIZE SHIFT'" <<<'split 0 4K'
script_error "^<stdin>:1: split: SHIFT 64 is not a shift" <<<'split 0 4K 64'
script_error "^<stdin>:1: split: EINVAL" <<<'split 0 4K 11'
script_error "^<stdin>:1: collapse: bad MAXSHIFT 'x'" <<<'collapse 0 4K x'
script_error "^<stdin>:1: collapse: EINVAL" <<<'collapse 0 4K 5'
script_error "^<stdin>:1: map: max 64 is not a shift" <<<'map 0 0 4K rw max=64'
script_error "^<stdin>:1: map: ERANGE" <<<'map 0 0x10000000000000 4K rw'
echo 'map 0 0 4K rw bogus' >"$tmp/named.script"
expect_status 1 "^$tmp/named.script:1: map: unknown option 'bogus'" \
	"$vpte" build --format x86_64 --base 0 -o "$tmp/x" "$tmp/named.script"
expect_status 1 'ENOMEM' "$vpte" build --format x86_64 --base 0 --limit 8K -o "$tmp/x" - \
	<<<'map 0 0 4K rw'
expect_status 1 'nonexistent.script: No such file' \
	"$vpte" build --format x86_64 --base 0 -o "$tmp/x" "$tmp/nonexistent.script"

# ---- corrupt images: a clear error, never a crash ----
head -c 100 "$tmp/x86.img" >"$tmp/truncated.img"
expect_status 1 'translate: 0x400000: EFAULT' \
	"$vpte" translate --format x86_64 --image "$tmp/truncated.img" --base 0x1000000 \
	--root 0x1000000 0x400000
expect_status 1 'dump: EFAULT: .* at VA 0x0$' \
	"$vpte" dump --format x86_64 --image "$tmp/truncated.img" --base 0x1000000 --root 0x1000000
# Loaded at the wrong base, the image's table addresses point outside it.
expect_status 1 'translate: 0x400000: EFAULT' \
	"$vpte" translate --format x86_64 --image "$tmp/x86.img" --base 0x2000000 --root 0x2000000 \
	0x400000
expect_status 1 'root 0x1000800: EINVAL' \
	"$vpte" translate --format x86_64 --image "$tmp/x86.img" --base 0x1000000 --root 0x1000800 0
expect_status 1 'missing.img: No such file' \
	"$vpte" dump --format x86_64 --image "$tmp/missing.img" --base 0 --root 0

# An x86-64 table whose root entry 1 sets PS, reserved in a PML4E: dump
# prints the mapping before it, then the error.
head -c 16384 /dev/zero >"$tmp/ps.img"
poke "$tmp/ps.img" 0 0x1003
poke "$tmp/ps.img" 8 0x83
poke "$tmp/ps.img" 4096 0x2003
poke "$tmp/ps.img" 8192 0x3003
poke "$tmp/ps.img" 12288 0x5003
expect_status 1 'dump: EFAULT: .* at VA 0x8000000000$' \
	"$vpte" dump --format x86_64 --image "$tmp/ps.img" --base 0 --root 0
[[ "$(cat "$tmp/stdout")" == "0x0-0x1000 -> 0x5000 shift=12 rwx-----" ]] ||
	fail "dump before EFAULT printed: $(cat "$tmp/stdout")"
expect_output "0x0 -> 0x5000 shift=12 rwx-----" \
	"$vpte" translate --format x86_64 --image "$tmp/ps.img" --base 0 --root 0 0

# A root whose every entry points to itself (a recursive mapping): each
# level-0 entry maps the root page, so nothing coalesces; output is bounded.
page 0x3 >"$tmp/self.img"
expect_status 3 '' "$vpte" dump --format x86_64 --image "$tmp/self.img" --base 0 --root 0 \
	--max-ranges 3
expect_output "0x0-0x1000 -> 0x0 shift=12 rwx-----
0x1000-0x2000 -> 0x0 shift=12 rwx-----
0x2000-0x3000 -> 0x0 shift=12 rwx-----
# truncated: --max-ranges reached" cat "$tmp/stdout"
expect_status 3 '' "$vpte" dump --format x86_64 --image "$tmp/self.img" --base 0 --root 0
(($(wc -l <"$tmp/stdout") == 100001)) || fail "self-referencing dump: not bounded by default"
checks=$((checks + 1))

# Tables fanning out 512 ways to the same tables, ending in an empty one:
# 2^36 entries in LA57, no leaf at all; the walk itself must be bounded.
{ page 0x1003; page 0x2003; page 0x3003; page 0x4003; page 0; } >"$tmp/fan.img"
expect_status 3 '' "$vpte" dump --format x86_64-la57 --image "$tmp/fan.img" --base 0 --root 0 \
	--max-entries 100000
expect_output "# truncated: --max-entries reached" cat "$tmp/stdout"
expect_output "0x123456789000 -> none" \
	"$vpte" translate --format x86_64-la57 --image "$tmp/fan.img" --base 0 --root 0 0x123456789000

# ---- demo: every format, quickly ----
expect_status 0 '' timeout 10 "$vpte" demo
for name in $("$vpte" formats | awk '{print $1}'); do
	grep -Eq "^$name +[0-9]+ " "$tmp/stdout" || fail "demo: no row for $name"
done
checks=$((checks + 1))

# ---- convert: an image's address space in other formats ----
# convert FROM TO IMAGE BASE ROOT OUT [OPTIONS]: convert and check what it
# prints (like build); the new root is then in $root.
convert() {
	local out size base=$4
	out=$("$vpte" convert --from "$1" --to "$2" --image "$3" --base "$4" --root "$5" -o "$6" \
		"${@:7}") || fail "convert $1 -> $2 exited $?"
	[[ ${*:7} =~ --out-base\ ([0-9a-fx]+) ]] && base=${BASH_REMATCH[1]}
	root=$(sed -n 's/^root //p' <<<"$out")
	size=$(wc -c <"$6")
	[[ "$(sed 1d <<<"$out")" == "$(printf 'base 0x%x\nsize %d' "$base" "$size")" ]] ||
		fail "convert $1 -> $2 printed: $out"
	checks=$((checks + 1))
}

# coalesced FORMAT IMAGE BASE ROOT: the dump's ranges with leaf sizes
# dropped and neighbours merged (same PROT, contiguous VA and PA).
coalesced() {
	local range pa prot start end cur_start= cur_end= cur_pa= cur_prot=
	while read -r range _ pa _ prot; do
		start=${range%-*} end=${range#*-}
		if [[ $start == "$cur_end" && $prot == "$cur_prot" ]] &&
			((pa == cur_pa + (start - cur_start))); then
			cur_end=$end
			continue
		fi
		[[ -z $cur_start ]] || echo "$cur_start-$cur_end -> $cur_pa $cur_prot"
		cur_start=$start cur_end=$end cur_pa=$pa cur_prot=$prot
	done < <("$vpte" dump --format "$1" --image "$2" --base "$3" --root "$4")
	[[ -z $cur_start ]] || echo "$cur_start-$cur_end -> $cur_pa $cur_prot"
}

build x86_64 0x1000000 "$tmp/cv.img" <<'EOF'
map 0x400000 0x10400000 0x2a5000 r-xu    # a 2M leaf, then 4K pages
map 1G 2G 4M rw-u
unmap 0x40101000 8K
map 8G 8G 3G rw-g,device                 # 1G leaves
map 0x10000 0x80010000 64K rwx-d,nc      # dirty pages
map 0x7fffffe00000 0x5000000 2M rw-u     # the top 2M of the lower half
EOF
cv_root=$root
coalesced x86_64 "$tmp/cv.img" 0x1000000 "$cv_root" >"$tmp/cv.ranges"
(($(wc -l <"$tmp/cv.ranges") == 6)) || fail "convert: source ranges: $(cat "$tmp/cv.ranges")"
for to in arm64-4k-48 riscv-sv48; do
	convert x86_64 "$to" "$tmp/cv.img" 0x1000000 "$cv_root" "$tmp/cv-$to.img"
	expect_output "$(cat "$tmp/cv.ranges")" coalesced "$to" "$tmp/cv-$to.img" 0x1000000 "$root"
done
# The same leaf sizes there and back: the round trip dumps the same, shifts too.
convert arm64-4k-48 x86_64 "$tmp/cv-arm64-4k-48.img" 0x1000000 "$root" "$tmp/cv-back.img" \
	--out-base 0x40000000
expect_output "$("$vpte" dump --format x86_64 --image "$tmp/cv.img" --base 0x1000000 \
	--root "$cv_root")" \
	"$vpte" dump --format x86_64 --image "$tmp/cv-back.img" --base 0x40000000 --root "$root"
# Leaves split where the new format lacks the size: 1G becomes 2 x 512M on
# arm64 64K, a 2M leaf a run of 32 x 64K; a Svnapot run becomes a 64K page.
build riscv-sv48 0 "$tmp/cv-rv.img" <<'EOF'
map 1G 1G 1G rw
map 2M 6M 2M r-x
map 64K 64K 64K rw-d
EOF
convert riscv-sv48 arm64-64k-48 "$tmp/cv-rv.img" 0 "$root" "$tmp/cv-64k.img"
expect_output "0x10000-0x20000 -> 0x10000 shift=16 rw---ad-
0x200000-0x400000 -> 0x600000 shift=21 r-x--a--
0x40000000-0x80000000 -> 0x40000000 shift=29 rw---a--" \
	"$vpte" dump --format arm64-64k-48 --image "$tmp/cv-64k.img" --base 0 --root "$root"
# What cannot be converted: an error, and no image.
rm -f "$tmp/cv-bad.img"
expect_status 1 'convert: the leaf at VA 0xffff888000000000 \(shift 30\) is outside arm64-4k-48' \
	"$vpte" convert --from x86_64 --to arm64-4k-48 --image "$tmp/x86.img" --base 0x1000000 \
	--root 0x1000000 -o "$tmp/cv-bad.img"
expect_status 1 'convert: \[0x0, 0x7fffffffffff\]: EINVAL: .*smaller than the new format' \
	"$vpte" convert --from x86_64 --to arm64-16k-48 --image "$tmp/cv.img" --base 0x1000000 \
	--root "$cv_root" -o "$tmp/cv-bad.img"
[[ ! -e "$tmp/cv-bad.img" ]] || fail "convert wrote an image despite an error"
# Hostile images: the walk and the tables it may build are bounded.
expect_status 1 'convert: more than 100000 entries \(--max-entries\)' \
	"$vpte" convert --from x86_64-la57 --to riscv-sv57 --image "$tmp/fan.img" --base 0 --root 0 \
	-o "$tmp/cv-bad.img" --max-entries 100000
expect_status 1 'convert: riscv-sv48 needs more than --limit 65536 bytes of tables' \
	"$vpte" convert --from x86_64 --to riscv-sv48 --image "$tmp/self.img" --base 0 --root 0 \
	-o "$tmp/cv-bad.img" --limit 64K
expect_status 1 'convert: EFAULT' "$vpte" convert --from x86_64 --to riscv-sv48 \
	--image "$tmp/truncated.img" --base 0x1000000 --root 0x1000000 -o "$tmp/cv-bad.img"
expect_status 2 'convert: missing --to' "$vpte" convert --from x86_64 --image "$tmp/cv.img" \
	--base 0 --root 0 -o "$tmp/cv-bad.img"
expect_status 2 "convert: bad --to 'arm'" "$vpte" convert --from x86_64 --to arm \
	--image "$tmp/cv.img" --base 0 --root 0 -o "$tmp/cv-bad.img"

# ---- stats: the replay report for an image ----
build arm64-4k-48 0x80000000 "$tmp/stats.img" <<'EOF'
map 0x10000 0x80010000 64K rw
map 0x21000 0x90021000 0x4f000 r-x
map 1G 1G 32M rw-g,device
map 0x7ffffffff000 0x1000 4K rw
EOF
expect_output "$tmp/stats.img: arm64-4k-48 table at root 0x80000000, 4 mapped ranges

format        tables    bytes   mapped   runs    TLB  leaves (size:count)
arm64-4k-48        8      32K   33152K      6     22  4K:16 64K:5 32M:1

table pages (bytes) per level, top first:
arm64-4k-48    L3 1 (4K)  L2 2 (8K)  L1 3 (12K)  L0 2 (8K)

leaves: mappings of each size; a contiguous run (arm64 contiguous bit, RISC-V
Svnapot) counts once, at its run size, and is also counted in runs.
TLB: entries needed to cover everything mapped, the sum of leaves." \
	"$vpte" stats --format arm64-4k-48 --image "$tmp/stats.img" --base 0x80000000 --root "$root"
expect_output '{"name":"arm64-4k-48","stats":{"table_pages":[2,3,2,1],"table_bytes":[8192,12288,8192,4096],"table_bytes_total":32768,"leaves":{"4096":16,"65536":5,"33554432":1},"runs":{"65536":5,"33554432":1},"tlb_entries":22,"mapped_bytes":33947648}}
{"start":"0x10000","size":65536},
{"start":"0x21000","size":323584},
{"start":"0x40000000","size":33554432},
{"start":"0x7ffffffff000","size":4096}' grep -E '^\{"(name|start)"' \
	<("$vpte" stats --format arm64-4k-48 --image "$tmp/stats.img" --base 0x80000000 --root "$root" --json)
expect_status 0 '' "$vpte" stats --format arm64-4k-48 --image "$tmp/stats.img" --base 0x80000000 \
	--root "$root" --svg "$tmp/stats.svg"
grep -q '^</svg>$' "$tmp/stats.svg" || fail "stats --svg: no complete document"
checks=$((checks + 1))
expect_status 1 'stats: more than 100000 entries \(--max-entries\)' \
	"$vpte" stats --format x86_64-la57 --image "$tmp/fan.img" --base 0 --root 0 --max-entries 100000
expect_status 1 'stats: EFAULT' "$vpte" stats --format x86_64 --image "$tmp/truncated.img" \
	--base 0x1000000 --root 0x1000000
expect_status 2 'stats: missing --base' "$vpte" stats --format x86_64 --image "$tmp/stats.img"
expect_status 2 'stats: --json takes no value' "$vpte" stats --format x86_64 --image "$tmp/stats.img" \
	--base 0 --root 0 --json=1

# ---- usage ----
expect_status 2 'usage: vpte' "$vpte"
expect_output "$("$vpte" --help)" "$vpte" dump --help
grep -q '^usage: vpte VERB' <("$vpte" --help) || fail "--help: no usage"
expect_status 2 "unknown verb 'frobnicate'" "$vpte" frobnicate
expect_status 2 "build: unknown option '--bogus'" "$vpte" build --bogus
expect_status 2 "build: missing -o" "$vpte" build --format x86_64 --base 0 script
expect_status 2 "build: want one SCRIPT" "$vpte" build --format x86_64 --base 0 -o "$tmp/x"
expect_status 2 "dump: bad --format 'x86'" "$vpte" dump --format x86 --image i --base 0 --root 0
expect_status 2 "translate: bad --base 'zero'" \
	"$vpte" translate --format x86_64 --image i --base zero --root 0 0
expect_status 2 "translate: --root needs a value" \
	"$vpte" translate --format x86_64 --image i --base 0 --root
expect_status 2 "translate: want VAs" \
	"$vpte" translate --format=x86_64 --image="$tmp/x86.img" --base=0x1000000 --root=0x1000000
expect_status 2 "formats: takes no arguments" "$vpte" formats extra

echo "test_tool: $checks checks ok"
