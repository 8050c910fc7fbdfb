#!/usr/bin/env bash
# ext4 export: a view with every file type, a hard link, a sparse 1 GiB file, 255-byte names,
# 10,000 files in one directory and xattrs (user.x and security.capability) is exported; e2fsck
# -fn finds nothing, debugfs reads back what `rootfs-fuse ls --long --hash` shows path for path,
# the export is byte-identical under SOURCE_DATE_EPOCH, --size and --partition are honoured,
# and bad input (--size too small, a full disk, an unknown format) fails cleanly.
. "$(dirname "$0")/lib.sh"
listing="$RF_SRC/tests/integration/ext4_listing.py"

mkdir -p "$T/tree/etc" "$T/tree/bin" "$T/tree/many" "$T/tree/big" "$T/tree/srv"
echo "guest" > "$T/tree/etc/hostname"
setfattr -n user.x -v hello "$T/tree/etc/hostname"
head -c 200000 /dev/urandom > "$T/tree/bin/ping"
# a guest security.capability, stored the way the upper layer stores it (overlay/meta.h)
setfattr -n user.rootfs-fuse.xattr.security.capability \
	-v 0x0100000200200000000000000000000000000000 "$T/tree/bin/ping"
seq 1 100000 > "$T/tree/etc/numbers"
ln "$T/tree/etc/numbers" "$T/tree/srv/numbers-link"
truncate -s 1G "$T/tree/big/sparse"
printf 'middle' | dd of="$T/tree/big/sparse" bs=1 seek=536870912 conv=notrunc status=none
printf 'end' | dd of="$T/tree/big/sparse" bs=1 seek=1073741821 conv=notrunc status=none
long=$(printf 'n%.0s' $(seq 1 255))
echo long > "$T/tree/srv/$long"
ln -s "../etc/hostname" "$T/tree/srv/fast-link"
ln -s "$(printf 'd%.0s' $(seq 1 70))/$long" "$T/tree/srv/slow-link"
(cd "$T/tree/many" && for i in $(seq 1 10000); do echo "$i" > "file-$i"; done)
printf '#!/bin/sh\necho su\n' > "$T/tree/bin/su"
chmod 4755 "$T/tree/bin/su"
cat > "$T/g.spec" <<EOS
tree ./tree
dir  /dev 0755 0 0
nod  /dev/console 0600 0 5 c 5 1
nod  /dev/vda 0660 0 6 b 254 0
nod  /dev/big 0600 0 0 c 300 70000
pipe /run/fifo 0620 7 8
sock /run/sock 0600 0 0
dir  /home/user 0700 1000 1000
EOS
"$RF" ls "$T/g.spec" --long --hash | cut -f1 | grep -v ' /$' | sort > "$T/ls.txt"

export SOURCE_DATE_EPOCH=1700000000
"$RF" export "$T/g.spec" -o "$T/out.ext4" --quiet
e2fsck -fn "$T/out.ext4" > "$T/fsck.txt" 2>&1 || { cat "$T/fsck.txt"; fail "e2fsck -fn found problems"; }
ok "e2fsck -fn finds nothing"

mkdir "$T/work"
python3 "$listing" "$T/out.ext4" "$T/work" > "$T/debugfs.txt"
diff "$T/ls.txt" "$T/debugfs.txt" > "$T/diff.txt" || { head -20 "$T/diff.txt"; fail "debugfs read-back differs from ls --long --hash"; }
[ "$(wc -l < "$T/debugfs.txt")" -gt 10000 ] || fail "listing too short"
ok "debugfs reads back what ls --long --hash shows ($(wc -l < "$T/debugfs.txt") paths)"

dbg() { debugfs -R "$1" "$T/out.ext4" 2>/dev/null; }
i1=$(dbg "ls -p /etc" | awk -F/ '$6 == "numbers" {print $2}')
i2=$(dbg "ls -p /srv" | awk -F/ '$6 == "numbers-link" {print $2}')
[ -n "$i1" ] && [ "$i1" = "$i2" ] || fail "hard link: inodes $i1 and $i2"
dbg "stat /etc/numbers" | has 'Links: 2' || fail "hard link count"
ok "hard link shares one inode with 2 links"

dbg "ea_list /etc/hostname" | has 'user.x (5) = "hello"' || fail "user.x xattr"
dbg "ea_list /bin/ping" | has 'security.capability (20)' || fail "security.capability"
ok "xattrs (user.x, security.capability)"

