/* rootfs-fuse boot: export the view to a temporary initramfs and boot it with
 * qemu-system-x86_64 (TCG unless --kvm), the serial console on this terminal. The exit status
 * is the guest's outcome: 0 when it powers off, 1 when its kernel panics (e.g. /init exits),
 * N when it writes N (1..127) to the isa-debug-exit port 0xf4, 124 on --timeout, 125 when qemu
 * itself fails. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bootdisk.h"
#include "args.h"
#include "commands.h"
#include "exporter.h"
#include "expopts.h"
#include "opts.h"
#include "view.h"

#define PANIC_MARKER "Kernel panic - not syncing"
#define MAX_QEMU_ARGS 64

struct boot_opts {
	const char *kernel;
	const char *append;
	const char *qemu;
	unsigned memory_mib;
	bool use_kvm;
	unsigned timeout_s;
	const char *format; /* "cpio" (-kernel/-initrd), "iso" (-cdrom, isolinux), "ext4" or
			     * "qcow2" (a virtio root disk behind a helper initramfs) */
	const char *extra[MAX_QEMU_ARGS];
	int n_extra;
};

static void help(void)
{
	printf("usage: rootfs-fuse boot [SPEC] [LAYER FLAGS] [--kernel BZIMAGE] [OPTIONS] "
	       "[-- QEMU ARGS]\n\n"
	       "Export the view to a temporary initramfs and boot it under qemu-system-x86_64\n"
	       "with the serial console on this terminal (Ctrl-A X quits qemu).\n\n"
	       "  --kernel BZIMAGE   the kernel (default: the newest /boot/vmlinuz-*)\n"
	       "  --append ARGS      more kernel command line (after console=ttyS0 panic=-1)\n"
	       "  --qemu PATH        the qemu binary (default: qemu-system-x86_64)\n"
	       "  --memory MIB       guest memory (default 512)\n"
	       "  --kvm              use KVM instead of TCG\n"
	       "  --timeout SEC      stop the guest after SEC seconds (exit status 124)\n"
	       "  --format FMT       cpio (default: -kernel/-initrd), iso (a bootable ISO\n"
	       "                     on -cdrom: isolinux loads the kernel and the view), ext4\n"
	       "                     or qcow2 (the view as the virtio root disk /dev/vda; a\n"
	       "                     small initramfs of the view's busybox loads the view's\n"
	       "                     modules for it and switches root)\n");
	cli_print_export_options();
	printf("\n"
	       "Exit status: 0 when the guest powers off, 1 when its kernel panics (/init\n"
	       "exited), N when the guest writes the byte N to I/O port 0xf4 (isa-debug-exit):\n"
	       "  printf '\\003' | dd of=/dev/port bs=1 seek=244 count=1   # exit status 3\n"
	       "124 on timeout, 125 when qemu fails to start.\n\n");
	cli_print_layer_flags();
}

static int vercmp(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static char *default_kernel(void)
{
	glob_t g;
	if (glob("/boot/vmlinuz-*", 0, NULL, &g) || !g.gl_pathc)
		return NULL;
	qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), vercmp);
	char *k = strdup(g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	return k;
}

/* Copy the guest console from fd to stdout, watching for a kernel panic. Returns 1 when a
 * panic was seen, -1 on timeout, 0 otherwise. */
