/* Raw and qcow2 disk images behind one pread, and the libext2fs io_manager over them
 * (e2fsprogs lib/ext2fs/ext2_io.h; the unix and test io managers are the models). Read-only:
 * every write entry point fails with EROFS. */
#include "qcow_io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libqcow.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rf_disk {
	int fd;		      /* raw: the image; -1 for qcow2 */
	libqcow_file_t *qcow; /* qcow2: the image; NULL for raw */
	uint64_t size_bytes;
	pthread_mutex_t lock; /* libqcow's file object keeps a cache: one reader at a time */
};

/* libqcow's backtrace runs from the root cause ("libqcow_file_header_read_data: unsupported
 * format version: 99.") up to the call we made: keep the first line, without the function. */
static void qcow_reason(libqcow_error_t *e, char *buf, size_t size)
{
	char tmp[2048] = "";
	buf[0] = '\0';
	if (!e || libqcow_error_backtrace_sprint(e, tmp, sizeof(tmp)) < 0)
		return;
	tmp[strcspn(tmp, "\n")] = '\0';
	size_t n = strlen(tmp);
	while (n && tmp[n - 1] == '.')
		tmp[--n] = '\0';
	const char *why = strstr(tmp, ": ");
	snprintf(buf, size, " (%s)", why ? why + 2 : tmp);
}

