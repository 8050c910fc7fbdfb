/* rootfs-fuse ldd: the shared libraries and the ELF interpreter the host layer would add for
 * each FILE, printed as ldd(1) prints them, found by the resolver of overlay/sources/host.h
 * without executing anything (ldd runs the binary's loader). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "host.h"
#include "opts.h"

static void help(void)
{
	printf("usage: rootfs-fuse ldd FILE...\n\n"
	       "Print the shared libraries (DT_NEEDED closure) and the ELF interpreter\n"
	       "(PT_INTERP) of each host FILE, as ldd(1) prints them, found as ld.so(8) finds\n"
	       "them (DT_RPATH, DT_RUNPATH with $ORIGIN, /etc/ld.so.cache, the default\n"
	       "directories) but without running anything. These are the files a `host FILE`\n"
	       "layer adds, besides the symlinks leading to them. LD_LIBRARY_PATH and\n"
	       "/etc/ld.so.preload are ignored (the guest starts clean).\n\n"
	       "Exit status 1 when a FILE is missing or a library is not found.\n");
}

static void print_one(const struct host_resolution *res, const char *indent)
{
	if (!res->is_elf) {
		printf("%snot a dynamic executable\n", indent);
		return;
	}
	if (res->n_deps == 0) {
		/* static-pie has PT_DYNAMIC but loads nothing */
		printf("%sstatically linked\n", indent);
		return;
	}
	const struct host_dep *interp = NULL;
	for (size_t i = 0; i < res->n_deps; i++) {
		const struct host_dep *d = &res->deps[i];
		if (d->is_interp)
			interp = d;
		else
			printf("%s%s => %s\n", indent, d->name, d->path ? d->path : "not found");
	}
	/* ldd lists the loader last, where it sits in the link map */
	if (interp)
		printf("%s%s%s\n", indent, interp->name, interp->path ? "" : " => not found");
}

int cmd_ldd(int argc, char **argv)
{
	int first = 1;
	if (first < argc && !strcmp(argv[first], "--"))
		first++;
	else
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
				help();
				return 0;
			} else if (argv[i][0] == '-') {
				return cli_usage_error("ldd: unknown option '%s' (see ldd --help)",
						       argv[i]);
			}
	if (first >= argc)
		return cli_usage_error("ldd: give at least one FILE (see ldd --help)");
	struct rf_err err = {0};
	struct host_resolver *r = NULL;
	if (host_resolver_new(NULL, &r, &err))
		return cli_fail(&err);
	int status = 0;
	bool many = argc - first > 1;
	for (int i = first; i < argc; i++) {
		struct host_resolution *res = NULL;
		rf_err_clear(&err);
		if (host_resolve(r, argv[i], &res, &err)) {
			fflush(stdout);
			status = cli_fail(&err);
			continue;
		}
		if (many)
			printf("%s:\n", argv[i]);
		print_one(res, "\t");
		if (host_resolution_check(res, &err))
			status = 1;
		host_resolution_free(res);
	}
	host_resolver_free(r);
	if (fflush(stdout) || ferror(stdout))
		status = 1;
	return status;
}
