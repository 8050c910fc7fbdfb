/* One libisofs initialization per process: see isofs.h. iso_init() and iso_finish() are not
 * reference counted (libisofs.h), so exactly one of each, whoever uses the library first. */
#include "isofs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* struct burn_source is declared by libisofs.h only for programs without libburn */
#define LIBISOFS_WITHOUT_LIBBURN yes
#include <libisofs/libisofs.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;

static void finish_libisofs(void)
{
	iso_finish();
}

static void init_libisofs(void)
{
	int r = iso_init();
	if (r < 0) {
		init_result = r;
		return;
	}
	/* the library never prints: messages are read back with iso_error_to_msg */
	iso_set_msgs_severities("NEVER", "NEVER", "rootfs-fuse");
	/* guest names are UTF-8 whatever the caller's locale is (Joliet converts from it; an
	 * imported Rock Ridge name keeps its bytes) */
	iso_set_local_charset("UTF-8", 0);
	atexit(finish_libisofs);
}

int rf_isofs_init(void)
{
	pthread_once(&init_once, init_libisofs);
	return init_result;
}
