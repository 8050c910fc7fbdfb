/* Symlinks of the upper layer stored as regular files holding their target (meta.h), so they
 * can carry an owner and xattrs, which Linux keeps off symlinks (xattr(7), "User extended
 * attributes"): reading them back, and turning a host symlink into that form in place. */
#include "upper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta.h"
#include "upper_int.h"

/* As upper.c: the path that reaches exactly the inode behind fd. */
static void proc_path(int fd, char buf[64])
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

bool upper_link_needs_file(const struct ovl_attr *a, size_t n_xattrs)
{
	return a->uid || a->gid || n_xattrs;
}

ssize_t upper_readlink(int fd, char *buf, size_t size)
{
	if (size < PATH_MAX)
		return -ERANGE;
	struct upper_stat us;
	int r = upper_stat(fd, &us);
	if (r)
		return r;
	if (!S_ISLNK(us.st.st_mode))
		return -EINVAL;
	if (!us.has_override) {
		ssize_t n = readlinkat(fd, "", buf, size - 1);
		if (n < 0)
			return -errno;
		buf[n] = '\0';
		return n;
	}
	int rfd = upper_reopen(fd, O_RDONLY | O_NONBLOCK);
	if (rfd < 0)
		return rfd;
	ssize_t n = meta_read_link_file(rfd, buf, size);
	close(rfd);
	/* a stored target the loader would refuse: the upper file is damaged */
	if (n == -ENOENT || n == -EINVAL || n == -ENAMETOOLONG)
		n = -EIO;
	return n;
}

int upper_put_link_target(int fd, const char *target)
{
	size_t len = target ? strlen(target) : 0;
	if (!len)
		return -ENOENT;
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	ssize_t n = pwrite(fd, target, len, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* The directory (*dir_out, O_PATH, caller closes) and name of the upper entry behind fd, whose
 * host stat is st. Records of upper entries keep no parent, so the name comes from the kernel's
 * path of the descriptor, taken relative to the upper root and walked down again without
 * following anything; the entry found there must be the same inode (-ESTALE otherwise). */
static int entry_name(struct ovl_upper *u, int fd, const struct stat *st, int *dir_out,
		      char name[NAME_MAX + 1])
{
	char p[64], root[PATH_MAX], path[PATH_MAX];
	proc_path(u->root_fd, p);
	ssize_t rl = readlink(p, root, sizeof(root));
	proc_path(fd, p);
	ssize_t pl = readlink(p, path, sizeof(path) - 1);
	if (rl <= 0 || pl <= rl + 1 || rl >= (ssize_t)sizeof(root) ||
	    memcmp(path, root, (size_t)rl) || path[rl] != '/')
		return -ESTALE;
	path[pl] = '\0';
	char *rel = path + rl + 1, *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	if (!*base || strlen(base) > NAME_MAX)
		return -ESTALE;
	int dir = openat(u->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	if (slash) {
		*slash = '\0';
		char *save = NULL;
		for (char *c = strtok_r(rel, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
			int sub = openat(dir, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(dir);
			if (sub < 0)
				return errno == ENOENT || errno == ENOTDIR ? -ESTALE : -errno;
			dir = sub;
		}
	}
	struct stat es;
	if (fstatat(dir, base, &es, AT_SYMLINK_NOFOLLOW) || es.st_dev != st->st_dev ||
	    es.st_ino != st->st_ino) {
		close(dir);
		return -ESTALE;
	}
	memcpy(name, base, strlen(base) + 1);
	*dir_out = dir;
	return 0;
}

int upper_store_symlink(struct ovl_upper *u, int fd, const struct ovl_attr *a, int *out_fd)
{
	struct stat st;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISLNK(st.st_mode))
		return -EINVAL;
	char target[PATH_MAX], name[NAME_MAX + 1], tmp[32];
	ssize_t tl = readlinkat(fd, "", target, sizeof(target));
	if (tl < 0)
		return -errno;
	if (tl >= (ssize_t)sizeof(target))
		return -ENAMETOOLONG;
	target[tl] = '\0';
	int dir_fd = -1, r = entry_name(u, fd, &st, &dir_fd, name);
	if (r)
		return r;
	struct ovl_attr meta = *a;
	meta.mode = S_IFLNK | 0777;
	meta.mtime_sec = st.st_mtim.tv_sec;
	meta.mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	upper_tmp_name(u, tmp);
	int nfd = openat(u->work_fd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (nfd < 0) {
		r = -errno;
		goto out;
	}
	r = upper_put_link_target(nfd, target);
	if (!r)
		r = upper_put_meta(nfd, &meta, NULL, 0);
	close(nfd);
	/* rename over the symlink: the name holds the old or the new entry, never neither; the
	 * parent's times stay, the guest changed an owner, not the directory */
	struct stat ds;
	bool has_times = !fstatat(dir_fd, "", &ds, AT_EMPTY_PATH);
	if (!r && renameat(u->work_fd, tmp, dir_fd, name))
		r = -errno;
	if (r) {
		unlinkat(u->work_fd, tmp, 0);
		goto out;
	}
	if (has_times) {
		char p[64];
		proc_path(dir_fd, p);
		struct timespec ts[2] = {ds.st_atim, ds.st_mtim};
		utimensat(AT_FDCWD, p, ts, 0);
	}
	r = upper_open_path(dir_fd, name, out_fd);
out:
	close(dir_fd);
	return r;
}
