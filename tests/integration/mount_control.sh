#!/usr/bin/env bash
# The hidden control directory /.rootfs-fuse of a live mount (docs/mount.md): hidden from
# readdir, refused as a name, its initramfs.cpio.gz has its size right in stat, is reused while
# the view is unchanged, boots under qemu-system-x86_64 (TCG) straight from the mount, and
# follows an edit; other formats come with --export; exports of the SPEC never contain it.
. "$(dirname "$0")/lib.sh"
K=$(kernel)
[ -n "$K" ] || fail "no /boot/vmlinuz-* (linux-image-amd64 is in .ci/packages.txt)"

mkdir -p "$T/tree/etc"
echo "first edition" > "$T/tree/etc/marker"
echo "v1" > "$T/tree/etc/lower-only"
cat > "$T/init" <<'EOS'
#!/bin/sh
echo "MARKER=$(cat /etc/marker)"
poweroff -f
EOS
cat > "$T/g.spec" <<EOS
busybox /bin/busybox
dir  /dev 0755 0 0
nod  /dev/console 0600 0 0 c 5 1
tree ./tree
file /init ./init 0755 0 0
EOS
M=$T/mnt
C=$M/.rootfs-fuse
mount_view "$T/g.spec" "$M" --export initramfs.cpio.gz --export root.ext4

# hidden, yet there
ls -a "$M" > "$T/ls.txt"
grep -q 'rootfs-fuse' "$T/ls.txt" && fail "ls -a shows the control directory: $(cat "$T/ls.txt")"
grep -qx etc "$T/ls.txt" || fail "ls -a of the mount lacks etc"
[ -d "$C" ] || fail "$C is not a directory"
[ "$(ls "$C" | sort | tr '\n' ' ')" = "initramfs.cpio.gz root.ext4 " ] ||
	fail "control directory lists: $(ls "$C")"
ok "readdir of / hides .rootfs-fuse; it lists the configured exports"

# refused as a name, read-only inside
mkdir "$M/.rootfs-fuse" 2>/dev/null && fail "mkdir of .rootfs-fuse succeeded"
touch "$M/.rootfs-fuse" 2>/dev/null && [ -f "$M/.rootfs-fuse" ] && fail "touch made a file"
echo x > "$M/etc/other"
mv "$M/etc/other" "$M/.rootfs-fuse" 2>/dev/null && fail "rename to .rootfs-fuse succeeded"
rm -rf "$C" 2>/dev/null && [ ! -d "$C" ] && fail "rm -rf removed the control directory"
sh -c ": > '$C/initramfs.cpio.gz'" 2>/dev/null && fail "the export opened for writing"
touch "$C/new" 2>/dev/null && fail "a file was made in the control directory"
[ -d "$C" ] || fail "control directory gone"
ok "mkdir/rename/rm of .rootfs-fuse and writes inside fail"

# stat size before reading, a newc stream inside
sz=$(stat -c %s "$C/initramfs.cpio.gz")
[ "$sz" -gt 1000 ] || fail "stat size $sz"
[ "$(wc -c < "$C/initramfs.cpio.gz")" -eq "$sz" ] || fail "stat size $sz != bytes read"
gzip -dc "$C/initramfs.cpio.gz" > "$T/a.cpio" || fail "not a gzip stream"
[ "$(head -c 6 "$T/a.cpio")" = 070701 ] || fail "not a newc stream"
cpio -it < "$T/a.cpio" 2>/dev/null > "$T/a.lst"
grep -qx etc/marker "$T/a.lst" || fail "the cpio lacks etc/marker"
grep -q 'rootfs-fuse' "$T/a.lst" && fail "the cpio contains the control directory"
grep -qx etc/other "$T/a.lst" || fail "the cpio lacks the file made in the mount"
ok "initramfs.cpio.gz: stat size = $sz = bytes read, a newc stream of the live view"

# reused while unchanged, made again after a change
t1=$(stat -c %y "$C/initramfs.cpio.gz")
t2=$(stat -c %y "$C/initramfs.cpio.gz")
[ "$t1" = "$t2" ] || fail "unchanged view exported again ($t1 / $t2)"
ok "the result is reused while the view is unchanged"

boot() {
	local rc=0
	timeout 180 qemu-system-x86_64 -nographic -no-reboot -accel tcg -m 512 -kernel "$K" \
		-initrd "$C/initramfs.cpio.gz" -append 'console=ttyS0 panic=-1' \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 < /dev/null > "$T/console.txt" 2>&1 || rc=$?
	tr -d '\r' < "$T/console.txt" > "$T/console.clean"
	grep -qx "MARKER=$1" "$T/console.clean" ||
		{ tail -n 20 "$T/console.clean"; fail "boot (exit $rc) does not show MARKER=$1"; }
}
boot "first edition"
ok "qemu boots -initrd MNT/.rootfs-fuse/initramfs.cpio.gz"

echo "second edition" > "$M/etc/marker"
t3=$(stat -c %y "$C/initramfs.cpio.gz")
[ "$t3" != "$t1" ] || fail "the export was not made again after an edit"
boot "second edition"
ok "after an edit in the mount the next boot shows it"

