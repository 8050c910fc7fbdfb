/* The akaros target: a vmrunkernel command line as Akaros's tinycore guest scripts use it
 * (-k a command line file, one argument a line, at most 512 bytes; -n a vnet options file;
 * -m guest memory; -f a raw disk; -s an ELF vmlinux; -i the initramfs), console hvc0. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

#define AKAROS_CMDLINE_MAX 512

/* The -k file: the command line one argument a line, as the tinycore scripts write it.
 * lapic=notscdeadline: Akaros's guest LAPIC has no TSC deadline timer. */
static char *akaros_cmdline_file(const struct target_launch *l)
{
	char *words = target_cmdline(l, target_akaros_ops.console, "/dev/vda");
	char *text = NULL;
	/* the trailing blank makes room for the final newline: the text never grows */
	if (!words || asprintf(&text, "%s lapic=notscdeadline ", words) < 0) {
		free(words);
		return NULL;
	}
	free(words);
	/* one argument a line; runs of blanks collapse */
	char *w = text;
	bool blank = false;
	for (char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			blank = true;
			continue;
		}
		if (blank && w != text)
			*w++ = '\n';
		blank = false;
		*w++ = *p;
	}
	*w++ = '\n';
	*w = '\0';
	return text;
}

static int akaros_check(const struct target_launch *l, struct rf_err *err)
{
	if (!l->kernel)
		return rf_err_set(err, EINVAL, "akaros: give --kernel (an ELF vmlinux)");
	if (l->kernel_kind != TARGET_KERNEL_ELF && l->kernel_kind != TARGET_KERNEL_ELF_PV &&
	    l->kernel_kind != TARGET_KERNEL_ELF_PVH)
		return rf_err_set(err, EINVAL,
				  "akaros: %s is %s; vmrunkernel takes an ELF vmlinux (a "
				  "bzImage's can be unpacked with the kernel's "
				  "scripts/extract-vmlinux)",
				  l->kernel, target_kernel_kind_name(l->kernel_kind));
	if (strcmp(l->format, "cpio") && strcmp(l->format, "ext4"))
		return rf_err_set(err, EINVAL,
				  "akaros: vmrunkernel takes an initramfs (cpio) or "
				  "a raw disk (ext4), not %s",
				  l->format);
	char *text = akaros_cmdline_file(l);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	free(text);
	if (len > AKAROS_CMDLINE_MAX)
		return rf_err_set(err, E2BIG,
				  "akaros: the kernel command line is %zu bytes; vmrunkernel's -k "
				  "file holds at most %d",
				  len, AKAROS_CMDLINE_MAX);
	return 0;
}

static int akaros_write(const struct target_launch *l, struct rf_err *err)
{
	char *cmdline = akaros_cmdline_file(l);
	char *cmd_path = target_beside(l, ".akaros.cmdline");
	char *vnet_path = target_beside(l, ".akaros.vnet");
	char *sh_path = target_beside(l, ".akaros.sh");
	char *text = NULL;
	size_t len = 0;
	int r = -ENOMEM;
	FILE *f = cmdline && cmd_path && vnet_path && sh_path ? open_memstream(&text, &len) : NULL;
	if (!f)
		goto out;
	const char *base = target_out_base(l);
	fprintf(f,
		"#!/bin/sh\n"
		"# Boots %s in an Akaros VM (vmrunkernel), console hvc0 on this terminal.\n"
		"# Written by rootfs-fuse export --target akaros. The guest command line is\n"
		"# %s.akaros.cmdline (one argument a line, at most %d bytes); vnet options\n"
		"# (e.g. port:tcp:HOST_PORT:GUEST_PORT) go one a line in %s.akaros.vnet.\n"
		"here=$(dirname \"$0\")\n"
		"exec vmrunkernel -k \"$here\"/",
		base, base, AKAROS_CMDLINE_MAX, base);
	target_sh_quote(f, strrchr(cmd_path, '/') ? strrchr(cmd_path, '/') + 1 : cmd_path);
	fprintf(f, " -n \"$here\"/");
	target_sh_quote(f, strrchr(vnet_path, '/') ? strrchr(vnet_path, '/') + 1 : vnet_path);
	fprintf(f, " -m 0x20000000");
	if (!strcmp(l->format, "ext4")) {
		fprintf(f, " \\\n\t-f \"$here\"/");
		target_sh_quote(f, base);
	}
	fprintf(f, " \\\n\t-s ");
	target_sh_quote(f, l->kernel);
	if (!strcmp(l->format, "cpio")) {
		fprintf(f, " \\\n\t-i \"$here\"/");
		target_sh_quote(f, base);
	}
	fprintf(f, " \"$@\"\n");
	if (fclose(f) || !text)
		goto out;
	r = target_write_file(cmd_path, cmdline, strlen(cmdline), 0644, err);
	if (!r)
		r = target_write_file(vnet_path, "", 0, 0644, err);
	if (!r)
		r = target_write_file(sh_path, text, len, 0755, err);
out:
	free(cmdline);
	free(cmd_path);
	free(vnet_path);
	free(sh_path);
	free(text);
	return r;
}

const struct target_ops target_akaros_ops = {
    .name = "akaros", .console = "hvc0", .check = akaros_check, .write = akaros_write};
