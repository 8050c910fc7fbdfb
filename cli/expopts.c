/* Export options shared by export and boot: see expopts.h. */
#include "expopts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

/* --no-cache marks the options with this sentinel until cli_export_cache */
static const char no_cache[] = "";

int cli_parse_size(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cli_export_option(struct exp_options *o, const char *a, const char *val)
{
	if (!strcmp(a, "--no-cache")) {
		o->cache_dir = no_cache;
		return 1;
	}
	if (!strcmp(a, "--fsync")) {
		o->fsync = true;
		return 1;
	}
	if (strcmp(a, "--compress") && strcmp(a, "--level") && strcmp(a, "--threads") &&
	    strcmp(a, "--segment-size") && strcmp(a, "--cache-size"))
		return 0;
	if (!val)
		return -cli_usage_error("%s needs a value", a);
	char *end;
	if (!strcmp(a, "--compress")) {
		o->compress = val;
	} else if (!strcmp(a, "--level") || !strcmp(a, "--threads")) {
		long v = strtol(val, &end, 10);
		if (*end || end == val || v < 0 || v > 4096)
			return -cli_usage_error("%s: '%s' is not a number", a, val);
		if (a[2] == 'l')
			o->level = (int)v;
		else
			o->threads = (unsigned)v;
	} else {
		uint64_t v;
		if (cli_parse_size(val, &v))
			return -cli_usage_error("%s: '%s' is not a size (N, NK, NM, NG)", a, val);
		if (a[2] == 's') {
			o->segment_bytes = v;
			o->one_piece = v == 0;
		} else {
			o->cache_size_bytes = v;
		}
	}
	return 2;
}

int cli_export_cache(struct cli_layers *cl, struct exp_options *o, char **owned)
{
	*owned = NULL;
	if (o->cache_dir == no_cache) {
		o->cache_dir = NULL;
		return 0;
	}
	const char *state = cli_state_dir(cl);
	if (!state)
		return 0;
	if (!(*owned = state_sub(state, STATE_CACHE)))
		return -ENOMEM;
	o->cache_dir = *owned;
	return 0;
}

void cli_print_export_options(void)
{
	printf("  --compress ALG       cpio: gzip (default), zstd, xz, lz4 or none;\n"
	       "                       qcow2: deflate (compressed clusters) or none (default)\n"
	       "  --level N            compression level (default: the compressor's)\n"
	       "  --threads N          compression threads (default: all CPUs)\n"
	       "  --segment-size SIZE  cpio: newc bytes per segment (default 4M; 0: one piece)\n"
	       "  --cache-size SIZE    bound of the segment cache in STATE/cache (default 1G)\n"
	       "  --no-cache           neither read nor fill the segment cache\n"
	       "  --fsync              fsync the output before renaming it into place\n");
}
