/* Layer flags and SPEC handling shared by the subcommands: see opts.h. */
#include "opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "spec.h"
#include "state.h"
#include "view.h"

static const struct {
	const char *kw;
	int nargs; /* -1: at least min, up to the next option */
	int min;
	const char *usage;
} entry_flags[] = {
	{"file", -1, 5, "GUEST HOST MODE UID GID [LINK...]"},
	{"dir", 4, 4, "GUEST MODE UID GID"},
	{"nod", 7, 7, "GUEST MODE UID GID b|c MAJ MIN"},
	{"slink", 5, 5, "GUEST TARGET MODE UID GID"},
	{"pipe", 4, 4, "GUEST MODE UID GID"},
	{"sock", 4, 4, "GUEST MODE UID GID"},
};

int cli_layer_flag(struct cli_layers *cl, int argc, char **argv, int *i, struct rf_err *err)
{
	const char *a = argv[*i];
	if (!strcmp(a, "--state")) {
		if (*i + 1 >= argc)
			return rf_err_set(err, EINVAL, "--state needs a directory");
		cl->state_arg = argv[*i + 1];
		*i += 2;
		return 1;
	}
	if (strncmp(a, "--", 2) || !spec_is_keyword(a + 2))
		return 0;
	const char *kw = a + 2;
	int nargs = -1, min = 0;
	const struct layer_ops *lk = layer_kind_find(kw);
	if (lk) {
		min = lk->min_args;
		nargs = lk->min_args == lk->max_args ? lk->min_args : -1;
	} else {
		for (size_t k = 0; k < sizeof(entry_flags) / sizeof(entry_flags[0]); k++)
			if (!strcmp(entry_flags[k].kw, kw)) {
				nargs = entry_flags[k].nargs;
				min = entry_flags[k].min;
			}
	}
	int start = *i + 1, end = start;
	if (nargs >= 0) {
		end = start + nargs;
		if (end > argc)
			return rf_err_set(err, EINVAL, "%s: needs %d arguments", a, nargs);
	} else {
		while (end < argc && (argv[end][0] != '-' || end - start < min))
			end++;
	}
	if (!cl->flags && spec_new(NULL, &cl->flags))
		return rf_err_set(err, ENOMEM, "out of memory");
	int r = spec_add_line(cl->flags, kw, argv + start, end - start, a, err);
	if (r)
		return r;
	cl->has_layers = true;
	*i = end;
	return 1;
}

const char *cli_state_dir(struct cli_layers *cl)
{
	if (!cl->state_dir) {
		if (cl->state_arg)
			cl->state_dir = strdup(cl->state_arg);
		else if (cl->spec_path)
			state_default_dir(cl->spec_path, &cl->state_dir);
	}
	return cl->state_dir;
}

static int build_view(struct cli_layers *cl, bool with_upper, struct ovl_view **out,
		      struct rf_err *err)
{
	struct spec *s = NULL;
	int r;
	if (cl->spec_path) {
		r = spec_parse_file(cl->spec_path, &s, err);
		if (r)
			return r;
	} else if ((r = spec_new(NULL, &s))) {
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	if (cl->flags) {
		/* move the flag lines on top of the SPEC's */
		struct spec_line *nl = realloc(s->lines, (s->n_lines + cl->flags->n_lines) *
								 sizeof(*nl) + 1);
		if (!nl) {
			spec_free(s);
			return rf_err_set(err, ENOMEM, "out of memory");
		}
		s->lines = nl;
		memcpy(s->lines + s->n_lines, cl->flags->lines,
		       cl->flags->n_lines * sizeof(*nl));
		s->n_lines += cl->flags->n_lines;
		cl->flags->n_lines = 0;
	}
	const char *state = with_upper ? cli_state_dir(cl) : NULL;
	char *upper = state ? state_sub(state, STATE_UPPER) : NULL;
	if (state && !upper) {
		spec_free(s);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	r = ovl_view_build_upper(s, upper, out, err);
	free(upper);
	spec_free(s);
	return r;
}

int cli_build_view(struct cli_layers *cl, struct ovl_view **out, struct rf_err *err)
{
	return build_view(cl, true, out, err);
}

int cli_build_lower_view(struct cli_layers *cl, struct ovl_view **out, struct rf_err *err)
{
	return build_view(cl, false, out, err);
}

void cli_layers_free(struct cli_layers *cl)
{
	spec_free(cl->flags);
	cl->flags = NULL;
	free(cl->state_dir);
	cl->state_dir = NULL;
}

void cli_print_layer_flags(void)
{
	printf("Layers (each SPEC line also as a flag, stacked on top of the SPEC's):\n");
	printf("  --%-10s %s\n", "state", "DIR   state directory (default: SPEC's name + .state)");
	for (const struct layer_ops *const *k = layer_kinds(); *k; k++)
		printf("  --%-10s %s\n", (*k)->kind, (*k)->usage);
	for (size_t k = 0; k < sizeof(entry_flags) / sizeof(entry_flags[0]); k++)
		printf("  --%-10s %s\n", entry_flags[k].kw, entry_flags[k].usage);
}

int cli_fail(const struct rf_err *err)
{
	fprintf(stderr, "rootfs-fuse: %s\n", err->msg[0] ? err->msg : "unknown error");
	return 1;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("rootfs-fuse: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}

int cli_source_date_epoch(long long *epoch)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	*epoch = v;
	return 1;
}
