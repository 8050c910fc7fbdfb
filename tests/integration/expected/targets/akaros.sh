#!/bin/sh
# Boots out.cpio.gz in an Akaros VM (vmrunkernel), console hvc0 on this terminal.
# Written by rootfs-fuse export --target akaros. The guest command line is
# out.cpio.gz.akaros.cmdline (one argument a line, at most 512 bytes); vnet options
# (e.g. port:tcp:HOST_PORT:GUEST_PORT) go one a line in out.cpio.gz.akaros.vnet.
here=$(dirname "$0")
exec vmrunkernel -k "$here"/'out.cpio.gz.akaros.cmdline' -n "$here"/'out.cpio.gz.akaros.vnet' -m 0x20000000 \
	-s '@T@/vmlinux-plain' \
	-i "$here"/'out.cpio.gz' "$@"
