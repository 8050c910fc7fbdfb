/* SPEC parser: the line format of design.md, a superset of the kernel's usr/gen_init_cpio list
 * (field order as in gen_init_cpio.c's usage text). Errors are "FILE:LINE: reason". */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "path.h"

#define SPEC_MAX_FILE_BYTES (16u << 20)

struct entry_kind {
	const char *keyword;
	enum spec_entry_type type;
	int min_args, max_args;
	const char *usage;
};

static const struct entry_kind entry_kinds[] = {
	{"file", SPEC_FILE, 5, -1, "<name> <location> <mode> <uid> <gid> [<hard links>...]"},
	{"dir", SPEC_DIR, 4, 4, "<name> <mode> <uid> <gid>"},
	{"nod", SPEC_NOD, 7, 7, "<name> <mode> <uid> <gid> <dev_type> <maj> <min>"},
	{"slink", SPEC_SLINK, 5, 5, "<name> <target> <mode> <uid> <gid>"},
	{"pipe", SPEC_PIPE, 4, 4, "<name> <mode> <uid> <gid>"},
	{"sock", SPEC_SOCK, 4, 4, "<name> <mode> <uid> <gid>"},
};

static const struct entry_kind *entry_kind_find(const char *kw)
{
	for (size_t i = 0; i < sizeof(entry_kinds) / sizeof(entry_kinds[0]); i++)
		if (!strcmp(entry_kinds[i].keyword, kw))
			return &entry_kinds[i];
	return NULL;
}

bool spec_is_keyword(const char *keyword)
{
	return entry_kind_find(keyword) || layer_kind_find(keyword);
}

int spec_new(const char *base_dir, struct spec **out)
{
	struct spec *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (base_dir && !(s->base_dir = strdup(base_dir))) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

static void entry_clear(struct spec_entry *e)
{
	free(e->name);
	free(e->location);
	for (size_t i = 0; i < e->n_hardlinks; i++)
		free(e->hardlinks[i]);
	free(e->hardlinks);
	memset(e, 0, sizeof(*e));
}

static void line_clear(struct spec_line *l)
{
	free(l->keyword);
	for (int i = 0; i < l->argc; i++)
		free(l->argv[i]);
	free(l->argv);
	free(l->origin);
	entry_clear(&l->entry);
}

void spec_free(struct spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_lines; i++)
		line_clear(&s->lines[i]);
	free(s->lines);
	free(s->path);
	free(s->base_dir);
	free(s);
}

static int parse_octal_mode(const char *s, uint32_t *out)
{
	if (!*s || strlen(s) > 6)
		return -1;
	uint32_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return -1;
		v = v * 8 + (uint32_t)(*p - '0');
	}
	if (v > 07777)
		return -1;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	if (!*s)
		return -1;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	errno = 0;
	unsigned long long v = strtoull(s, NULL, 10);
	if (errno || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* ${VAR} expansion of a file location, as gen_init_cpio's cpio_replace_env does. */
static int expand_env(const char *in, char **out, const char *origin, struct rf_err *err)
{
	size_t cap = strlen(in) + 1, len = 0;
	char *s = malloc(cap);
	if (!s)
		return rf_err_set(err, ENOMEM, "out of memory");
	for (const char *p = in; *p;) {
		const char *add = p;
		size_t n = 1;
		char name[256];
		if (p[0] == '$' && p[1] == '{') {
			const char *e = strchr(p + 2, '}');
			if (!e || (size_t)(e - p - 2) >= sizeof(name)) {
				free(s);
				return rf_err_set(err, EINVAL, "%s: unterminated ${ in '%s'", origin,
						  in);
			}
			memcpy(name, p + 2, (size_t)(e - p - 2));
			name[e - p - 2] = '\0';
			add = getenv(name);
			if (!add) {
				free(s);
				return rf_err_set(err, EINVAL, "%s: environment variable %s is not set",
						  origin, name);
			}
			n = strlen(add);
			p = e + 1;
		} else {
			p++;
		}
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *t = realloc(s, cap);
			if (!t) {
				free(s);
				return rf_err_set(err, ENOMEM, "out of memory");
			}
			s = t;
		}
		memcpy(s + len, add, n);
		len += n;
	}
	s[len] = '\0';
	*out = s;
	return 0;
}

