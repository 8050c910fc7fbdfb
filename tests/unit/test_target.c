/* Unit tests of the target helpers (exporters/target.c): kernel classification from the x86
 * boot header and ELF notes, Cloud Hypervisor's qcow2 header limits, the guest command line
 * and sh quoting. Fixtures are bytes written to a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "target.h"
#include "testutil.h"

static char *write_bytes(const char *dir, const char *name, const void *buf, size_t len)
{
	char *p = tu_path(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	return p;
}

static enum target_kernel_kind kind_of(const char *path)
{
	enum target_kernel_kind k = TARGET_KERNEL_NONE;
	struct rf_err err = {0};
	assert_int_equal(target_kernel_kind(path, &k, &err), 0);
	return k;
}

static void test_bzimage_header(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	unsigned char img[0x400] = {0};
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	char *p = write_bytes(dir, "bz", img, sizeof(img));
	assert_int_equal(kind_of(p), TARGET_KERNEL_BZIMAGE);
	free(p);
	/* the magic without the boot sector signature is not a bzImage */
	img[0x1fe] = 0;
	p = write_bytes(dir, "nosig", img, sizeof(img));
	assert_int_equal(kind_of(p), TARGET_KERNEL_OTHER);
	free(p);
	/* shorter than the header */
	p = write_bytes(dir, "short", "HdrS", 4);
	assert_int_equal(kind_of(p), TARGET_KERNEL_OTHER);
	free(p);
	tu_rmtree(dir);
}

