#!/usr/bin/env bash
# Mount, edit as an ordinary user (add a file and chown it 0:0, chown another, delete a lower
# file), unmount, export the initramfs and boot it under qemu-system-x86_64 (TCG): the guest
# sees the edit, with root as the new file's owner.
. "$(dirname "$0")/lib.sh"
K=$(kernel)
[ -n "$K" ] || fail "no /boot/vmlinuz-* (linux-image-amd64 is in .ci/packages.txt)"

mkdir -p "$T/tree/etc"
echo "from the lower layer" > "$T/tree/etc/doomed"
echo "kept" > "$T/tree/etc/kept"
cat > "$T/init" <<'EOS'
#!/bin/sh
/bin/busybox mount -t proc proc /proc 2>/dev/null
echo "EDITED=$(cat /etc/edited) OWNER=$(stat -c %u:%g /etc/edited) MODE=$(stat -c %a /etc/edited)"
echo "KEPT_OWNER=$(stat -c %u:%g /etc/kept)"
[ -e /etc/doomed ] && echo "DOOMED=present" || echo "DOOMED=absent"
echo "TTYS1=$(stat -c '%F %t:%T %a' /dev/ttyS1)"
poweroff -f
EOS
cat > "$T/g.spec" <<EOS
busybox /bin/busybox
dir  /dev 0755 0 0
nod  /dev/console 0600 0 0 c 5 1
dir  /proc 0755 0 0
tree ./tree
file /init ./init 0755 0 0
EOS
M=$T/mnt
mount_view "$T/g.spec" "$M"
echo "made in the mount" > "$M/etc/edited"
chown 1000:1000 "$M/etc/edited"
chown 0:0 "$M/etc/edited"
chmod 0600 "$M/etc/edited"
chown 7:8 "$M/etc/kept"
rm "$M/etc/doomed"
"$RF" mknod "$M/dev/ttyS1" c 4 65 -m 0660
umount_view "$M"
[ -z "$(find "$T/g.state" ! -user "$(id -u)")" ] || fail "state files not owned by the user"
ok "edited in the mount as $(id -un)"

"$RF" export "$T/g.spec" -o "$T/edit.cpio.gz"
gzip -dc "$T/edit.cpio.gz" | cpio -t -v --numeric-uid-gid 2>/dev/null > "$T/tv.txt"
grep -Eq '^-rw------- +1 +0 +0 .* etc/edited$' "$T/tv.txt" || fail "export: $(grep edited "$T/tv.txt")"
grep -q 'etc/doomed' "$T/tv.txt" && fail "export has the deleted file"
ok "export has the edit with owner root"

rc=0
"$RF" boot "$T/g.spec" --kernel "$K" --timeout 180 --append quiet > "$T/console.txt" 2>&1 < /dev/null || rc=$?
tr -d '\r' < "$T/console.txt" > "$T/console.clean"
[ "$rc" -eq 0 ] || { tail -n 30 "$T/console.clean"; fail "boot exit status $rc"; }
grep -q 'EDITED=made in the mount OWNER=0:0 MODE=600$' "$T/console.clean" ||
	{ tail -n 20 "$T/console.clean"; fail "the guest does not see the new file as root's"; }
grep -q '^KEPT_OWNER=7:8$' "$T/console.clean" || fail "the guest does not see the chown"
grep -q '^DOOMED=absent$' "$T/console.clean" || fail "the guest sees the deleted file"
grep -q '^TTYS1=character special file 4:41 660$' "$T/console.clean" || fail "the guest lacks the device"
ok "the guest sees the edit: new file owned by root, chown kept, deletion kept"
finish
