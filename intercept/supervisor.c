/* The `rootfs-fuse shell` supervisor (supervisor.h): a seccomp user-notification filter on
 * mknod/mknodat of devices in the child, answered here. Follows seccomp_unotify(2) (reading
 * the target's memory, then SECCOMP_IOCTL_NOTIF_ID_VALID before acting) and mknod(2). */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xmknod.h"

/* What the child reports over the socketpair: err 0 with the notify fd attached once the
 * filter is loaded; later, only if execvp fails, its errno (the socket is O_CLOEXEC, so a
 * successful exec reads as end of file). */
struct child_msg {
	int err;
	char what[48];
};

/* ---- the child ---- */

static void child_report(int sock, int err, const char *what, int fd)
{
	struct child_msg m = {.err = err};
	snprintf(m.what, sizeof(m.what), "%s", what);
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* The filter: notify for mknod (mode in arg 1) and mknodat (arg 2) of S_IFCHR or S_IFBLK.
 * Returns the notify fd or a negative errno, *what naming the step that failed. */
static int load_filter(const char **what)
{
	static const mode_t types[] = {S_IFCHR, S_IFBLK};
	int r, fd = -1;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	*what = "seccomp_init";
	if (!ctx)
		return -ENOMEM;
	/* raw errnos instead of libseccomp's -ECANCELED; other ABIs (i386, x32) run unfiltered */
	*what = "seccomp_attr_set";
	r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	*what = "seccomp_rule_add";
	for (size_t i = 0; !r && i < sizeof(types) / sizeof(types[0]); i++) {
		/* mknod is absent from newer ABIs (aarch64): there glibc uses mknodat only */
		if (seccomp_syscall_resolve_name("mknod") != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mknod), 1,
					     SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, types[i]));
		if (!r)
			r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mknodat), 1,
					     SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, types[i]));
	}
	if (!r) {
		*what = "seccomp_load";
		r = seccomp_load(ctx);
	}
	if (!r) {
		*what = "seccomp_notify_fd";
		fd = seccomp_notify_fd(ctx);
		r = fd < 0 ? fd : 0;
	}
	seccomp_release(ctx);
	return r ? (r < 0 ? r : -EINVAL) : fd;
}

/* execvp(3) reports EACCES when it met an unsearchable PATH entry and found nothing; a shell
 * says "not found" (127) then. Is name (no '/') a file in some PATH directory? */
static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	struct stat st;
	for (const char *p = path ? path : "/bin:/usr/bin"; p;
	     p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL) {
		int n = (int)strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s%s%s", n, p, n ? "/" : "", name);
		if (!stat(buf, &st) && !S_ISDIR(st.st_mode))
			return true;
	}
	return false;
}

static __attribute__((noreturn)) void child(int sock, char *const argv[])
{
	const char *what = "prctl(PR_SET_NO_NEW_PRIVS)";
	int fd = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : load_filter(&what);
	if (fd < 0) {
		child_report(sock, -fd, what, -1);
		_exit(1);
	}
	child_report(sock, 0, "", fd);
	close(fd);
	execvp(argv[0], argv);
	int e = errno;
	if (e == EACCES && !strchr(argv[0], '/') && !in_path(argv[0]))
		e = ENOENT;
	child_report(sock, e, "exec", -1);
	_exit(127);
}

/* ---- one notification ---- */

/* Copy the NUL-terminated string at addr in pid's memory into buf (PATH_MAX bytes), a page
 * at a time so an unmapped page after the string is never touched. Returns 0, -EFAULT or
 * -ENAMETOOLONG, as the kernel's getname() would. */
static int read_path(pid_t pid, uint64_t addr, char *buf)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), got = 0;
	while (got < PATH_MAX) {
		uint64_t at = addr + got;
		size_t want = page - (size_t)(at % page);
		if (want > PATH_MAX - got)
			want = PATH_MAX - got;
		struct iovec local = {.iov_base = buf + got, .iov_len = want};
		struct iovec remote = {.iov_base = (void *)(uintptr_t)at, .iov_len = want};
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

/* The caller's umask, from the Umask: line of /proc/PID/status (Linux 4.7+). */
static int read_umask(pid_t pid, mode_t *out)
{
	char p[64], line[256];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	int r = -ENOENT;
	unsigned m;
	while (r && fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &m) == 1) {
			*out = m & 0777;
			r = 0;
		}
	fclose(f);
	return r;
}

