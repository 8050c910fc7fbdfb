#!/usr/bin/env bash
# qcow2 export: the same view exported as raw ext4 and as qcow2 (plain and with deflate
# clusters); qemu-img check finds no errors or leaks, qemu-img compare says the qcow2 holds
# exactly the raw export, only allocated clusters are stored, two exports are byte-identical;
# --partition gpt|mbr gives a disk whose partition at 1 MiB is that filesystem (qcow2 and raw);
# bad options fail cleanly. (libqcow reads the images back in tests/unit/test_qcow2.c.)
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tree/etc" "$T/tree/usr/lib" "$T/tree/var"
echo "guest" > "$T/tree/etc/hostname"
head -c 3000000 /dev/urandom > "$T/tree/usr/lib/random.bin"
seq 1 400000 > "$T/tree/usr/lib/numbers.txt"
truncate -s 300M "$T/tree/var/sparse"
printf 'tail' | dd of="$T/tree/var/sparse" bs=1 seek=200000000 conv=notrunc status=none
ln -s ../etc/hostname "$T/tree/var/link"
setfattr -n user.x -v y "$T/tree/etc/hostname"
cat > "$T/g.spec" <<EOS
tree ./tree
dir  /dev 0755 0 0
nod  /dev/console 0600 0 5 c 5 1
pipe /run/fifo 0620 7 8
EOS
export SOURCE_DATE_EPOCH=1700000000

"$RF" export "$T/g.spec" -o "$T/raw.ext4" --quiet
"$RF" export "$T/g.spec" -o "$T/out.qcow2" --quiet
"$RF" export "$T/g.spec" -o "$T/z.qcow2" --compress deflate --quiet
for q in out z; do
	qemu-img check "$T/$q.qcow2" > "$T/check-$q.txt" 2>&1 || { cat "$T/check-$q.txt"; fail "qemu-img check $q.qcow2"; }
	grep -q 'No errors were found' "$T/check-$q.txt" || fail "qemu-img check $q.qcow2 output"
	! grep -qi 'leak' "$T/check-$q.txt" || fail "leaked clusters in $q.qcow2"
	qemu-img compare "$T/raw.ext4" "$T/$q.qcow2" > /dev/null || fail "$q.qcow2 differs from the raw export"
	qemu-img info "$T/$q.qcow2" | has 'compat: 1.1' || fail "$q.qcow2 is not qcow2 version 3"
done
grep -q '[1-9][0-9.]*% compressed clusters' "$T/check-z.txt" || fail "no compressed clusters"
s_raw=$(stat -c %s "$T/raw.ext4")
s_q=$(stat -c %s "$T/out.qcow2")
s_z=$(stat -c %s "$T/z.qcow2")
a_raw=$(du -B1 "$T/raw.ext4" | cut -f1)
# the data written plus header, L1/L2 and refcount clusters and 64 KiB cluster rounding
[ "$s_q" -lt "$s_raw" ] && [ "$s_q" -le $((a_raw + 2 * 1048576)) ] ||
	fail "qcow2 ($s_q) holds more than the allocated clusters ($a_raw) of $s_raw"
[ "$s_z" -lt "$s_q" ] || fail "compressed ($s_z) not smaller than plain ($s_q)"
ok "qemu-img check clean and compare identical, plain ($s_q bytes) and deflate ($s_z) of $s_raw"

"$RF" export "$T/g.spec" -o "$T/again.qcow2" --quiet
cmp "$T/out.qcow2" "$T/again.qcow2" || fail "two qcow2 exports differ"
"$RF" export "$T/g.spec" -o "$T/again-z.qcow2" --compress deflate --quiet
cmp "$T/z.qcow2" "$T/again-z.qcow2" || fail "two compressed exports differ"
ok "byte-identical qcow2 exports"

fs_bytes=$s_raw
for p in gpt mbr; do
	"$RF" export "$T/g.spec" -o "$T/disk-$p.qcow2" --partition "$p" --quiet
	qemu-img check "$T/disk-$p.qcow2" > /dev/null || fail "qemu-img check disk-$p.qcow2"
	qemu-img convert -O raw "$T/disk-$p.qcow2" "$T/disk-$p.raw"
	"$RF" export "$T/g.spec" -o "$T/disk-$p.img" --format ext4 --partition "$p" --quiet
	cmp "$T/disk-$p.raw" "$T/disk-$p.img" || fail "qcow2 and raw $p disks differ"
	sfdisk -d "$T/disk-$p.img" > "$T/sfdisk-$p.txt" 2>/dev/null || fail "sfdisk cannot read the $p disk"
	grep -q "start= *2048, size= *$((fs_bytes / 512))" "$T/sfdisk-$p.txt" || { cat "$T/sfdisk-$p.txt"; fail "$p partition"; }
	cmp -n "$fs_bytes" -i 1048576:0 "$T/disk-$p.img" "$T/raw.ext4" || fail "the $p partition is not the filesystem"
	e2fsck -fn "$T/disk-$p.img?offset=1048576" > /dev/null 2>&1 || fail "e2fsck on the $p partition"
done
grep -q 'label: gpt' "$T/sfdisk-gpt.txt" && grep -q 'type=0FC63DAF-8483-4772-8E79-3D69D8477DE4' "$T/sfdisk-gpt.txt" ||
	fail "gpt label or type"
grep -q 'label: dos' "$T/sfdisk-mbr.txt" && grep -q 'type=83' "$T/sfdisk-mbr.txt" || fail "mbr label or type"
ok "--partition gpt and mbr: one Linux partition at 1 MiB holding the filesystem (qcow2 and raw)"

expect_fail "--compress 'zstd': qcow2 clusters are compressed with deflate" \
	"$RF" export "$T/g.spec" -o "$T/bad.qcow2" --compress zstd
expect_fail "--level 12: deflate levels are 0 to 9" \
	"$RF" export "$T/g.spec" -o "$T/bad.qcow2" --compress deflate --level 12
expect_fail "bad.qcow2: --size 8M is too small: the view needs at least [0-9]+M" \
	"$RF" export "$T/g.spec" -o "$T/bad.qcow2" --size 8M
[ -z "$(ls -A "$T" | grep bad)" ] || fail "a failed export left a file"
ok "bad --compress and --size fail with one line and leave nothing"
finish
