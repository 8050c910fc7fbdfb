/* Fuzz target for the ld.so.cache reader (overlay/sources/ldcache.c): any bytes must give a
 * cache whose lookups stay inside the file, or a one-line error; never a crash or a leak.
 * The input goes through a memfd because the reader maps a file, as ld.so does. */
#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("ldcache", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct host_ldcache *c = NULL;
	struct rf_err err = {0};
	if (host_ldcache_load(path, &c, &err) == 0) {
		static const char *const names[] = {"libc.so.6", "libq.so.1", "libr.so.2",
						    "libold.so"};
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const char *p = host_ldcache_lookup(c, names[i], ELFCLASS64, EM_X86_64);
			if (p && strlen(p) > size)
				__builtin_trap();
			host_ldcache_lookup(c, names[i], ELFCLASS32, EM_386);
		}
		host_ldcache_free(c);
	} else if (!err.code || !err.msg[0] || strchr(err.msg, '\n')) {
		__builtin_trap();
	}
	close(fd);
	return 0;
}
