/* El Torito boot with isolinux and the isohybrid MBR for the ISO exporter. Follows the El
 * Torito specification (boot record volume descriptor at sector 17, boot catalog with a
 * validation and an initial entry), syslinux's doc/isolinux.txt and utils/isohybrid.c (MBR
 * layout: 432 bytes of isohdpfx.bin, the boot image's 512-byte LBA, the partition table). */
#include "iso_boot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libisofs/libisofs.h>
#include <zlib.h>

#define SECTOR 2048u
#define MBR_CODE_BYTES 432u
#define HYBRID_HEADS 64u
#define HYBRID_SECTORS 32u
#define CYLINDER_BYTES (HYBRID_HEADS * HYBRID_SECTORS * 512u)
#define ISOLINUX_HYBRID_MAGIC 0x7078c0fbu /* at offset 0x40 of a hybrid-capable isolinux.bin */

struct iso_boot {
	int kernel_fd, isolinux_fd, ldlinux_fd, initrd_fd, cfg_fd;
};

static void boot_init(struct iso_boot *b)
{
	b->kernel_fd = b->isolinux_fd = b->ldlinux_fd = b->initrd_fd = b->cfg_fd = -1;
}

void iso_boot_free(struct iso_boot *b)
{
	if (!b)
		return;
	int fds[] = {b->kernel_fd, b->isolinux_fd, b->ldlinux_fd, b->initrd_fd, b->cfg_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(b);
}

static int open_host(struct exp_ctx *c, const char *path, const char *package, int *fd)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	if (package && errno == ENOENT)
		return rf_err_set(c->err, ENOENT, "%s: not found (install Debian's %s package)",
				  path, package);
	return rf_err_errno(c->err, errno, "%s", path);
}

/* The view as initrd.cpio.gz in an unlinked temporary file beside the output. */
static int export_initrd(struct exp_ctx *c, int *out_fd)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(c->out_path, '/');
	int dir_len = slash ? (int)(slash - c->out_path + 1) : 0;
	if (snprintf(tmp, sizeof(tmp), "%.*s.rootfs-fuse-initrd.XXXXXX", dir_len, c->out_path) >=
	    (int)sizeof(tmp))
		return rf_err_set(c->err, ENAMETOOLONG, "%s: name too long", c->out_path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(c->err, errno, "%s: cannot create the initramfs beside it",
				    c->out_path);
	unlink(tmp);
	struct exp_options o = *c->opt;
	o.format = "cpio";
	o.compress = "gzip";
	o.kernel = NULL;
	o.quiet = true;
	int r = exp_export_fd(c->view, fd, "initrd.cpio.gz", &o, c->err);
	if (r) {
		close(fd);
		return r;
	}
	*out_fd = fd;
	return 0;
}

static int write_cfg(struct exp_ctx *c, int *out_fd)
{
	const char *append = c->opt->append;
	char *cfg = NULL;
	int len = asprintf(&cfg,
			   "# written by rootfs-fuse: boot the view's kernel with the view as its "
			   "initramfs\n"
			   "serial 0 115200\n"
			   "default linux\n"
			   "prompt 0\n"
			   "timeout 0\n"
			   "label linux\n"
			   "  kernel /%s/vmlinuz\n"
			   "  initrd /%s/initrd.gz\n"
			   "  append console=ttyS0%s%s\n",
			   ISO_BOOT_DIR, ISO_BOOT_DIR, append && *append ? " " : "",
			   append ? append : "");
	if (len < 0)
		return -ENOMEM;
	int r = 0;
	int fd = memfd_create("isolinux.cfg", MFD_CLOEXEC);
	if (fd < 0) {
		r = rf_err_errno(c->err, errno, "isolinux.cfg: memfd_create");
		goto out;
	}
	if (write(fd, cfg, (size_t)len) != len) {
		r = rf_err_errno(c->err, errno ? errno : EIO, "isolinux.cfg: write");
		close(fd);
		goto out;
	}
	*out_fd = fd;
out:
	free(cfg);
	return r;
}

