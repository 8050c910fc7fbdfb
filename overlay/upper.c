/* The copy-on-write upper layer on disk: see upper.h. Conventions are those of meta.h (the
 * same the tree layer reads back), whiteouts and opaque markers those of the OCI image spec
 * (image-spec/layer.md, "Whiteouts"). */
#include "upper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "meta.h"
#include "state.h"
#include "upper_int.h"

#define COPY_CHUNK (1u << 20)
#define PROBE_XATTR "user.rootfs-fuse.probe"

/* "/proc/self/fd/N": the path calls without an *at() form (xattrs, utimes) take, which
 * reaches exactly the inode behind the descriptor, symlinks included. */
static void proc_path(int fd, char buf[64])
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

static int mkdir_p(const char *path, struct rf_err *err)
{
	if (!mkdir(path, 0700) || errno == EEXIST)
		return 0;
	return rf_err_errno(err, errno, "%s", path);
}

/* Remove everything below the directory dir_fd (not dir_fd itself). */
static int clear_dir(int dir_fd, int depth)
{
	if (depth > 256)
		return -ELOOP;
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!unlinkat(dirfd(d), de->d_name, 0))
			continue;
		if (errno != EISDIR) {
			r = -errno;
			break;
		}
		int sub = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW);
		if (sub < 0 || (r = clear_dir(sub, depth + 1)) ||
		    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR)) {
			r = r ? r : -errno;
			if (sub >= 0)
				close(sub);
			break;
		}
		close(sub);
	}
	closedir(d);
	return r;
}

