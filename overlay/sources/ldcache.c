/* /etc/ld.so.cache as ld.so reads it: the "glibc-ld.so.cache1.1" format written by ldconfig
 * (glibc sysdeps/generic/dl-cache.h: struct cache_file_new, file_entry_new, the extension
 * directory with the glibc-hwcaps subdirectory names), alone or after an old "ld.so-1.7.0"
 * part; an old-format-only cache is read too. Lookups follow elf/dl-cache.c (search_cache). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elf.h>

#include "host.h"

#define CACHE_MAGIC_OLD "ld.so-1.7.0"
#define CACHE_MAGIC_NEW "glibc-ld.so.cache"
#define CACHE_VERSION_NEW "1.1"
#define CACHE_EXT_MAGIC 0xeaa42174u
#define CACHE_EXT_TAG_HWCAPS 1u
/* file_entry_new.hwcap: bit 62 marks an index into the glibc-hwcaps string table */
#define HWCAP_EXTENSION (1ull << 62)

#define FLAG_TYPE_MASK 0x00ff
#define FLAG_ELF_LIBC6 0x0003
#define FLAG_X8664_LIB64 0x0300
#define FLAG_X8664_LIBX32 0x0800
#define FLAG_AARCH64_LIB64 0x0a00
#define FLAG_ARCH_MASK 0xff00

struct cache_entry {
	int32_t flags;
	const char *key;
	const char *value;
	uint64_t hwcap;
	int hwcaps_index; /* -1: a plain entry; else index into hwcaps names */
};

struct host_ldcache {
	void *map;
	size_t map_size;
	struct cache_entry *entries;
	size_t n_entries;
	const char **hwcaps; /* glibc-hwcaps subdirectory names of the extension; borrowed */
	size_t n_hwcaps;
};

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* A NUL-terminated string at offset off inside the map, or NULL when it runs off the end. */
static const char *str_at(const struct host_ldcache *c, uint64_t off)
{
	if (off >= c->map_size)
		return NULL;
	const char *s = (const char *)c->map + off;
	return memchr(s, '\0', c->map_size - off) ? s : NULL;
}

/* Offsets of the new format (strings, extension) count from its header at base. */
static int parse_ext(struct host_ldcache *c, size_t base, uint32_t ext_off_rel)
{
	const unsigned char *b = c->map;
	uint64_t ext_off = (uint64_t)base + ext_off_rel;
	if (ext_off_rel == 0 || ext_off + 8 > c->map_size || rd32(b + ext_off) != CACHE_EXT_MAGIC)
		return 0; /* no extension: no hwcaps entries can be used */
	uint32_t count = rd32(b + ext_off + 4);
	if ((uint64_t)count * 16 > c->map_size - ext_off - 8)
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *s = b + ext_off + 8 + (size_t)i * 16;
		uint32_t tag = rd32(s), off = rd32(s + 8), size = rd32(s + 12);
		if (tag != CACHE_EXT_TAG_HWCAPS || c->hwcaps)
			continue; /* ld.so uses the first glibc-hwcaps section */
		if ((uint64_t)base + off + size > c->map_size || size % 4)
			return -EINVAL;
		c->n_hwcaps = size / 4;
		c->hwcaps = calloc(c->n_hwcaps ? c->n_hwcaps : 1, sizeof(*c->hwcaps));
		if (!c->hwcaps)
			return -ENOMEM;
		for (size_t k = 0; k < c->n_hwcaps; k++)
			if (!(c->hwcaps[k] = str_at(c, base + rd32(b + base + off + k * 4))))
				return -EINVAL;
	}
	return 0;
}

/* The new format starting at byte offset base (0, or after an old-format part). */
static int parse_new(struct host_ldcache *c, size_t base)
{
	const unsigned char *b = (const unsigned char *)c->map + base;
	size_t avail = c->map_size - base;
	if (avail < 48)
		return -EINVAL;
	uint32_t nlibs = rd32(b + 20);
	uint32_t ext_off = rd32(b + 32);
	if ((uint64_t)nlibs * 24 > avail - 48)
		return -EINVAL;
	c->entries = calloc(nlibs ? nlibs : 1, sizeof(*c->entries));
	if (!c->entries)
		return -ENOMEM;
	for (uint32_t i = 0; i < nlibs; i++) {
		const unsigned char *e = b + 48 + (size_t)i * 24;
		struct cache_entry *ce = &c->entries[i];
		ce->flags = (int32_t)rd32(e);
		ce->key = str_at(c, base + rd32(e + 4));
		ce->value = str_at(c, base + rd32(e + 8));
		ce->hwcap = rd64(e + 16);
		ce->hwcaps_index = -1;
		if (!ce->key || !ce->value)
			return -EINVAL;
	}
	c->n_entries = nlibs;
	int r = parse_ext(c, base, ext_off);
	if (r)
		return r;
	for (size_t i = 0; i < c->n_entries; i++) {
		struct cache_entry *ce = &c->entries[i];
		if (ce->hwcap & HWCAP_EXTENSION) {
			uint32_t idx = (uint32_t)ce->hwcap;
			ce->hwcaps_index = idx < c->n_hwcaps ? (int)idx : -2;
		}
	}
	return 0;
}

/* The old format: header, nlibs 12-byte entries, then the string table their offsets index;
 * a new-format part may follow, 8-byte aligned, and is preferred as ld.so prefers it. */