int iso_boot_prepare(struct exp_ctx *c, struct iso_boot **out)
{
	struct iso_boot *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	boot_init(b);
	int r = open_host(c, c->opt->kernel, NULL, &b->kernel_fd);
	if (!r)
		r = open_host(c, ISO_ISOLINUX_BIN, "isolinux", &b->isolinux_fd);
	if (!r)
		r = open_host(c, ISO_LDLINUX_C32, "syslinux-common", &b->ldlinux_fd);
	if (!r && access(ISO_ISOHDPFX_BIN, R_OK))
		r = errno == ENOENT ? rf_err_set(c->err, ENOENT,
						 "%s: not found (install Debian's "
						 "isolinux package)",
						 ISO_ISOHDPFX_BIN)
				    : rf_err_errno(c->err, errno, "%s", ISO_ISOHDPFX_BIN);
	if (!r && ovl_view_lookup(c->view, ISO_BOOT_DIR))
		r = rf_err_set(c->err, EEXIST,
			       "%s: the view has /%s, where a bootable ISO keeps its boot files",
			       c->out_path, ISO_BOOT_DIR);
	if (!r)
		r = write_cfg(c, &b->cfg_fd);
	if (!r)
		r = export_initrd(c, &b->initrd_fd);
	if (r) {
		iso_boot_free(b);
		return r;
	}
	*out = b;
	return 0;
}

