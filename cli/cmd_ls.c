/* rootfs-fuse ls: the merged view, one path a line, in the export's sorted order; --long adds
 * mode (as ls -l prints it), uid, gid, size (MAJ,MIN for devices) and the providing layer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "args.h"
#include "commands.h"
#include "layer.h"
#include "opts.h"
#include "view.h"

static void mode_string(uint32_t m, char s[11])
{
	const char *types = "?pc?d?b?-?l?s???";
	s[0] = types[(m & S_IFMT) >> 12];
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		s[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		s[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		s[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		s[9] = (m & S_IXOTH) ? 't' : 'T';
	s[10] = '\0';
}

struct ls_ctx {
	bool is_long;
	bool has_hash;
	int status;
	void *buf;
};

#define LS_CHUNK (1u << 20)

/* XXH3-128 of a regular file's content, printed as `xxhsum -H2` does. */
static int print_hash(struct ls_ctx *c, const struct ovl_node *n)
{
	XXH3_state_t *st = XXH3_createState();
	struct rf_err err = {0};
	int r = st ? 0 : -1;
	if (!r)
		XXH3_128bits_reset(st);
	for (uint64_t off = 0; !r && off < n->attr.size;) {
		ssize_t got = ovl_node_pread(n, c->buf, LS_CHUNK, off, &err);
		if (got <= 0) {
			if (!err.code)
				rf_err_set(&err, EIO, "/%s: short read", n->name);
			r = -1;
			break;
		}
		XXH3_128bits_update(st, c->buf, (size_t)got);
		off += (uint64_t)got;
	}
	if (!r) {
		XXH128_canonical_t cn;
		XXH128_canonicalFromHash(&cn, XXH3_128bits_digest(st));
		putchar(' ');
		for (size_t i = 0; i < sizeof(cn.digest); i++)
			printf("%02x", cn.digest[i]);
	} else if (err.code) {
		cli_fail(&err);
	}
	XXH3_freeState(st);
	return r;
}

static int ls_one(const struct ovl_node *n, const char *path, void *arg)
{
	struct ls_ctx *c = arg;
	if (!c->is_long) {
		printf("/%s\n", path);
		return 0;
	}
	char mode[11];
	mode_string(n->attr.mode, mode);
	char size[48];
	if (S_ISCHR(n->attr.mode) || S_ISBLK(n->attr.mode))
		snprintf(size, sizeof(size), "%u,%u", n->attr.rdev_major, n->attr.rdev_minor);
	else
		snprintf(size, sizeof(size), "%llu", (unsigned long long)n->attr.size);
	printf("%s %u %u %s", mode, n->attr.uid, n->attr.gid, size);
	if (c->has_hash) {
		if (S_ISREG(n->attr.mode)) {
			if (print_hash(c, n))
				return c->status = 1;
		} else {
			printf(" -");
		}
	}
	printf(" /%s", path);
	if (S_ISLNK(n->attr.mode))
		printf(" -> %s", n->link_target);
	printf("\t%s\n", n->layer ? n->layer->label : "(implied)");
	return 0;
}

static void help(void)
{
	printf("usage: rootfs-fuse ls [SPEC] [LAYER FLAGS] [--long]\n\n"
	       "List the merged view of the SPEC's layers (and layer flags), one path a line,\n"
	       "in the order every export uses.\n\n"
	       "  -l, --long   mode, uid, gid, size (MAJ,MIN for devices), path, symlink target,\n"
	       "               then a tab and the layer the entry comes from\n"
	       "  --hash       with --long: the XXH3-128 of each regular file's content after\n"
	       "               the size (as xxhsum -H2 prints it), '-' for other types\n\n");
	cli_print_layer_flags();
}

int cmd_ls(int argc, char **argv)
{
	struct cli_layers cl = {0};
	struct ls_ctx c = {0};
	struct rf_err err = {0};
	int status = 0;
	const struct cli_opt opts[] = {
	    CLI_OPT("--long", "-l", CLI_OPT_SET, &c.is_long),
	    CLI_OPT("--hash", NULL, CLI_OPT_SET, &c.has_hash),
	    {0},
	};
	struct cli_args args = {.cmd = "ls",
				.opts = opts,
				.layers = &cl,
				.pos = &cl.spec_path,
				.max_pos = 1,
				.help = help};
	if ((status = cli_args_parse(&args, argc, argv))) {
		status = status == CLI_ARGS_HELP ? 0 : status;
		goto out;
	}
	if (!cl.spec_path && !cl.has_layers) {
		status = cli_usage_error("ls: give a SPEC or layer flags (see ls --help)");
		goto out;
	}
	struct ovl_view *v = NULL;
	if (cli_build_view(&cl, &v, &err)) {
		status = cli_fail(&err);
		goto out;
	}
	c.buf = malloc(LS_CHUNK);
	if (!c.buf) {
		ovl_view_free(v);
		status = cli_usage_error("out of memory");
		goto out;
	}
	if (c.has_hash)
		c.is_long = true;
	ovl_view_walk(v, ls_one, &c);
	ovl_view_free(v);
	free(c.buf);
	status = c.status;
	if (fflush(stdout) || ferror(stdout))
		status = 1;
out:
	cli_layers_free(&cl);
	return status;
}