/* The caller's start directory: its root for an absolute path, its cwd for AT_FDCWD, else
 * its descriptor dirfd (O_PATH, as the magic links of proc(5) give them). */
static int open_start(pid_t pid, int dirfd, bool is_abs)
{
	char p[64];
	if (is_abs)
		snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
	else if (dirfd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%d/cwd", (int)pid);
	else
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", (int)pid, dirfd);
	return open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Open the directory dir (relative, "" meaning start itself) under start, following
 * symlinks; an absolute path's symlinks resolve inside the caller's root (RESOLVE_IN_ROOT). */
static int open_parent(int start, const char *dir, bool is_abs)
{
	if (!*dir)
		dir = ".";
	if (is_abs) {
		struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				       .resolve = RESOLVE_IN_ROOT};
		int fd = (int)syscall(SYS_openat2, start, dir, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd;
	}
	return openat(start, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

enum action { REPLY, CONTINUE, DROP };

/* mknod(2)'s dev argument is the kernel's 32-bit encoding (new_decode_dev). */
static unsigned dev_major(uint32_t dev)
{
	return (dev & 0xfff00) >> 8;
}

static unsigned dev_minor(uint32_t dev)
{
	return (dev & 0xff) | ((dev >> 12) & 0xfff00);
}

/* Decide one notification (see supervisor.h); *error is the reply for REPLY. */
static enum action answer(int notify_fd, const struct seccomp_notif *req, int *error)
{
	pid_t pid = (pid_t)req->pid;
	const __u64 *a = req->data.args;
	bool is_at = req->data.nr == SCMP_SYS(mknodat);
	uint64_t addr = is_at ? a[1] : a[0];
	int dirfd = is_at ? (int)a[0] : AT_FDCWD;
	mode_t mode = (mode_t)(is_at ? a[2] : a[1]);
	uint32_t dev = (uint32_t)(is_at ? a[3] : a[2]);
	char *path = malloc(PATH_MAX);
	int start = -1, pfd = -1;
	mode_t umask_bits = 0;
	enum action act = CONTINUE;
	*error = 0;
	if (!path) {
		*error = -ENOMEM;
		act = REPLY;
		goto out;
	}
	int r = read_path(pid, addr, path);
	if (!r && !*path)
		r = -ENOENT;
	if (r) {
		*error = r;
		act = REPLY;
		goto valid;
	}
	bool is_abs = path[0] == '/';
	/* split into the parent and the last name; trailing slashes make mknod fail */
	size_t len = strlen(path);
	bool has_slash_end = false;
	while (len > 1 && path[len - 1] == '/') {
		path[--len] = '\0';
		has_slash_end = true;
	}
	char *slash = strrchr(path, '/');
	const char *dir = "", *name = path;
	if (slash) {
		*slash = '\0';
		name = slash + 1;
		dir = path;
		while (*dir == '/')
			dir++;
	}
	start = open_start(pid, dirfd, is_abs);
	if (start >= 0)
		pfd = open_parent(start, dir, is_abs);
	if (pfd < 0 || read_umask(pid, &umask_bits))
		goto valid; /* the kernel will say why (ENOENT, ENOTDIR, EBADF...) */
	if (!xmknod_is_mount_dir(pfd))
		goto valid;
	act = REPLY;
	struct stat st;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		*error = -EEXIST; /* "/", "x/." and "x/..": the kernel's LAST_ROOT/DOT/DOTDOT */
	else if (strlen(name) > NAME_MAX)
		*error = -ENAMETOOLONG;
	else if (has_slash_end)
		*error = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) ? -ENOENT : -EEXIST;
	if (*error)
		goto valid;
	/* seccomp_unotify(2): the pid may have been reused between the notification and our
	 * opening of /proc/PID: check before acting on what we read */
	if (seccomp_notify_id_valid(notify_fd, req->id)) {
		act = DROP;
		goto out;
	}
	*error = xmknod_make(pfd, name, (mode & S_IFMT) | (mode & 07777 & ~umask_bits),
			     dev_major(dev), dev_minor(dev), name, NULL);
	goto out;
valid:
	if (seccomp_notify_id_valid(notify_fd, req->id))
		act = DROP;
out:
	if (pfd >= 0)
		close(pfd);
	if (start >= 0)
		close(start);
	free(path);
	return act;
}

/* Receive and answer one notification. A target that died or was interrupted meanwhile is
 * no error (-ENOENT from receive or respond). Returns 0 or a negative errno. */
static int handle_one(int notify_fd, struct seccomp_notif *req, struct seccomp_notif_resp *resp,
		      const struct seccomp_notif_sizes *sz)
{
	memset(req, 0, sz->seccomp_notif); /* the kernel wants it zeroed */
	int r = seccomp_notify_receive(notify_fd, req);
	if (r == -ENOENT || r == -EINTR)
		return 0;
	if (r)
		return r;
	int error;
	enum action act = answer(notify_fd, req, &error);
	if (act == DROP)
		return 0;
	memset(resp, 0, sz->seccomp_notif_resp);
	resp->id = req->id;
	if (act == CONTINUE)
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		resp->error = error;
	r = seccomp_notify_respond(notify_fd, resp);
	return r == -ENOENT ? 0 : r;
}

/* ---- the parent ---- */

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* Receive one child_msg, with a descriptor when one is attached (*fd, else -1). Returns 1,
 * 0 at end of file, or a negative errno. */
static int recv_msg(int sock, struct child_msg *m, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	*fd = -1;
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof(*m))
		return -EPROTO;
	m->what[sizeof(m->what) - 1] = '\0';
	return 1;
}

/* Answer notifications until the child behind pidfd exits. */
static int supervise(int notify_fd, int pidfd, struct rf_err *err)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	struct seccomp_notif_sizes sz;
	int r = seccomp_notify_alloc(&req, &resp);
	if (r)
		return rf_err_errno(err, -r, "seccomp_notify_alloc");
	/* the kernel's sizes may exceed the header's: seccomp_notify_alloc used them */
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz)) {
		r = rf_err_errno(err, errno, "seccomp(SECCOMP_GET_NOTIF_SIZES)");
		goto out;
	}
	struct pollfd p[2] = {{.fd = notify_fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = rf_err_errno(err, errno, "poll");
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN) {
			r = handle_one(notify_fd, req, resp, &sz);
			if (r) {
				rf_err_errno(err, -r, "seccomp notification");
				break;
			}
		} else if (p[0].revents) {
			p[0].fd = -1; /* no process uses the filter any more: wait for the exit */
		}
	}
