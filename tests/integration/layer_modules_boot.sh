#!/usr/bin/env bash
# The modules layer on the real thing: Debian's installed kernel boots (qemu, TCG) an initramfs
# of busybox + `modules /lib/modules/VERSION virtio_pci virtio_blk ext4`, and the guest's /init
# loads them with modprobe, mounts a second disk (an ext4 image made by mke2fs -d) and prints
# a file from it: once with busybox's modprobe (modules.dep, modules.alias), once with kmod's
# (modules.*.bin, softdeps), run from a `host /usr/bin/kmod` layer.
# virtio_pci is a module in Debian's kernel (CONFIG_VIRTIO_PCI=m): without it there is no
# virtio disk, and virtio_blk does not depend on it, so it is named too.
. "$(dirname "$0")/lib.sh"
K=$(kernel)
[ -n "$K" ] || fail "no /boot/vmlinuz-* (linux-image-amd64 is in .ci/packages.txt)"
V=$(basename "$K" | sed 's/^vmlinuz-//')
D=/lib/modules/$V
[ -f "$D/modules.dep" ] || fail "$D/modules.dep missing for the installed kernel $V"

token="disk-token-$$-$RANDOM"
mkdir -p "$T/disk/etc"
echo "rootfs-fuse: the second disk says $token" > "$T/disk/etc/hello.txt"
mke2fs -q -F -t ext4 -d "$T/disk" "$T/disk.img" 16M > /dev/null 2>&1 || fail "mke2fs -d"

# /init: load, wait (bounded) for /dev/vda, mount, print; any failure exits with status 3
cat > "$T/init.head" <<'EOS'
#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
die() { echo "guest: $*"; printf '\003' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null; sleep 10; }
mount -t proc proc /proc && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev || die "mounts"
EOS
cat > "$T/init.tail" <<'EOS'
i=0
while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] || die "no /dev/vda"
mount -t ext4 -o ro /dev/vda /mnt || die "mount /dev/vda"
cat /mnt/etc/hello.txt
echo "guest modules: $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
poweroff -f
EOS
{ cat "$T/init.head"
  echo 'modprobe virtio_pci && modprobe virtio_blk && modprobe ext4 || die "busybox modprobe"'
  cat "$T/init.tail"; } > "$T/init-busybox"
{ cat "$T/init.head"
  echo 'KM=/usr/local/sbin/modprobe'
  echo '$KM --show-depends fs-ext4 | grep -q "^insmod /lib/modules/.*/crc32c_generic.ko" ||'
  echo '	die "kmod modprobe does not see the softdep of ext4 on crypto-crc32c"'
  echo '$KM virtio_pci && $KM virtio-blk && $KM fs-ext4 || die "kmod modprobe"'
  cat "$T/init.tail"; } > "$T/init-kmod"

mk_spec() { # NAME [EXTRA LAYER LINE]
	cat > "$T/$1.spec" <<EOS
busybox /bin/busybox
$2
modules $D virtio_pci virtio_blk ext4
dir  /dev 0755 0 0
nod  /dev/console 0600 0 0 c 5 1
dir  /proc 0755 0 0
dir  /sys 0755 0 0
dir  /mnt 0755 0 0
file /init ./init-$1 0755 0 0
EOS
}
mk_spec busybox ""
# kmod picks its personality from argv[0]; the host layer comes before the modules layer,
# so that its /lib -> usr/lib symlink carries /lib/modules too
mk_spec kmod "host /usr/bin/kmod
slink /usr/local/sbin/modprobe /usr/bin/kmod 0777 0 0"

boot() { # NAME
	local rc=0
	"$RF" boot "$T/$1.spec" --kernel "$K" --timeout 240 --append quiet \
		-- -drive "file=$T/disk.img,if=virtio,format=raw" \
		> "$T/$1.txt" 2>&1 < /dev/null || rc=$?
	if [ "$rc" -ne 0 ] && grep -q "not built yet" "$T/$1.txt"; then
		# the cpio exporter or the host layer has not landed on this branch yet
		echo "skip - $1 boot: $(grep -m1 'not built yet' "$T/$1.txt")"
		return 1
	fi
	[ "$rc" -eq 0 ] || { tail -n 30 "$T/$1.txt"; fail "$1: guest exit status $rc"; }
	tr -d '\r' < "$T/$1.txt" | has "rootfs-fuse: the second disk says $token$" ||
		{ tail -n 30 "$T/$1.txt"; fail "$1: the file from the second disk was not printed"; }
	tr -d '\r' < "$T/$1.txt" | grep "^guest modules:" | grep -q " ext4 .*virtio_blk" ||
		fail "$1: ext4 and virtio_blk not in /proc/modules"
	return 0
}
boot busybox && ok "busybox modprobe loads virtio_pci, virtio_blk, ext4; the disk mounts and reads"
boot kmod && ok "kmod's modprobe (from the host layer) loads them by alias, with the crc32c softdep"

finish