int iso_boot_add_files(struct exp_ctx *c, struct iso_boot *b)
{
	int r = exp_iso_add_dir(c, ISO_BOOT_DIR);
	if (!r)
		r = exp_iso_add_fd(c, "/" ISO_BOOT_DIR, "isolinux.bin", b->isolinux_fd,
				   ISO_ISOLINUX_BIN);
	if (!r)
		r = exp_iso_add_fd(c, "/" ISO_BOOT_DIR, "ldlinux.c32", b->ldlinux_fd,
				   ISO_LDLINUX_C32);
	if (!r)
		r = exp_iso_add_fd(c, "/" ISO_BOOT_DIR, "isolinux.cfg", b->cfg_fd, "isolinux.cfg");
	if (!r)
		r = exp_iso_add_fd(c, "/" ISO_BOOT_DIR, "vmlinuz", b->kernel_fd, c->opt->kernel);
	if (!r)
		r = exp_iso_add_fd(c, "/" ISO_BOOT_DIR, "initrd.gz", b->initrd_fd, "initramfs");
	if (r)
		return r;
	/* no-emulation boot image loaded 4 sectors at a time, with isolinux's boot info table
	 * (El Torito, syslinux doc/isolinux.txt: mkisofs -b -no-emul-boot -boot-load-size 4
	 * -boot-info-table) */
	ElToritoBootImage *boot;
	int ir = iso_image_set_boot_image(exp_iso_image(c), "/" ISO_BOOT_DIR "/isolinux.bin",
					  ELTORITO_NO_EMUL, "/" ISO_BOOT_DIR "/boot.cat", &boot);
	if (ir < 0)
		return rf_err_set(c->err, EINVAL, "%s: El Torito boot image: %s", c->out_path,
				  iso_error_to_msg(ir));
	el_torito_set_load_size(boot, 4);
	el_torito_set_isolinux_options(boot, 1, 0);
	return 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* Cylinder/head/sector of a 512-byte LBA in the partition entry's packed form. */
static void put_chs(unsigned char *p, uint64_t lba)
{
	uint64_t cyl = lba / (HYBRID_HEADS * HYBRID_SECTORS);
	unsigned head = (unsigned)(lba / HYBRID_SECTORS % HYBRID_HEADS);
	unsigned sect = (unsigned)(lba % HYBRID_SECTORS) + 1;
	if (cyl > 1023)
		cyl = 1023;
	p[0] = (unsigned char)head;
	p[1] = (unsigned char)(sect | ((cyl >> 2) & 0xc0));
	p[2] = (unsigned char)(cyl & 0xff);
}

static int read_at(struct exp_ctx *c, void *buf, size_t len, off_t off, const char *what)
{
	ssize_t n = pread(c->fd, buf, len, off);
	if (n < 0)
		return rf_err_errno(c->err, errno, "%s: reading back the %s", c->out_path, what);
	if ((size_t)n != len)
		return rf_err_set(c->err, EIO, "%s: the %s is missing from the image", c->out_path,
				  what);
	return 0;
}

int iso_boot_make_hybrid(struct exp_ctx *c)
{
	unsigned char sec[SECTOR], mbr[512] = {0};
	int r = read_at(c, sec, SECTOR, 17 * SECTOR, "El Torito boot record");
	if (r)
		return r;
	if (sec[0] != 0 || memcmp(sec + 1, "CD001", 5) || memcmp(sec + 7, "EL TORITO", 9))
		return rf_err_set(c->err, EIO, "%s: no El Torito boot record at sector 17",
				  c->out_path);
	uint32_t catalog = le32(sec + 0x47);
	r = read_at(c, sec, SECTOR, (off_t)catalog * SECTOR, "boot catalog");
	if (r)
		return r;
	if (sec[0] != 1 || sec[30] != 0x55 || sec[31] != 0xaa || sec[32] != 0x88)
		return rf_err_set(c->err, EIO, "%s: the El Torito boot catalog is not valid",
				  c->out_path);
	uint32_t boot_lba = le32(sec + 32 + 8);
	unsigned char magic[4];
	r = read_at(c, magic, 4, (off_t)boot_lba * SECTOR + 0x40, "boot image");
	if (r)
		return r;
	if (le32(magic) != ISOLINUX_HYBRID_MAGIC)
		return rf_err_set(c->err, EINVAL, "%s: isolinux.bin is not hybrid-capable",
				  ISO_ISOLINUX_BIN);
	/* a disk signature that changes with the image (its primary volume descriptor, whose
	 * dates follow SOURCE_DATE_EPOCH) but is reproducible for the same image */
	r = read_at(c, sec, SECTOR, 16 * SECTOR, "primary volume descriptor");
	if (r)
		return r;
	uint32_t disk_id = (uint32_t)crc32(0, sec, SECTOR);

	int fd = open(ISO_ISOHDPFX_BIN, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(c->err, errno, "%s", ISO_ISOHDPFX_BIN);
	ssize_t n = read(fd, mbr, MBR_CODE_BYTES);
	close(fd);
	if (n != MBR_CODE_BYTES)
		return rf_err_set(c->err, EIO, "%s: shorter than %u bytes", ISO_ISOHDPFX_BIN,
				  MBR_CODE_BYTES);

	struct stat st;
	if (fstat(c->fd, &st))
		return rf_err_errno(c->err, errno, "%s: stat", c->out_path);
	uint64_t size =
	    ((uint64_t)st.st_size + CYLINDER_BYTES - 1) / CYLINDER_BYTES * CYLINDER_BYTES;
	if (size / 512 > UINT32_MAX)
		return rf_err_set(c->err, EFBIG, "%s: too large for an MBR partition", c->out_path);
	if (size != (uint64_t)st.st_size && ftruncate(c->fd, (off_t)size))
		return rf_err_errno(c->err, errno, "%s: padding to a cylinder", c->out_path);

	put_le32(mbr + 432, boot_lba * 4); /* the boot image in 512-byte sectors */
	put_le32(mbr + 440, disk_id);
	unsigned char *part = mbr + 446;
	part[0] = 0x80; /* active */
	put_chs(part + 1, 0);
	part[4] = 0x17; /* isohybrid's default type, as syslinux uses */
	put_chs(part + 5, size / 512 - 1);
	put_le32(part + 8, 0);
	put_le32(part + 12, (uint32_t)(size / 512));
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	if (pwrite(c->fd, mbr, sizeof(mbr), 0) != (ssize_t)sizeof(mbr))
		return rf_err_errno(c->err, errno ? errno : EIO, "%s: writing the MBR",
				    c->out_path);
	return 0;
}