# another format, configured with --export
if command -v debugfs > /dev/null; then
	[ "$(stat -c %s "$C/root.ext4")" -eq "$(wc -c < "$C/root.ext4")" ] || fail "root.ext4 size"
	cp "$C/root.ext4" "$T/root.ext4"
	debugfs -R 'cat /etc/marker' "$T/root.ext4" 2>/dev/null | grep -qx "second edition" ||
		fail "root.ext4 lacks the edit"
	ok "root.ext4 (--export) holds the current view"
fi

# a host file of a lower layer changed since the mount (a module rebuilt in place): the next
# export holds it as it is now, not the cached hash and size of the old one
gzip -dc "$C/initramfs.cpio.gz" | cpio -i --to-stdout etc/lower-only 2>/dev/null | has -x v1 ||
	fail "the control export lacks the lower file"
echo "version two, rebuilt" > "$T/tree/etc/lower-only"
gzip -dc "$C/initramfs.cpio.gz" | cpio -i --to-stdout etc/lower-only 2>/dev/null |
	has -x "version two, rebuilt" || fail "the control export kept a lower file changed on the host"
gzip -dc "$C/initramfs.cpio.gz" | cpio -i --to-stdout etc/marker 2>/dev/null |
	has -x "second edition" || fail "the rebuilt export lost the upper layer's edit"
ok "a lower host file changed since the mount is exported as it is now, with the upper layer"

# an export that fails (STATE/upper replaced by a file behind the mount's back) is EIO for
# the reader; the mount stays up
echo "third edition" > "$M/etc/marker"
mv "$T/g.state/upper" "$T/g.state/upper.away"
: > "$T/g.state/upper"
err=$(cat "$C/initramfs.cpio.gz" 2>&1 > /dev/null) && fail "reading a failed export succeeded"
printf '%s' "$err" | grep -q 'Input/output error' || fail "failed export: '$err', not EIO"
rm "$T/g.state/upper"
mv "$T/g.state/upper.away" "$T/g.state/upper"
gzip -dc "$C/initramfs.cpio.gz" | cpio -i --to-stdout etc/marker 2>/dev/null | grep -qx "third edition" ||
	fail "no export after the upper layer came back"
ok "a failed export reads as EIO; the next lookup exports again"

# A re-export after an edit is served as pieces: the segment cache's entries (held open by the
# daemon, not copied) and the fresh segments. The bytes equal `rootfs-fuse export` of the same
# SPEC; a cache entry corrupted on disk while in use is detected and rebuilt, never served.
mkdir -p "$T/big"
python3 -c 'import os, sys
for i in range(400):
    open(os.path.join(sys.argv[1], "r%03d" % i), "wb").write(os.urandom(32768))' "$T/big"
printf 'tree ./big\n' > "$T/p.spec"
P=$T/pmnt
mount_view "$T/p.spec" "$P"
pid=$(pgrep -u "$(id -u)" -f -- "mount $T/p.spec" | head -n 1)
[ -n "$pid" ] || fail "no daemon for $T/p.spec"
cat "$P/.rootfs-fuse/initramfs.cpio.gz" > "$T/p1.cpio.gz"
"$RF" export "$T/p.spec" -o "$T/p1-ref.cpio.gz"
cmp "$T/p1.cpio.gz" "$T/p1-ref.cpio.gz" || fail "first control export differs from rootfs-fuse export"
echo "edited" >> "$P/r205"
cat "$P/.rootfs-fuse/initramfs.cpio.gz" > "$T/p2.cpio.gz"
"$RF" export "$T/p.spec" -o "$T/p2-ref.cpio.gz"
cmp "$T/p2.cpio.gz" "$T/p2-ref.cpio.gz" || fail "control re-export differs from rootfs-fuse export"
gzip -dc "$T/p2.cpio.gz" | cpio -i --to-stdout r205 2>/dev/null | tail -c 7 | has -x edited ||
	fail "the control re-export lacks the edit"
held=$(ls -l "/proc/$pid/fd" 2>/dev/null | grep -c "$T/p.state/cache/seg/" || true)
[ "$held" -ge 2 ] || fail "the re-export holds $held cache entries open: it was copied, not pieced"
ok "a re-export is pieced from $held cache entries and the fresh segment; same bytes as export"
victim=$(ls -l "/proc/$pid/fd" | grep -o "$T/p.state/cache/seg/[^ ]*" | head -n 1)
cp "$victim" "$T/good-entry"
printf 'X' | dd of="$victim" bs=1 seek=$(($(stat -c %s "$victim") / 2)) conv=notrunc status=none
cat "$P/.rootfs-fuse/initramfs.cpio.gz" > "$T/p3.cpio.gz"
cmp "$T/p3.cpio.gz" "$T/p2-ref.cpio.gz" || fail "a cache entry corrupted in use was served"
cmp "$victim" "$T/good-entry" || fail "the corrupted cache entry was not rebuilt"
ok "a cache entry corrupted while a control export uses it is rebuilt, never served"
umount_view "$P"

umount_view "$M"
"$RF" export "$T/g.spec" -o "$T/after.cpio.gz"
gzip -dc "$T/after.cpio.gz" | cpio -it 2>/dev/null > "$T/after.lst"
grep -q 'rootfs-fuse' "$T/after.lst" && fail "export after unmount contains .rootfs-fuse"
grep -qx etc/marker "$T/after.lst" || fail "export after unmount lacks etc/marker"
ok "rootfs-fuse export after unmount has no .rootfs-fuse"
finish
