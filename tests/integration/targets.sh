#!/usr/bin/env bash
# export --target: for a fixed SPEC each target's launch file is compared with a reviewed
# expected file (tests/integration/expected/targets/, the kernel path and the temporary
# directory substituted), the QEMU script is actually run (TCG) to the guest's /init, the
# kernel type decides what Cloud Hypervisor, Akaros and Xen accept, root disks (ext4, qcow2) get
# the right bus and backend, and bad input (an unknown
# target, an Akaros command line over 512 bytes, a kernel of neither type) is refused with a
# one-line error before anything is written.
. "$(dirname "$0")/lib.sh"
EXP="$RF_SRC/tests/integration/expected/targets"
K=$(kernel)
[ -n "$K" ] || fail "no /boot/vmlinuz-* (linux-image-amd64 is in .ci/packages.txt)"
TR=$(realpath "$T")
KR=$(realpath "$K")

# stand-in vmlinux files: an ELF with a "Xen" PHYS32_ENTRY (18) note, one with only a PV note
# (XEN_ELFNOTE_ENTRY, 1), one with no note; the classifier reads notes, not code
mk_elf() { # NAME NOTE-TYPE|none
	if [ "$2" = none ]; then
		printf '.text\n.long 0\n' | as -o "$T/$1"
	else
		printf '.section .note.Xen,"a",@note\n.balign 4\n.long 4\n.long 4\n.long %s\n.asciz "Xen"\n.long 0x1000000\n' \
			"$2" | as -o "$T/$1"
	fi
}
mk_elf vmlinux-pvh 18
mk_elf vmlinux-pv 1
mk_elf vmlinux-plain none
head -c 4096 /dev/urandom > "$T/not-a-kernel"

# the marker goes through /dev/kmsg: printk reaches the serial console synchronously
printf '#!/bin/sh\necho "<2>rootfs-fuse-targets: /init reached" > /dev/kmsg\npoweroff -f\n' > "$T/init"
cat > "$T/g.spec" <<EOS
busybox /bin/busybox
dir  /dev 0755 0 0
nod  /dev/console 0600 0 0 c 5 1
nod  /dev/kmsg 0600 0 0 c 1 11
file /init ./init 0755 0 0
EOS

# compare a launch file with its expected form: kernel path -> @KERNEL@, $T -> @T@
same() { # FILE EXPECTED-NAME
	[ -f "$1" ] || fail "$(basename "$1") was not written"
	sed -e "s|$KR|@KERNEL@|g" -e "s|$TR|@T@|g" "$1" > "$1.norm"
	# RF_UPDATE_EXPECTED=1 rewrites the expected file: review the diff before committing
	[ "${RF_UPDATE_EXPECTED:-0}" = 1 ] && cp "$1.norm" "$EXP/$2"
	diff -u "$EXP/$2" "$1.norm" || fail "$(basename "$1") differs from expected/targets/$2"
}

probe=$("$RF" export "$T/g.spec" -o "$T/probe.cpio.gz" 2>&1) || true
has_cpio=1
grep -q "not built yet" <<<"$probe" && has_cpio=0
if [ $has_cpio = 0 ]; then
	echo "skip - launch files of initramfs exports: the cpio exporter is not built yet"
else
	"$RF" export "$T/g.spec" -o "$T/out.cpio.gz" --target qemu --kernel "$K" --append quiet
	same "$T/out.cpio.gz.qemu.sh" qemu.sh
	[ -x "$T/out.cpio.gz.qemu.sh" ] || fail "the qemu script is not executable"
	ok "qemu: launch script as reviewed"

	"$RF" export "$T/g.spec" -o "$T/out.cpio.gz" --target cloud-hypervisor --kernel "$K" --append quiet
	same "$T/out.cpio.gz.ch.sh" ch-bzimage.sh
	"$RF" export "$T/g.spec" -o "$T/pvh.cpio.gz" --target cloud-hypervisor --kernel "$T/vmlinux-pvh"
	same "$T/pvh.cpio.gz.ch.sh" ch-pvh.sh
	ok "cloud-hypervisor: launch scripts as reviewed for a bzImage and a PVH vmlinux"

	"$RF" export "$T/g.spec" -o "$T/out.cpio.gz" --target akaros --kernel "$T/vmlinux-plain" --append "quiet loglevel=3"
	same "$T/out.cpio.gz.akaros.sh" akaros.sh
	same "$T/out.cpio.gz.akaros.cmdline" akaros.cmdline
	[ -f "$T/out.cpio.gz.akaros.vnet" ] || fail "no vnet options file"
	ok "akaros: vmrunkernel script and command line file as reviewed"

	"$RF" export "$T/g.spec" -o "$T/out.cpio.gz" --target xen --kernel "$K" --append quiet
	same "$T/out.cpio.gz.xl.cfg" xen-pvh.cfg
	"$RF" export "$T/g.spec" -o "$T/pv.cpio.gz" --target xen --kernel "$T/vmlinux-pv"
	same "$T/pv.cpio.gz.xl.cfg" xen-pv.cfg
	ok "xen: xl configurations as reviewed for PVH and PV"

	# the QEMU launch file boots the export
	mkdir "$T/run"
	"$RF" export "$T/g.spec" -o "$T/run/boot.cpio.gz" --target qemu --kernel "$K" --append quiet
	rc=0
	(cd / && QEMU_ACCEL=tcg timeout 200 "$T/run/boot.cpio.gz.qemu.sh" < /dev/null > "$T/qemu.txt" 2>&1) || rc=$?
	grep -q "rootfs-fuse-targets: /init reached" "$T/qemu.txt" ||
		{ tail -n 20 "$T/qemu.txt"; fail "the qemu launch script did not reach /init (status $rc)"; }
	[ $rc -eq 0 ] || fail "the qemu launch script exited with $rc after poweroff"
	ok "the qemu launch script, run from another directory, boots to the guest's /init"

	# a bootable ISO carries its kernel: the script only puts it on -cdrom
	"$RF" export "$T/g.spec" -o "$T/plain.iso" --target qemu --kernel "$K"
	same "$T/plain.iso.qemu.sh" qemu-iso.sh
	ok "qemu: a bootable ISO is started with -cdrom"
