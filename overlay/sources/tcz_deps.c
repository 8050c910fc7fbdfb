/* The dependency closure of TinyCore packages, as tce-load's local_recursive_scan walks it:
 * NAME.tcz.dep lists one dependency a line ("-KERNEL.tcz" stands for the kernel version),
 * every package comes from the same directory, dependencies load first, and
 * NAME.tcz.md5.txt, when present, must match the image (`md5sum -c`). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/md5.h>

#include "tcz.h"

#define TCZ_SUFFIX ".tcz"

struct walk {
	const char *dir;
	const char *kernel;
	struct tcz_plan *plan;
	/* names on the current dependency path, for the cycle message */
	char **stack;
	size_t n_stack;
	struct rf_err *err;
};

void tcz_plan_free(struct tcz_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	p->names = NULL;
	p->n = 0;
}

/* "foo", "foo.tcz" -> "foo", with "-KERNEL" replaced by "-VERSION". */
static int canonical_name(struct walk *w, const char *raw, const char *needed_by, char **out)
{
	size_t len = strlen(raw);
	if (len > strlen(TCZ_SUFFIX) && !strcmp(raw + len - strlen(TCZ_SUFFIX), TCZ_SUFFIX))
		len -= strlen(TCZ_SUFFIX);
	if (!len || raw[0] == '.' || memchr(raw, '/', len))
		return rf_err_set(w->err, EINVAL, "%s: bad package name '%s'",
				  needed_by ? needed_by : w->dir, raw);
	const char *kw = "-KERNEL";
	size_t kwl = strlen(kw);
	bool has_kernel = len >= kwl && !memcmp(raw + len - kwl, kw, kwl);
	if (has_kernel && !w->kernel) {
		if (needed_by)
			return rf_err_set(w->err, EINVAL,
					  "%s: dependency '%s' needs the kernel version: add "
					  "kernel=VERSION to the tcz layer",
					  needed_by, raw);
		return rf_err_set(w->err, EINVAL,
				  "package '%s' needs the kernel version: add kernel=VERSION to "
				  "the tcz layer",
				  raw);
	}
	char *s;
	int n = has_kernel ? asprintf(&s, "%.*s-%s", (int)(len - kwl), raw, w->kernel)
			   : asprintf(&s, "%.*s", (int)len, raw);
	if (n < 0)
		return rf_err_set(w->err, ENOMEM, "out of memory");
	*out = s;
	return 0;
}

static int md5_check(struct walk *w, const char *name)
{
	char *sum_path = NULL, *img_path = NULL;
	FILE *f = NULL;
	int r = 0;
	if (asprintf(&sum_path, "%s/%s.tcz.md5.txt", w->dir, name) < 0) {
		sum_path = NULL;
		return rf_err_set(w->err, ENOMEM, "out of memory");
	}
	f = fopen(sum_path, "re");
	if (!f) {
		if (errno != ENOENT)
			r = rf_err_errno(w->err, errno, "%s", sum_path);
		goto out;
	}
	char want[64] = "";
	if (fscanf(f, "%63s", want) != 1 || strlen(want) != 2 * MD5_DIGEST_SIZE) {
		r = rf_err_set(w->err, EINVAL, "%s: not an md5sum line", sum_path);
		goto out;
	}
	fclose(f);
	if (asprintf(&img_path, "%s/%s.tcz", w->dir, name) < 0) {
		img_path = NULL;
		f = NULL;
		r = rf_err_set(w->err, ENOMEM, "out of memory");
		goto out;
	}
	f = fopen(img_path, "re");
	if (!f) {
		r = rf_err_errno(w->err, errno, "%s", img_path);
		goto out;
	}
	struct md5_ctx ctx;
	md5_init(&ctx);
	unsigned char buf[65536];
	size_t got;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		md5_update(&ctx, got, buf);
	if (ferror(f)) {
		r = rf_err_errno(w->err, EIO, "%s", img_path);
		goto out;
	}
	uint8_t dig[MD5_DIGEST_SIZE];
	md5_digest(&ctx, sizeof(dig), dig);
	char have[2 * MD5_DIGEST_SIZE + 1];
	for (size_t i = 0; i < sizeof(dig); i++)
		snprintf(have + 2 * i, 3, "%02x", dig[i]);
	for (char *p = want; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(have, want))
		r = rf_err_set(w->err, EINVAL,
			       "%s: md5 mismatch (%s.tcz.md5.txt says %s, image is %s)", img_path,
			       name, want, have);
out:
	if (f)
		fclose(f);
	free(sum_path);
	free(img_path);
	return r;
}

