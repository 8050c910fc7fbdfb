/* The cloud-hypervisor target: a shell script with Cloud Hypervisor's command line (its
 * docs/"Command Line Options"): --kernel takes a bzImage or a vmlinux ELF with a PVH note,
 * --initramfs, --disk path=...,image_type=raw|qcow2; the console is virtio-console (hvc0). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

/* qcow2 incompatible feature bits (qemu's docs/interop/qcow2.txt) Cloud Hypervisor rejects */
#define QCOW2_INCOMPAT_DATA_FILE (1u << 2)
#define QCOW2_INCOMPAT_EXTL2 (1u << 4)

static int ch_check(const struct target_launch *l, struct rf_err *err)
{
	if (!l->kernel)
		return rf_err_set(err, EINVAL, "cloud-hypervisor: give --kernel (a bzImage or a "
					       "vmlinux with a PVH note)");
	if (l->kernel_kind != TARGET_KERNEL_BZIMAGE && l->kernel_kind != TARGET_KERNEL_ELF_PVH)
		return rf_err_set(err, EINVAL,
				  "cloud-hypervisor: %s is %s; it boots a bzImage or a vmlinux "
				  "ELF with a PVH note (XEN_ELFNOTE_PHYS32_ENTRY)",
				  l->kernel, target_kernel_kind_name(l->kernel_kind));
	if (!strcmp(l->format, "iso"))
		return rf_err_set(err, EINVAL, "cloud-hypervisor: an ISO needs BIOS firmware; "
					       "export cpio, ext4 or qcow2");
	return 0;
}

/* The qcow2 header's incompatible_features (big-endian u64 at byte 72, version 3). */
static int check_qcow2(const struct target_launch *l, struct rf_err *err)
{
	unsigned char h[80];
	int fd = open(l->out_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(err, errno, "%s", l->out_path);
	ssize_t n = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, "QFI\xfb", 4))
		return rf_err_set(err, EINVAL, "%s: not a qcow2 image", l->out_path);
	uint64_t incompat = 0;
	if (h[7] >= 3)
		for (int i = 0; i < 8; i++)
			incompat = incompat << 8 | h[72 + i];
	if (incompat & QCOW2_INCOMPAT_EXTL2)
		return rf_err_set(err, EINVAL, "%s: cloud-hypervisor rejects qcow2 images with "
					       "extended L2 entries", l->out_path);
	if (incompat & QCOW2_INCOMPAT_DATA_FILE)
		return rf_err_set(err, EINVAL, "%s: cloud-hypervisor rejects qcow2 images with an "
					       "external data file", l->out_path);
	return 0;
}

static int ch_write(const struct target_launch *l, struct rf_err *err)
{
	bool is_disk = strcmp(l->format, "cpio");
	if (!strcmp(l->format, "qcow2")) {
		int r = check_qcow2(l, err);
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
	fprintf(f, "#!/bin/sh\n"
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
