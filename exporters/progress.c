/* Progress line for exports: see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_DELAY_NS 1000000000ull
#define PROGRESS_PERIOD_NS 200000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void draw(struct exp_progress *p, uint64_t now)
{
	double secs = (double)(now - p->start_ns) / 1e9;
	double mib = (double)p->bytes / (1024.0 * 1024.0);
	fprintf(stderr, "\r%s: %llu files, %.1f MiB, %.1f MiB/s   ", p->label,
		(unsigned long long)p->files, mib, secs > 0 ? mib / secs : 0.0);
	fflush(stderr);
	p->has_shown = true;
	p->last_ns = now;
}

void exp_progress_begin(struct exp_progress *p, const char *label, bool quiet)
{
	*p = (struct exp_progress){.label = label};
	p->is_enabled = !quiet && isatty(STDERR_FILENO);
	p->start_ns = p->last_ns = now_ns();
}

void exp_progress_add(struct exp_progress *p, uint64_t size_bytes)
{
	p->files++;
	p->bytes += size_bytes;
	if (!p->is_enabled || (p->files & 63))
		return;
	uint64_t now = now_ns();
	if (now - p->start_ns >= PROGRESS_DELAY_NS && now - p->last_ns >= PROGRESS_PERIOD_NS)
		draw(p, now);
}

void exp_progress_end(struct exp_progress *p)
{
	if (!p->is_enabled || !p->has_shown)
		return;
	draw(p, now_ns());
	fputc('\n', stderr);
}
