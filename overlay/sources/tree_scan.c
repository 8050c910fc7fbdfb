/* Read-ahead of a host directory tree: see tree_scan.h. One worker thread, a bounded queue of
 * directory listings in the walk's order. */
#include "tree_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "meta.h"
#include "path.h"

#define AHEAD_MAX 256 /* listings read but not yet taken */

struct tree_scan {
	char *root;
	int max_depth;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct scan_dir **q; /* ring of AHEAD_MAX */
	size_t head, len;
	bool done;  /* the worker has pushed its last listing */
	bool stop;  /* the walk wants no more */
	bool broke; /* the worker ran out of memory: the walk lists the rest itself */
};

bool tree_scan_is_entry(const char *name)
{
	return strncmp(name, META_WHITEOUT_PREFIX, strlen(META_WHITEOUT_PREFIX)) != 0;
}

void tree_scan_dir_free(struct scan_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->e[i].name);
	free(d->e);
	free(d);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct scan_entry *)a)->name, ((const struct scan_entry *)b)->name);
}

/* List host (opened as fd, taken over) into a new scan_dir; NULL when out of memory. */
static struct scan_dir *list_dir(const char *host, int fd)
{
	struct scan_dir *sd = calloc(1, sizeof(*sd));
	if (!sd) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (fd < 0) {
		sd->err = errno;
		return sd;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		sd->err = errno;
		close(fd);
		return sd;
	}
	size_t cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (sd->n == cap) {
			cap = cap ? cap * 2 : 32;
			struct scan_entry *ne = realloc(sd->e, cap * sizeof(*ne));
			if (!ne)
				goto oom;
			sd->e = ne;
		}
		struct scan_entry *e = &sd->e[sd->n];
		memset(e, 0, sizeof(*e));
		if (!(e->name = strdup(de->d_name)))
			goto oom;
		sd->n++;
		errno = 0;
	}
	if (errno) {
		sd->err = errno;
		closedir(d);
		return sd;
	}
	if (sd->n)
		qsort(sd->e, sd->n, sizeof(*sd->e), entry_cmp);
	for (size_t i = 0; i < sd->n; i++) {
		struct scan_entry *e = &sd->e[i];
		if (fstatat(dirfd(d), e->name, &e->st, AT_SYMLINK_NOFOLLOW)) {
			e->stat_err = errno;
			continue;
		}
		char *p = path_join(host, e->name);
		e->xattr_len = p ? llistxattr(p, NULL, 0) : -1;
		if (e->xattr_len < 0 && (errno == ENOTSUP || errno == EPERM))
			e->xattr_len = 0; /* as meta_read_xattrs: no xattrs to read */
		free(p);
	}
	closedir(d);
	return sd;
oom:
	closedir(d);
	tree_scan_dir_free(sd);
	return NULL;
}

struct scan_dir *tree_scan_list(const char *host)
{
	return list_dir(host, open(host, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

/* Queue d (NULL: the worker broke); false when the walk stopped. */
static bool push(struct tree_scan *s, struct scan_dir *d)
{
	pthread_mutex_lock(&s->lock);
	while (!s->stop && s->len == AHEAD_MAX)
		pthread_cond_wait(&s->cond, &s->lock);
	bool ok = !s->stop;
	if (ok && d) {
		s->q[(s->head + s->len) % AHEAD_MAX] = d;
		s->len++;
	} else if (ok) {
		s->broke = true;
	}
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (!ok)
		tree_scan_dir_free(d);
	return ok && d;
}

/* Depth first, as the walk: the directory's listing, then each subdirectory's in name order.
 * Returns false when the worker is to stop. */
static bool scan(struct tree_scan *s, const char *host, int depth)
{
	struct scan_dir *d = tree_scan_list(host);
	/* the subdirectories' paths, taken before d goes to the walk (which may free it) */
	char **sub = NULL;
	size_t n_sub = 0;
	bool ok = d != NULL;
	for (size_t i = 0; ok && i < d->n; i++) {
		const struct scan_entry *e = &d->e[i];
		if (e->stat_err || !S_ISDIR(e->st.st_mode) || !tree_scan_is_entry(e->name) ||
		    depth + 1 > s->max_depth)
			continue;
		char **ns = realloc(sub, (n_sub + 1) * sizeof(*ns));
		if (ns)
			sub = ns;
		ok = ns && (sub[n_sub] = path_join(host, e->name));
		n_sub += ok;
	}
	if (!ok) {
		tree_scan_dir_free(d);
		d = NULL;
	}
	ok = push(s, d);
	for (size_t i = 0; i < n_sub; i++) {
		ok = ok && scan(s, sub[i], depth + 1);
		free(sub[i]);
	}
	free(sub);
	return ok;
}

static void *worker(void *arg)
{
	struct tree_scan *s = arg;
	scan(s, s->root, 0);
	pthread_mutex_lock(&s->lock);
	s->done = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int tree_scan_start(const char *root, int max_depth, struct tree_scan **out)
{
	struct tree_scan *s = calloc(1, sizeof(*s));
	if (!s || !(s->root = strdup(root)) || !(s->q = calloc(AHEAD_MAX, sizeof(*s->q)))) {
		if (s)
			free(s->root);
		free(s);
		return -ENOMEM;
	}
	s->max_depth = max_depth;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	int r = pthread_create(&s->thread, NULL, worker, s);
	if (r) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s->q);
		free(s->root);
		free(s);
		return -r;
	}
	*out = s;
	return 0;
}

struct scan_dir *tree_scan_next(struct tree_scan *s)
{
	pthread_mutex_lock(&s->lock);
	while (!s->len && !s->done && !s->broke)
		pthread_cond_wait(&s->cond, &s->lock);
	struct scan_dir *d = NULL;
	if (s->len) {
		d = s->q[s->head];
		s->head = (s->head + 1) % AHEAD_MAX;
		s->len--;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return d;
}

void tree_scan_stop(struct tree_scan *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	while (s->len) {
		tree_scan_dir_free(s->q[s->head]);
		s->head = (s->head + 1) % AHEAD_MAX;
		s->len--;
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->q);
	free(s->root);
	free(s);
}
