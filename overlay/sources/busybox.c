/* The busybox layer: `busybox PATH` puts the binary at /bin/busybox and one symlink per applet
 * in the applet's standard directory, as `busybox --install -s` would. The applet list comes
 * from the binary's own `--list-full` (run with an empty environment, no shell), so it matches
 * the configuration the binary was built with. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layer.h"
#include "path.h"
#include "view.h"

#define BUSYBOX_GUEST_PATH "bin/busybox"
#define BUSYBOX_LIST_MAX (1u << 20)

/* Run `busybox --list-full` and return its output (malloc'd, NUL-terminated). */
static int list_applets(const char *bin, char **out, struct rf_err *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC))
		return rf_err_errno(err, errno, "%s: pipe", bin);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	char *argv[] = {(char *)bin, (char *)"--list-full", NULL};
	char *envp[] = {NULL};
	pid_t pid;
	int r = posix_spawn(&pid, bin, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r) {
		close(pfd[0]);
		return rf_err_errno(err, r, "%s: cannot run it to list its applets", bin);
	}
	char *buf = malloc(BUSYBOX_LIST_MAX + 1);
	size_t len = 0;
	int ret = buf ? 0 : rf_err_set(err, ENOMEM, "out of memory");
	while (!ret) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int pr = poll(&p, 1, 10000);
		if (pr == 0) {
			ret = rf_err_set(err, ETIMEDOUT, "%s: --list-full did not finish", bin);
			kill(pid, SIGKILL);
			break;
		}
		ssize_t n = read(pfd[0], buf + len, BUSYBOX_LIST_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == BUSYBOX_LIST_MAX) {
			ret = rf_err_set(err, EFBIG, "%s: applet list too long", bin);
			kill(pid, SIGKILL);
		}
	}
	close(pfd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || len == 0))
		ret = rf_err_set(err, ENOEXEC,
				 "%s: not a busybox binary (--list-full failed; a busybox for "
				 "another architecture cannot be listed on this host)",
				 bin);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static int busybox_load(struct ovl_layer *layer, struct ovl_view *v, struct rf_err *err)
{
	const char *bin = layer->argv[0];
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(bin, real) || stat(real, &st))
		return rf_err_errno(err, errno, "%s", bin);
	if (!S_ISREG(st.st_mode))
		return rf_err_set(err, EINVAL, "%s: not a regular file", bin);
	char *list = NULL;
	int r = list_applets(real, &list, err);
	if (r)
		return r;
	struct ovl_entry e = {
		.path = BUSYBOX_GUEST_PATH,
		.attr = {.mode = S_IFREG | 0755, .size = (uint64_t)st.st_size,
			 .mtime_sec = st.st_mtim.tv_sec,
			 .mtime_nsec = (uint32_t)st.st_mtim.tv_nsec},
		.src = {.kind = OVL_SRC_HOST, .host_path = real},
	};
	r = ovl_view_put(v, layer, &e, NULL, err);
	char *save = NULL;
	for (char *ln = strtok_r(list, "\n", &save); ln && !r; ln = strtok_r(NULL, "\n", &save)) {
		char *g;
		if (path_normalize(ln, &g)) {
			r = rf_err_set(err, EINVAL, "%s: bad applet path '%s'", bin, ln);
			break;
		}
		if (g[0] && strcmp(g, BUSYBOX_GUEST_PATH)) {
			struct ovl_entry l = {
				.path = g,
				.attr = {.mode = S_IFLNK | 0777, .mtime_sec = st.st_mtim.tv_sec},
				.link_target = "/" BUSYBOX_GUEST_PATH,
			};
			r = ovl_view_put(v, layer, &l, NULL, err);
		}
		free(g);
	}
	free(list);
	return r;
}

const struct layer_ops layer_busybox_ops = {
	.kind = "busybox",
	.usage = "PATH",
	.min_args = 1,
	.max_args = 1,
	.path_args = 1u << 0,
	.load = busybox_load,
};
