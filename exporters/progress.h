/* A progress line on a terminal for long exports: files and bytes done and the rate, redrawn at
 * most five times a second, shown only when stderr is a terminal, the export has taken longer
 * than a second and the caller did not ask for quiet. */
#ifndef RF_PROGRESS_H
#define RF_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct exp_progress {
	const char *label;   /* the output name, borrowed */
	bool is_enabled;     /* stderr is a terminal and not quiet */
	bool has_shown;      /* a line was drawn: finish it with a newline */
	uint64_t files, bytes;
	uint64_t start_ns, last_ns;
};

/* Start counting for the output label (borrowed until exp_progress_end). */
void exp_progress_begin(struct exp_progress *p, const char *label, bool quiet);

/* Count one more entry of size_bytes content; redraws when due. */
void exp_progress_add(struct exp_progress *p, uint64_t size_bytes);

/* Draw the final line (when one was shown) and end it with a newline. */
void exp_progress_end(struct exp_progress *p);

#endif