static bool in_list(char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

static int cycle_error(struct walk *w, const char *name)
{
	char msg[400] = "";
	size_t start = 0;
	while (start < w->n_stack && strcmp(w->stack[start], name))
		start++;
	for (size_t i = start; i < w->n_stack; i++) {
		strncat(msg, w->stack[i], sizeof(msg) - strlen(msg) - 1);
		strncat(msg, ".tcz -> ", sizeof(msg) - strlen(msg) - 1);
	}
	return rf_err_set(w->err, ELOOP, "%s/%s.tcz.dep: dependency cycle: %s%s.tcz", w->dir,
			  w->stack[w->n_stack - 1], msg, name);
}

static int visit(struct walk *w, const char *name, const char *needed_by);

static int visit_deps(struct walk *w, const char *name)
{
	char *dep_path = NULL, *line = NULL;
	size_t cap = 0;
	int r = 0;
	if (asprintf(&dep_path, "%s/%s.tcz.dep", w->dir, name) < 0)
		return rf_err_set(w->err, ENOMEM, "out of memory");
	FILE *f = fopen(dep_path, "re");
	if (!f) {
		if (errno != ENOENT)
			r = rf_err_errno(w->err, errno, "%s", dep_path);
		free(dep_path);
		return r;
	}
	/* name the file as a user knows it, not with the directory, when it needs another */
	char *who = strrchr(dep_path, '/') + 1;
	ssize_t n;
	while (!r && (n = getline(&line, &cap, f)) >= 0) {
		/* tce-load word-splits the file: names are separated by any white space */
		char *save = NULL;
		for (char *tok = strtok_r(line, " \t\r\n\v\f", &save); tok && !r;
		     tok = strtok_r(NULL, " \t\r\n\v\f", &save)) {
			if (*tok == '#')
				break;
			char *dep = NULL;
			r = canonical_name(w, tok, who, &dep);
			if (!r)
				r = visit(w, dep, who);
			free(dep);
		}
	}
	if (!r && ferror(f))
		r = rf_err_errno(w->err, EIO, "%s", dep_path);
	free(line);
	fclose(f);
	free(dep_path);
	return r;
}

/* Post-order: a package's dependencies are in the plan before it. */
static int visit(struct walk *w, const char *name, const char *needed_by)
{
	if (in_list(w->plan->names, w->plan->n, name))
		return 0;
	if (in_list(w->stack, w->n_stack, name))
		return cycle_error(w, name);
	char *img = NULL;
	if (asprintf(&img, "%s/%s.tcz", w->dir, name) < 0)
		return rf_err_set(w->err, ENOMEM, "out of memory");
	FILE *f = fopen(img, "re");
	int r = 0;
	if (!f) {
		if (errno == ENOENT && needed_by)
			r = rf_err_set(w->err, ENOENT, "%s: dependency '%s.tcz' not found in %s",
				       needed_by, name, w->dir);
		else if (errno == ENOENT)
			r = rf_err_set(w->err, ENOENT, "package '%s.tcz' not found in %s", name,
				       w->dir);
		else
			r = rf_err_errno(w->err, errno, "%s", img);
	} else {
		fclose(f);
	}
	free(img);
	if (r)
		return r;
	char **st = realloc(w->stack, (w->n_stack + 1) * sizeof(*st));
	if (!st)
		return rf_err_set(w->err, ENOMEM, "out of memory");
	w->stack = st;
	if (!(w->stack[w->n_stack] = strdup(name)))
		return rf_err_set(w->err, ENOMEM, "out of memory");
	w->n_stack++;
	r = visit_deps(w, name);
	w->n_stack--;
	free(w->stack[w->n_stack]);
	if (r)
		return r;
	r = md5_check(w, name);
	if (r)
		return r;
	char **nn = realloc(w->plan->names, (w->plan->n + 1) * sizeof(*nn));
	if (!nn)
		return rf_err_set(w->err, ENOMEM, "out of memory");
	w->plan->names = nn;
	if (!(nn[w->plan->n] = strdup(name)))
		return rf_err_set(w->err, ENOMEM, "out of memory");
	w->plan->n++;
	return 0;
}

int tcz_plan_resolve(const char *dir, char *const *pkgs, size_t n_pkgs, const char *kernel,
		     struct tcz_plan *out, struct rf_err *err)
{
	struct tcz_plan plan = {0};
	struct walk w = {.dir = dir, .kernel = kernel, .plan = &plan, .err = err};
	int r = 0;
	for (size_t i = 0; i < n_pkgs && !r; i++) {
		char *name = NULL;
		r = canonical_name(&w, pkgs[i], NULL, &name);
		if (!r)
			r = visit(&w, name, NULL);
		free(name);
	}
	free(w.stack);
	if (r) {
		tcz_plan_free(&plan);
		return r;
	}
	*out = plan;
	return 0;
}