int upper_open(const char *state_dir, struct ovl_upper **out, struct rf_err *err)
{
	char *up = state_sub(state_dir, STATE_UPPER), *wk = state_sub(state_dir, STATE_WORK);
	struct ovl_upper *u = calloc(1, sizeof(*u));
	int r = 0;
	if (!up || !wk || !u) {
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	u->root_fd = u->work_fd = u->lock_fd = -1;
	if ((r = mkdir_p(state_dir, err)) || (r = mkdir_p(up, err)) || (r = mkdir_p(wk, err)))
		goto out;
	u->root_fd = open(up, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u->root_fd < 0) {
		r = rf_err_errno(err, errno, "%s", up);
		goto out;
	}
	u->work_fd = open(wk, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u->work_fd < 0) {
		r = rf_err_errno(err, errno, "%s", wk);
		goto out;
	}
	struct stat su, sw;
	if (fstat(u->root_fd, &su) || fstat(u->work_fd, &sw)) {
		r = rf_err_errno(err, errno, "%s", state_dir);
		goto out;
	}
	u->lock_fd = open(wk, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* a daemon just unmounted may still be on its way out: give it a second */
	int locked = -1;
	for (int i = 0; u->lock_fd >= 0 && i < 40; i++) {
		if (!(locked = flock(u->lock_fd, LOCK_EX | LOCK_NB)) || errno != EWOULDBLOCK)
			break;
		nanosleep(&(struct timespec){0, 25 * 1000 * 1000}, NULL);
	}
	if (u->lock_fd < 0 || locked) {
		if (errno == EWOULDBLOCK)
			r = rf_err_set(err, EBUSY, "%s: in use by another mount", state_dir);
		else
			r = rf_err_errno(err, errno, "%s", wk);
		goto out;
	}
	if (su.st_dev != sw.st_dev) {
		r = rf_err_set(err, EXDEV, "%s and %s are on different filesystems", up, wk);
		goto out;
	}
	if ((r = clear_dir(u->work_fd, 0))) {
		r = rf_err_errno(err, -r, "%s: cannot empty it", wk);
		goto out;
	}
	if (setxattr(up, PROBE_XATTR, "1", 1, 0)) {
		int e = errno;
		if (e == ENOTSUP || e == EPERM)
			r = rf_err_set(err, ENOTSUP,
				       "%s: the filesystem does not keep user xattrs (the upper "
				       "layer's owners, modes and devices live there); choose "
				       "--state on ext4, xfs, btrfs or tmpfs of Linux 6.6+",
				       state_dir);
		else
			r = rf_err_errno(err, e, "%s: setting a user xattr", up);
		goto out;
	}
	removexattr(up, PROBE_XATTR);
	*out = u;
	u = NULL;
out:
	upper_close(u);
	free(up);
	free(wk);
	return r;
}

void upper_close(struct ovl_upper *u)
{
	if (!u)
		return;
	if (u->root_fd >= 0)
		close(u->root_fd);
	if (u->work_fd >= 0)
		close(u->work_fd);
	if (u->lock_fd >= 0)
		close(u->lock_fd);
	free(u);
}

int upper_root_fd(const struct ovl_upper *u)
{
	return u->root_fd;
}

mode_t upper_real_mode(mode_t mode)
{
	if (S_ISDIR(mode))
		return (mode & 0777) | 0700;
	if (S_ISREG(mode))
		return (mode & 0777) | 0600;
	return 0600;
}

int upper_stat(int fd, struct upper_stat *out)
{
	if (fstatat(fd, "", &out->st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	out->has_override = false;
	struct stat *st = &out->st;
	st->st_uid = st->st_gid = 0;
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return 0;
	char p[64], val[128];
	proc_path(fd, p);
	ssize_t n = getxattr(p, META_XATTR_OVERRIDE, val, sizeof(val));
	struct ovl_attr a;
	if (n <= 0 || meta_override_parse(val, (size_t)n, &a))
		return 0;
	if (S_ISDIR(st->st_mode) != S_ISDIR(a.mode))
		return 0; /* a mismatched type is ignored, as the tree layer would refuse it */
	out->has_override = true;
	st->st_mode = a.mode;
	st->st_uid = a.uid;
	st->st_gid = a.gid;
	st->st_rdev = makedev(a.rdev_major, a.rdev_minor);
	/* a symlink stored as a file: its size is the target's length, as lstat(2) says */
	if (!S_ISREG(a.mode) && !S_ISDIR(a.mode) && !S_ISLNK(a.mode)) {
		st->st_size = 0;
		st->st_blocks = 0;
	}
	return 0;
}

int upper_set_override(int fd, const struct ovl_attr *a)
{
	char p[64], val[96];
	proc_path(fd, p);
	struct stat st;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ENOTSUP;
	int len = meta_override_format(a, val, sizeof(val));
	if (setxattr(p, META_XATTR_OVERRIDE, val, (size_t)len, 0))
		return -errno;
	mode_t real = upper_real_mode(a->mode);
	if ((st.st_mode & 07777) != real && chmod(p, real))
		return -errno;
	return 0;
}

int upper_open_path(int dir_fd, const char *name, int *out)
{
	int fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*out = fd;
	return 0;
}

int upper_reopen(int fd, int flags)
{
	char p[64];
	proc_path(fd, p);
	/* O_DIRECT would make the spliced writes of unaligned requests fail */
	flags &= ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_DIRECT);
	int nfd = open(p, flags | O_CLOEXEC);
	return nfd < 0 ? -errno : nfd;
}

void upper_tmp_name(struct ovl_upper *u, char buf[32])
{
	snprintf(buf, 32, "cu.%llu", (unsigned long long)atomic_fetch_add(&u->next_tmp, 1));
}

/* Copy [0, size) of the host file at path into fd, keeping holes. */
static int copy_host(const char *path, int out, uint64_t size)
{
	int in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	int r = 0;
	char *buf = NULL;
	off_t pos = 0;
	/* a file smaller than a few blocks has no holes worth looking for */
	bool has_holes = size > 65536;
	while ((uint64_t)pos < size) {
		off_t data = has_holes ? lseek(in, pos, SEEK_DATA) : pos;
		if (data < 0) {
			if (errno == ENXIO)
				break; /* only a hole remains */
			data = pos;
		}
		off_t hole = has_holes ? lseek(in, data, SEEK_HOLE) : (off_t)size;
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		off_t oi = data, oo = data;
		while (oi < hole) {
			ssize_t n = copy_file_range(in, &oi, out, &oo, (size_t)(hole - oi), 0);
			if (n > 0)
				continue;
			if (n == 0)
				break;
			if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
			    errno != EOPNOTSUPP) {
				r = -errno;
				goto out;
			}
			/* no in-kernel copy between these filesystems: read and write */
			if (!buf && !(buf = malloc(COPY_CHUNK))) {
				r = -ENOMEM;
				goto out;
			}
			size_t want =
			    (size_t)(hole - oi) < COPY_CHUNK ? (size_t)(hole - oi) : COPY_CHUNK;
			ssize_t got = pread(in, buf, want, oi);
			if (got <= 0) {
				r = got < 0 ? -errno : -EIO;
				goto out;
			}
			if (pwrite(out, buf, (size_t)got, oo) != got) {
				r = -errno;
				goto out;
			}
			oi += got;
			oo += got;
		}
		pos = hole;
	}
	if ((has_holes || pos != (off_t)size) && ftruncate(out, (off_t)size))
		r = -errno;
out:
	free(buf);
	close(in);
	return r;
}

static bool all_zero(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static int copy_data(const struct ovl_node *n, int out, struct rf_err *err)
{
	if (n->src.kind == OVL_SRC_HOST) {
		int r = copy_host(n->src.host_path, out, n->attr.size);
		return r ? rf_err_errno(err, -r, "copy-up of %s", n->src.host_path) : 0;
	}
	char *buf = malloc(COPY_CHUNK);
	if (!buf)
		return rf_err_set(err, ENOMEM, "out of memory");
	int r = 0;
	for (uint64_t off = 0; off < n->attr.size;) {
		ssize_t got = ovl_node_pread(n, buf, COPY_CHUNK, off, err);
		if (got <= 0) {
			r = got ? (int)got : rf_err_set(err, EIO, "%s: short read", n->name);
			break;
		}
		if (!all_zero(buf, (size_t)got) &&
		    pwrite(out, buf, (size_t)got, (off_t)off) != got) {
			r = rf_err_errno(err, errno, "copy-up of %s", n->name);
			break;
		}
		off += (uint64_t)got;
	}
	if (!r && ftruncate(out, (off_t)n->attr.size))
		r = rf_err_errno(err, errno, "copy-up of %s", n->name);
	free(buf);
	return r;
}

static int put_xattrs(int fd, const struct ovl_xattr *xs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char name[XATTR_NAME_MAX + 1];
		if ((size_t)snprintf(name, sizeof(name), "%s%s", META_XATTR_PREFIX, xs[i].name) >=
		    sizeof(name))
			return -ERANGE;
		if (fsetxattr(fd, name, xs[i].value, xs[i].size, 0))
			return -errno;
	}
	return 0;
}

/* Move work/tmp to dir_fd/name without replacing; a copy-up keeps dir_fd's times. */
static int move_in(struct ovl_upper *u, const char *tmp, int dir_fd, const char *name,
		   bool keep_times)
{
	struct stat ds;
	bool has_times = keep_times && !fstatat(dir_fd, "", &ds, AT_EMPTY_PATH);
	if (renameat2(u->work_fd, tmp, dir_fd, name, RENAME_NOREPLACE))
		return -errno;
	if (has_times) {
		char p[64];
		proc_path(dir_fd, p);
		struct timespec ts[2] = {ds.st_atim, ds.st_mtim};
		utimensat(AT_FDCWD, p, ts, 0);
	}
	return 0;
}

int upper_put_meta(int fd, const struct ovl_attr *a, const struct ovl_xattr *xs, size_t n)
{
	char val[96];
	int len = meta_override_format(a, val, sizeof(val));
	if (fsetxattr(fd, META_XATTR_OVERRIDE, val, (size_t)len, 0))
		return -errno;
	int r = put_xattrs(fd, xs, n);
	if (r)
		return r;
	struct timespec ts[2] = {{a->mtime_sec, a->mtime_nsec}, {a->mtime_sec, a->mtime_nsec}};
	return futimens(fd, ts) ? -errno : 0;
}

static void drop_tmp(struct ovl_upper *u, const char *tmp, bool is_dir)
{
	if (is_dir) {
		int fd = openat(u->work_fd, tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW);
		if (fd >= 0) {
			clear_dir(fd, 0);
			close(fd);
		}
	}
	unlinkat(u->work_fd, tmp, is_dir ? AT_REMOVEDIR : 0);
}

static int copy_up(struct ovl_upper *u, int dir_fd, const char *name, const struct ovl_node *n,
		   bool has_data, bool is_opaque, bool keep_times, int *out_fd, struct rf_err *err)
{
	char tmp[32];
	upper_tmp_name(u, tmp);
	mode_t type = n->attr.mode & S_IFMT;
	int fd = -1, r = 0;
	bool is_stored_link = S_ISLNK(type) && upper_link_needs_file(&n->attr, n->n_xattrs);
	if (S_ISLNK(type) && !is_stored_link) {
		if (symlinkat(n->link_target ? n->link_target : "", u->work_fd, tmp))
			return rf_err_errno(err, errno, "copy-up of /%s", name);
		struct timespec ts[2] = {{n->attr.mtime_sec, n->attr.mtime_nsec},
					 {n->attr.mtime_sec, n->attr.mtime_nsec}};
		utimensat(u->work_fd, tmp, ts, AT_SYMLINK_NOFOLLOW);
		goto move;
	}
	if (S_ISDIR(type)) {
		if (mkdirat(u->work_fd, tmp, upper_real_mode(n->attr.mode)))
			return rf_err_errno(err, errno, "copy-up of /%s", name);
		fd = openat(u->work_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && is_opaque) {
			int m =
			    openat(fd, META_OPAQUE_MARKER, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
			if (m < 0)
				r = rf_err_errno(err, errno, "copy-up of /%s: opaque marker", name);
			else
				close(m);
		}
	} else {
		/* created with its real mode (the daemon runs with umask 0) */
		fd = openat(u->work_fd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
			    upper_real_mode(n->attr.mode));
	}
	if (fd < 0) {
		r = rf_err_errno(err, errno, "copy-up of /%s", name);
		goto fail;
	}
	if (!r && S_ISREG(type) && has_data && n->attr.size)
		r = copy_data(n, fd, err);
	if (!r && is_stored_link && (r = upper_put_link_target(fd, n->link_target)))
		r = rf_err_errno(err, -r, "copy-up of /%s: symlink target", name);
	if (!r) {
		int e = upper_put_meta(fd, &n->attr, n->xattrs, n->n_xattrs);
		if (e)
			r = rf_err_errno(err, -e, "copy-up of /%s: metadata", name);
	}
	close(fd);
	fd = -1;
	if (r)
		goto fail;
move:
	r = move_in(u, tmp, dir_fd, name, keep_times);
	if (r) {
		r = rf_err_errno(err, -r, "copy-up of /%s", name);
		goto fail;
	}
	if (out_fd && (r = upper_open_path(dir_fd, name, out_fd)))
		return rf_err_errno(err, -r, "copy-up of /%s", name);
	return 0;
fail:
	drop_tmp(u, tmp, S_ISDIR(type));
	return r;
}

int upper_copy_up(struct ovl_upper *u, int dir_fd, const char *name, const struct ovl_node *n,
		  bool has_data, bool is_opaque, int *out_fd, struct rf_err *err)
{
	return copy_up(u, dir_fd, name, n, has_data, is_opaque, true, out_fd, err);
}

int upper_symlink(struct ovl_upper *u, int dir_fd, const char *name, const char *target,
		  const struct ovl_attr *a, int *out_fd)
{
	struct ovl_node n = {.name = (char *)name, .attr = *a, .link_target = (char *)target};
	n.attr.mode = S_IFLNK | 0777;
	struct rf_err err = {0};
	return copy_up(u, dir_fd, name, &n, false, false, false, out_fd, &err);
}

int upper_create(struct ovl_upper *u, int dir_fd, const char *name, const struct ovl_attr *a,
		 bool is_opaque, int *out_fd)
{
	struct ovl_node n = {.name = (char *)name, .attr = *a};
	struct rf_err err = {0};
	if (S_ISDIR(a->mode)) {
		return copy_up(u, dir_fd, name, &n, false, is_opaque, false, out_fd, &err);
	}
	int pfd = -1, fd = -1;
	int r = upper_create_open(dir_fd, name, a, O_WRONLY, &fd, &pfd);
	if (r)
		return r;
	close(fd);
	*out_fd = pfd;
	return 0;
}

int upper_create_open(int dir_fd, const char *name, const struct ovl_attr *a, int flags,
		      int *out_fd, int *out_path)
{
	mode_t real = upper_real_mode(S_ISREG(a->mode) ? a->mode : S_IFREG | 0600);
	flags &= ~(O_NOFOLLOW | O_NOCTTY | O_DIRECTORY);
	int fd = openat(dir_fd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, real);
	if (fd < 0)
		return -errno;
	int pfd = -1, r = upper_open_path(dir_fd, name, &pfd);
	if (!r)
		r = upper_set_override(pfd, a);
	if (r) {
		if (pfd >= 0)
			close(pfd);
		close(fd);
		unlinkat(dir_fd, name, 0);
		return r;
	}
	*out_fd = fd;
	*out_path = pfd;
	return 0;
}

static int whiteout_name(const char *name, char buf[NAME_MAX + 1])
{
	if ((size_t)snprintf(buf, NAME_MAX + 1, "%s%s", META_WHITEOUT_PREFIX, name) > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

bool upper_has_whiteout(int dir_fd, const char *name)
{
	char w[NAME_MAX + 1];
	struct stat st;
	return !whiteout_name(name, w) && !fstatat(dir_fd, w, &st, AT_SYMLINK_NOFOLLOW);
}

int upper_put_whiteout(int dir_fd, const char *name)
{
	char w[NAME_MAX + 1];
	int r = whiteout_name(name, w);
	if (r)
		return r;
	int fd = openat(dir_fd, w, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int upper_drop_whiteout(int dir_fd, const char *name)
{
	char w[NAME_MAX + 1];
	if (whiteout_name(name, w))
		return 0;
	if (unlinkat(dir_fd, w, 0) && errno != ENOENT)
		return -errno;
	return 0;
}

bool upper_is_opaque(int dir_fd)
{
	struct stat st;
	return !fstatat(dir_fd, META_OPAQUE_MARKER, &st, AT_SYMLINK_NOFOLLOW);
}

int upper_make_opaque(int dir_fd)
{
	struct stat ds;
	bool has_times = !fstatat(dir_fd, "", &ds, AT_EMPTY_PATH);
	int fd =
	    openat(dir_fd, META_OPAQUE_MARKER, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	if (has_times) {
		/* the marker is bookkeeping, not a change of the guest's directory */
		char p[64];
		proc_path(dir_fd, p);
		struct timespec ts[2] = {ds.st_atim, ds.st_mtim};
		utimensat(AT_FDCWD, p, ts, 0);
	}
	return 0;
}

static bool is_marker(const char *name)
{
	return !strncmp(name, META_WHITEOUT_PREFIX, strlen(META_WHITEOUT_PREFIX));
}

int upper_dir_has_entries(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int found = 0;
	while (!found && (de = readdir(d)))
		found = strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !is_marker(de->d_name);
	closedir(d);
	return found;
}

int upper_remove_dir(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = upper_dir_has_entries(fd);
	if (r > 0)
		r = -ENOTEMPTY;
	DIR *d = r ? NULL : fdopendir(fd);
	if (!d) {
		close(fd);
		return r ? r : -errno;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (is_marker(de->d_name) && unlinkat(dirfd(d), de->d_name, 0) && errno != ENOENT) {
			r = -errno;
			break;
		}
	closedir(d);
	if (!r && unlinkat(dir_fd, name, AT_REMOVEDIR))
		r = -errno;
	return r;
}

static int host_name(const char *name, char buf[XATTR_NAME_MAX + 1])
{
	if ((size_t)snprintf(buf, XATTR_NAME_MAX + 1, "%s%s", META_XATTR_PREFIX, name) >
	    XATTR_NAME_MAX)
		return -ERANGE;
	return 0;
}

ssize_t upper_getxattr(int fd, const char *name, void *buf, size_t size)
{
	char p[64], hn[XATTR_NAME_MAX + 1];
	proc_path(fd, p);
	if (host_name(name, hn))
		return -ENODATA;
	ssize_t n = getxattr(p, hn, buf, size);
	if (n < 0 && (errno == ENODATA || errno == ENOTSUP || errno == EPERM)) {
		/* a user. xattr of an entry not written by us passes through */
		if (strncmp(name, "user.", 5) ||
		    !strncmp(name, META_XATTR_OURS, strlen(META_XATTR_OURS)))
			return -ENODATA;
		n = getxattr(p, name, buf, size);
		if (n < 0 && (errno == ENOTSUP || errno == EPERM))
			errno = ENODATA;
	}
	return n < 0 ? -errno : n;
}

ssize_t upper_listxattr(int fd, char *buf, size_t size)
{
	char p[64];
	proc_path(fd, p);
	ssize_t ll = listxattr(p, NULL, 0);
	if (ll < 0)
		return (errno == ENOTSUP || errno == EPERM) ? 0 : -errno;
	char *names = malloc((size_t)ll + 1);
	if (!names)
		return -ENOMEM;
	ll = listxattr(p, names, (size_t)ll);
	if (ll < 0) {
		free(names);
		return -errno;
	}
	size_t pl = strlen(META_XATTR_PREFIX), out = 0;
	for (char *nm = names; nm < names + ll; nm += strlen(nm) + 1) {
		const char *g;
		if (!strncmp(nm, META_XATTR_PREFIX, pl) && nm[pl])
			g = nm + pl;
		else if (!strncmp(nm, "user.", 5) &&
			 strncmp(nm, META_XATTR_OURS, strlen(META_XATTR_OURS)))
			g = nm;
		else
			continue;
		size_t gl = strlen(g) + 1;
		if (size) {
			if (out + gl > size) {
				free(names);
				return -ERANGE;
			}
			memcpy(buf + out, g, gl);
		}
		out += gl;
	}
	free(names);
	return (ssize_t)out;
}

int upper_setxattr(int fd, const char *name, const void *val, size_t size, int flags)
{
	char p[64], hn[XATTR_NAME_MAX + 1];
	proc_path(fd, p);
	if (host_name(name, hn))
		return -ERANGE;
	if (setxattr(p, hn, val, size, flags))
		return errno == EPERM ? -ENOTSUP : -errno;
	return 0;
}

int upper_removexattr(int fd, const char *name)
{
	char p[64], hn[XATTR_NAME_MAX + 1];
	proc_path(fd, p);
	if (host_name(name, hn))
		return -ENODATA;
	if (removexattr(p, hn)) {
		if (errno != ENODATA || strncmp(name, "user.", 5) ||
		    !strncmp(name, META_XATTR_OURS, strlen(META_XATTR_OURS)))
			return errno == EPERM ? -ENOTSUP : -errno;
		if (removexattr(p, name))
			return errno == EPERM ? -ENOTSUP : -errno;
	}
	return 0;
}

bool upper_name_reserved(bool in_root, const char *name)
{
	if (in_root && !strcmp(name, OVL_CONTROL_DIR))
		return true;
	return !strncmp(name, META_WHITEOUT_PREFIX, strlen(META_WHITEOUT_PREFIX));
}