out:
	seccomp_notify_free(req, resp);
	return r;
}

int icpt_run(char *const argv[], int *status, struct rf_err *err)
{
	int sv[2] = {-1, -1}, notify_fd = -1, pidfd = -1, r = 0, ws = 0;
	struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward_signal};
	struct sigaction old_int, old_quit, old_term, old_hup;
	pid_t pid = -1;
	*status = 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return rf_err_errno(err, errno, "socketpair");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = rf_err_errno(err, errno, "fork");
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], argv);
	}
	close(sv[1]);
	sv[1] = -1;
	child_pid = pid;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &fwd, &old_term);
	sigaction(SIGHUP, &fwd, &old_hup);

	struct child_msg m;
	int got = recv_msg(sv[0], &m, &notify_fd);
	if (got <= 0 || m.err || notify_fd < 0) {
		int e = got < 0 ? -got : got == 0 || !m.err ? EPROTO : m.err;
		r = rf_err_errno(err, e, "seccomp user notification (%s)",
				 got > 0 ? m.what : "no notify fd from the child");
		goto reap;
	}
	int fd_extra;
	got = recv_msg(sv[0], &m, &fd_extra);
	if (fd_extra >= 0)
		close(fd_extra);
	if (got > 0) {
		r = rf_err_set(err, m.err, "%s: %s", argv[0],
			       m.err == ENOENT ? "command not found" : strerror(m.err));
		*status = m.err == ENOENT ? 127 : 126;
		goto reap;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		r = rf_err_errno(err, errno, "pidfd_open");
		kill(pid, SIGKILL);
		goto reap;
	}
	r = supervise(notify_fd, pidfd, err);
	if (r)
		kill(pid, SIGKILL); /* unanswered, its mknod calls would wait forever */
reap:
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (!r)
		*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
out:
	if (pidfd >= 0)
		close(pidfd);
	if (notify_fd >= 0)
		close(notify_fd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return r;
}
