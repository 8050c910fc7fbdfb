/* The qemu target: a shell script that boots the export under qemu-system-x86_64 with the
 * serial console (ttyS0) on the terminal: an initramfs with -kernel/-initrd, an ext4 or qcow2
 * root disk on virtio-blk, an ISO with -cdrom (qemu's system emulation manual, "Invocation"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

static int qemu_check(const struct target_launch *l, struct rf_err *err)
{
	if (!l->kernel)
		return rf_err_set(err, EINVAL, "qemu: an export as %s needs --kernel to boot%s",
				  l->format,
				  strcmp(l->format, "iso") ? "" : " (it makes the ISO bootable)");
	if (l->kernel && l->kernel_kind != TARGET_KERNEL_BZIMAGE &&
	    l->kernel_kind != TARGET_KERNEL_ELF_PVH)
		return rf_err_set(err, EINVAL,
				  "qemu: %s is %s; -kernel takes a bzImage or a PVH vmlinux",
				  l->kernel, target_kernel_kind_name(l->kernel_kind));
	return 0;
}

static int qemu_write(const struct target_launch *l, struct rf_err *err)
{
	char *text = NULL, *cmdline = NULL, *path = NULL;
	size_t len = 0;
	int r = -ENOMEM;
	bool is_iso = !strcmp(l->format, "iso");
	FILE *f = open_memstream(&text, &len);
	if (!f)
		goto out;
	fprintf(f,
		"#!/bin/sh\n"
		"# Boots %s under QEMU, console on this terminal (Ctrl-A X quits).\n"
		"# Written by rootfs-fuse export --target qemu; extra arguments go to qemu.\n"
		"here=$(dirname \"$0\")\n"
		"exec \"${QEMU:-qemu-system-x86_64}\" -machine \"accel=${QEMU_ACCEL:-kvm:tcg}\" "
		"-m 512 -nographic -no-reboot \\\n",
		target_out_base(l));
	if (is_iso) {
		fprintf(f, "\t-cdrom \"$here\"/");
		target_sh_quote(f, target_out_base(l));
		fprintf(f, " -boot d \\\n");
	} else {
		cmdline = target_cmdline(l, target_qemu_ops.console, "/dev/vda");
		if (!cmdline)
			goto out_close;
		fprintf(f, "\t-kernel ");
		target_sh_quote(f, l->kernel);
		if (!strcmp(l->format, "cpio")) {
			fprintf(f, " \\\n\t-initrd \"$here\"/");
			target_sh_quote(f, target_out_base(l));
		} else {
			fprintf(f, " \\\n\t-drive \"file=$here/\"");
			target_sh_quote(f, target_out_base(l));
			fprintf(f, "\",format=%s,if=virtio\"",
				!strcmp(l->format, "qcow2") ? "qcow2" : "raw");
		}
		fprintf(f, " \\\n\t-append ");
		target_sh_quote(f, cmdline);
		fprintf(f, " \\\n");
	}
	fprintf(f, "\t\"$@\"\n");
out_close:
	if (fclose(f) || !text || (!is_iso && !cmdline))
		goto out;
	path = target_beside(l, ".qemu.sh");
	if (path)
		r = target_write_file(path, text, len, 0755, err);
out:
	free(text);
	free(cmdline);
	free(path);
	return r;
}

const struct target_ops target_qemu_ops = {
    .name = "qemu", .console = "ttyS0", .check = qemu_check, .write = qemu_write};
