/* The cpio exporter: newc (the kernel's Documentation/driver-api/early-userspace/
 * buffer-format.rst) as separately compressed segments, concatenated, the trailer in the last
 * only (design.md, "Exporters"; issue 6). Segments are built and compressed on worker threads
 * and written in order, so the output is the same whatever the number of threads; with a
 * cache directory they are keyed (newc.h) and reused from the segment cache (segcache.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress.h"
#include "exporter.h"
#include "hashmemo.h"
#include "newc.h"
#include "segcache.h"
#include "segment.h"

#define DEFAULT_SEGMENT_BYTES (4u << 20)
#define MEMO_FILE "hashes"
#define MAX_AHEAD 256 /* open cache entries at most, well under RLIMIT_NOFILE */

struct job {
	size_t first, end; /* entries [first, end) */
	struct exp_buf out;
	struct seg_hit hit; /* a cache hit: copied from the entry's file (fd -1: none) */
	bool done;
	int r;
	struct rf_err err;
};

struct cpio_state {
	struct seg_entry *e;
	size_t n, cap;
	enum cmp_alg alg;
	/* the pipeline */
	const struct exp_options *opt;
	const char *compress;
	struct seg_cache *cache;
	struct hash_memo *memo;
	struct job *jobs;
	size_t n_jobs, next, written;
	uint64_t out_pos; /* bytes written to the output file */
	/* Jobs taken and not yet written whose output is (or may be) in memory: at most window.
	 * A cache hit holds only a descriptor, so hits let the workers run ahead of a slow
	 * segment (the one that changed), up to MAX_AHEAD jobs past the writer. */
	size_t in_memory, window;
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static int cpio_open(struct exp_ctx *c)
{
	enum cmp_alg alg;
	if (cmp_parse(c->compress, &alg))
		return rf_err_set(c->err, EINVAL,
				  "unknown compression '%s' (gzip, zstd, xz, lz4 or none)",
				  c->compress);
	struct cpio_state *s = calloc(1, sizeof(*s));
	if (!s)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	s->alg = alg;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	c->priv = s;
	return 0;
}

static int cpio_add(struct exp_ctx *c, const struct ovl_node *n, const char *path)
{
	struct cpio_state *s = c->priv;
	if (!*path)
		return 0; /* the root is the kernel's rootfs itself, not an entry */
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct seg_entry *ne = realloc(s->e, cap * sizeof(*ne));
		if (!ne)
			return rf_err_set(c->err, ENOMEM, "out of memory");
		s->e = ne;
		s->cap = cap;
	}
	struct seg_entry *e = &s->e[s->n];
	memset(e, 0, sizeof(*e));
	e->n = n;
	if (!(e->path = strdup(path)))
		return rf_err_set(c->err, ENOMEM, "out of memory");
	s->n++;
	return 0;
}

/* Build (or fetch from the cache) segment j into its out buffer. */
static int run_job(struct cpio_state *s, struct job *j, bool last)
{
	const struct seg_entry *e = s->e + j->first;
	size_t n = j->end - j->first;
	uint8_t key[16];
	int r;
	if (s->cache) {
		r = newc_key(e, n, s->opt, last, s->compress, s->memo, key, &j->err);
		if (r)
			return r;
		if (segcache_open_entry(s->cache, key, &j->hit))
			return 0;
	}
	struct exp_buf raw = {0};
	r = newc_write(e, n, s->opt, last, s->alg == CMP_NONE ? &j->out : &raw, &j->err);
	if (!r && s->alg != CMP_NONE) {
		r = cmp_compress(s->alg, s->opt->level, raw.data, raw.len, &j->out);
		if (r)
			r = rf_err_set(&j->err, -r, "%s compression failed: %s", cmp_name(s->alg),
				       strerror(-r));
	}
	exp_buf_free(&raw);
	if (!r && s->cache)
		segcache_put(s->cache, key, j->out.data, j->out.len); /* best effort */
	return r;
}

static void *worker(void *arg)
{
	struct cpio_state *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->stop && s->next < s->n_jobs &&
		       (s->in_memory >= s->window || s->next >= s->written + MAX_AHEAD))
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->stop || s->next >= s->n_jobs)
			break;
		size_t k = s->next++;
		s->in_memory++;
		pthread_mutex_unlock(&s->lock);
		int r = run_job(s, &s->jobs[k], k + 1 == s->n_jobs);
		pthread_mutex_lock(&s->lock);
		s->jobs[k].r = r;
		s->jobs[k].done = true;
		if (s->jobs[k].hit.fd >= 0)
			s->in_memory--;
		if (r)
			s->stop = true;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Put job j's segment into the export: a cache hit stays in its entry's file as a piece when
 * the export is kept as pieces (exp_options.pieces), else it is copied into the output. */
