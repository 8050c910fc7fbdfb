/* Content-hash memo of the segment cache: see hashmemo.h. File layout (little-endian host
 * order, the cache is local): "RFHMEMO1", u64 count, u64 XXH3-64 of the records, then count
 * records of {u64 key, u8 hash[16]}. */
#include "hashmemo.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "layer.h"

#define MEMO_MAGIC "RFHMEMO1"
#define READ_CHUNK (1u << 20)

struct memo_rec {
	uint64_t key;
	uint8_t hash[16];
};

struct hash_memo {
	char *path;
	pthread_mutex_t lock;
	struct memo_rec *slots; /* open addressing; key 0 is empty */
	bool *used;
	size_t cap, count;
};

static size_t slot_of(const struct hash_memo *m, uint64_t key)
{
	size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (m->cap - 1);
	while (m->slots[i].key && m->slots[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Insert unless full (the table never grows: room was reserved at load). */
static void put(struct hash_memo *m, uint64_t key, const uint8_t hash[16], bool used)
{
	if (m->count * 4 >= m->cap * 3)
		return;
	size_t i = slot_of(m, key);
	if (!m->slots[i].key)
		m->count++;
	m->slots[i].key = key;
	memcpy(m->slots[i].hash, hash, 16);
	m->used[i] = m->used[i] || used;
}

static void load_file(struct hash_memo *m, size_t max_records)
{
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	char head[24];
	struct memo_rec *recs = NULL;
	if (fstat(fd, &st) || pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    memcmp(head, MEMO_MAGIC, 8))
		goto out;
	uint64_t count, sum;
	memcpy(&count, head + 8, 8);
	memcpy(&sum, head + 16, 8);
	if (count > max_records || (uint64_t)st.st_size != sizeof(head) + count * sizeof(*recs))
		goto out;
	recs = malloc(count * sizeof(*recs) + 1);
	if (!recs ||
	    pread(fd, recs, count * sizeof(*recs), sizeof(head)) !=
		(ssize_t)(count * sizeof(*recs)) ||
	    XXH3_64bits(recs, count * sizeof(*recs)) != sum)
		goto out;
	for (size_t i = 0; i < count; i++)
		if (recs[i].key)
			put(m, recs[i].key, recs[i].hash, false);
out:
	free(recs);
	close(fd);
}

int memo_load(const char *path, size_t extra, struct hash_memo **out)
{
	struct hash_memo *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	size_t old = 0;
	struct stat st;
	if (path && !stat(path, &st) && st.st_size > 24)
		old = (size_t)(st.st_size - 24) / sizeof(struct memo_rec);
	m->cap = 64;
	while (m->cap < (old + extra) * 2)
		m->cap *= 2;
	m->slots = calloc(m->cap, sizeof(*m->slots));
	m->used = calloc(m->cap, sizeof(*m->used));
	m->path = path ? strdup(path) : NULL;
	if (!m->slots || !m->used || (path && !m->path)) {
		memo_free(m);
		return -ENOMEM;
	}
	if (path)
		load_file(m, old);
	*out = m;
	return 0;
}

/* The memo key of a host file: its stamp from when the layer read it, else a stat now; 0 when
 * it cannot be stat'ed (then it is simply read). */
static uint64_t host_key(const struct ovl_node *n)
{
	struct ovl_host_stamp h = n->src.stamp;
	struct stat st;
	if (!h.ino) {
		if (stat(n->src.host_path, &st))
			return 0;
		h = ovl_host_stamp_of(&st);
	}
	const char *label = n->layer && n->layer->label ? n->layer->label : "";
	size_t ll = strlen(label);
	char buf[512];
	if (ll > sizeof(buf) - 64)
		ll = sizeof(buf) - 64;
	int64_t f[] = {(int64_t)h.dev, (int64_t)h.ino, h.mtime_ns, h.ctime_ns,
		       (int64_t)n->attr.size};
	memcpy(buf, f, sizeof(f));
	memcpy(buf + sizeof(f), label, ll);
	uint64_t k = XXH3_64bits(buf, sizeof(f) + ll);
	return k ? k : 1;
}

/* The memo key of a file a layer reads (OVL_SRC_LAYER): the layer's content identity (all its
 * host sources' stamps, see layer.h) with the node's cookie and size; 0 when the layer has no
 * such identity (then the file is read). */
static uint64_t layer_key(const struct ovl_node *n)
{
	if (!n->layer || !n->layer->content_id)
		return 0;
	uint64_t f[] = {n->layer->content_id, n->src.cookie, n->attr.size};
	uint64_t k = XXH3_64bits(f, sizeof(f));
	return k ? k : 1;
}

static int read_hash(const struct ovl_node *n, uint8_t out[16], struct rf_err *err)
{
	XXH3_state_t *s = XXH3_createState();
	char *buf = malloc(READ_CHUNK);
	int r = 0;
	if (!s || !buf) {
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	XXH3_128bits_reset(s);
	for (uint64_t off = 0; off < n->attr.size;) {
		uint64_t want = n->attr.size - off < READ_CHUNK ? n->attr.size - off : READ_CHUNK;
		ssize_t got = ovl_node_pread(n, buf, (size_t)want, off, err);
		if (got < 0) {
			r = (int)got;
			goto out;
		}
		if (got == 0) {
			char *p = ovl_node_path(n);
			r = rf_err_set(err, EIO,
				       "/%s: changed while exporting (shorter than %llu "
				       "bytes)",
				       p ? p : "?", (unsigned long long)n->attr.size);
			free(p);
			goto out;
		}
		XXH3_128bits_update(s, buf, (size_t)got);
		off += (uint64_t)got;
	}
	XXH128_canonical_t c;
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(s));
	memcpy(out, c.digest, 16);
out:
	free(buf);
	XXH3_freeState(s);
	return r;
}

int memo_content_hash(struct hash_memo *m, const struct ovl_node *n, uint8_t out[16],
		      struct rf_err *err)
{
	if (n->src.kind == OVL_SRC_MEM || n->src.kind == OVL_SRC_NONE || !n->attr.size) {
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(
		    &c, XXH3_128bits(n->src.kind == OVL_SRC_MEM ? n->src.data : "",
				     n->src.kind == OVL_SRC_MEM ? n->attr.size : 0));
		memcpy(out, c.digest, 16);
		return 0;
	}
	uint64_t key = !m ? 0 : n->src.kind == OVL_SRC_HOST ? host_key(n) : layer_key(n);
	if (key) {
		pthread_mutex_lock(&m->lock);
		size_t i = slot_of(m, key);
		bool hit = m->slots[i].key == key;
		if (hit) {
			memcpy(out, m->slots[i].hash, 16);
			m->used[i] = true;
		}
		pthread_mutex_unlock(&m->lock);
		if (hit)
			return 0;
	}
	int r = read_hash(n, out, err);
	if (!r && key) {
		pthread_mutex_lock(&m->lock);
		put(m, key, out, true);
		pthread_mutex_unlock(&m->lock);
	}
	return r;
}

int memo_save(struct hash_memo *m)
{
	if (!m || !m->path)
		return 0;
	size_t n = 0;
	struct memo_rec *recs = malloc(m->cap * sizeof(*recs) + 1);
	size_t plen = strlen(m->path);
	char *tmp = malloc(plen + 16);
	int r = 0, fd = -1;
	if (!recs || !tmp) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->used[i])
			recs[n++] = m->slots[i];
	char head[24];
	uint64_t count = n, sum = XXH3_64bits(recs, n * sizeof(*recs));
	memcpy(head, MEMO_MAGIC, 8);
	memcpy(head + 8, &count, 8);
	memcpy(head + 16, &sum, 8);
	snprintf(tmp, plen + 16, "%s.XXXXXX", m->path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (write(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    write(fd, recs, n * sizeof(*recs)) != (ssize_t)(n * sizeof(*recs)))
		r = errno ? -errno : -EIO;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, m->path))
		r = -errno;
	if (r)
		unlink(tmp);
out:
	free(recs);
	free(tmp);
	return r;
}

void memo_free(struct hash_memo *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->slots);
	free(m->used);
	free(m->path);
	free(m);
}
