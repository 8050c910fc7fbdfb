/* The subcommands' argument loop: see args.h. Not getopt_long: layer flags take a variable
 * number of words (--file GUEST HOST MODE UID GID [LINK...]) and export options report how
 * many words they took, which getopt's one-optional-value model cannot express; and the
 * messages and exit statuses are the ones the commands printed before this table. */
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expopts.h"
#include "opts.h"

/* cli_usage_error unless quiet; returns the usage exit status 2 */
static int usage(const struct cli_args *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage(const struct cli_args *p, const char *fmt, ...)
{
	if (p->quiet)
		return 2;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_usage_error("%s", msg);
}

static const struct cli_opt *find_opt(const struct cli_opt *t, const char *a)
{
	for (; t && t->name; t++)
		if (!strcmp(a, t->name) || (t->alias && !strcmp(a, t->alias)))
			return t;
	return NULL;
}

static bool takes_value(const struct cli_opt *o)
{
	return o->kind != CLI_OPT_SET && o->kind != CLI_OPT_CLEAR;
}

/* Apply option o, spelled a, with val (NULL when argv ended). Returns 0 or the exit status. */
static int apply(const struct cli_args *p, const struct cli_opt *o, const char *a, const char *val)
{
	const char *value_msg = o->value_msg ? o->value_msg : "needs a value";
	if (takes_value(o) && !val)
		return usage(p, "%s: %s %s", p->cmd, a, value_msg);
	switch (o->kind) {
	case CLI_OPT_SET:
		*(bool *)o->dest = true;
		break;
	case CLI_OPT_CLEAR:
		*(bool *)o->dest = false;
		break;
	case CLI_OPT_STRING:
		*(const char **)o->dest = val;
		break;
	case CLI_OPT_UNSIGNED:
		*(unsigned *)o->dest = (unsigned)strtoul(val, NULL, 10);
		break;
	case CLI_OPT_COUNT: {
		char *end;
		errno = 0;
		long n = strtol(val, &end, 10);
		if (errno || *end || n < 0)
			return usage(p, "%s: %s %s", p->cmd, a, value_msg);
		*(size_t *)o->dest = (size_t)n;
		break;
	}
	case CLI_OPT_SIZE:
		if (cli_parse_size(val, (uint64_t *)o->dest))
			return usage(p, "%s: %s '%s' is not a size (e.g. 512M, 2G)", p->cmd, a,
				     val);
		break;
	case CLI_OPT_CALL: {
		struct rf_err err = {0};
		if (o->call(o->dest, val, &err)) {
			if (err.code)
				return usage(p, "%s: %s", p->cmd, err.msg);
			return usage(p, "%s: %s %s", p->cmd, a, value_msg);
		}
		break;
	}
	}
	return 0;
}

int cli_args_parse(struct cli_args *p, int argc, char **argv)
{
	p->n_pos = 0;
	p->rest = NULL;
	p->n_rest = 0;
	for (int i = 1; i < argc;) {
		if (p->layers) {
			struct rf_err err = {0};
			int r = cli_layer_flag(p->layers, argc, argv, &i, &err);
			if (r < 0)
				return p->quiet ? 1 : cli_fail(&err);
			if (r)
				continue;
		}
		const char *a = argv[i++];
		const char *val = i < argc ? argv[i] : NULL;
		if (p->exp) {
			int eo = cli_export_option(p->exp, a, val);
			if (eo < 0)
				return -eo;
			if (eo) {
				i += eo - 1;
				continue;
			}
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			if (p->help)
				p->help();
			return CLI_ARGS_HELP;
		}
		if (p->has_rest && !strcmp(a, "--")) {
			p->rest = argv + i;
			p->n_rest = argc - i;
			break;
		}
		const struct cli_opt *o = find_opt(p->opts, a);
		if (o) {
			int st = apply(p, o, a, val);
			if (st)
				return st;
			if (takes_value(o))
				i++;
		} else if (a[0] != '-' && p->n_pos < p->max_pos) {
			p->pos[p->n_pos++] = a;
		} else {
			return usage(p, "%s: unknown argument '%s' (see %s --help)", p->cmd, a,
				     p->cmd);
		}
	}
	return 0;
}
