/* The HTML treemap output: treemap.html (embedded at build time) with the JSON of
 * du_print_json put in its data block. Written to a temporary name and renamed into place. */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const unsigned char du_treemap_html[];
extern const size_t du_treemap_html_len;

#define MARKER "@DU_DATA@"

int du_write_html(const char *path, const struct du_tree *t, const struct du_print_opts *o,
		  struct rf_err *err)
{
	const char *tpl = (const char *)du_treemap_html;
	const char *at = strstr(tpl, MARKER);
	char *tmp = NULL;
	FILE *f = NULL;
	int r = 0;
	if (!at)
		return rf_err_set(err, EINVAL, "treemap template has no data marker");
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return rf_err_set(err, ENOMEM, "out of memory");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		r = rf_err_errno(err, errno, "%s", path);
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		r = rf_err_errno(err, errno, "%s", path);
		goto out_unlink;
	}
	fwrite(tpl, 1, (size_t)(at - tpl), f);
	if ((r = du_print_json(f, t, o))) {
		rf_err_errno(err, -r, "%s", path);
		goto out_unlink;
	}
	fputs(at + strlen(MARKER), f);
	if (fflush(f) || ferror(f) || fsync(fileno(f))) {
		r = rf_err_errno(err, errno ? errno : EIO, "%s", path);
		goto out_unlink;
	}
	fclose(f);
	f = NULL;
	if (chmod(tmp, 0644) || rename(tmp, path)) {
		r = rf_err_errno(err, errno, "%s", path);
		goto out_unlink;
	}
	goto out;
out_unlink:
	if (f)
		fclose(f);
	unlink(tmp);
out:
	free(tmp);
	(void)du_treemap_html_len;
	return r;
}
