/* An export as a list of pieces of open files. See pieces.h. */
#include "pieces.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int stamp(struct exp_piece *x)
{
	struct stat st;
	if (x->fd == EXP_PIECE_OUTPUT)
		return 0;
	if (fstat(x->fd, &st))
		return -errno;
	x->ino = (uint64_t)st.st_ino;
	x->size = (uint64_t)st.st_size;
	x->mtime_ns = ns(&st.st_mtim);
	x->ctime_ns = ns(&st.st_ctim);
	return 0;
}

int exp_pieces_add(struct exp_pieces *p, int fd, uint64_t off, uint64_t len)
{
	p->filled = true;
	struct exp_piece *last = p->n ? &p->v[p->n - 1] : NULL;
	if (last && fd == EXP_PIECE_OUTPUT && last->fd == fd && last->off + last->len == off) {
		last->len += len;
		p->size += len;
		return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct exp_piece *nv = realloc(p->v, cap * sizeof(*nv));
		if (!nv) {
			if (fd >= 0)
				close(fd);
			return -ENOMEM;
		}
		p->v = nv;
		p->cap = cap;
	}
	struct exp_piece *x = &p->v[p->n];
	*x = (struct exp_piece){.fd = fd, .off = off, .len = len, .start = p->size};
	int r = stamp(x);
	if (r) {
		close(fd);
		return r;
	}
	p->n++;
	p->n_fds += fd >= 0;
	p->size += len;
	return 0;
}

int exp_pieces_check(const struct exp_pieces *p, size_t first, size_t end)
{
	for (size_t i = first; i < end && i < p->n; i++) {
		struct exp_piece now = p->v[i];
		if (now.fd == EXP_PIECE_OUTPUT)
			continue;
		if (stamp(&now) || now.ino != p->v[i].ino || now.size != p->v[i].size ||
		    now.mtime_ns != p->v[i].mtime_ns || now.ctime_ns != p->v[i].ctime_ns)
			return -ESTALE;
	}
	return 0;
}

size_t exp_pieces_find(const struct exp_pieces *p, uint64_t pos)
{
	size_t lo = 0, hi = p->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->v[mid].start <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void exp_pieces_free(struct exp_pieces *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].fd >= 0)
			close(p->v[i].fd);
	free(p->v);
	*p = (struct exp_pieces){0};
}
