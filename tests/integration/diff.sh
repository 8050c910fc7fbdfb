#!/usr/bin/env bash
# rootfs-fuse diff reports content changes, not only size: SPECs and GNU cpio archives that
# differ only in one file's data at equal size, only in a mode, an owner, a symlink target or
# a device number each give one '~' line naming what changed; identical inputs give nothing;
# a SPEC, its cpio export, its ISO export and its ext4 export hold the same contents.
. "$(dirname "$0")/lib.sh"

F=$T/files
mkdir -p "$F"
echo alpha >"$F/host-a"
echo bravo >"$F/host-b" # same size as host-a, other bytes
head -c 300000 /dev/urandom >"$F/big"
cp "$F/big" "$F/big2"
printf '\xff' | dd of="$F/big2" bs=1 seek=150000 conv=notrunc status=none
cmp -s "$F/big" "$F/big2" && printf '\x00' | dd of="$F/big2" bs=1 seek=150000 conv=notrunc status=none

# spec NAME HOSTNAME-SRC BIG-SRC MODE TARGET UID MINOR
spec() {
	cat >"$T/$1.spec" <<S
dir   /etc 0755 0 0
dir   /dev 0755 0 0
dir   /bin 0755 0 0
dir   /var/empty 0700 0 0
file  /etc/hostname $2 0644 0 0
file  /bin/big $3 0755 0 0
file  /etc/conf $F/host-a $4 0 0
file  /etc/owned $F/host-a 0644 $6 0
slink /bin/sh $5 0777 0 0
nod   /dev/console 0600 0 0 c 5 $7
S
}
spec base "$F/host-a" "$F/big" 0644 busybox 0 1
spec content "$F/host-b" "$F/big" 0644 busybox 0 1
spec bigc "$F/host-a" "$F/big2" 0644 busybox 0 1
spec mode "$F/host-a" "$F/big" 0600 busybox 0 1
spec target "$F/host-a" "$F/big" 0644 busyboy 0 1
spec owner "$F/host-a" "$F/big" 0644 busybox 1000 1
spec rdev "$F/host-a" "$F/big" 0644 busybox 0 2

# one change of each kind: exactly one line, the path and what changed
one() { # NAME PATH WHAT
	"$RF" diff "$T/base.spec" "$T/$1.spec" >"$T/$1.txt" || fail "diff $1 failed"
	local n
	n=$(grep -c '^[-+~] ' "$T/$1.txt")
	[ "$n" = 1 ] || fail "$1: $n changes: $(cat "$T/$1.txt")"
	grep -Eq "^~ +\\+0 .*  $2  \\($3\\)\$" "$T/$1.txt" || fail "$1: $(cat "$T/$1.txt")"
}
one content /etc/hostname content
one bigc /bin/big content
one mode /etc/conf mode
one target /bin/sh target
one owner /etc/owned owner
one rdev /dev/console rdev
"$RF" diff "$T/base.spec" "$T/base.spec" >"$T/same.txt" || fail "diff of a SPEC with itself"
grep -q '^[-+~] ' "$T/same.txt" && fail "identical SPECs differ: $(cat "$T/same.txt")"
grep -q ', 0 changes$' "$T/same.txt" || fail "no 0 changes total: $(cat "$T/same.txt")"
"$RF" diff --json "$T/base.spec" "$T/mode.spec" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["n_changes"] == 1, d
c = d["changes"][0]
assert c["path"] == "/etc/conf" and c["kind"] == "changed" and c["what"] == ["mode"], c
assert c["old_size"] == c["new_size"] == 6, c
' || fail "diff --json what"
ok "SPEC vs SPEC: content at equal size, mode, owner, symlink target, rdev each one change"