int rf_disk_open(const char *path, struct rf_disk **out, struct rf_err *err)
{
	struct rf_disk *d = calloc(1, sizeof(*d));
	if (!d)
		return rf_err_set(err, ENOMEM, "out of memory");
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		int e = errno;
		free(d);
		return rf_err_errno(err, e, "%s", path);
	}
	struct stat st;
	unsigned char magic[4];
	int r = 0;
	if (fstat(d->fd, &st)) {
		r = rf_err_errno(err, errno, "%s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		r = rf_err_set(err, EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	d->size_bytes = (uint64_t)st.st_size;
	if (pread(d->fd, magic, 4, 0) == 4 && !memcmp(magic, "QFI\xfb", 4)) {
		libqcow_error_t *e = NULL;
		char why[600];
		if (libqcow_file_initialize(&d->qcow, &e) != 1) {
			libqcow_error_free(&e);
			r = rf_err_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		if (libqcow_file_open(d->qcow, path, LIBQCOW_OPEN_READ, &e) != 1) {
			qcow_reason(e, why, sizeof(why));
			libqcow_error_free(&e);
			libqcow_file_free(&d->qcow, NULL);
			r = rf_err_set(err, EINVAL, "%s: not a valid qcow2 image%s", path, why);
			goto fail;
		}
		size64_t size = 0, bf = 0;
		uint32_t method = 0;
		if (libqcow_file_get_media_size(d->qcow, &size, &e) != 1) {
			qcow_reason(e, why, sizeof(why));
			libqcow_error_free(&e);
			r = rf_err_set(err, EINVAL, "%s: not a valid qcow2 image%s", path, why);
		} else if (libqcow_file_get_utf8_backing_filename_size(d->qcow, &bf, NULL) == 1 &&
			   bf > 0) {
			r = rf_err_set(err, ENOTSUP,
				       "%s: qcow2 images with a backing file are not supported "
				       "(qemu-img convert it first)",
				       path);
		} else if (libqcow_file_get_encryption_method(d->qcow, &method, NULL) == 1 &&
			   method != LIBQCOW_ENCRYPTION_METHOD_NONE) {
			r = rf_err_set(err, ENOTSUP, "%s: encrypted qcow2 images are not supported",
				       path);
		}
		if (r) {
			libqcow_file_close(d->qcow, NULL);
			libqcow_file_free(&d->qcow, NULL);
			goto fail;
		}
		d->size_bytes = size;
		close(d->fd);
		d->fd = -1;
	}
	pthread_mutex_init(&d->lock, NULL);
	*out = d;
	return 0;
fail:
	close(d->fd);
	free(d);
	return r;
}

int rf_disk_pread(struct rf_disk *d, void *buf, size_t len, uint64_t off)
{
	if (off > d->size_bytes || len > d->size_bytes - off)
		return -EIO;
	size_t done = 0;
	int r = 0;
	if (!d->qcow) {
		while (done < len) {
			ssize_t n =
			    pread(d->fd, (char *)buf + done, len - done, (off_t)(off + done));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -EIO;
			done += (size_t)n;
		}
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	while (done < len) {
		ssize_t n = libqcow_file_read_buffer_at_offset(
		    d->qcow, (char *)buf + done, len - done, (off64_t)(off + done), NULL);
		if (n <= 0) {
			r = -EIO;
			break;
		}
		done += (size_t)n;
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

uint64_t rf_disk_size(const struct rf_disk *d)
{
	return d->size_bytes;
}

const char *rf_disk_format(const struct rf_disk *d)
{
	return d->qcow ? "qcow2" : "raw";
}

void rf_disk_close(struct rf_disk *d)
{
	if (!d)
		return;
	if (d->qcow) {
		libqcow_file_close(d->qcow, NULL);
		libqcow_file_free(&d->qcow, NULL);
	}
	if (d->fd >= 0)
		close(d->fd);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* --- the io_manager --- */

struct chan {
	struct rf_disk *disk;
	uint64_t offset, length; /* the window of the disk the filesystem lives in */
};

void rf_disk_io_name(struct rf_disk *d, uint64_t offset, uint64_t length, char *buf, size_t size)
{
	/* libext2fs passes only a name to open(): the window travels in it */
	snprintf(buf, size, "rfdisk:%p:%" PRIu64 ":%" PRIu64, (void *)d, offset, length);
}

static errcode_t chan_open(const char *name, int flags, io_channel *channel)
{
	void *p = NULL;
	uint64_t offset, length;
	if (flags & IO_FLAG_RW)
		return EROFS;
	if (!name || sscanf(name, "rfdisk:%p:%" SCNu64 ":%" SCNu64, &p, &offset, &length) != 3 ||
	    !p)
		return EXT2_ET_BAD_DEVICE_NAME;
	io_channel io = calloc(1, sizeof(*io));
	struct chan *c = calloc(1, sizeof(*c));
	char *nm = strdup(name);
	if (!io || !c || !nm) {
		free(io);
		free(c);
		free(nm);
		return ENOMEM;
	}
	c->disk = p;
	c->offset = offset;
	c->length = length;
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = rf_disk_io_manager;
	io->name = nm;
	io->block_size = 1024;
	io->refcount = 1;
	io->private_data = c;
	*channel = io;
	return 0;
}

static errcode_t chan_close(io_channel io)
{
	if (--io->refcount > 0)
		return 0;
	free(io->private_data);
	free(io->name);
	free(io);
	return 0;
}

static errcode_t chan_set_blksize(io_channel io, int blksize)
{
	io->block_size = blksize;
	return 0;
}

static errcode_t chan_read_blk64(io_channel io, unsigned long long block, int count, void *data)
{
	struct chan *c = io->private_data;
	uint64_t len =
	    count < 0 ? (uint64_t) - (int64_t)count : (uint64_t)count * (uint64_t)io->block_size;
	uint64_t off = (uint64_t)block * (uint64_t)io->block_size;
	if (off > c->length || len > c->length - off) {
		/* past the partition: as the unix manager, read what exists, zero the rest */
		memset(data, 0, len);
		if (io->read_error)
			return io->read_error(io, (unsigned long)block, count, data, len, 0,
					      EXT2_ET_SHORT_READ);
		return EXT2_ET_SHORT_READ;
	}
	int r = rf_disk_pread(c->disk, data, len, c->offset + off);
	if (r)
		return io->read_error
			   ? io->read_error(io, (unsigned long)block, count, data, len, 0, EIO)
			   : EIO;
	return 0;
}

static errcode_t chan_read_blk(io_channel io, unsigned long block, int count, void *data)
{
	return chan_read_blk64(io, block, count, data);
}

static errcode_t chan_write_blk(io_channel io, unsigned long block, int count, const void *data)
{
	(void)io, (void)block, (void)count, (void)data;
	return EROFS;
}

static errcode_t chan_write_blk64(io_channel io, unsigned long long block, int count,
				  const void *data)
{
	(void)io, (void)block, (void)count, (void)data;
	return EROFS;
}

static errcode_t chan_write_byte(io_channel io, unsigned long offset, int count, const void *data)
{
	(void)io, (void)offset, (void)count, (void)data;
	return EROFS;
}

static errcode_t chan_flush(io_channel io)
{
	(void)io;
	return 0;
}

static errcode_t chan_set_option(io_channel io, const char *option, const char *arg)
{
	(void)io, (void)option, (void)arg;
	return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager rf_disk_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "rootfs-fuse disk image",
    .open = chan_open,
    .close = chan_close,
    .set_blksize = chan_set_blksize,
    .read_blk = chan_read_blk,
    .write_blk = chan_write_blk,
    .flush = chan_flush,
    .write_byte = chan_write_byte,
    .set_option = chan_set_option,
    .read_blk64 = chan_read_blk64,
    .write_blk64 = chan_write_blk64,
};

io_manager rf_disk_io_manager = &rf_disk_manager;