blocks=$(dbg "stat /big/sparse" | sed -n 's/.*Blockcount: \([0-9]*\).*/\1/p')
[ "$blocks" -le 64 ] || fail "sparse file takes $blocks sectors"
used=$(du -k "$T/out.ext4" | cut -f1)
[ "$used" -lt 102400 ] || fail "image takes ${used}K on disk"
dbg "stat /etc/hostname" | has 'mtime: 0x6553f100' || fail "mtime is not SOURCE_DATE_EPOCH"
ok "sparse 1 GiB file keeps its holes (${blocks} sectors), times from SOURCE_DATE_EPOCH"

"$RF" export "$T/g.spec" -o "$T/again.ext4"
cmp "$T/out.ext4" "$T/again.ext4" || fail "two exports differ"
TZ=UTC dumpe2fs -h "$T/out.ext4" 2>/dev/null > "$T/sb.txt"
grep -q 'Last write time:.*Nov 14 22:13:20 2023' "$T/sb.txt" || fail "superblock time"
for f in has_journal extent dir_index; do grep -q "features:.*$f" "$T/sb.txt" || fail "feature $f"; done
grep -q 'Inode size:.*256' "$T/sb.txt" || fail "inode size"
ok "byte-identical exports; journal, extents, dir_index, 256-byte inodes"

"$RF" export "$T/g.spec" -o "$T/uuid.ext4" --uuid 01234567-89ab-cdef-0123-456789abcdef --size 200M
grep -q 'UUID:.*01234567-89ab-cdef-0123-456789abcdef' <(dumpe2fs -h "$T/uuid.ext4" 2>/dev/null) ||
	fail "--uuid"
[ "$(stat -c %s "$T/uuid.ext4")" -eq $((200 << 20)) ] || fail "--size 200M"
e2fsck -fn "$T/uuid.ext4" > /dev/null 2>&1 || fail "e2fsck on --size 200M"
ok "--size and --uuid"

# bad input
expect_fail "small.ext4: --size 8M is too small: the view needs at least [0-9]+M" \
	"$RF" export "$T/g.spec" -o "$T/small.ext4" --size 8M
[ -z "$(ls -A "$T" | grep small)" ] || fail "a failed export left a file"
expect_fail "unknown export format 'nope'" "$RF" export "$T/g.spec" -o "$T/x.ext4" --format nope
expect_fail "--size 'lots' is not a size" "$RF" export "$T/g.spec" -o "$T/x.ext4" --size lots
expect_fail "--partition 'apm': use gpt or mbr" "$RF" export "$T/g.spec" -o "$T/x.ext4" --partition apm
expect_fail "--compress 'gzip': an ext4 image is not compressed" \
	"$RF" export "$T/g.spec" -o "$T/x.ext4" --compress gzip
printf 'dir /a/%s 0755 0 0\n' "n$long" > "$T/long.spec"
expect_fail "x.ext4: ext4: /a/n+: a name longer than 255 bytes" "$RF" export "$T/long.spec" -o "$T/x.ext4"
[ -z "$(ls -A "$T" | grep '^x\|^\.x')" ] || fail "a failed export left a file"
ok "bad --size, --format, --partition fail with one line and leave nothing"

if unshare --user --map-root-user --mount true 2>/dev/null; then
	mkdir "$T/full"
	err=$(unshare --user --map-root-user --mount sh -c \
		'mount -t tmpfs -o size=2m none "$1" && "$2" export "$3" -o "$1/out.ext4" --quiet;
		 echo "rc=$?"; ls -A "$1"' sh "$T/full" "$RF" "$T/g.spec" 2>&1) || true
	printf '%s\n' "$err" | has 'rc=1' || fail "export to a full disk did not fail: $err"
	printf '%s\n' "$err" | has 'rootfs-fuse: .*out.ext4.*No space left on device\|rootfs-fuse: .*out.ext4.*full' ||
		fail "full disk message: $err"
	[ "$(printf '%s\n' "$err" | grep -c out.ext4)" -eq 1 ] || fail "something left on the full disk: $err"
	ok "a full disk fails with one line and leaves nothing"
else
	echo "ok - (skipped: no unprivileged user namespaces for the full-disk tmpfs)"
fi
finish
