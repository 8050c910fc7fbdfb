#!/bin/sh
# Boots out.cpio.gz under Cloud Hypervisor, console hvc0 on this terminal.
# The kernel is a bzImage.
# Written by rootfs-fuse export --target cloud-hypervisor.
here=$(dirname "$0")
exec "${CLOUD_HYPERVISOR:-cloud-hypervisor}" \
	--kernel '@KERNEL@' \
	--initramfs "$here"/'out.cpio.gz' \
	--cmdline 'console=hvc0 panic=-1 quiet' \
	--cpus boot=1 --memory size=512M --console tty --serial off \
	"$@"
