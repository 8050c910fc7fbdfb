#!/bin/sh
# Boots pvh.cpio.gz under Cloud Hypervisor, console hvc0 on this terminal.
# The kernel is an ELF vmlinux with a PVH entry note.
# Written by rootfs-fuse export --target cloud-hypervisor.
here=$(dirname "$0")
exec "${CLOUD_HYPERVISOR:-cloud-hypervisor}" \
	--kernel '@T@/vmlinux-pvh' \
	--initramfs "$here"/'pvh.cpio.gz' \
	--cmdline 'console=hvc0 panic=-1' \
	--cpus boot=1 --memory size=512M --console tty --serial off \
	"$@"
