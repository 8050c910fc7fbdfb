/* The xen target: an xl domain configuration (xl.cfg(5)) for a PVH guest, or a PV guest when
 * the vmlinux has Xen PV notes but no PVH entry: kernel, ramdisk, disk (xl-disk-configuration:
 * the phy backend takes raw images only, qcow2 goes through qdisk), extra, vif; console hvc0. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

static int xen_check(const struct target_launch *l, struct rf_err *err)
{
	if (!l->kernel)
		return rf_err_set(err, EINVAL,
				  "xen: give --kernel (a bzImage or a Xen-enabled "
				  "vmlinux)");
	if (l->kernel_kind == TARGET_KERNEL_ELF || l->kernel_kind == TARGET_KERNEL_OTHER)
		return rf_err_set(err, EINVAL,
				  "xen: %s is %s; a PV or PVH guest needs a bzImage "
				  "or a vmlinux with Xen notes",
				  l->kernel, target_kernel_kind_name(l->kernel_kind));
	if (!strcmp(l->format, "iso"))
		return rf_err_set(err, EINVAL,
				  "xen: an ISO boots only in an HVM guest; export "
				  "cpio, ext4 or qcow2 for PV/PVH");
	return 0;
}

/* xl config strings are double-quoted; the few characters that would end one are refused
 * rather than escaped. */
static int xl_string(FILE *f, const char *key, const char *val, struct rf_err *err)
{
	if (strpbrk(val, "\"\\\n"))
		return rf_err_set(err, EINVAL, "xen: %s '%s' has a character xl.cfg cannot quote",
				  key, val);
	fprintf(f, "%s = \"%s\"\n", key, val);
	return 0;
}

static int xen_write(const struct target_launch *l, struct rf_err *err)
{
	char *abs = target_out_abs(l, err);
	if (!abs)
		return -errno ? -errno : -EIO;
	char *cmdline = target_cmdline(l, target_xen_ops.console, "/dev/xvda");
	char *text = NULL, *path = NULL, *name = strdup(target_out_base(l));
	size_t len = 0;
	int r = -ENOMEM;
	FILE *f = cmdline && name ? open_memstream(&text, &len) : NULL;
	if (!f)
		goto out;
	/* the domain name: OUT's name up to its first dot, in the characters xl accepts */
	char *dot = strchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	for (char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			*p = '_';
	bool pvh = l->kernel_kind != TARGET_KERNEL_ELF_PV;
	fprintf(f,
		"# Xen %s guest for %s, written by rootfs-fuse export --target xen.\n"
		"# Start it with: xl create -c THIS_FILE (console hvc0 on this terminal)\n",
		pvh ? "PVH" : "PV", target_out_base(l));
	r = xl_string(f, "name", name, err);
	if (!r)
		r = xl_string(f, "type", pvh ? "pvh" : "pv", err);
	if (!r)
		r = xl_string(f, "kernel", l->kernel, err);
	if (!r && !strcmp(l->format, "cpio"))
		r = xl_string(f, "ramdisk", abs, err);
	if (!r)
		r = xl_string(f, "extra", cmdline, err);
	if (!r && strcmp(l->format, "cpio")) {
		bool qcow2 = !strcmp(l->format, "qcow2");
		if (strpbrk(abs, "\",\\\n"))
			r = rf_err_set(err, EINVAL,
				       "xen: %s: a disk path with a comma or quote "
				       "cannot go into xl.cfg",
				       abs);
		else
			fprintf(f,
				"disk = [ \"format=%s, vdev=xvda, access=rw, backendtype=%s, "
				"target=%s\" ]\n",
				qcow2 ? "qcow2" : "raw", qcow2 ? "qdisk" : "phy", abs);
	}
	if (r) {
		fclose(f);
		goto out;
	}
	fprintf(f, "memory = 512\n"
		   "vcpus = 1\n"
		   "vif = [ \"bridge=xenbr0\" ]\n"
		   "on_crash = \"destroy\"\n");
	r = -ENOMEM;
	if (fclose(f) || !text)
		goto out;
	path = target_beside(l, ".xl.cfg");
	if (path)
		r = target_write_file(path, text, len, 0644, err);
out:
	free(abs);
	free(cmdline);
	free(name);
	free(text);
	free(path);
	return r;
}

const struct target_ops target_xen_ops = {
    .name = "xen", .console = "hvc0", .check = xen_check, .write = xen_write};
