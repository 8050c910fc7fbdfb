/* What glibc's ld.so derives from this CPU for its library search (glibc 2.36, Debian 12): the
 * glibc-hwcaps subdirectories (the x86-64 psABI micro-architecture levels that
 * sysdeps/x86/get-isa-level.h checks), $PLATFORM and the legacy hwcaps subdirectories
 * (sysdeps/x86/cpu-features.c, init_cpu_features: dl_platform and dl_hwcap; elf/dl-hwcaps.c,
 * _dl_important_hwcaps). Read with cpuid.h, which works with gcc and clang alike. */
#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "host.h"

#if defined(__x86_64__)
/* The cpuid words the rules below read, and the register state the OS saves (XCR0). */
struct x86_cpu {
	bool is_intel;
	unsigned c1;  /* leaf 1 ecx */
	unsigned b7;  /* leaf 7 ebx */
	unsigned cx;  /* leaf 0x80000001 ecx */
	unsigned xcr0;
};

static struct x86_cpu x86_cpu(void)
{
	struct x86_cpu k = {0};
	unsigned a, b, c, d;
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return k;
	k.is_intel = b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e; /* GenuineIntel */
	if (!__get_cpuid(1, &a, &b, &k.c1, &d))
		return k;
	if (__get_cpuid_max(0, NULL) >= 7)
		__cpuid_count(7, 0, a, k.b7, c, d);
	if (!__get_cpuid(0x80000001, &a, &b, &k.cx, &d))
		k.cx = 0;
	if (k.c1 & (1u << 27)) { /* OSXSAVE: xgetbv is there */
		unsigned hi;
		__asm__ volatile("xgetbv" : "=a"(k.xcr0), "=d"(hi) : "c"(0));
	}
	return k;
}

static bool all(unsigned word, unsigned bits)
{
	return (word & bits) == bits;
}

/* Usable as glibc means it: the CPU has it and the OS saves the state it needs. */
static bool avx_usable(const struct x86_cpu *k)
{
	return (k->c1 & (1u << 28)) && all(k->xcr0, 0x6);
}

static bool avx512_usable(const struct x86_cpu *k, unsigned b7_bits)
{
	return avx_usable(k) && all(k->xcr0, 0xe0) && all(k->b7, 1u << 16 | b7_bits);
}

/* The x86-64 micro-architecture level (0: baseline .. 4) by the psABI's feature lists. */
static int x86_64_level(const struct x86_cpu *k)
{
	const unsigned v2_c1 = 1u << 0 | 1u << 9 | 1u << 13 | 1u << 19 | 1u << 20 | 1u << 23;
	if (!all(k->c1, v2_c1) || !(k->cx & 1u))
		return 1;
	const unsigned v3_c1 = 1u << 12 | 1u << 22 | 1u << 27 | 1u << 28 | 1u << 29;
	const unsigned v3_b7 = 1u << 3 | 1u << 5 | 1u << 8;
	if (!all(k->c1, v3_c1) || !all(k->b7, v3_b7) || !(k->cx & (1u << 5)) || !avx_usable(k))
		return 2;
	if (!avx512_usable(k, 1u << 17 | 1u << 28 | 1u << 30 | 1u << 31))
		return 3;
	return 4;
}

/* init_cpu_features: on Intel only, "xeon_phi" (AVX512CD, ER and PF) or "haswell" (AVX2, FMA,
 * BMI1, BMI2, LZCNT, MOVBE, POPCNT) replaces AT_PLATFORM's "x86_64"; AVX512CD, BW, DQ and VL
 * without ER add the "avx512_1" hwcap. */
static const char *x86_64_platform(const struct x86_cpu *k, bool *has_avx512_1)
{
	const char *p = NULL;
	*has_avx512_1 = false;
	if (!k->is_intel)
		return "x86_64";
	if (avx512_usable(k, 1u << 28)) {
		if (k->b7 & (1u << 27)) {
			if (k->b7 & (1u << 26))
				p = "xeon_phi";
		} else {
			*has_avx512_1 = avx512_usable(k, 1u << 17 | 1u << 30 | 1u << 31);
		}
	}
	if (!p && avx_usable(k) && all(k->c1, 1u << 12 | 1u << 22 | 1u << 23) &&
	    all(k->b7, 1u << 3 | 1u << 5 | 1u << 8) && (k->cx & (1u << 5)))
		p = "haswell";
	return p ? p : "x86_64";
}
#endif

/* What is computed once per process. */
struct host_cpu {
	int level;
	const char *platform;
	char legacy[15][40]; /* "tls/haswell/avx512_1/x86_64", ... */
	size_t n_legacy;
};

/* _dl_important_hwcaps' legacy list: every non-empty subset of (tls, platform, the hwcap
 * names), largest mask first, each name once, as LD_DEBUG=libs prints it on Debian 12. */
static void make_legacy(struct host_cpu *h, bool has_avx512_1)
{
	const char *comp[4];
	size_t n = 0;
	comp[n++] = "tls";
	comp[n++] = h->platform;
	if (has_avx512_1)
		comp[n++] = "avx512_1";
	comp[n++] = "x86_64";
	for (unsigned mask = (1u << n) - 1; mask; mask--) {
		char s[40] = "";
		for (size_t i = 0; i < n; i++)
			if (mask & (1u << (n - 1 - i))) {
				size_t l = strlen(s);
				snprintf(s + l, sizeof(s) - l, "%s%s", l ? "/" : "", comp[i]);
			}
		bool seen = false;
		for (size_t j = 0; j < h->n_legacy && !seen; j++)
			seen = !strcmp(h->legacy[j], s);
		if (!seen)
			memcpy(h->legacy[h->n_legacy++], s, sizeof(s));
	}
}

static const struct host_cpu *host_cpu(void)
{
	static struct host_cpu h;
	static bool done;
	if (!done) {
#if defined(__x86_64__)
		struct x86_cpu k = x86_cpu();
		bool has_avx512_1;
		h.level = x86_64_level(&k);
		h.platform = x86_64_platform(&k, &has_avx512_1);
		make_legacy(&h, has_avx512_1);
#else
		h.platform = "";
#endif
		done = true;
	}
	return &h;
}

const char *const *host_hwcaps_subdirs(uint16_t e_machine, size_t *n)
{
	static const char *const names[] = {"x86-64-v4", "x86-64-v3", "x86-64-v2"};
	int level = host_cpu()->level;
	/* best first: names[0] is v4; a level-L CPU uses the last L-1 names */
	*n = e_machine == EM_X86_64 && level >= 2 ? (size_t)(level - 1) : 0;
	return names + (3 - *n);
}

const char *host_x86_64_platform(void)
{
	return host_cpu()->platform;
}

const char *host_legacy_subdir(size_t i)
{
	const struct host_cpu *h = host_cpu();
	return i < h->n_legacy ? h->legacy[i] : NULL;
}
