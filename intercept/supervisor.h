/* `rootfs-fuse shell`: run a command whose mknod(2)/mknodat(2) of character and block devices
 * work inside rootfs-fuse mounts for an ordinary user, through a seccomp user-notification
 * supervisor (seccomp_unotify(2), seccomp_notify_alloc(3) of libseccomp, mknod(2)). */
#ifndef RF_SUPERVISOR_H
#define RF_SUPERVISOR_H

#include "err.h"

/* Run argv (NULL-terminated, borrowed; argv[0] is looked up in PATH as execvp(3) does) in a
 * child that sets PR_SET_NO_NEW_PRIVS, loads a filter sending mknod/mknodat of S_IFCHR and
 * S_IFBLK modes to this process (SCMP_ACT_NOTIFY; everything else, and other ABIs such as
 * i386, SCMP_ACT_ALLOW), passes the notify fd back over a socketpair (SCM_RIGHTS) and execs.
 * This process answers each notification until the child exits (the child's descendants
 * inherit the filter and are answered too while the child lives): the path is read from the
 * caller's memory (process_vm_readv(2), at most PATH_MAX bytes: EFAULT, ENAMETOOLONG), its
 * start is the caller's /proc/PID/cwd, /proc/PID/fd/N or /proc/PID/root, its parent is opened
 * following symlinks as the kernel does, and seccomp_notify_id_valid(3) guards against PID
 * reuse before anything is made. A parent inside a rootfs-fuse mount (xmknod.h) gets the node
 * through the mount's xattr, mode masked by the caller's umask (/proc/PID/status), with
 * mknod(2)'s errors (EEXIST, ENOENT for a missing name with a trailing slash, ENAMETOOLONG);
 * anything else is answered SECCOMP_USER_NOTIF_FLAG_CONTINUE, so the kernel decides as if
 * there were no supervisor (EPERM for an ordinary user, a real node for root).
 * SIGINT and SIGQUIT are ignored meanwhile (the terminal sends them to the child too, as
 * system(3) does); SIGTERM and SIGHUP are forwarded to the child.
 * Returns 0 with *status the child's exit status as a shell reports it (its exit code, or
 * 128 + the signal that killed it). Returns a negative errno with err filled when the command
 * could not be run; *status is then written too, with what a shell exits with: 127 when
 * argv[0] was not found (-ENOENT), 126 when it cannot be executed (-EACCES, -ENOEXEC...),
 * 1 when the supervisor itself failed (-ENOSYS or -EOPNOTSUPP: no seccomp user notification
 * in this kernel or libseccomp; fork, socketpair, pidfd_open errors). */
int icpt_run(char *const argv[], int *status, struct rf_err *err);

#endif