static int guest_name(const char *in, char **out, const char *origin, struct rf_err *err)
{
	int r = path_normalize(in, out);
	if (r == -EINVAL)
		return rf_err_set(err, EINVAL, "%s: '%s': '..' would leave the guest root", origin,
				  in);
	if (r)
		return rf_err_set(err, -r, "%s: '%s': %s", origin, in, strerror(-r));
	return 0;
}

static int parse_owner(char *const *f, uint32_t *mode, uint32_t *uid, uint32_t *gid,
		       const char *origin, struct rf_err *err)
{
	if (parse_octal_mode(f[0], mode))
		return rf_err_set(err, EINVAL, "%s: bad mode '%s' (octal, at most 07777)", origin,
				  f[0]);
	if (parse_u32(f[1], uid))
		return rf_err_set(err, EINVAL, "%s: bad uid '%s'", origin, f[1]);
	if (parse_u32(f[2], gid))
		return rf_err_set(err, EINVAL, "%s: bad gid '%s'", origin, f[2]);
	return 0;
}

static int parse_entry(const struct entry_kind *k, char *const *a, int argc, const char *base,
		       struct spec_entry *e, const char *origin, struct rf_err *err)
{
	int r;
	e->type = k->type;
	if ((r = guest_name(a[0], &e->name, origin, err)))
		return r;
	if (!e->name[0])
		return rf_err_set(err, EINVAL, "%s: '%s' names the root itself", origin, a[0]);
	switch (k->type) {
	case SPEC_FILE: {
		char *loc = NULL;
		if ((r = expand_env(a[1], &loc, origin, err)))
			return r;
		e->location = path_host_resolve(base, loc);
		free(loc);
		if (!e->location)
			return rf_err_set(err, ENOMEM, "out of memory");
		if ((r = parse_owner(a + 2, &e->mode, &e->uid, &e->gid, origin, err)))
			return r;
		if (argc > 5) {
			e->hardlinks = calloc((size_t)(argc - 5), sizeof(char *));
			if (!e->hardlinks)
				return rf_err_set(err, ENOMEM, "out of memory");
			for (int i = 5; i < argc; i++) {
				if ((r = guest_name(a[i], &e->hardlinks[e->n_hardlinks], origin,
						    err)))
					return r;
				e->n_hardlinks++;
			}
		}
		return 0;
	}
	case SPEC_SLINK:
		if (!(e->location = strdup(a[1])))
			return rf_err_set(err, ENOMEM, "out of memory");
		return parse_owner(a + 2, &e->mode, &e->uid, &e->gid, origin, err);
	case SPEC_NOD:
		if ((r = parse_owner(a + 1, &e->mode, &e->uid, &e->gid, origin, err)))
			return r;
		if (strcmp(a[4], "b") && strcmp(a[4], "c"))
			return rf_err_set(err, EINVAL, "%s: bad device type '%s' (b or c)", origin,
					  a[4]);
		e->dev_type = a[4][0];
		if (parse_u32(a[5], &e->maj))
			return rf_err_set(err, EINVAL, "%s: bad major number '%s'", origin, a[5]);
		if (parse_u32(a[6], &e->min))
			return rf_err_set(err, EINVAL, "%s: bad minor number '%s'", origin, a[6]);
		return 0;
	default:
		return parse_owner(a + 1, &e->mode, &e->uid, &e->gid, origin, err);
	}
}

static int count_error(const char *origin, const char *kw, const char *usage, struct rf_err *err)
{
	return rf_err_set(err, EINVAL, "%s: wrong number of arguments for '%s' (usage: %s %s)",
			  origin, kw, kw, usage);
}

