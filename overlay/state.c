/* State directory naming: see state.h. */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int state_default_dir(const char *spec_path, char **out)
{
	size_t len = strlen(spec_path);
	const char *suffix = ".spec";
	size_t sl = strlen(suffix);
	if (len > sl && !strcmp(spec_path + len - sl, suffix) && spec_path[len - sl - 1] != '/')
		len -= sl;
	char *s;
	if (asprintf(&s, "%.*s.state", (int)len, spec_path) < 0)
		return -ENOMEM;
	*out = s;
	return 0;
}

char *state_sub(const char *state_dir, const char *sub)
{
	char *s;
	return asprintf(&s, "%s/%s", state_dir, sub) < 0 ? NULL : s;
}