# GNU cpio archives (gzip and zstd) of trees differing only in one file's content at equal size,
# only in a mode, only in a symlink target
tree() { # DIR
	mkdir -p "$1/etc" "$1/bin"
	echo alpha >"$1/etc/hostname"
	cp "$F/big" "$1/bin/big"
	echo conf >"$1/etc/conf"
	chmod 0644 "$1/etc/conf"
	ln -s busybox "$1/bin/sh"
}
mkcpio() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet); }
for v in a b c d; do tree "$T/t$v"; done
echo bravo >"$T/tb/etc/hostname"
chmod 0600 "$T/tc/etc/conf"
ln -sfn busyboy "$T/td/bin/sh"
mkcpio "$T/ta" | gzip -9 >"$T/a.cpio.gz"
mkcpio "$T/ta" | zstd -q >"$T/a2.cpio.zst"
mkcpio "$T/tb" | gzip -9 >"$T/b.cpio.gz"
mkcpio "$T/tc" | zstd -q >"$T/c.cpio.zst"
mkcpio "$T/td" | xz --check=crc32 >"$T/d.cpio.xz"
"$RF" diff "$T/a.cpio.gz" "$T/b.cpio.gz" >"$T/ab.txt" || fail "diff cpio"
grep -Eq '^~ +\+0 .*  /etc/hostname  \(content\)$' "$T/ab.txt" ||
	fail "cpio content: $(cat "$T/ab.txt")"
[ "$(grep -c '^[-+~] ' "$T/ab.txt")" = 1 ] || fail "cpio content: $(cat "$T/ab.txt")"
"$RF" diff "$T/a.cpio.gz" "$T/c.cpio.zst" >"$T/ac.txt"
grep -Eq '  /etc/conf  \(mode\)$' "$T/ac.txt" && [ "$(grep -c '^[-+~] ' "$T/ac.txt")" = 1 ] ||
	fail "cpio mode: $(cat "$T/ac.txt")"
"$RF" diff "$T/a.cpio.gz" "$T/d.cpio.xz" >"$T/ad.txt"
grep -Eq '  /bin/sh  \(target\)$' "$T/ad.txt" && [ "$(grep -c '^[-+~] ' "$T/ad.txt")" = 1 ] ||
	fail "cpio target: $(cat "$T/ad.txt")"
"$RF" diff "$T/a.cpio.gz" "$T/a2.cpio.zst" >"$T/aa.txt"
grep -q '^[-+~] ' "$T/aa.txt" && fail "same archive, other compression: $(cat "$T/aa.txt")"
ok "cpio vs cpio: content at equal size, mode, symlink target; same tree reports nothing"

# across kinds: the SPEC vs its own exports hold the same contents (ext4 adds lost+found)
"$RF" export "$T/base.spec" -o "$T/base.cpio.gz" --quiet || fail "export cpio"
"$RF" diff "$T/base.spec" "$T/base.cpio.gz" >"$T/x.txt" || fail "diff spec cpio"
grep -q '^[-+~] ' "$T/x.txt" && fail "SPEC vs its cpio export: $(cat "$T/x.txt")"
"$RF" diff "$T/content.spec" "$T/base.cpio.gz" | grep -Eq '  /etc/hostname  \(content\)$' ||
	fail "SPEC vs cpio content change not seen"
"$RF" export "$T/base.spec" -o "$T/base.ext4" --quiet || fail "export ext4"
"$RF" diff "$T/base.spec" "$T/base.ext4" >"$T/e.txt" || fail "diff spec ext4: $(cat "$T/e.txt")"
grep -v '^+ .* /lost+found$' "$T/e.txt" | grep -q '^[-+~] ' &&
	fail "SPEC vs its ext4 export: $(cat "$T/e.txt")"
"$RF" diff "$T/bigc.spec" "$T/base.ext4" | grep -Eq '  /bin/big  \(content\)$' ||
	fail "SPEC vs ext4 content change not seen"
"$RF" export "$T/base.spec" -o "$T/base.iso" --quiet || fail "export iso"
"$RF" diff "$T/base.spec" "$T/base.iso" >"$T/i.txt" || fail "diff spec iso: $(cat "$T/i.txt")"
grep -q '^[-+~] ' "$T/i.txt" && fail "SPEC vs its ISO export: $(cat "$T/i.txt")"
"$RF" diff "$T/target.spec" "$T/base.iso" | grep -Eq '  /bin/sh  \(target\)$' ||
	fail "SPEC vs ISO target change not seen"
"$RF" diff "$T/bigc.spec" "$T/base.iso" | grep -Eq '  /bin/big  \(content\)$' ||
	fail "SPEC vs ISO content change not seen"
ok "SPEC vs its cpio, ext4 and ISO exports: no changes (ext4 adds /lost+found); changes are seen"
finish
