#!/bin/sh
# Boots disk.ext4 in an Akaros VM (vmrunkernel), console hvc0 on this terminal.
# Written by rootfs-fuse export --target akaros. The guest command line is
# disk.ext4.akaros.cmdline (one argument a line, at most 512 bytes); vnet options
# (e.g. port:tcp:HOST_PORT:GUEST_PORT) go one a line in disk.ext4.akaros.vnet.
here=$(dirname "$0")
exec vmrunkernel -k "$here"/'disk.ext4.akaros.cmdline' -n "$here"/'disk.ext4.akaros.vnet' -m 0x20000000 \
	-f "$here"/'disk.ext4' \
	-s '@T@/vmlinux-plain' "$@"
