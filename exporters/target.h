/* Targets: the machine monitors an export is meant for (QEMU, Cloud Hypervisor, Akaros's
 * vmrunkernel, Xen's xl). Each target is one file (target_<name>.c) behind struct target_ops,
 * found by name in target.c's registry; it checks that the export suits the monitor before
 * anything is written, then writes beside the output the file that boots it (docs/targets.md). */
#ifndef RF_TARGET_H
#define RF_TARGET_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

enum target_kernel_kind {
	TARGET_KERNEL_NONE,    /* no kernel given */
	TARGET_KERNEL_BZIMAGE, /* x86 boot protocol: "HdrS" at 0x202 */
	TARGET_KERNEL_ELF,     /* an ELF vmlinux without Xen notes */
	TARGET_KERNEL_ELF_PV,  /* ELF with Xen notes but no PVH entry */
	TARGET_KERNEL_ELF_PVH, /* ELF with a "Xen" note of type XEN_ELFNOTE_PHYS32_ENTRY (18) */
	TARGET_KERNEL_OTHER,   /* neither */
};

/* What a target needs to know about one export. Strings are borrowed. */
struct target_launch {
	const char *out_path; /* the export, as the user named it */
	const char *format;   /* effective exporter: "cpio", "ext4", "qcow2" or "iso" */
	const char *kernel;   /* absolute path of the kernel, NULL when none was given */
	const char *append;   /* extra kernel command line, NULL when none */
	enum target_kernel_kind kernel_kind;
};

struct target_ops {
	const char *name;    /* --target value */
	const char *console; /* the guest console device the command line names */
	/* Refuse what the monitor cannot boot (kernel type, format), before the export. */
	int (*check)(const struct target_launch *l, struct rf_err *err);
	/* After a successful export: write the launch file(s) beside l->out_path. */
	int (*write)(const struct target_launch *l, struct rf_err *err);
};

/* The target called name, NULL when unknown (borrowed, static). */
const struct target_ops *target_find(const char *name);

/* "qemu, cloud-hypervisor, akaros, xen" (static), for messages. */
const char *target_names(void);

/* Classify the kernel at path: reads the x86 boot header, or the ELF notes via libelf.
 * Returns 0 with *out set, or a negative errno (unreadable file) with err filled. */
int target_kernel_kind(const char *path, enum target_kernel_kind *out, struct rf_err *err);

/* "a bzImage", "an ELF vmlinux with a PVH entry note", ... for messages (static). */
const char *target_kernel_kind_name(enum target_kernel_kind k);

/* The guest command line: "console=CONSOLE", root= for disk formats (root_dev, e.g.
 * "/dev/vda"), "panic=-1", then l->append. Owned: free(). NULL when out of memory. */
char *target_cmdline(const struct target_launch *l, const char *console, const char *root_dev);

/* The launch file name OUT + suffix, owned (free), NULL when out of memory. */
char *target_beside(const struct target_launch *l, const char *suffix);

/* OUT's last component, borrowed from l->out_path. */
const char *target_out_base(const struct target_launch *l);

/* Absolute path of OUT (which exists after the export), owned (free); NULL with err filled. */
char *target_out_abs(const struct target_launch *l, struct rf_err *err);

/* Print s single-quoted for sh (' becomes '\''). */
void target_sh_quote(FILE *f, const char *s);

/* Write text to path through a temporary name and a rename; mode e.g. 0755 for scripts
 * (umask applied). Returns 0 or a negative errno with err naming path. */
int target_write_file(const char *path, const char *text, size_t len, unsigned mode,
		      struct rf_err *err);

/* Cloud Hypervisor's qcow2 limits: refuse the image at path when its header (version 3
 * incompatible_features, qemu's docs/interop/qcow2.txt) has extended L2 entries (bit 4) or an
 * external data file (bit 2), or when it is not qcow2. Returns 0 or -EINVAL/-errno with err
 * naming the file and the reason. */
int target_qcow2_check(const char *path, struct rf_err *err);

/* Registered targets, defined in target_<name>.c. */
extern const struct target_ops target_qemu_ops;
extern const struct target_ops target_ch_ops;
extern const struct target_ops target_akaros_ops;
extern const struct target_ops target_xen_ops;

#endif
