/* Upper-layer metadata conventions: override_stat and mapped xattrs. See meta.h. */
#include "meta.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

int meta_override_parse(const char *val, size_t len, struct ovl_attr *a)
{
	char buf[128];
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val, len);
	buf[len] = '\0';
	unsigned uid, gid, mode, maj = 0, min = 0;
	int n = sscanf(buf, "%u:%u:%o:%u:%u", &uid, &gid, &mode, &maj, &min);
	if (n != 3 && n != 5)
		return -EINVAL;
	if (!(mode & S_IFMT))
		return -EINVAL;
	a->uid = uid;
	a->gid = gid;
	a->mode = mode;
	a->rdev_major = maj;
	a->rdev_minor = min;
	return 0;
}

int meta_override_format(const struct ovl_attr *a, char *buf, size_t size)
{
	if (S_ISCHR(a->mode) || S_ISBLK(a->mode))
		return snprintf(buf, size, "%u:%u:0%o:%u:%u", a->uid, a->gid, a->mode,
				a->rdev_major, a->rdev_minor);
	return snprintf(buf, size, "%u:%u:0%o", a->uid, a->gid, a->mode);
}

ssize_t meta_read_link_file(int fd, char *buf, size_t size)
{
	if (size < PATH_MAX)
		return -EINVAL;
	size_t len = 0;
	/* one byte more than a target may have, to tell a too long one */
	while (len < PATH_MAX) {
		ssize_t n = pread(fd, buf + len, PATH_MAX - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	if (!len)
		return -ENOENT; /* as symlink(2) refuses an empty target */
	if (memchr(buf, '\0', len))
		return -EINVAL;
	buf[len] = '\0';
	return (ssize_t)len;
}

bool meta_is_whiteout(const char *name)
{
	return !strncmp(name, META_WHITEOUT_PREFIX, strlen(META_WHITEOUT_PREFIX)) &&
	       strcmp(name, META_OPAQUE_MARKER);
}

static int keep_xattr(const char *name, const char **guest)
{
	size_t pl = strlen(META_XATTR_PREFIX);
	if (!strncmp(name, META_XATTR_PREFIX, pl) && name[pl]) {
		*guest = name + pl;
		return 1;
	}
	if (!strncmp(name, META_XATTR_OURS, strlen(META_XATTR_OURS)))
		return 0;
	*guest = name;
	return !strncmp(name, "user.", 5) || !strcmp(name, "security.capability");
}

int meta_read_xattrs(const char *path, struct ovl_xattr **out, size_t *n,
		     struct ovl_attr *override, bool *has_override)
{
	*out = NULL;
	*n = 0;
	if (has_override)
		*has_override = false;
	ssize_t ll = llistxattr(path, NULL, 0);
	if (ll < 0)
		return (errno == ENOTSUP || errno == EPERM) ? 0 : -errno;
	if (ll == 0)
		return 0;
	char *names = malloc((size_t)ll);
	if (!names)
		return -ENOMEM;
	ll = llistxattr(path, names, (size_t)ll);
	int r = 0;
	if (ll < 0) {
		r = -errno;
		goto out;
	}
	for (char *nm = names; nm < names + ll; nm += strlen(nm) + 1) {
		const char *guest = NULL;
		bool is_override = !strcmp(nm, META_XATTR_OVERRIDE);
		if (!is_override && !keep_xattr(nm, &guest))
			continue;
		ssize_t vl = lgetxattr(path, nm, NULL, 0);
		if (vl < 0)
			continue;
		char *val = malloc((size_t)vl + 1);
		if (!val) {
			r = -ENOMEM;
			goto out;
		}
		vl = lgetxattr(path, nm, val, (size_t)vl);
		if (vl < 0) {
			free(val);
			continue;
		}
		if (is_override) {
			if (override && !meta_override_parse(val, (size_t)vl, override) &&
			    has_override)
				*has_override = true;
			free(val);
			continue;
		}
		struct ovl_xattr *nx = realloc(*out, (*n + 1) * sizeof(*nx));
		char *gname = strdup(guest);
		if (!nx || !gname) {
			free(gname);
			free(val);
			if (nx)
				*out = nx;
			r = -ENOMEM;
			goto out;
		}
		*out = nx;
		nx[*n].name = gname;
		nx[*n].value = val;
		nx[*n].size = (size_t)vl;
		(*n)++;
	}
out:
	free(names);
	if (r) {
		for (size_t i = 0; i < *n; i++) {
			free((*out)[i].name);
			free((*out)[i].value);
		}
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}