static int relay_console(int fd, pid_t pid, unsigned timeout_s)
{
	char tail[sizeof(PANIC_MARKER) * 2] = "";
	char buf[4096];
	int panicked = 0;
	time_t deadline = timeout_s ? time(NULL) + timeout_s : 0;
	for (;;) {
		int wait_ms = -1;
		if (deadline) {
			time_t now = time(NULL);
			if (now >= deadline) {
				kill(pid, SIGKILL);
				return -1;
			}
			wait_ms = (int)(deadline - now) * 1000;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, wait_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return panicked;
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
		/* search the new bytes together with the end of the previous chunk */
		size_t tl = strlen(tail);
		char scan[sizeof(tail) + sizeof(buf) + 1];
		memcpy(scan, tail, tl);
		memcpy(scan + tl, buf, (size_t)n);
		scan[tl + (size_t)n] = '\0';
		for (size_t i = 0; i < tl + (size_t)n; i++)
			if (!scan[i])
				scan[i] = ' ';
		if (strstr(scan, PANIC_MARKER))
			panicked = 1;
		size_t keep = sizeof(PANIC_MARKER);
		size_t sl = tl + (size_t)n;
		size_t from = sl > keep ? sl - keep : 0;
		memcpy(tail, scan + from, sl - from);
		tail[sl - from] = '\0';
	}
}

static bool is_disk(const char *format)
{
	return !strcmp(format, "ext4") || !strcmp(format, "qcow2");
}

/* disk: the root disk image (ext4/qcow2 formats), NULL otherwise */
static int run_qemu(const struct boot_opts *b, const char *initrd, const char *disk)
{
	char append[4096], drive[PATH_MAX + 64];
	snprintf(append, sizeof(append), "console=ttyS0 panic=-1%s%s%s",
		 disk ? " root=/dev/vda rootfstype=ext4" : "", b->append ? " " : "",
		 b->append ? b->append : "");
	char mem[32];
	snprintf(mem, sizeof(mem), "%u", b->memory_mib);
	const char *args[32 + MAX_QEMU_ARGS];
	int n = 0;
	args[n++] = b->qemu;
	args[n++] = "-nographic";
	args[n++] = "-no-reboot";
	args[n++] = "-m";
	args[n++] = mem;
	args[n++] = "-accel";
	args[n++] = b->use_kvm ? "kvm" : "tcg";
	if (!strcmp(b->format, "iso")) {
		/* isolinux loads the kernel; the command line is in its isolinux.cfg */
		args[n++] = "-cdrom";
		args[n++] = initrd;
	} else {
		args[n++] = "-kernel";
		args[n++] = b->kernel;
		args[n++] = "-initrd";
		args[n++] = initrd;
		args[n++] = "-append";
		args[n++] = append;
	}
	if (disk) {
		/* qemu refuses a comma in a -drive file name unless doubled; mkdtemp's don't */
		snprintf(drive, sizeof(drive), "file=%s,if=virtio,format=%s", disk,
			 !strcmp(b->format, "qcow2") ? "qcow2" : "raw");
		args[n++] = "-drive";
		args[n++] = drive;
	}
	args[n++] = "-device";
	args[n++] = "isa-debug-exit,iobase=0xf4,iosize=0x04";
	for (int i = 0; i < b->n_extra; i++)
		args[n++] = b->extra[i];
	args[n] = NULL;

	int pfd[2];
	if (pipe(pfd)) {
		perror("rootfs-fuse: pipe");
		return 125;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("rootfs-fuse: fork");
		return 125;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execvp(b->qemu, (char *const *)args);
		fprintf(stderr, "rootfs-fuse: %s: %s\n", b->qemu, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	int seen = relay_console(pfd[0], pid, b->timeout_s);
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (seen < 0) {
		fprintf(stderr, "rootfs-fuse: the guest did not finish within %u s\n", b->timeout_s);
		return 124;
	}
	if (!WIFEXITED(status)) {
		fprintf(stderr, "rootfs-fuse: %s was killed by signal %d\n", b->qemu,
			WTERMSIG(status));
		return 125;
	}
	int code = WEXITSTATUS(status);
	if (code == 0) {
		if (seen) {
			fprintf(stderr, "rootfs-fuse: the guest kernel panicked\n");
			return 1;
		}
		return 0;
	}
	if (code & 1 && code >= 3)
		return code >> 1; /* isa-debug-exit: (value << 1) | 1 */
	fprintf(stderr, "rootfs-fuse: %s failed (exit status %d)\n", b->qemu, code);
	return 125;
}

int cmd_boot(int argc, char **argv)
{
	struct cli_layers cl = {0};
	struct rf_err err = {0};
	struct boot_opts b = {.qemu = "qemu-system-x86_64", .memory_mib = 512, .format = "cpio"};
	struct exp_options o = {.level = -1, .compress = "gzip", .format = "cpio"};
	char *kernel = NULL, *cache_dir = NULL;
	int status = 0;
	const struct cli_opt opts[] = {
	    CLI_OPT("--kernel", NULL, CLI_OPT_STRING, &b.kernel),
	    CLI_OPT("--append", NULL, CLI_OPT_STRING, &b.append),
	    CLI_OPT("--qemu", NULL, CLI_OPT_STRING, &b.qemu),
	    CLI_OPT("--memory", NULL, CLI_OPT_UNSIGNED, &b.memory_mib),
	    CLI_OPT("--timeout", NULL, CLI_OPT_UNSIGNED, &b.timeout_s),
	    CLI_OPT("--format", NULL, CLI_OPT_STRING, &b.format),
	    CLI_OPT("--kvm", NULL, CLI_OPT_SET, &b.use_kvm),
	    {0},
	};
	struct cli_args args = {.cmd = "boot",
				.opts = opts,
				.layers = &cl,
				.exp = &o,
				.pos = &cl.spec_path,
				.max_pos = 1,
				.has_rest = true,
				.help = help};
	if ((status = cli_args_parse(&args, argc, argv))) {
		status = status == CLI_ARGS_HELP ? 0 : status;
		goto out;
	}
	/* the words after `--` go to qemu as they are */
	for (int i = 0; i < args.n_rest && b.n_extra < MAX_QEMU_ARGS; i++)
		b.extra[b.n_extra++] = args.rest[i];
	if (!cl.spec_path && !cl.has_layers) {
		status = cli_usage_error("boot: give a SPEC or layer flags (see boot --help)");
		goto out;
	}
	if (b.format && strcmp(b.format, "cpio") && strcmp(b.format, "iso") && !is_disk(b.format)) {
		status = cli_usage_error("boot: --format takes cpio, iso, ext4 or qcow2, not '%s'",
					 b.format);
		goto out;
	}
	if (!b.memory_mib) {
		status = cli_usage_error("boot: --memory needs a positive number of MiB");
		goto out;
	}
	if (!b.kernel) {
		b.kernel = kernel = default_kernel();
		if (!b.kernel) {
			status = cli_usage_error("boot: no /boot/vmlinuz-* found; give --kernel");
			goto out;
		}
	}
	if (access(b.kernel, R_OK)) {
		fprintf(stderr, "rootfs-fuse: %s: %s\n", b.kernel, strerror(errno));
		status = 1;
		goto out;
	}
	long long epoch;
	if (cli_source_date_epoch(&epoch) > 0) {
		o.has_epoch = true;
		o.epoch = epoch;
	}
	if (cli_export_cache(&cl, &o, &cache_dir)) {
		status = cli_usage_error("out of memory");
		goto out;
	}
	struct ovl_view *v = NULL;
	if (cli_build_view(&cl, &v, &err)) {
		status = cli_fail(&err);
		goto out;
	}
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX], initrd[PATH_MAX + 32], disk[PATH_MAX + 32];
	snprintf(dir, sizeof(dir), "%s/rootfs-fuse-boot.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "rootfs-fuse: %s: %s\n", dir, strerror(errno));
		ovl_view_free(v);
		status = 1;
		goto out;
	}
	char iso_append[4096];
	if (!strcmp(b.format, "iso")) {
		/* the ISO carries the view's kernel and initramfs; console=ttyS0 comes first in
		 * its isolinux.cfg */
		snprintf(iso_append, sizeof(iso_append), "panic=-1%s%s", b.append ? " " : "",
			 b.append ? b.append : "");
		o.format = "iso";
		o.compress = NULL;
		o.kernel = b.kernel;
		o.append = iso_append;
	}
	snprintf(initrd, sizeof(initrd), "%s/%s", dir,
		 !strcmp(b.format, "iso") ? "boot.iso" : "initramfs.cpio");
	snprintf(disk, sizeof(disk), "%s/root.%s", dir, b.format);
	int r;
	if (is_disk(b.format)) {
		/* the helper initramfs first: it fails fast on a view that cannot reach its disk */
		r = bootdisk_initrd(v, b.kernel, initrd, &o, &err);
		if (!r) {
			o.format = b.format;
			o.compress = NULL;
			r = exp_export_file(v, disk, &o, &err);
		}
	} else {
		r = exp_export_file(v, initrd, &o, &err);
	}
	ovl_view_free(v);
	if (r)
		status = cli_fail(&err);
	else
		status = run_qemu(&b, initrd, is_disk(b.format) ? disk : NULL);
	unlink(initrd);
	unlink(disk);
	rmdir(dir);
out:
	free(cache_dir);
	free(kernel);
	cli_layers_free(&cl);
	return status;
}
