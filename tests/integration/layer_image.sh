#!/usr/bin/env bash
# The image layer on real images made by mke2fs -d: raw, converted to qcow2 by qemu-img,
# inside a GPT and an MBR partition (sfdisk), and with inline data, each listed exactly as a
# tree layer of the source directory (the filesystem's lost+found aside); devices made by
# debugfs; exports of all three byte-identical; bad images give one-line errors naming the file.
. "$(dirname "$0")/lib.sh"
cmp_py="$RF_SRC/tests/integration/listing_compare.py"

S=$T/src
mkdir -p "$S/etc" "$S/usr/share/doc" "$S/srv/deep/er/est" "$S/opt/setuid-dir"
echo "guest" > "$S/etc/hostname"
head -c 300000 /dev/urandom > "$S/usr/share/doc/random.bin"
seq 1 50000 > "$S/usr/share/doc/numbers.txt"
ln "$S/usr/share/doc/numbers.txt" "$S/usr/share/doc/numbers-link.txt"
: > "$S/srv/deep/er/est/empty"
ln -s ../etc/hostname "$S/srv/fast-link"                      # in the inode
ln -s "$(printf 'long/%.0s' $(seq 1 30))target" "$S/srv/slow-link" # in a block
mkfifo "$S/srv/fifo"
printf '#!/bin/sh\necho setuid\n' > "$S/srv/su"
chmod 4755 "$S/srv/su"
chmod 2775 "$S/opt/setuid-dir"
chmod 0600 "$S/etc/hostname"

# `ls --long --hash` without the layer column
listing() { "$RF" ls "$@" --long --hash | cut -f1; }
listing --tree "$S" owner=host > "$T/tree.txt"
owner="$(id -u):$(id -g)" # mke2fs gives the root directory to root otherwise

mke2fs -q -F -t ext4 -E root_owner="$owner" -d "$S" "$T/disk.raw" 16M > /dev/null 2>&1 || fail "mke2fs -d"
listing --image "$T/disk.raw" > "$T/raw.txt"
has '^drwx------ [0-9]* [0-9]* 0 - /lost+found$' "$T/raw.txt" || fail "no lost+found in the image"
grep -v ' /lost+found$' "$T/raw.txt" | diff "$T/tree.txt" - || fail "raw image listing differs from the tree"
ok "raw ext4 image lists as its source tree (modes, owners, sizes, content hashes, links)"

qemu-img convert -O qcow2 "$T/disk.raw" "$T/disk.qcow2"
listing --image "$T/disk.qcow2" | diff "$T/raw.txt" - || fail "qcow2 listing differs"
qemu-img convert -c -O qcow2 -o compat=0.10 "$T/disk.raw" "$T/disk-v2c.qcow2"
listing --image "$T/disk-v2c.qcow2" | diff "$T/raw.txt" - || fail "qcow2 v2 compressed listing differs"
ok "the same as qcow2 (v3, and v2 with compressed clusters)"

truncate -s 20M "$T/gpt.img"
printf 'label: gpt\nstart=2048, size=32768, type=L\n' | sfdisk -q "$T/gpt.img"
dd if="$T/disk.raw" of="$T/gpt.img" bs=512 seek=2048 conv=notrunc status=none
listing --image "$T/gpt.img" partition=1 | diff "$T/raw.txt" - || fail "GPT partition listing differs"
qemu-img convert -O qcow2 "$T/gpt.img" "$T/gpt.qcow2"
listing --image "$T/gpt.qcow2" partition=1 | diff "$T/raw.txt" - || fail "GPT in qcow2 differs"
ok "the same in a GPT partition, raw and qcow2"

# GPT CRCs: a damaged primary table falls back to the backup GPT (UEFI 5.3.2); both damaged is
# a one-line error naming the image
cp "$T/gpt.img" "$T/gpt-bad.img"
printf 'X' | dd of="$T/gpt-bad.img" bs=1 seek=$((2 * 512 + 60)) conv=notrunc status=none
listing --image "$T/gpt-bad.img" partition=1 | diff "$T/raw.txt" - ||
	fail "a GPT with a damaged primary table did not list from the backup"
last=$(($(stat -c %s "$T/gpt-bad.img") / 512 - 1))
printf 'X' | dd of="$T/gpt-bad.img" bs=1 seek=$(((last - 32) * 512 + 60)) conv=notrunc status=none
expect_fail "gpt-bad.img: GPT partition entries CRC mismatch \(the backup GPT too\)$" \
	"$RF" ls --image "$T/gpt-bad.img" partition=1
