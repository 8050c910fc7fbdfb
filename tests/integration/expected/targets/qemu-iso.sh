#!/bin/sh
# Boots plain.iso under QEMU, console on this terminal (Ctrl-A X quits).
# Written by rootfs-fuse export --target qemu; extra arguments go to qemu.
here=$(dirname "$0")
exec "${QEMU:-qemu-system-x86_64}" -machine "accel=${QEMU_ACCEL:-kvm:tcg}" -m 512 -nographic -no-reboot \
	-cdrom "$here"/'plain.iso' -boot d \
	"$@"
