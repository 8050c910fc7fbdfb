#!/bin/sh
# Boots disk.ext4 under QEMU, console on this terminal (Ctrl-A X quits).
# Written by rootfs-fuse export --target qemu; extra arguments go to qemu.
here=$(dirname "$0")
exec "${QEMU:-qemu-system-x86_64}" -machine "accel=${QEMU_ACCEL:-kvm:tcg}" -m 512 -nographic -no-reboot \
	-kernel '@KERNEL@' \
	-drive "file=$here/"'disk.ext4'",format=raw,if=virtio" \
	-append 'console=ttyS0 root=/dev/vda rw panic=-1' \
	"$@"