fi

# root-disk exports: the disk bus, image type and Xen backend per format (the exports are
# real ext4/qcow2 images; Cloud Hypervisor's qcow2 header check passes on ours)
"$RF" export "$T/g.spec" -o "$T/disk.qcow2" --target cloud-hypervisor --kernel "$K"
same "$T/disk.qcow2.ch.sh" ch-qcow2.sh
"$RF" export "$T/g.spec" -o "$T/disk.qcow2" --target xen --kernel "$K"
same "$T/disk.qcow2.xl.cfg" xen-qcow2.cfg
"$RF" export "$T/g.spec" -o "$T/disk.ext4" --target xen --kernel "$K"
same "$T/disk.ext4.xl.cfg" xen-ext4.cfg
"$RF" export "$T/g.spec" -o "$T/disk.ext4" --target akaros --kernel "$T/vmlinux-plain"
same "$T/disk.ext4.akaros.sh" akaros-ext4.sh
"$RF" export "$T/g.spec" -o "$T/disk.ext4" --target qemu --kernel "$K"
same "$T/disk.ext4.qemu.sh" qemu-ext4.sh
expect_fail "akaros: vmrunkernel takes an initramfs \(cpio\) or a raw disk \(ext4\), not qcow2" \
	"$RF" export "$T/g.spec" -o "$T/bad.qcow2" --target akaros --kernel "$T/vmlinux-plain"
ok "root disks: virtio-blk for qemu and Cloud Hypervisor, phy/qdisk for Xen, -f for Akaros"

# --- refused before anything is written ---
expect_fail "unknown target 'vbox' \(qemu, cloud-hypervisor, akaros, xen\)" \
	"$RF" export "$T/g.spec" -o "$T/bad.cpio.gz" --target vbox --kernel "$K"
long=$(printf 'option%03d=on ' $(seq 1 60))
expect_fail "akaros: the kernel command line is [0-9]+ bytes; vmrunkernel's -k file holds at most 512" \
	"$RF" export "$T/g.spec" -o "$T/bad.cpio.gz" --target akaros --kernel "$T/vmlinux-plain" --append "$long"
expect_fail "akaros: .*vmlinuz.* is a bzImage; vmrunkernel takes an ELF vmlinux" \
	"$RF" export "$T/g.spec" -o "$T/bad.cpio.gz" --target akaros --kernel "$K"
expect_fail "cloud-hypervisor: .*vmlinux-plain is an ELF vmlinux without Xen notes; it boots a bzImage or a vmlinux ELF with a PVH note" \
	"$RF" export "$T/g.spec" -o "$T/bad.cpio.gz" --target cloud-hypervisor --kernel "$T/vmlinux-plain"
expect_fail "cloud-hypervisor: .*not-a-kernel is neither a bzImage nor an ELF vmlinux" \
	"$RF" export "$T/g.spec" -o "$T/bad.cpio.gz" --target cloud-hypervisor --kernel "$T/not-a-kernel"
expect_fail "xen: .*vmlinux-plain is an ELF vmlinux without Xen notes" \
	"$RF" export "$T/g.spec" -o "$T/bad.cpio.gz" --target xen --kernel "$T/vmlinux-plain"
expect_fail "xen: an ISO boots only in an HVM guest" \
	"$RF" export "$T/g.spec" -o "$T/bad.iso" --target xen --kernel "$K"
expect_fail "qemu: an export as cpio needs --kernel" \
	"$RF" export "$T/g.spec" -o "$T/bad.cpio.gz" --target qemu
expect_fail "qemu: an export as iso needs --kernel to boot \(it makes the ISO bootable\)" \
	"$RF" export "$T/g.spec" -o "$T/bad.iso" --target qemu
[ -z "$(ls "$T" | grep '^bad')" ] || fail "a refused export wrote something: $(ls "$T" | grep '^bad')"
ok "unknown target, long Akaros command line and unsuitable kernels are refused, nothing written"

finish
