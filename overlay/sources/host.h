/* The host resolver: which files the dynamic loader would map for a host binary, found as
 * glibc's ld.so(8) finds them (PT_INTERP, DT_NEEDED breadth first, DT_RPATH / DT_RUNPATH with
 * $ORIGIN, /etc/ld.so.cache, the default directories) without executing anything. Used by the
 * `host` layer (host.c) and by `rootfs-fuse ldd`. ELF parsing is libelf's (host_elf.c), the
 * cache is glibc's "glibc-ld.so.cache1.1" format (ldcache.c, glibc elf/cache.c, dl-cache.h). */
#ifndef RF_HOST_H
#define RF_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* --- host_elf.c: what the loader reads from one ELF file --- */

struct host_elf {
	uint8_t ei_class;   /* ELFCLASS32 / ELFCLASS64 */
	uint8_t ei_data;    /* ELFDATA2LSB / ELFDATA2MSB */
	uint16_t e_machine; /* EM_X86_64, ... */
	uint16_t e_type;    /* ET_EXEC, ET_DYN, ... */
	bool is_dynamic;    /* has a PT_DYNAMIC segment */
	char *interp;	    /* PT_INTERP, NULL when none; owned */
	char *soname;	    /* DT_SONAME, NULL when none; owned */
	char *rpath;	    /* DT_RPATH, NULL when none or when DT_RUNPATH is present; owned */
	char *runpath;	    /* DT_RUNPATH, NULL when none; owned */
	char **needed;	    /* DT_NEEDED in file order; owned array of owned strings */
	size_t n_needed;
};

/* Read the loader-relevant parts of the ELF file at path (PT_INTERP, and through PT_DYNAMIC:
 * DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH; the string table is located through the PT_LOAD
 * segments as ld.so does, so stripped section headers do not matter). As ld.so does
 * (elf/get-dynamic-info.h), DT_RPATH is dropped when DT_RUNPATH is present.
 * Returns 0 and *out (owned: host_elf_free; NULL when path is not an ELF file of a known class,
 * which the caller may take as a plain file), or a negative errno with err naming path
 * (unreadable, corrupt program headers or dynamic section). */
int host_elf_read(const char *path, struct host_elf **out, struct rf_err *err);

/* Free a host_elf. NULL is allowed. */
void host_elf_free(struct host_elf *e);

/* --- ldcache.c: /etc/ld.so.cache --- */

struct host_ldcache;

/* Load the cache file at path (NULL: /etc/ld.so.cache). The "glibc-ld.so.cache1.1" format is
 * read, alone or after the old "ld.so-1.7.0" part. A missing file gives an empty cache (ld.so
 * then searches the default directories). Returns 0 and *out (owned: host_ldcache_free), or
 * -EINVAL with a message naming path when the file is corrupt or truncated. */
int host_ldcache_load(const char *path, struct host_ldcache **out, struct rf_err *err);

void host_ldcache_free(struct host_ldcache *c);

/* The path the cache gives for soname for an object of ELF class ei_class and machine e_machine
 * (entries of another architecture, by their cache flags, are skipped as ld.so's
 * _dl_cache_check_flags does; entries for a glibc-hwcaps subdirectory are taken only when this
 * CPU supports it; legacy hwcap entries are skipped). Returns a borrowed string valid until
 * host_ldcache_free, or NULL when the cache has no usable entry. */
const char *host_ldcache_lookup(const struct host_ldcache *c, const char *soname, uint8_t ei_class,
				uint16_t e_machine);

/* Number of entries (for tests). */
size_t host_ldcache_count(const struct host_ldcache *c);

/* --- host_cpu.c: what ld.so derives from this CPU (glibc 2.36 sysdeps/x86/cpu-features.c) --- */

/* glibc-hwcaps subdirectories this CPU supports, best first ("x86-64-v4", ...), for an x86-64
 * object; *n set to their count. Borrowed, static. */
const char *const *host_hwcaps_subdirs(uint16_t e_machine, size_t *n);

/* $PLATFORM of x86-64 ld.so on this CPU: "haswell" or "xeon_phi" on Intel CPUs with those
 * features, else AT_PLATFORM's "x86_64" (on other hosts ""). Borrowed, static. */
const char *host_x86_64_platform(void);

/* The i-th legacy hwcaps subdirectory x86-64 ld.so searches in each directory after
 * glibc-hwcaps/ ("tls/haswell/avx512_1/x86_64", ..., "x86_64"), NULL past the last. glibc 2.37
 * dropped them; Debian 12 has 2.36. Borrowed, static. */
const char *host_legacy_subdir(size_t i);

/* --- host_resolve.c: the resolver --- */

/* One file the loader maps for the resolved binary. */
struct host_dep {
	char *name; /* the DT_NEEDED string, or the PT_INTERP path for the interpreter; owned */
	char *path; /* host path as the loader found it (not canonicalized), NULL when it
		       was not found; owned */
	char *needed_by; /* host path of the object whose DT_NEEDED asked for it (the binary
			    itself for the interpreter); owned */
	bool is_interp;	 /* the ELF interpreter */
};

struct host_resolution {
	char *file;	       /* the file as given; owned */
	bool is_elf;	       /* an ELF file of a known class */
	bool is_dynamic;       /* has PT_DYNAMIC (false: static or not ELF; a program without it
				  may still have a PT_INTERP, which is then a dep) */
	struct host_dep *deps; /* interpreter first, then DT_NEEDED breadth first, each library
				  once; owned array */
	size_t n_deps;
};

struct host_resolver;

/* A resolver with the ld.so cache at ldcache_path (NULL: /etc/ld.so.cache) loaded once and a
 * cache of parsed ELF files, so resolving many binaries is fast. LD_LIBRARY_PATH and
 * /etc/ld.so.preload are ignored on purpose: we model a clean guest. *out is owned
 * (host_resolver_free). Returns 0 or a negative errno with err filled. */
int host_resolver_new(const char *ldcache_path, struct host_resolver **out, struct rf_err *err);

void host_resolver_free(struct host_resolver *r);

/* Resolve file (a host path) as ld.so would when executing it: its PT_INTERP and the closure
 * of its DT_NEEDED, breadth first, each library once (by name, soname or file identity, as
 * ld.so's _dl_map_object reuses a loaded object), searched in ld.so's order: DT_RPATH of the
 * object and its loaders when the object has no DT_RUNPATH, DT_RUNPATH for the object's own
 * DT_NEEDED, the cache, the default directories, each directory's glibc-hwcaps subdirectories
 * this CPU supports first; $ORIGIN, ${ORIGIN}, $LIB, $PLATFORM expanded. $ORIGIN of file is the
 * directory of its real path, as the kernel's exec gives it; a library's is the directory it
 * was found in. A candidate of another ELF class or machine is skipped as ld.so skips it.
 * A file that is not ELF gives is_elf false and no deps. A library that is not found is a dep
 * with path NULL (see host_resolution_check); its own DT_NEEDED are unknown.
 * Errors: "FILE: No such file or directory" (-ENOENT), an unreadable or corrupt object named.
 * On success *out is owned (host_resolution_free). */
int host_resolve(struct host_resolver *r, const char *file, struct host_resolution **out,
		 struct rf_err *err);

/* 0 when every dep of res was found, else -ENOENT with the first missing one in err:
 * "FILE: LIB (needed by OBJ) not found", or "FILE: interpreter INTERP not found". */
int host_resolution_check(const struct host_resolution *res, struct rf_err *err);

void host_resolution_free(struct host_resolution *res);

#endif