static int emit(struct exp_ctx *c, struct cpio_state *s, struct job *j)
{
	struct exp_pieces *p = s->opt->pieces;
	uint64_t len = j->hit.fd >= 0 ? j->hit.len : j->out.len;
	int r;
	if (j->hit.fd >= 0 && p && p->n_fds < EXP_PIECES_MAX_FDS) {
		r = exp_pieces_add(p, j->hit.fd, j->hit.offset, len);
		j->hit.fd = -1; /* the list owns it now */
		return r ? rf_err_set(c->err, -r, "%s: %s", c->out_path, strerror(-r)) : 0;
	}
	r = j->hit.fd >= 0 ? segcache_copy(&j->hit, c->fd)
			   : write_all(c->fd, j->out.data, j->out.len);
	if (r)
		return rf_err_set(c->err, -r, "%s: write: %s", c->out_path, strerror(-r));
	if (p && (r = exp_pieces_add(p, EXP_PIECE_OUTPUT, s->out_pos, len)))
		return rf_err_set(c->err, -r, "%s: %s", c->out_path, strerror(-r));
	s->out_pos += len;
	return 0;
}

/* Run the jobs on threads workers and write their outputs to fd in order. */
static int pipeline(struct exp_ctx *c, struct cpio_state *s, unsigned threads)
{
	pthread_t *tids = calloc(threads, sizeof(*tids));
	if (!tids)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	s->window = (size_t)threads * 2;
	unsigned started = 0;
	int r = 0;
	for (; started < threads; started++)
		if (pthread_create(&tids[started], NULL, worker, s))
			break;
	if (!started)
		r = rf_err_set(c->err, EAGAIN, "cannot start a compression thread");
	for (size_t k = 0; k < s->n_jobs && !r; k++) {
		struct job *j = &s->jobs[k];
		pthread_mutex_lock(&s->lock);
		while (!j->done)
			pthread_cond_wait(&s->cond, &s->lock);
		pthread_mutex_unlock(&s->lock);
		bool was_hit = j->hit.fd >= 0;
		if (j->r) {
			r = j->r;
			*c->err = j->err;
			break;
		}
		r = emit(c, s, j);
		exp_buf_free(&j->out);
		segcache_close(&j->hit);
		pthread_mutex_lock(&s->lock);
		s->written = k + 1;
		if (!was_hit)
			s->in_memory--;
		if (r)
			s->stop = true;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (unsigned t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
	return r;
}

static int open_cache(struct exp_ctx *c, struct cpio_state *s)
{
	const struct exp_options *o = c->opt;
	if (!o->cache_dir)
		return 0;
	/* the cache is a shortcut: a state directory that cannot hold it (read-only beside the
	 * SPEC) costs speed, not the export */
	struct rf_err ignored = {0};
	if (segcache_open(o->cache_dir, o->cache_size_bytes, &s->cache, &ignored))
		return 0;
	char *memo_path = NULL;
	if (asprintf(&memo_path, "%s/" MEMO_FILE, o->cache_dir) < 0)
		return rf_err_set(c->err, ENOMEM, "out of memory");
	int r = memo_load(memo_path, s->n, &s->memo);
	free(memo_path);
	return r ? rf_err_set(c->err, -r, "out of memory") : 0;
}

static int cpio_close(struct exp_ctx *c)
{
	struct cpio_state *s = c->priv;
	const struct exp_options *o = c->opt;
	s->opt = o;
	s->compress = cmp_name(s->alg);
	int r = seg_assign_inodes(s->e, s->n);
	if (r)
		return rf_err_set(c->err, -r, "out of memory");
	size_t *starts = NULL;
	uint64_t target = o->one_piece	     ? 0
			  : o->segment_bytes ? o->segment_bytes
					     : DEFAULT_SEGMENT_BYTES;
	if ((r = seg_plan(s->e, s->n, target, &starts, &s->n_jobs)))
		return rf_err_set(c->err, -r, "out of memory");
	s->jobs = calloc(s->n_jobs, sizeof(*s->jobs));
	if (!s->jobs) {
		free(starts);
		return rf_err_set(c->err, ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < s->n_jobs; k++) {
		s->jobs[k].first = starts[k];
		s->jobs[k].end = k + 1 < s->n_jobs ? starts[k + 1] : s->n;
		s->jobs[k].hit.fd = -1;
	}
	free(starts);
	if ((r = open_cache(c, s)))
		return r;
	unsigned threads = exp_threads(o);
	if (threads > s->n_jobs)
		threads = (unsigned)s->n_jobs;
	r = pipeline(c, s, threads);
	if (!r && s->cache) {
		memo_save(s->memo); /* a shortcut only: its failure costs a re-read next time */
		segcache_trim(s->cache);
		segcache_save(s->cache); /* a shortcut as well */
	}
	return r;
}

static void cpio_destroy(struct exp_ctx *c)
{
	struct cpio_state *s = c->priv;
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].path);
	free(s->e);
	for (size_t k = 0; k < s->n_jobs && s->jobs; k++) {
		exp_buf_free(&s->jobs[k].out);
		segcache_close(&s->jobs[k].hit);
	}
	free(s->jobs);
	memo_free(s->memo);
	segcache_free(s->cache);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
	c->priv = NULL;
}

static const char *const cpio_suffixes[] = {".cpio",	".cpio.gz",  ".cpio.zst",
					    ".cpio.xz", ".cpio.lz4", NULL};

const struct exporter_ops exp_cpio_ops = {
    .name = "cpio",
    .suffixes = cpio_suffixes,
    .open = cpio_open,
    .add = cpio_add,
    .close = cpio_close,
    .destroy = cpio_destroy,
};
