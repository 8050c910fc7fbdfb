/* boot --format ext4|qcow2: the small helper initramfs that loads the modules the kernel needs
 * to reach its root disk (virtio_pci, virtio_blk, ext4), mounts /dev/vda and switch_root(8)s
 * into it. Its busybox and modules come from the view (the `busybox` and `modules` layers). */
#ifndef RF_BOOTDISK_H
#define RF_BOOTDISK_H

#include "err.h"
#include "exporter.h"
#include "view.h"

/* Write to out_path a gzip'd newc initramfs with /bin/busybox and /lib/modules/VERSION of v
 * (VERSION: the only directory under the view's /lib/modules, or the suffix of the kernel's
 * file name vmlinuz-VERSION) and an /init that modprobes virtio_pci, virtio_blk and ext4, mounts
 * /dev/vda as ext4 on /newroot and execs switch_root to the disk's /init (/sbin/init when the
 * disk has no /init). kernel is the bzImage path, used for its version only. o supplies the
 * epoch and threads; v must outlive the call. Errors (one line in err): no /bin/busybox in the
 * view; virtio_pci, virtio_blk or ext4 neither in the view's modules.dep nor built into the kernel
 * (modules.builtin); export failures. Returns 0 or a negative errno. */
int bootdisk_initrd(const struct ovl_view *v, const char *kernel, const char *out_path,
		    const struct exp_options *o, struct rf_err *err);

#endif
