/* The segment cache: see segcache.h. Entry file "seg/<32 hex digits of the key>": a 48-byte
 * header {"RFSEG001", key[16], u64 payload length, u64 XXH3-64 of the payload, u64 XXH3-64 of
 * the 40 bytes before it} then the payload. Recency is the file's mtime, refreshed on a hit. */
#include "segcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#define SEG_MAGIC "RFSEG001"
#define SEG_HEADER 48
#define SEG_SUBDIR "seg"
/* "RFSEGV01", u64 count, u64 XXH3-64 of the records, then count u64 stamps (entry_stamp). */
#define VERIFIED_FILE "verified"
#define VERIFIED_MAGIC "RFSEGV01"
#define VERIFIED_MAX (1u << 22)

/* A set of u64 stamps (open addressing, 0 = empty slot). */
struct stamp_set {
	uint64_t *slot;
	size_t cap, n; /* cap: a power of two */
};

struct seg_cache {
	char *dir;     /* the cache directory */
	char *seg_dir; /* dir/seg */
	uint64_t bound_bytes;
	/* Stamps of entries whose payload checksum held: read from VERIFIED_FILE (trusted), and
	 * those this run checked or wrote (saved by segcache_save). */
	struct stamp_set trusted, fresh;
	pthread_mutex_t lock; /* guards fresh */
	bool has_lock;
};

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path, 0755);
		*p = '/';
		if (r && errno != EEXIST)
			return -errno;
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool set_has(const struct stamp_set *t, uint64_t k)
{
	for (size_t i = k & (t->cap - 1); t->cap && t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (t->slot[i] == k)
			return true;
	return false;
}

/* Add k (nonzero) to t, growing it at half full. Returns 0 or -ENOMEM. */
static int set_add(struct stamp_set *t, uint64_t k)
{
	if (set_has(t, k))
		return 0;
	if (2 * (t->n + 1) > t->cap) {
		struct stamp_set g = {.cap = t->cap ? 2 * t->cap : 256};
		if (!(g.slot = calloc(g.cap, sizeof(*g.slot))))
			return -ENOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i])
				set_add(&g, t->slot[i]);
		free(t->slot);
		*t = g;
	}
	size_t i = k & (t->cap - 1);
	while (t->slot[i])
		i = (i + 1) & (t->cap - 1);
	t->slot[i] = k;
	t->n++;
	return 0;
}

/* The stamp of an entry file: its key with the (inode, size, mtime, ctime) fstat gives. Any
 * write to the file, or its replacement, changes the ctime, so an entry whose stamp was
 * recorded after a successful check holds the same bytes: the trust the content-hash memo
 * already puts in (inode, size, mtime, ctime) for host files. */