cp "$T/gpt.img" "$T/gpt-bad2.img"
printf 'X' | dd of="$T/gpt-bad2.img" bs=1 seek=$((512 + 40)) conv=notrunc status=none
listing --image "$T/gpt-bad2.img" partition=1 | diff "$T/raw.txt" - ||
	fail "a GPT with a damaged primary header did not list from the backup"
# a primary whose AlternateLBA points back at itself: its damaged table is read twice before
# the last sector's backup serves (the sanitizer build catches a leak on that path)
python3 - "$T/gpt.img" "$T/gpt-bad3.img" <<'EOPY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
h = 512
b[h + 32:h + 40] = struct.pack("<Q", 1)                # AlternateLBA: the primary itself
b[h + 16:h + 20] = b"\0\0\0\0"
b[h + 16:h + 20] = struct.pack("<I", zlib.crc32(bytes(b[h:h + 92])))
b[2 * 512 + 60] ^= 0xff                                # damage the primary entry array
open(sys.argv[2], "wb").write(b)
EOPY
listing --image "$T/gpt-bad3.img" partition=1 | diff "$T/raw.txt" - ||
	fail "a GPT whose AlternateLBA is wrong did not list from the last sector's backup"
ok "GPT CRCs checked: the backup GPT serves a damaged primary; both damaged is an error"

truncate -s 20M "$T/mbr.img"
printf 'label: dos\nstart=2048, size=2048, type=83\nstart=4096, size=32768, type=83\n' | sfdisk -q "$T/mbr.img"
dd if="$T/disk.raw" of="$T/mbr.img" bs=512 seek=4096 conv=notrunc status=none
listing --image "$T/mbr.img" partition=2 | diff "$T/raw.txt" - || fail "MBR partition listing differs"
truncate -s 24M "$T/ebr.img"
printf 'label: dos\nstart=2048, size=2048, type=83\nstart=4096, type=5\nstart=6144, size=2048, type=83\nstart=10240, size=32768, type=83\n' |
	sfdisk -q "$T/ebr.img"
dd if="$T/disk.raw" of="$T/ebr.img" bs=512 seek=10240 conv=notrunc status=none
listing --image "$T/ebr.img" partition=6 | diff "$T/raw.txt" - || fail "logical partition 6 listing differs"
ok "the same in an MBR primary partition and in a logical partition (EBR chain)"

# small files and the symlinks kept in the inode (inline_data), old-style ext2 too
mke2fs -q -F -t ext4 -E root_owner="$owner" -O inline_data -d "$S" "$T/inline.raw" 16M > /dev/null 2>&1
listing --image "$T/inline.raw" | diff "$T/raw.txt" - || fail "inline_data image differs"
mke2fs -q -F -t ext2 -E root_owner="$owner" -I 128 -d "$S" "$T/ext2.raw" 16M > /dev/null 2>&1
listing --image "$T/ext2.raw" | diff "$T/raw.txt" - || fail "ext2 image differs"
ok "inline_data ext4 and ext2 with 128-byte inodes"

# device nodes (an ordinary user cannot make them in the source tree: debugfs writes them)
cp "$T/disk.raw" "$T/dev.raw"
debugfs -w -R "mknod null c 1 3" "$T/dev.raw" > /dev/null 2>&1
debugfs -w -R "mknod vda b 254 16" "$T/dev.raw" > /dev/null 2>&1
listing --image "$T/dev.raw" > "$T/dev.txt"
has '^c--------- 0 0 1,3 - /null$' "$T/dev.txt" || fail "char device: $(grep null "$T/dev.txt")"
has '^b--------- 0 0 254,16 - /vda$' "$T/dev.txt" || fail "block device: $(grep vda "$T/dev.txt")"
ok "character and block devices"

# exports: every container of the same filesystem gives the same bytes, and an export read
# back by the image layer lists as the source
"$RF" export --image "$T/disk.raw" -o "$T/raw.ext4" --quiet
"$RF" export --image "$T/disk.qcow2" -o "$T/qcow2.ext4" --quiet
"$RF" export --image "$T/gpt.qcow2" partition=1 -o "$T/gpt.ext4" --quiet
cmp "$T/raw.ext4" "$T/qcow2.ext4" || fail "ext4 exports of the raw and qcow2 images differ"
cmp "$T/raw.ext4" "$T/gpt.ext4" || fail "ext4 exports of the raw and GPT images differ"
e2fsck -fn "$T/raw.ext4" > /dev/null 2>&1 || fail "e2fsck -fn on the export"
listing --image "$T/raw.ext4" | grep -v ' /lost+found$' | diff "$T/tree.txt" - ||
	fail "the ext4 export of the image does not list as the source tree"
