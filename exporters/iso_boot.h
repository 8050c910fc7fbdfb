/* The boot part of the ISO exporter: El Torito with isolinux (Debian's isolinux and
 * syslinux-common), the view's own initramfs beside the kernel, and the isohybrid MBR that
 * lets the same image boot as a disk (syslinux's utils/isohybrid logic, run in-process). */
#ifndef RF_ISO_BOOT_H
#define RF_ISO_BOOT_H

#include <sys/types.h>

#include "exporter.h"

/* The ISO directory that holds the boot files; the view must not have it. */
#define ISO_BOOT_DIR "isolinux"

/* Where Debian installs the isolinux boot files. */
#define ISO_ISOLINUX_BIN "/usr/lib/ISOLINUX/isolinux.bin"
#define ISO_ISOHDPFX_BIN "/usr/lib/ISOLINUX/isohdpfx.bin"
#define ISO_LDLINUX_C32 "/usr/lib/syslinux/modules/bios/ldlinux.c32"

struct iso_boot;

/* Check the boot files and the kernel c->opt->kernel, and export the view as a gzip'd newc
 * initramfs to an unlinked temporary file beside the output. *out is owned (iso_boot_free).
 * Returns 0 or a negative errno with c->err naming the missing file or the failed export. */
int iso_boot_prepare(struct exp_ctx *c, struct iso_boot **out);

/* Add ISO_BOOT_DIR with isolinux.bin, ldlinux.c32, isolinux.cfg (serial console, the kernel,
 * the initramfs, console=ttyS0 and c->opt->append), vmlinuz and initrd.gz, and make
 * isolinux.bin the El Torito no-emulation boot image with a boot info table. Returns 0 or
 * a negative errno. */
int iso_boot_add_files(struct exp_ctx *c, struct iso_boot *b);

/* After the image is complete in c->fd: write the isohybrid MBR (isohdpfx.bin, the boot
 * image's LBA, one bootable partition of type 0x17 over the whole image) and pad the image to
 * a whole number of 64-head, 32-sector cylinders (1 MiB), as syslinux's isohybrid does.
 * Returns 0 or a negative errno. */
int iso_boot_make_hybrid(struct exp_ctx *c);

void iso_boot_free(struct iso_boot *b);

/* iso.c: add a regular file name to the image directory dir_path ("/isolinux") with the
 * content of the open host file fd (read at write time, so fd must stay open until the
 * export ends), 0644 0:0; label names the file in messages. Returns 0 or -errno. */
int exp_iso_add_fd(struct exp_ctx *c, const char *dir_path, const char *name, int fd,
		   const char *label);

/* iso.c: add a directory 0755 0:0 under the image's root. */
int exp_iso_add_dir(struct exp_ctx *c, const char *name);

/* iso.c: the libisofs image being built (borrowed). */
struct Iso_Image;
struct Iso_Image *exp_iso_image(struct exp_ctx *c);

#endif
