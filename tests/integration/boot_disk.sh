#!/usr/bin/env bash
# boot --format ext4|qcow2 with Debian's kernel (qemu, TCG): the view is the virtio root disk,
# the helper initramfs loads virtio_pci, virtio_blk and ext4 from the view's modules layer,
# mounts /dev/vda and switches root; the disk's own /init prints a marker with its root mount
# (/dev/vda ext4) and powers off. Without the modules layer boot refuses, naming the fix.
. "$(dirname "$0")/lib.sh"
K=$(kernel)
[ -n "$K" ] || fail "no /boot/vmlinuz-* (linux-image-amd64 is in .ci/packages.txt)"
V=$(ls /lib/modules | sort -V | tail -1)
[ -f "/lib/modules/$V/modules.dep" ] || fail "/lib/modules/$V/modules.dep missing"

token="disk-root-$$-$RANDOM"
cat > "$T/init" <<EOS
#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
echo "guest: $token root=\$(grep ' / ' /proc/mounts | cut -d' ' -f1,3 | tail -n 1)"
poweroff -f
EOS
mk_spec() { # NAME MODULES-LINE
	cat > "$T/$1.spec" <<EOS
busybox /bin/busybox
$2
dir  /dev 0755 0 0
nod  /dev/console 0600 0 0 c 5 1
dir  /proc 0755 0 0
file /init ./init 0755 0 0
EOS
}
mk_spec with "modules /lib/modules/$V virtio_pci virtio_blk ext4"
mk_spec without ""

boot() { # FORMAT
	local rc=0
	"$RF" boot "$T/with.spec" --kernel "$K" --format "$1" --timeout 180 --append quiet \
		> "$T/$1.txt" 2>&1 < /dev/null || rc=$?
	[ "$rc" -eq 0 ] || { tail -n 30 "$T/$1.txt"; fail "$1: guest exit status $rc"; }
	tr -d '\r' < "$T/$1.txt" | has "guest: $token root=/dev/vda ext4$" ||
		{ tail -n 30 "$T/$1.txt"; fail "$1: the disk's /init did not run from /dev/vda (ext4)"; }
}
boot ext4 && ok "--format ext4: the helper initramfs loads the modules, the disk's /init runs from /dev/vda"
boot qcow2 && ok "--format qcow2: the same from a qcow2 disk"

expect_fail "add .modules /lib/modules/$V virtio_pci virtio_blk ext4. to the SPEC" \
	"$RF" boot "$T/without.spec" --kernel "$K" --format ext4 --timeout 60
ok "without a modules layer: one-line error naming the modules line to add"

# Debian's kernel has CONFIG_VIRTIO_PCI=m: virtio_blk alone does not reach the disk
mk_spec nopci "modules /lib/modules/$V virtio_blk ext4"
if ! grep -q "/virtio_pci.ko" "/lib/modules/$V/modules.builtin"; then
	expect_fail "needs the module virtio_pci to reach its root disk" \
		"$RF" boot "$T/nopci.spec" --kernel "$K" --format ext4 --timeout 60
	ok "a modules layer without virtio_pci (a module in this kernel) is refused"
fi

cat > "$T/nobusybox.spec" <<EOS
modules /lib/modules/$V virtio_pci virtio_blk ext4
file /init ./init 0755 0 0
EOS
expect_fail "the view has no /bin/busybox to load modules with" \
	"$RF" boot "$T/nobusybox.spec" --kernel "$K" --format qcow2
ok "without /bin/busybox: one-line error"

finish
