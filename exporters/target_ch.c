/* The cloud-hypervisor target: a shell script with Cloud Hypervisor's command line (its
 * docs/"Command Line Options"): --kernel takes a bzImage or a vmlinux ELF with a PVH note,
 * --initramfs, --disk path=...,image_type=raw|qcow2; the console is virtio-console (hvc0). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

static int ch_check(const struct target_launch *l, struct rf_err *err)
{
	if (!l->kernel)
		return rf_err_set(err, EINVAL,
				  "cloud-hypervisor: give --kernel (a bzImage or a "
				  "vmlinux with a PVH note)");
	if (l->kernel_kind != TARGET_KERNEL_BZIMAGE && l->kernel_kind != TARGET_KERNEL_ELF_PVH)
		return rf_err_set(err, EINVAL,
				  "cloud-hypervisor: %s is %s; it boots a bzImage or a vmlinux "
				  "ELF with a PVH note (XEN_ELFNOTE_PHYS32_ENTRY)",
				  l->kernel, target_kernel_kind_name(l->kernel_kind));
	if (!strcmp(l->format, "iso"))
		return rf_err_set(err, EINVAL,
				  "cloud-hypervisor: an ISO needs BIOS firmware; "
				  "export cpio, ext4 or qcow2");
	return 0;
}

static int ch_write(const struct target_launch *l, struct rf_err *err)
{
	bool is_disk = strcmp(l->format, "cpio");
	if (!strcmp(l->format, "qcow2")) {
		int r = target_qcow2_check(l->out_path, err);
		if (r)
			return r;
	}
	char *text = NULL, *path = NULL;
	char *cmdline = target_cmdline(l, target_ch_ops.console, "/dev/vda");
	size_t len = 0;
	int r = -ENOMEM;
	FILE *f = cmdline ? open_memstream(&text, &len) : NULL;
	if (!f)
		goto out;
	fprintf(f,
		"#!/bin/sh\n"
		"# Boots %s under Cloud Hypervisor, console hvc0 on this terminal.\n"
		"# The kernel is %s.\n"
		"# Written by rootfs-fuse export --target cloud-hypervisor.\n"
		"here=$(dirname \"$0\")\n"
		"exec \"${CLOUD_HYPERVISOR:-cloud-hypervisor}\" \\\n\t--kernel ",
		target_out_base(l), target_kernel_kind_name(l->kernel_kind));
	target_sh_quote(f, l->kernel);
	if (is_disk) {
		fprintf(f, " \\\n\t--disk \"path=$here/\"");
		target_sh_quote(f, target_out_base(l));
		fprintf(f, "\",image_type=%s\"", !strcmp(l->format, "qcow2") ? "qcow2" : "raw");
	} else {
		fprintf(f, " \\\n\t--initramfs \"$here\"/");
		target_sh_quote(f, target_out_base(l));
	}
	fprintf(f, " \\\n\t--cmdline ");
	target_sh_quote(f, cmdline);
	fprintf(f, " \\\n\t--cpus boot=1 --memory size=512M --console tty --serial off \\\n"
		   "\t\"$@\"\n");
	if (fclose(f) || !text)
		goto out;
	path = target_beside(l, ".ch.sh");
	if (path)
		r = target_write_file(path, text, len, 0755, err);
out:
	free(text);
	free(cmdline);
	free(path);
	return r;
}

const struct target_ops target_ch_ops = {
    .name = "cloud-hypervisor", .console = "hvc0", .check = ch_check, .write = ch_write};