"$RF" export --image "$T/ebr.img" partition=6 -o "$T/part.qcow2" --partition gpt --quiet
listing --image "$T/part.qcow2" partition=1 | grep -v ' /lost+found$' | diff "$T/tree.txt" - ||
	fail "the partitioned qcow2 export does not list as the source tree"
ok "ext4 exports of raw, qcow2 and GPT images are byte-identical and read back as the source"

"$RF" export --image "$T/disk.raw" -o "$T/raw.cpio" --quiet
"$RF" export --image "$T/disk.qcow2" -o "$T/qcow2.cpio" --quiet
"$RF" export --image "$T/gpt.qcow2" partition=1 -o "$T/gpt.cpio" --quiet
cmp "$T/raw.cpio" "$T/qcow2.cpio" || fail "raw and qcow2 exports differ"
cmp "$T/raw.cpio" "$T/gpt.cpio" || fail "raw and GPT exports differ"
"$RF" ls --image "$T/disk.raw" --hash > "$T/ls-hash.txt"
cpio -t -v --numeric-uid-gid < "$T/raw.cpio" > "$T/cpio-tv.txt" 2>/dev/null
mkdir "$T/x"
(cd "$T/x" && cpio -i -d -m --no-absolute-filenames --quiet < "$T/raw.cpio" 2>/dev/null) || true
python3 "$cmp_py" "$T/ls-hash.txt" "$T/cpio-tv.txt" "$T/x" || fail "cpio export differs from ls"
ok "cpio exports of raw, qcow2 and GPT images are byte-identical and read back as listed"

# bad input: one line naming the file, no crash
cp "$T/disk.qcow2" "$T/version.qcow2"
printf '\x00\x00\x00\x63' | dd of="$T/version.qcow2" bs=1 seek=4 conv=notrunc status=none
expect_fail "version.qcow2: not a valid qcow2 image \(unsupported format version: 99\)" \
	"$RF" ls --image "$T/version.qcow2"
cp "$T/disk.qcow2" "$T/cluster.qcow2"
printf '\xff\xff\xff\xff' | dd of="$T/cluster.qcow2" bs=1 seek=20 conv=notrunc status=none
expect_fail "cluster.qcow2: not a valid qcow2 image" "$RF" ls --image "$T/cluster.qcow2"
head -c 100 "$T/disk.qcow2" > "$T/short.qcow2"
expect_fail "short.qcow2: not a valid qcow2 image" "$RF" ls --image "$T/short.qcow2"
cp "$T/disk.raw" "$T/nosb.raw"
dd if=/dev/zero of="$T/nosb.raw" bs=1024 seek=1 count=1 conv=notrunc status=none
expect_fail "nosb.raw: not a readable ext2/3/4 filesystem \(Bad magic number in super-block\)" \
	"$RF" ls --image "$T/nosb.raw"
qemu-img convert -O qcow2 "$T/nosb.raw" "$T/nosb.qcow2"
expect_fail "nosb.qcow2: not a readable ext2/3/4 filesystem" "$RF" ls --image "$T/nosb.qcow2"
: > "$T/empty.img"
expect_fail "empty.img: not a readable ext2/3/4 filesystem" "$RF" ls --image "$T/empty.img"
expect_fail "gpt.img: GPT partition 2 is unused" "$RF" ls --image "$T/gpt.img" partition=2
expect_fail "disk.raw: no partition table" "$RF" ls --image "$T/disk.raw" partition=1
expect_fail "mbr.img partition 1: not a readable ext2/3/4 filesystem" \
	"$RF" ls --image "$T/mbr.img" partition=1
expect_fail "unknown image option 'partition=0'" "$RF" ls --image "$T/disk.raw" partition=0
expect_fail "nope.img: No such file or directory" "$RF" ls --image "$T/nope.img"
# a corrupt directory entry (a name with a slash) is refused, not followed
cp "$T/disk.raw" "$T/slash.raw"
debugfs -w -R "mknod /x/y c 1 3" "$T/slash.raw" > /dev/null 2>&1
expect_fail "slash.raw: /: bad directory entry" "$RF" ls --image "$T/slash.raw"
ok "bad images: one-line errors naming the file"

finish