static uint64_t entry_stamp(const uint8_t key[16], const struct stat *st)
{
	uint8_t b[16 + 5 * 8];
	int64_t f[] = {(int64_t)st->st_dev, (int64_t)st->st_ino, (int64_t)st->st_size,
		       (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
		       (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec};
	memcpy(b, key, 16);
	memcpy(b + 16, f, sizeof(f));
	uint64_t k = XXH3_64bits(b, sizeof(b));
	return k ? k : 1;
}

static void record_fresh(struct seg_cache *c, const uint8_t key[16], int fd)
{
	struct stat st;
	if (fstat(fd, &st))
		return;
	pthread_mutex_lock(&c->lock);
	set_add(&c->fresh, entry_stamp(key, &st)); /* out of memory: checked again next time */
	pthread_mutex_unlock(&c->lock);
}

/* Load the stamps of the last run; a missing or damaged file leaves the set empty. */
static void load_verified(struct seg_cache *c)
{
	char *path = NULL;
	if (asprintf(&path, "%s/" VERIFIED_FILE, c->dir) < 0)
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return;
	uint8_t head[24];
	uint64_t count = 0, sum = 0, *recs = NULL;
	if (pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    memcmp(head, VERIFIED_MAGIC, 8))
		goto out;
	memcpy(&count, head + 8, 8);
	memcpy(&sum, head + 16, 8);
	if (count > VERIFIED_MAX || !(recs = malloc(count * 8 + 1)) ||
	    pread(fd, recs, count * 8, sizeof(head)) != (ssize_t)(count * 8) ||
	    XXH3_64bits(recs, count * 8) != sum)
		goto out;
	for (uint64_t i = 0; i < count; i++)
		if (recs[i] && set_add(&c->trusted, recs[i]))
			break;
out:
	free(recs);
	close(fd);
}

int segcache_save(struct seg_cache *c)
{
	char *path = NULL, *tmp = NULL;
	uint64_t *recs = malloc(c->fresh.n * 8 + 1);
	int r = 0;
	if (!recs || asprintf(&path, "%s/" VERIFIED_FILE, c->dir) < 0 ||
	    asprintf(&tmp, "%s/.tmp.XXXXXX", c->dir) < 0) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t count = 0;
	for (size_t i = 0; i < c->fresh.cap; i++)
		if (c->fresh.slot[i])
			recs[count++] = c->fresh.slot[i];
	uint64_t sum = XXH3_64bits(recs, count * 8);
	uint8_t head[24];
	memcpy(head, VERIFIED_MAGIC, 8);
	memcpy(head + 8, &count, 8);
	memcpy(head + 16, &sum, 8);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (write(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    write(fd, recs, count * 8) != (ssize_t)(count * 8))
		r = -EIO;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
out:
	free(recs);
	free(path);
	free(tmp);
	return r;
}

int segcache_open(const char *dir, uint64_t bound_bytes, struct seg_cache **out, struct rf_err *err)
{
	struct seg_cache *c = calloc(1, sizeof(*c));
	if (!c || !(c->dir = strdup(dir)) || asprintf(&c->seg_dir, "%s/" SEG_SUBDIR, dir) < 0) {
		if (c)
			c->seg_dir = NULL;
		segcache_free(c);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	c->bound_bytes = bound_bytes ? bound_bytes : SEGCACHE_DEFAULT_BYTES;
	pthread_mutex_init(&c->lock, NULL);
	c->has_lock = true;
	int r = mkdir_p(c->seg_dir);
	if (r) {
		segcache_free(c);
		return rf_err_set(err, -r, "%s: cannot create the cache directory: %s", dir,
				  strerror(-r));
	}
	load_verified(c);
	*out = c;
	return 0;
}

const char *segcache_dir(const struct seg_cache *c)
{
	return c->dir;
}

static void entry_path(const struct seg_cache *c, const uint8_t key[16], char *out, size_t size)
{
	char hex[33];
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(out, size, "%s/%s", c->seg_dir, hex);
}

static void header_fill(uint8_t h[SEG_HEADER], const uint8_t key[16], const void *p, size_t len)
{
	uint64_t l = len, sum = XXH3_64bits(p, len);
	memcpy(h, SEG_MAGIC, 8);
	memcpy(h + 8, key, 16);
	memcpy(h + 24, &l, 8);
	memcpy(h + 32, &sum, 8);
	uint64_t hsum = XXH3_64bits(h, 40);
	memcpy(h + 40, &hsum, 8);
}

#define CHECK_CHUNK (128u << 10) /* stays in the L2 cache between pread and the hash */

/* Does the payload [SEG_HEADER, SEG_HEADER + len) of fd hash to sum? */
static bool payload_ok(int fd, uint64_t len, uint64_t sum)
{
	XXH3_state_t *st = XXH3_createState();
	uint8_t buf[CHECK_CHUNK];
	bool ok = st && XXH3_64bits_reset(st) == XXH_OK;
	for (uint64_t off = 0; ok && off < len;) {
		size_t want = len - off < CHECK_CHUNK ? (size_t)(len - off) : CHECK_CHUNK;
		ssize_t got = pread(fd, buf, want, (off_t)(SEG_HEADER + off));
		if (got < 0 && errno == EINTR)
			continue;
		ok = got > 0;
		if (ok)
			XXH3_64bits_update(st, buf, (size_t)got);
		off += ok ? (uint64_t)got : 0;
	}
	ok = ok && XXH3_64bits_digest(st) == sum;
	XXH3_freeState(st);
	return ok;
}

int segcache_open_entry(struct seg_cache *c, const uint8_t key[16], struct seg_hit *h)
{
	char path[PATH_MAX];
	entry_path(c, key, path, sizeof(path));
	*h = (struct seg_hit){.fd = open(path, O_RDONLY | O_CLOEXEC)};
	if (h->fd < 0)
		return 0;
	struct stat st;
	uint8_t hd[SEG_HEADER];
	uint64_t len, sum, hsum;
	bool ok = !fstat(h->fd, &st) && st.st_size >= SEG_HEADER &&
		  pread(h->fd, hd, SEG_HEADER, 0) == SEG_HEADER;
	if (ok) {
		memcpy(&len, hd + 24, 8);
		memcpy(&sum, hd + 32, 8);
		memcpy(&hsum, hd + 40, 8);
		ok = !memcmp(hd, SEG_MAGIC, 8) && !memcmp(hd + 8, key, 16) &&
		     XXH3_64bits(hd, 40) == hsum && (uint64_t)st.st_size == SEG_HEADER + len &&
		     (set_has(&c->trusted, entry_stamp(key, &st)) || payload_ok(h->fd, len, sum));
	}
	if (!ok) {
		segcache_close(h);
		unlink(path); /* never served; rebuilt by the caller */
		return 0;
	}
	h->offset = SEG_HEADER;
	h->len = len;
	futimens(h->fd, NULL); /* recently used, for segcache_trim */
	record_fresh(c, key, h->fd); /* the stamp after the new mtime */
	return 1;
}

static int copy_rw(const struct seg_hit *h, int out_fd)
{
	uint8_t buf[CHECK_CHUNK];
	for (uint64_t off = 0; off < h->len;) {
		size_t want = h->len - off < CHECK_CHUNK ? (size_t)(h->len - off) : CHECK_CHUNK;
		ssize_t got = pread(h->fd, buf, want, (off_t)(h->offset + off));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		for (ssize_t done = 0; done < got;) {
			ssize_t n = write(out_fd, buf + done, (size_t)(got - done));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			done += n;
		}
		off += (uint64_t)got;
	}
	return 0;
}

int segcache_copy(const struct seg_hit *h, int out_fd)
{
	off_t in = (off_t)h->offset;
	uint64_t left = h->len;
	while (left) {
		ssize_t n = copy_file_range(h->fd, &in, out_fd, NULL, left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && left == h->len &&
		    (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
		     errno == EBADF))
			return copy_rw(h, out_fd); /* a pipe, another filesystem: copy by hand */
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		left -= (uint64_t)n;
	}
	return 0;
}

void segcache_close(struct seg_hit *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

int segcache_get(struct seg_cache *c, const uint8_t key[16], struct exp_buf *out)
{
	struct seg_hit h;
	if (!segcache_open_entry(c, key, &h))
		return 0;
	int r = exp_buf_reserve(out, h.len);
	if (!r && pread(h.fd, out->data + out->len, h.len, (off_t)h.offset) != (ssize_t)h.len)
		r = -EIO;
	if (!r)
		out->len += h.len;
	segcache_close(&h);
	return r ? r : 1;
}

int segcache_put(struct seg_cache *c, const uint8_t key[16], const void *p, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	entry_path(c, key, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/.tmp.XXXXXX", c->seg_dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint8_t h[SEG_HEADER];
	header_fill(h, key, p, len);
	int r = 0;
	if (write(fd, h, SEG_HEADER) != SEG_HEADER)
		r = -EIO;
	for (size_t off = 0; !r && off < len;) {
		ssize_t n = write(fd, (const uint8_t *)p + off, len - off);
		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	if (!r && rename(tmp, path))
		r = -errno;
	if (!r)
		record_fresh(c, key, fd); /* rename sets the ctime: stamp after it */
	if (close(fd) && !r) {
		r = -errno;
		unlink(path); /* not known to be whole (its stamp names a removed inode) */
	}
	if (r)
		unlink(tmp);
	return r;
}

struct cache_file {
	char name[64];
	uint64_t size;
	struct timespec mtime;
};

static int older_first(const void *a, const void *b)
{
	const struct cache_file *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

int segcache_trim(struct seg_cache *c)
{
	DIR *d = opendir(c->seg_dir);
	if (!d)
		return -errno;
	struct cache_file *files = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(files->name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct cache_file *nf = realloc(files, cap * sizeof(*files));
			if (!nf) {
				r = -ENOMEM;
				goto out;
			}
			files = nf;
		}
		snprintf(files[n].name, sizeof(files[n].name), "%s", de->d_name);
		files[n].size = (uint64_t)st.st_size;
		files[n].mtime = st.st_mtim;
		total += files[n++].size;
	}
	qsort(files, n, sizeof(*files), older_first);
	/* newest first, keep each entry that still fits under the bound and remove the others:
	 * a big recent entry that cannot fit does not take the smaller recent ones with it */
	uint64_t kept = 0;
	if (total > c->bound_bytes)
		for (size_t i = n; i-- > 0;) {
			if (kept + files[i].size <= c->bound_bytes)
				kept += files[i].size;
			else
				unlinkat(dirfd(d), files[i].name, 0);
		}
out:
	free(files);
	closedir(d);
	return r;
}

void segcache_free(struct seg_cache *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c->seg_dir);
	free(c->trusted.slot);
	free(c->fresh.slot);
	if (c->has_lock)
		pthread_mutex_destroy(&c->lock);
	free(c);
}
