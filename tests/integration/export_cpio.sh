#!/usr/bin/env bash
# Export round trip: a SPEC with busybox, a dynamically linked host program, a tree with every
# file type, hard links and a setuid file is exported as newc; the archive read back by GNU
# cpio and by libarchive (bsdtar) must match `rootfs-fuse ls --long --hash` path for path, in
# every compression; two exports are byte-identical; SOURCE_DATE_EPOCH sets every mtime; a
# failed export leaves nothing behind.
. "$(dirname "$0")/lib.sh"
cmp_py="$RF_SRC/tests/integration/listing_compare.py"

mkdir -p "$T/tree/etc" "$T/tree/usr/share/doc" "$T/tree/srv/deep/er/est"
echo "guest" > "$T/tree/etc/hostname"
head -c 300000 /dev/urandom > "$T/tree/usr/share/doc/random.bin"
seq 1 50000 > "$T/tree/usr/share/doc/numbers.txt"
ln "$T/tree/usr/share/doc/numbers.txt" "$T/tree/usr/share/doc/numbers-link.txt"
: > "$T/tree/srv/deep/er/est/empty"
ln -s ../etc/hostname "$T/tree/srv/hostname-link"
printf '#!/bin/sh\necho setuid\n' > "$T/tree/srv/su"
chmod 4755 "$T/tree/srv/su"
printf '#!/bin/sh\npoweroff -f\n' > "$T/init"
cat > "$T/g.spec" <<EOS
busybox /bin/busybox
host    /usr/bin/xz
tree    ./tree
dir     /dev 0755 0 0
nod     /dev/console 0600 0 5 c 5 1
nod     /dev/vda 0660 0 6 b 254 0
pipe    /run/fifo 0620 7 8
sock    /run/sock 0600 0 0
dir     /home/user 0700 1000 1000
file    /init ./init 0755 0 0 /sbin/init-link
EOS
"$RF" ls "$T/g.spec" --hash > "$T/ls.txt"
grep -q " /usr/lib/x86_64-linux-gnu/liblzma.so.5" "$T/ls.txt" || fail "host libraries missing"

"$RF" export "$T/g.spec" -o "$T/out.cpio.gz"
gzip -t "$T/out.cpio.gz"
gzip -dc "$T/out.cpio.gz" > "$T/out.cpio"
head -c 6 "$T/out.cpio" | has 070701 || fail "not newc"
cpio -t -v --numeric-uid-gid < "$T/out.cpio" > "$T/cpio-tv.txt" 2>/dev/null
mkdir "$T/x-cpio"
(cd "$T/x-cpio" && cpio -i -d -m --no-absolute-filenames --quiet < "$T/out.cpio" 2>/dev/null) || true
python3 "$cmp_py" "$T/ls.txt" "$T/cpio-tv.txt" "$T/x-cpio" || fail "GNU cpio listing differs from ls --long"
ok "GNU cpio reads back what ls --long shows"

bsdtar -t -v --numeric-owner -f "$T/out.cpio.gz" > "$T/bsdtar-tv.txt"
mkdir "$T/x-bsdtar"
bsdtar -x -f "$T/out.cpio.gz" -C "$T/x-bsdtar" 2>/dev/null || true
python3 "$cmp_py" "$T/ls.txt" "$T/bsdtar-tv.txt" "$T/x-bsdtar" || fail "libarchive listing differs"
ok "libarchive reads back what ls --long shows"

# hard links: one inode, the data once
n=$(grep -c 'numbers' "$T/cpio-tv.txt")
[ "$n" -eq 2 ] || fail "hard link entries"
cmp "$T/x-cpio/usr/share/doc/numbers.txt" "$T/tree/usr/share/doc/numbers.txt"
[ "$(stat -c %i "$T/x-cpio/usr/share/doc/numbers.txt")" = "$(stat -c %i "$T/x-cpio/usr/share/doc/numbers-link.txt")" ] ||
	fail "hard link not restored as a hard link"
ok "hard links"

# determinism and SOURCE_DATE_EPOCH
"$RF" export "$T/g.spec" -o "$T/again.cpio.gz"
cmp "$T/out.cpio.gz" "$T/again.cpio.gz" || fail "two exports differ"
SOURCE_DATE_EPOCH=1000000000 "$RF" export "$T/g.spec" -o "$T/epoch.cpio"
bsdtar -t -v -f "$T/epoch.cpio" | awk '{print $6, $7, $8}' | sort -u > "$T/dates.txt"
[ "$(cat "$T/dates.txt")" = "Sep 9 2001" ] || fail "SOURCE_DATE_EPOCH: $(cat "$T/dates.txt")"
ok "byte-identical exports, SOURCE_DATE_EPOCH"

# every compression holds the same newc stream
"$RF" export "$T/g.spec" -o "$T/plain.cpio"
cmp "$T/plain.cpio" "$T/out.cpio" || fail ".cpio differs from the gunzipped .cpio.gz"
"$RF" export "$T/g.spec" -o "$T/z.cpio.zst"
zstd -q -d -c "$T/z.cpio.zst" | cmp - "$T/plain.cpio" || fail "zstd"
"$RF" export "$T/g.spec" -o "$T/z.cpio.xz"
xz -d -c "$T/z.cpio.xz" | cmp - "$T/plain.cpio" || fail "xz"
xz --robot -l -vv "$T/z.cpio.xz" | has 'CRC32' || fail "xz check is not CRC32"
"$RF" export "$T/g.spec" -o "$T/z.cpio.lz4"
[ "$(head -c 4 "$T/z.cpio.lz4" | od -An -tx1 | tr -d ' ')" = 02214c18 ] || fail "lz4 not legacy"
lz4 -q -d -c "$T/z.cpio.lz4" | cmp - "$T/plain.cpio" || fail "lz4"
"$RF" export "$T/g.spec" --compress zstd -o "$T/forced.bin"
zstd -q -d -c "$T/forced.bin" | cmp - "$T/plain.cpio" || fail "--compress"
ok "gzip, zstd, xz (CRC32), lz4 (legacy), none"

# a failed export leaves nothing behind
mkdir "$T/ro"
chmod 555 "$T/ro"
if [ "$(id -u)" != 0 ]; then
	expect_fail "$T/ro/x.cpio.gz" "$RF" export "$T/g.spec" -o "$T/ro/x.cpio.gz"
	[ -z "$(ls -A "$T/ro")" ] || fail "files left in the read-only directory"
fi
echo "previous" > "$T/keep.cpio.gz"
printf 'file /x /nonexistent 0644 0 0\n' > "$T/bad.spec"
expect_fail "bad.spec:1: /nonexistent" "$RF" export "$T/bad.spec" -o "$T/keep.cpio.gz"
[ "$(cat "$T/keep.cpio.gz")" = previous ] || fail "a failed export touched the output"
expect_fail "no-dir" "$RF" export "$T/g.spec" -o "$T/no-dir/x.cpio.gz"
[ "$(ls "$T" | grep -c '^\.\?x\.cpio' || true)" = 0 ] || fail "temporary left"
ok "failures leave nothing behind"

finish
