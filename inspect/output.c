/* Text and JSON outputs of du: see output.h. The text form follows du(1) -h units and ncdu's
 * largest-first order; both forms share the depth/top pruning so scripts see what humans see. */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *du_human(uint64_t bytes, bool is_bytes, char buf[32])
{
	static const char units[] = "KMGTPE";
	if (is_bytes || bytes < 1024) {
		snprintf(buf, 32, "%" PRIu64, bytes);
		return buf;
	}
	double v = (double)bytes;
	int u = -1;
	while (v >= 1023.5 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 32, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 when invalid. */
static int utf8_len(const unsigned char *p)
{
	int n = *p >= 0xf0 && *p <= 0xf4 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 && *p < 0xe0 ? 2 : 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void du_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80) {
			int n = utf8_len(p);
			if (n) {
				fwrite(p, 1, (size_t)n, f);
				p += n - 1;
			} else {
				fprintf(f, "\\u%04x", *p); /* not UTF-8: the byte as Latin-1 */
			}
		} else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static const char *type_name(enum du_type t)
{
	switch (t) {
	case DU_DIR:
		return "dir";
	case DU_GROUP:
		return "group";
	case DU_META:
		return "meta";
	default:
		return "file";
	}
}

/* The children shown under n: all, or the top o->top; *rest gets the sum of the others. */
static size_t shown(const struct du_node *n, const struct du_print_opts *o, uint64_t *rest_size,
		    uint64_t *rest_comp, uint64_t *rest_entries)
{
	size_t k = n->n_children;
	if (o->top && k > o->top)
		k = o->top;
	*rest_size = *rest_comp = *rest_entries = 0;
	for (size_t i = k; i < n->n_children; i++) {
		*rest_size += n->children[i]->size_bytes;
		*rest_comp += n->children[i]->compressed_bytes;
		*rest_entries += n->children[i]->n_entries;
	}
	return k;
}

static void text_row(FILE *f, const struct du_tree *t, const struct du_print_opts *o, uint64_t size,
		     uint64_t comp, int depth, const char *label)
{
	char a[32], b[32];
	fprintf(f, "%10s", du_human(size, o->is_bytes, a));
	if (t->has_compressed)
		fprintf(f, "  %10s", du_human(comp, o->is_bytes, b));
	fprintf(f, "  %*s%s\n", 2 * depth, "", label);
}

static int text_node(FILE *f, const struct du_tree *t, const struct du_node *n,
		     const struct du_print_opts *o, int depth)
{
	char *path = du_node_path(n);
	if (!path)
		return -ENOMEM;
	size_t plen = strlen(path);
	bool slash = (n->type == DU_DIR || n->type == DU_GROUP) && n->parent && plen &&
		     path[plen - 1] != '/';
	char *label = malloc(plen + 2);
	if (!label) {
		free(path);
		return -ENOMEM;
	}
	snprintf(label, plen + 2, "%s%s", path, slash ? "/" : "");
	text_row(f, t, o, n->size_bytes, n->compressed_bytes, depth, label);
	free(label);
	free(path);
	if (o->max_depth >= 0 && depth >= o->max_depth)
		return 0;
	uint64_t rs, rc, re;
	size_t k = shown(n, o, &rs, &rc, &re);
	for (size_t i = 0; i < k; i++) {
		int r = text_node(f, t, n->children[i], o, depth + 1);
		if (r)
			return r;
	}
	if (k < n->n_children) {
		char more[64];
		snprintf(more, sizeof(more), "(%zu more)", n->n_children - k);
		text_row(f, t, o, rs, rc, depth + 1, more);
	}
	return 0;
}

int du_print_text(FILE *f, const struct du_tree *t, const struct du_print_opts *o)
{
	char a[32], b[32], c[32];
	fprintf(f, "%10s", "apparent");
	bool is_iso = !strcmp(t->kind, "iso");
	if (t->has_compressed) /* for an ISO: the image bytes an entry's extents take */
		fprintf(f, "  %10s", is_iso ? "in image" : "compressed");
	fprintf(f, "  path\n");
	int r = text_node(f, t, t->root, o, 0);
	if (r)
		return r;
	if (!strcmp(t->kind, "cpio")) {
		uint64_t meta = 0;
		for (size_t i = 0; i < t->root->n_children; i++)
			if (t->root->children[i]->type == DU_META)
				meta += t->root->children[i]->size_bytes;
		fprintf(f,
			"total: %s bytes of cpio stream (%s in entries, %s headers and padding), "
			"%s bytes of file, %zu segment%s:",
			du_human(t->stream_bytes, true, a),
			du_human(t->stream_bytes - meta, true, b), du_human(meta, true, c),
			du_human(t->file_bytes, true, (char[32]){0}), t->n_segments,
			t->n_segments == 1 ? "" : "s");
		for (size_t i = 0; i < t->n_segments; i++)
			fprintf(f, " %s@%" PRIu64, t->segments[i].compression,
				t->segments[i].offset);
		fputc('\n', f);
	} else if (is_iso && t->has_compressed) {
		uint64_t meta = 0;
		for (size_t i = 0; i < t->root->n_children; i++)
			if (t->root->children[i]->type == DU_META)
				meta += t->root->children[i]->compressed_bytes;
		fprintf(f,
			"total: %s bytes in %" PRIu64
			" entries, %s bytes of image (%s in file extents, %s metadata and "
			"padding)\n",
			du_human(t->root->size_bytes - meta, true, a), t->root->n_entries,
			du_human(t->file_bytes, true, b), du_human(t->file_bytes - meta, true, c),
			du_human(meta, true, (char[32]){0}));
	} else {
		fprintf(f, "total: %s bytes in %" PRIu64 " entries\n",
			du_human(t->root->size_bytes, true, a), t->root->n_entries);
	}
	return ferror(f) ? -EIO : 0;
}

static int json_node(FILE *f, const struct du_tree *t, const struct du_node *n,
		     const struct du_print_opts *o, int depth)
{
	char *path = du_node_path(n);
	if (!path)
		return -ENOMEM;
	fputs("{\"name\":", f);
	du_json_string(f, n->name);
	fputs(",\"path\":", f);
	du_json_string(f, path);
	free(path);
	fprintf(f, ",\"type\":\"%s\",\"size\":%" PRIu64, type_name(n->type), n->size_bytes);
	if (t->has_compressed)
		fprintf(f, ",\"compressed\":%" PRIu64, n->compressed_bytes);
	fprintf(f, ",\"entries\":%" PRIu64, n->n_entries);
	if (n->n_children && (o->max_depth < 0 || depth < o->max_depth)) {
		uint64_t rs, rc, re;
		size_t k = shown(n, o, &rs, &rc, &re);
		fputs(",\"children\":[", f);
		for (size_t i = 0; i < k; i++) {
			if (i)
				fputc(',', f);
			int r = json_node(f, t, n->children[i], o, depth + 1);
			if (r)
				return r;
		}
		if (k < n->n_children) {
			fprintf(f,
				",{\"name\":\"(%zu "
				"more)\",\"path\":\"\",\"type\":\"more\",\"size\":%" PRIu64,
				n->n_children - k, rs);
			if (t->has_compressed)
				fprintf(f, ",\"compressed\":%" PRIu64, rc);
			fprintf(f, ",\"entries\":%" PRIu64 "}", re);
		}
		fputc(']', f);
	}
	fputc('}', f);
	return 0;
}

int du_print_json(FILE *f, const struct du_tree *t, const struct du_print_opts *o)
{
	fputs("{\"target\":", f);
	du_json_string(f, t->target);
	fputs(",\"kind\":", f);
	du_json_string(f, t->kind);
	fprintf(f, ",\"has_compressed\":%s,\"file_bytes\":%" PRIu64 ",\"stream_bytes\":%" PRIu64,
		t->has_compressed ? "true" : "false", t->file_bytes, t->stream_bytes);
	fputs(",\"segments\":[", f);
	for (size_t i = 0; i < t->n_segments; i++) {
		const struct du_segment *s = &t->segments[i];
		fprintf(f, "%s{\"compression\":", i ? "," : "");
		du_json_string(f, s->compression);
		fprintf(f,
			",\"offset\":%" PRIu64 ",\"compressed_bytes\":%" PRIu64
			",\"size_bytes\":%" PRIu64 "}",
			s->offset, s->compressed_bytes, s->size_bytes);
	}
	fputc(']', f);
	if (t->partial_error) {
		fputs(",\"partial_error\":", f);
		du_json_string(f, t->partial_error);
	}
	fputs(",\"tree\":", f);
	int r = json_node(f, t, t->root, o, 0);
	if (r)
		return r;
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