static void test_kernel_missing(void **state)
{
	(void)state;
	enum target_kernel_kind k = TARGET_KERNEL_NONE;
	struct rf_err err = {0};
	assert_int_equal(target_kernel_kind("/nonexistent/vmlinuz", &k, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/vmlinuz"));
}

/* An ELF host binary has notes (GNU build id, ABI tag) but no "Xen" note. */
static void test_elf_without_xen_notes(void **state)
{
	(void)state;
	assert_int_equal(kind_of("/bin/sh"), TARGET_KERNEL_ELF);
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static char *qcow2_header(const char *dir, const char *name, uint32_t version, uint64_t incompat)
{
	unsigned char h[104] = {0};
	memcpy(h, "QFI\xfb", 4);
	put_be32(h + 4, version);
	put_be32(h + 72, (uint32_t)(incompat >> 32));
	put_be32(h + 76, (uint32_t)incompat);
	return write_bytes(dir, name, h, version >= 3 ? sizeof(h) : 72);
}

static void test_qcow2_limits(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	struct rf_err err = {0};
	char *p = qcow2_header(dir, "plain.qcow2", 3, 0);
	assert_int_equal(target_qcow2_check(p, &err), 0);
	free(p);
	p = qcow2_header(dir, "v2.qcow2", 2, 0);
	assert_int_equal(target_qcow2_check(p, &err), 0);
	free(p);
	p = qcow2_header(dir, "dirty.qcow2", 3, 1); /* the dirty bit is fine */
	assert_int_equal(target_qcow2_check(p, &err), 0);
	free(p);

	p = qcow2_header(dir, "extl2.qcow2", 3, 1u << 4);
	assert_int_equal(target_qcow2_check(p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "extended L2 entries"));
	assert_non_null(strstr(err.msg, "extl2.qcow2"));
	free(p);
	rf_err_clear(&err);
	p = qcow2_header(dir, "datafile.qcow2", 3, 1u << 2);
	assert_int_equal(target_qcow2_check(p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "external data file"));
	free(p);
	rf_err_clear(&err);
	p = write_bytes(dir, "raw.img", "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(target_qcow2_check(p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a qcow2 image"));
	free(p);
	tu_rmtree(dir);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 8192);
	assert_non_null(buf);
	size_t n = fread(buf, 1, 8191, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static char *launch_file(const char *out, const char *suffix)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s%s", out, suffix) > 0);
	char *text = slurp(p);
	free(p);
	return text;
}

/* Root-disk exports (ext4 raw, qcow2): the disk bus and backend each monitor needs. The
 * export itself is stood in for by a file with a qcow2 header or raw bytes. */
static void test_disk_launch_files(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	struct rf_err err = {0};
	char *qcow2 = qcow2_header(dir, "d.qcow2", 3, 0);
	char *ext4 = write_bytes(dir, "d.ext4", "\0\0\0\0", 4);
	struct target_launch l = {.format = "qcow2",
				  .out_path = qcow2,
				  .kernel = "/k/bzImage",
				  .kernel_kind = TARGET_KERNEL_BZIMAGE};

	assert_int_equal(target_find("xen")->check(&l, &err), 0);
	assert_int_equal(target_find("xen")->write(&l, &err), 0);
	char *t = launch_file(qcow2, ".xl.cfg");
	char *want = NULL;
	assert_true(asprintf(&want,
			     "disk = [ \"format=qcow2, vdev=xvda, access=rw, "
			     "backendtype=qdisk, target=%s\" ]",
			     qcow2) > 0);
	assert_non_null(strstr(t, want));
	assert_non_null(strstr(t, "extra = \"console=hvc0 root=/dev/xvda rw panic=-1\""));
	assert_null(strstr(t, "ramdisk"));
	free(want);
	free(t);

	assert_int_equal(target_find("cloud-hypervisor")->write(&l, &err), 0);
	t = launch_file(qcow2, ".ch.sh");
	assert_non_null(strstr(t, "--disk \"path=$here/\"'d.qcow2'\",image_type=qcow2\""));
	assert_non_null(strstr(t, "--cmdline 'console=hvc0 root=/dev/vda rw panic=-1'"));
	free(t);

	assert_int_equal(target_find("qemu")->write(&l, &err), 0);
	t = launch_file(qcow2, ".qemu.sh");
	assert_non_null(strstr(t, "-drive \"file=$here/\"'d.qcow2'\",format=qcow2,if=virtio\""));
	free(t);
	/* akaros's vmrunkernel takes raw disks only */
	l.kernel_kind = TARGET_KERNEL_ELF;
	assert_int_equal(target_find("akaros")->check(&l, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not qcow2"));
	rf_err_clear(&err);

	l.format = "ext4";
	l.out_path = ext4;
	assert_int_equal(target_find("akaros")->check(&l, &err), 0);
	assert_int_equal(target_find("akaros")->write(&l, &err), 0);
	t = launch_file(ext4, ".akaros.sh");
	assert_non_null(strstr(t, "-f \"$here\"/'d.ext4'"));
	assert_null(strstr(t, " -i "));
	free(t);
	t = launch_file(ext4, ".akaros.cmdline");
	assert_string_equal(t, "console=hvc0\nroot=/dev/vda\nrw\npanic=-1\nlapic=notscdeadline\n");
	free(t);

	l.kernel_kind = TARGET_KERNEL_ELF_PVH;
	assert_int_equal(target_find("xen")->write(&l, &err), 0);
	t = launch_file(ext4, ".xl.cfg");
	assert_non_null(strstr(t, "format=raw, vdev=xvda, access=rw, backendtype=phy, target="));
	assert_non_null(strstr(t, "type = \"pvh\""));
	free(t);
	assert_int_equal(target_find("cloud-hypervisor")->write(&l, &err), 0);
	t = launch_file(ext4, ".ch.sh");
	assert_non_null(strstr(t, ",image_type=raw\""));
	free(t);

	/* a qcow2 image Cloud Hypervisor cannot open gets no launch file */
	char *extl2 = qcow2_header(dir, "x.qcow2", 3, 1u << 4);
	l.format = "qcow2";
	l.out_path = extl2;
	assert_int_equal(target_find("cloud-hypervisor")->write(&l, &err), -EINVAL);
	char *ch = NULL;
	assert_true(asprintf(&ch, "%s.ch.sh", extl2) > 0);
	assert_int_equal(access(ch, F_OK), -1);
	free(ch);
	free(extl2);
	free(qcow2);
	free(ext4);
	tu_rmtree(dir);
}

static void test_cmdline(void **state)
{
	(void)state;
	struct target_launch l = {.out_path = "x.cpio.gz", .format = "cpio", .append = "quiet"};
	char *s = target_cmdline(&l, "ttyS0", "/dev/vda");
	assert_string_equal(s, "console=ttyS0 panic=-1 quiet");
	free(s);
	l.format = "ext4";
	l.append = NULL;
	s = target_cmdline(&l, "hvc0", "/dev/xvda");
	assert_string_equal(s, "console=hvc0 root=/dev/xvda rw panic=-1");
	free(s);
}

static void test_sh_quote(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	target_sh_quote(f, "it's $HOME");
	fclose(f);
	assert_string_equal(buf, "'it'\\''s $HOME'");
	free(buf);
}

static void test_registry(void **state)
{
	(void)state;
	assert_string_equal(target_find("qemu")->console, "ttyS0");
	assert_string_equal(target_find("cloud-hypervisor")->console, "hvc0");
	assert_string_equal(target_find("akaros")->console, "hvc0");
	assert_string_equal(target_find("xen")->console, "hvc0");
	assert_null(target_find("vbox"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bzimage_header),
	    cmocka_unit_test(test_kernel_missing),
	    cmocka_unit_test(test_elf_without_xen_notes),
	    cmocka_unit_test(test_qcow2_limits),
	    cmocka_unit_test(test_disk_launch_files),
	    cmocka_unit_test(test_cmdline),
	    cmocka_unit_test(test_sh_quote),
	    cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