static int parse_old(struct host_ldcache *c)
{
	const unsigned char *b = c->map;
	size_t hdr = 12; /* char magic[11], then the 4-byte aligned nlibs */
	if (c->map_size < hdr + 4)
		return -EINVAL;
	uint32_t nlibs = rd32(b + hdr);
	size_t entries = hdr + 4;
	if ((uint64_t)nlibs * 12 > c->map_size - entries)
		return -EINVAL;
	size_t strings = entries + (size_t)nlibs * 12;
	size_t next = (strings + 7) & ~(size_t)7;
	if (next + 20 <= c->map_size && !memcmp(b + next, CACHE_MAGIC_NEW CACHE_VERSION_NEW, 20))
		return parse_new(c, next);
	c->entries = calloc(nlibs ? nlibs : 1, sizeof(*c->entries));
	if (!c->entries)
		return -ENOMEM;
	for (uint32_t i = 0; i < nlibs; i++) {
		const unsigned char *e = b + entries + (size_t)i * 12;
		struct cache_entry *ce = &c->entries[i];
		ce->flags = (int32_t)rd32(e);
		ce->key = str_at(c, (uint64_t)strings + rd32(e + 4));
		ce->value = str_at(c, (uint64_t)strings + rd32(e + 8));
		ce->hwcaps_index = -1;
		if (!ce->key || !ce->value)
			return -EINVAL;
	}
	c->n_entries = nlibs;
	return 0;
}

int host_ldcache_load(const char *path, struct host_ldcache **out, struct rf_err *err)
{
	if (!path)
		path = "/etc/ld.so.cache";
	struct host_ldcache *c = calloc(1, sizeof(*c));
	if (!c)
		return rf_err_set(err, ENOMEM, "out of memory");
	int r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			goto done;
		r = rf_err_errno(err, errno, "%s", path);
		goto fail;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		r = rf_err_errno(err, errno, "%s", path);
		close(fd);
		goto fail;
	}
	if (st.st_size == 0) {
		close(fd);
		goto done;
	}
	c->map_size = (size_t)st.st_size;
	c->map = mmap(NULL, c->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		r = rf_err_errno(err, errno, "%s: mmap", path);
		goto fail;
	}
	if (c->map_size >= 20 && !memcmp(c->map, CACHE_MAGIC_NEW CACHE_VERSION_NEW, 20))
		r = parse_new(c, 0);
	else if (c->map_size >= sizeof(CACHE_MAGIC_OLD) - 1 &&
		 !memcmp(c->map, CACHE_MAGIC_OLD, sizeof(CACHE_MAGIC_OLD) - 1))
		r = parse_old(c);
	else
		r = -EINVAL;
	if (r == -ENOMEM) {
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (r) {
		r = rf_err_set(err, EINVAL, "%s: not a valid ld.so cache (corrupt or truncated)",
			       path);
		goto fail;
	}
done:
	*out = c;
	return 0;
fail:
	host_ldcache_free(c);
	return r;
}

void host_ldcache_free(struct host_ldcache *c)
{
	if (!c)
		return;
	if (c->map)
		munmap(c->map, c->map_size);
	free(c->entries);
	free(c->hwcaps);
	free(c);
}

size_t host_ldcache_count(const struct host_ldcache *c)
{
	return c ? c->n_entries : 0;
}

/* _dl_cache_check_flags of the ld.so that would load an object of this class and machine. */
static bool flags_match(int32_t flags, uint8_t ei_class, uint16_t e_machine)
{
	int32_t want;
	if (e_machine == EM_X86_64)
		want = FLAG_ELF_LIBC6 |
		       (ei_class == ELFCLASS64 ? FLAG_X8664_LIB64 : FLAG_X8664_LIBX32);
	else if (e_machine == EM_386)
		return flags == 1 || flags == FLAG_ELF_LIBC6;
	else if (e_machine == EM_AARCH64)
		want = FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64;
	else
		return (flags & FLAG_TYPE_MASK) == FLAG_ELF_LIBC6; /* the file check decides */
	return flags == want;
}

const char *host_ldcache_lookup(const struct host_ldcache *c, const char *soname, uint8_t ei_class,
				uint16_t e_machine)
{
	size_t n_sub;
	const char *const *sub = host_hwcaps_subdirs(e_machine, &n_sub);
	const char *best = NULL;
	size_t best_prio = SIZE_MAX; /* n_sub: the plain entry, below every hwcaps entry */
	for (size_t i = 0; c && i < c->n_entries; i++) {
		const struct cache_entry *e = &c->entries[i];
		if (strcmp(e->key, soname) || !flags_match(e->flags, ei_class, e_machine))
			continue;
		size_t prio;
		if (e->hwcaps_index >= 0) {
			const char *name = c->hwcaps[e->hwcaps_index];
			for (prio = 0; prio < n_sub && strcmp(sub[prio], name); prio++)
				;
			if (prio == n_sub)
				continue; /* a subdirectory this CPU cannot use */
		} else if (e->hwcaps_index == -2 || e->hwcap) {
			continue; /* legacy hwcaps: not generated by Debian 12's ldconfig */
		} else {
			prio = n_sub;
		}
		if (prio < best_prio) {
			best_prio = prio;
			best = e->value;
		}
	}
	return best;
}
