/* The target registry and what every target shares: kernel classification (the x86 boot
 * protocol header, Documentation/arch/x86/boot.rst; ELF notes via libelf, Xen's
 * public/elfnote.h), the guest command line, and writing a launch file atomically. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18
/* qcow2 incompatible feature bits (qemu's docs/interop/qcow2.txt) Cloud Hypervisor rejects */
#define QCOW2_INCOMPAT_DATA_FILE (1u << 2)
#define QCOW2_INCOMPAT_EXTL2 (1u << 4)

static const struct target_ops *const targets[] = {
    &target_qemu_ops, &target_ch_ops, &target_akaros_ops, &target_xen_ops, NULL,
};

const struct target_ops *target_find(const char *name)
{
	for (size_t i = 0; targets[i]; i++)
		if (!strcmp(targets[i]->name, name))
			return targets[i];
	return NULL;
}

const char *target_names(void)
{
	return "qemu, cloud-hypervisor, akaros, xen";
}

const char *target_kernel_kind_name(enum target_kernel_kind k)
{
	switch (k) {
	case TARGET_KERNEL_NONE:
		return "no kernel";
	case TARGET_KERNEL_BZIMAGE:
		return "a bzImage";
	case TARGET_KERNEL_ELF:
		return "an ELF vmlinux without Xen notes";
	case TARGET_KERNEL_ELF_PV:
		return "an ELF vmlinux with Xen PV notes but no PVH entry";
	case TARGET_KERNEL_ELF_PVH:
		return "an ELF vmlinux with a PVH entry note";
	case TARGET_KERNEL_OTHER:
		break;
	}
	return "neither a bzImage nor an ELF vmlinux";
}

/* Scan the ELF notes (program headers first, sections for objects without them). */
static enum target_kernel_kind classify_elf(int fd)
{
	enum target_kernel_kind kind = TARGET_KERNEL_ELF;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return TARGET_KERNEL_OTHER;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return TARGET_KERNEL_OTHER;
	if (elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		return TARGET_KERNEL_OTHER;
	}
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_namesz != 4 || memcmp((char *)d->d_buf + name_off, "Xen", 4))
				continue;
			if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY)
				kind = TARGET_KERNEL_ELF_PVH;
			else if (kind == TARGET_KERNEL_ELF)
				kind = TARGET_KERNEL_ELF_PV;
		}
	}
	elf_end(e);
	return kind;
}

int target_kernel_kind(const char *path, enum target_kernel_kind *out, struct rf_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(err, errno, "%s", path);
	unsigned char hdr[0x206] = {0};
	ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
	if (n < 0) {
		int e = errno;
		close(fd);
		return rf_err_errno(err, e, "%s", path);
	}
	if (n >= 4 && !memcmp(hdr, "\177ELF", 4))
		*out = classify_elf(fd);
	else if (n == (ssize_t)sizeof(hdr) && !memcmp(hdr + 0x202, "HdrS", 4) &&
		 hdr[0x1fe] == 0x55 && hdr[0x1ff] == 0xaa)
		*out = TARGET_KERNEL_BZIMAGE;
	else
		*out = TARGET_KERNEL_OTHER;
	close(fd);
	return 0;
}

char *target_cmdline(const struct target_launch *l, const char *console, const char *root_dev)
{
	char *s = NULL;
	bool disk = root_dev && strcmp(l->format, "cpio");
	if (asprintf(&s, "console=%s%s%s%s panic=-1%s%s", console, disk ? " root=" : "",
		     disk ? root_dev : "", disk ? " rw" : "", l->append && *l->append ? " " : "",
		     l->append ? l->append : "") < 0)
		return NULL;
	return s;
}

char *target_beside(const struct target_launch *l, const char *suffix)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s", l->out_path, suffix) < 0)
		return NULL;
	return s;
}

const char *target_out_base(const struct target_launch *l)
{
	const char *b = strrchr(l->out_path, '/');
	return b ? b + 1 : l->out_path;
}

char *target_out_abs(const struct target_launch *l, struct rf_err *err)
{
	char *p = realpath(l->out_path, NULL);
	if (!p)
		rf_err_errno(err, errno, "%s", l->out_path);
	return p;
}

void target_sh_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

int target_write_file(const char *path, const char *text, size_t len, unsigned mode,
		      struct rf_err *err)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dir_len, path, path + dir_len) >=
	    (int)sizeof(tmp))
		return rf_err_set(err, ENAMETOOLONG, "%s: name too long", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(err, errno, "%s: cannot create a temporary file beside it",
				    path);
	mode_t um = umask(0);
	umask(um);
	int r = 0;
	if (fchmod(fd, mode & ~um))
		r = rf_err_errno(err, errno, "%s: chmod", path);
	for (size_t done = 0; !r && done < len;) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = rf_err_errno(err, errno, "%s: write", path);
		else
			done += (size_t)n;
	}
	if (close(fd) && !r)
		r = rf_err_errno(err, errno, "%s: close", path);
	if (!r && rename(tmp, path))
		r = rf_err_errno(err, errno, "%s: rename", path);
	if (r)
		unlink(tmp);
	return r;
}

int target_qcow2_check(const char *path, struct rf_err *err)
{
	unsigned char h[80];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(err, errno, "%s", path);
	ssize_t n = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (n < 8 || memcmp(h, "QFI\xfb", 4))
		return rf_err_set(err, EINVAL, "%s: not a qcow2 image", path);
	uint32_t version = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	uint64_t incompat = 0;
	if (version >= 3) {
		if (n != (ssize_t)sizeof(h))
			return rf_err_set(err, EINVAL, "%s: truncated qcow2 header", path);
		for (int i = 0; i < 8; i++)
			incompat = incompat << 8 | h[72 + i];
	}
	if (incompat & QCOW2_INCOMPAT_EXTL2)
		return rf_err_set(err, EINVAL,
				  "%s: cloud-hypervisor rejects qcow2 images with "
				  "extended L2 entries",
				  path);
	if (incompat & QCOW2_INCOMPAT_DATA_FILE)
		return rf_err_set(err, EINVAL,
				  "%s: cloud-hypervisor rejects qcow2 images with an "
				  "external data file",
				  path);
	return 0;
}
