#!/bin/sh
# Boots disk.qcow2 under Cloud Hypervisor, console hvc0 on this terminal.
# The kernel is a bzImage.
# Written by rootfs-fuse export --target cloud-hypervisor.
here=$(dirname "$0")
exec "${CLOUD_HYPERVISOR:-cloud-hypervisor}" \
	--kernel '@KERNEL@' \
	--disk "path=$here/"'disk.qcow2'",image_type=qcow2" \
	--cmdline 'console=hvc0 root=/dev/vda rw panic=-1' \
	--cpus boot=1 --memory size=512M --console tty --serial off \
	"$@"