/* Add a line to s; on failure nothing is added. */
static int add_line(struct spec *s, const char *kw, char *const *argv, int argc,
		    const char *origin, struct rf_err *err)
{
	const struct entry_kind *ek = entry_kind_find(kw);
	const struct layer_ops *lk = ek ? NULL : layer_kind_find(kw);
	if (!ek && !lk)
		return rf_err_set(err, EINVAL, "%s: unknown keyword '%s'", origin, kw);
	int min = ek ? ek->min_args : lk->min_args;
	int max = ek ? ek->max_args : lk->max_args;
	if (argc < min || (max >= 0 && argc > max))
		return count_error(origin, kw, ek ? ek->usage : lk->usage, err);

	struct spec_line l = {0};
	int r = -ENOMEM;
	l.keyword = strdup(kw);
	l.origin = strdup(origin);
	l.argv = calloc((size_t)argc + 1, sizeof(char *));
	l.argc = 0;
	if (!l.keyword || !l.origin || !l.argv)
		goto nomem;
	int last_bit = -1;
	if (lk)
		for (int b = 0; b < 31; b++)
			if (lk->path_args & (1u << b))
				last_bit = b;
	for (int i = 0; i < argc; i++) {
		bool is_path = lk && ((i < 31 && (lk->path_args & (1u << i))) ||
				      (lk->rest_are_paths && last_bit >= 0 && i > last_bit));
		l.argv[i] = is_path ? path_host_resolve(s->base_dir, argv[i]) : strdup(argv[i]);
		if (!l.argv[i])
			goto nomem;
		l.argc++;
	}
	if (ek) {
		l.is_entry = true;
		r = parse_entry(ek, argv, argc, s->base_dir, &l.entry, origin, err);
		if (r)
			goto out;
	}
	struct spec_line *nl = realloc(s->lines, (s->n_lines + 1) * sizeof(*nl));
	if (!nl)
		goto nomem;
	s->lines = nl;
	s->lines[s->n_lines++] = l;
	return 0;
nomem:
	r = rf_err_set(err, ENOMEM, "out of memory");
out:
	line_clear(&l);
	return r;
}

int spec_add_line(struct spec *s, const char *keyword, char *const *argv, int argc,
		  const char *origin, struct rf_err *err)
{
	return add_line(s, keyword, argv, argc, origin, err);
}

int spec_parse_buffer(const char *text, size_t len, const char *name, const char *base_dir,
		      struct spec **out, struct rf_err *err)
{
	struct spec *s;
	if (spec_new(base_dir, &s))
		return rf_err_set(err, ENOMEM, "out of memory");
	if (!(s->path = strdup(name))) {
		spec_free(s);
		return rf_err_set(err, ENOMEM, "out of memory");
	}
	int r = 0;
	unsigned lineno = 0;
	const char *p = text, *end = text + len;
	char *line = NULL, **fields = NULL;
	size_t cap_fields = 0;
	while (p < end) {
		lineno++;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char origin[PATH_MAX + 32];
		snprintf(origin, sizeof(origin), "%s:%u", name, lineno);
		if (memchr(p, '\0', ll)) {
			r = rf_err_set(err, EINVAL, "%s: NUL byte in line", origin);
			goto out;
		}
		free(line);
		line = strndup(p, ll);
		if (!line) {
			r = rf_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		p = nl ? nl + 1 : end;
		/* no cap on fields (a `host` line may list every program of /usr/bin): the
		 * SPEC's size bounds them */
		int nf = 0;
		for (char *tok = strtok(line, " \t\r\v\f"); tok; tok = strtok(NULL, " \t\r\v\f")) {
			if (tok[0] == '#')
				break;
			if ((size_t)nf == cap_fields) {
				size_t cap = cap_fields ? cap_fields * 2 : 64;
				char **nfields = realloc(fields, cap * sizeof(*fields));
				if (!nfields) {
					r = rf_err_set(err, ENOMEM, "out of memory");
					goto out;
				}
				fields = nfields;
				cap_fields = cap;
			}
			fields[nf++] = tok;
		}
		if (!nf)
			continue;
		r = add_line(s, fields[0], fields + 1, nf - 1, origin, err);
		if (r)
			goto out;
	}
out:
	free(line);
	free(fields);
	if (r) {
		spec_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int spec_parse_file(const char *path, struct spec **out, struct rf_err *err)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return rf_err_errno(err, errno, "%s", path);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > SPEC_MAX_FILE_BYTES + 65536) {
				r = rf_err_set(err, EFBIG, "%s: SPEC file too large", path);
				goto out;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				r = rf_err_set(err, ENOMEM, "out of memory");
				goto out;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				r = rf_err_errno(err, EIO, "%s", path);
			break;
		}
	}
	if (!r) {
		char *dir = strdup(path);
		if (!dir) {
			r = rf_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		char *slash = strrchr(dir, '/');
		if (slash)
			slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
		else
			strcpy(dir, ".");
		r = spec_parse_buffer(buf ? buf : "", len, path, dir, out, err);
		free(dir);
	}
out:
	free(buf);
	fclose(f);
	return r;
}
