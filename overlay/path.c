/* Guest path normalization and joining: see path.h. */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int path_normalize(const char *in, char **out)
{
	size_t len = strlen(in);
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	char *buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(buf);
			return -EINVAL;
		}
		if (o)
			buf[o++] = '/';
		memcpy(buf + o, p, n);
		o += n;
		p += n;
	}
	buf[o] = '\0';
	*out = buf;
	return 0;
}

char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *s = malloc(dl + nl + 2);
	if (!s)
		return NULL;
	if (dl) {
		memcpy(s, dir, dl);
		s[dl++] = '/';
	}
	memcpy(s + dl, name, nl + 1);
	return s;
}

const char *path_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

size_t path_parent_len(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? (size_t)(s - path) : 0;
}

char *path_host_resolve(const char *base_dir, const char *arg)
{
	if (arg[0] == '/' || !base_dir || !base_dir[0])
		return strdup(arg);
	while (arg[0] == '.' && arg[1] == '/')
		arg += 2;
	if (!strcmp(base_dir, "."))
		return strdup(arg[0] ? arg : ".");
	size_t bl = strlen(base_dir), al = strlen(arg);
	char *s = malloc(bl + al + 2);
	if (!s)
		return NULL;
	memcpy(s, base_dir, bl);
	s[bl] = '/';
	memcpy(s + bl + 1, arg, al + 1);
	return s;
}
