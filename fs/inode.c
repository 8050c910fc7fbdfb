/* The inode table and the merged lookup of the FUSE frontend. Records follow libfuse's
 * example/passthrough_ll.c: one per node the kernel knows, the fuse_ino_t is the record's
 * address, every entry reply raises the lookup count and forget lowers it; a record is freed
 * at zero (and when no child record still names it as parent). Lower-only records are found
 * by their ovl_node, upper ones by the host's (st_dev, st_ino), so hard links in the upper
 * layer share a record. Every function here runs under ctx->lock. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "meta.h"

struct fs_ctx *fs_ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct fs_inode *fs_inode(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &fs_ctx(req)->root;
	return (struct fs_inode *)(uintptr_t)ino;
}

static size_t hash_ptr(const void *p, size_t n)
{
	return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 7) & (n - 1);
}

static size_t hash_dev_ino(dev_t d, ino_t i, size_t n)
{
	return (size_t)((((uint64_t)i * 0x9E3779B97F4A7C15ull) ^ (uint64_t)d) >> 5) & (n - 1);
}

int fs_table_init(struct fs_ctx *c)
{
	c->table.n_buckets = 4096;
	c->table.lower_buckets = calloc(c->table.n_buckets, sizeof(struct fs_inode *));
	c->table.upper_buckets = calloc(c->table.n_buckets, sizeof(struct fs_inode *));
	return c->table.lower_buckets && c->table.upper_buckets ? 0 : -ENOMEM;
}

static void unlink_lower(struct fs_ctx *c, struct fs_inode *in)
{
	if (!in->in_lower_hash)
		return;
	struct fs_inode **pp = &c->table.lower_buckets[hash_ptr(in->lower, c->table.n_buckets)];
	while (*pp && *pp != in)
		pp = &(*pp)->next_lower;
	if (*pp)
		*pp = in->next_lower;
	in->in_lower_hash = false;
}

static void unlink_upper(struct fs_ctx *c, struct fs_inode *in)
{
	if (!in->in_upper_hash)
		return;
	struct fs_inode **pp =
	    &c->table.upper_buckets[hash_dev_ino(in->up_dev, in->up_ino, c->table.n_buckets)];
	while (*pp && *pp != in)
		pp = &(*pp)->next_upper;
	if (*pp)
		*pp = in->next_upper;
	in->in_upper_hash = false;
}

static void link_lower(struct fs_ctx *c, struct fs_inode *in)
{
	size_t h = hash_ptr(in->lower, c->table.n_buckets);
	in->next_lower = c->table.lower_buckets[h];
	c->table.lower_buckets[h] = in;
	in->in_lower_hash = true;
}

static void link_upper(struct fs_ctx *c, struct fs_inode *in)
{
	size_t h = hash_dev_ino(in->up_dev, in->up_ino, c->table.n_buckets);
	in->next_upper = c->table.upper_buckets[h];
	c->table.upper_buckets[h] = in;
	in->in_upper_hash = true;
}

/* Keep chains short: double the buckets when records outnumber them. */
static void table_grow(struct fs_ctx *c)
{
	struct fs_table *t = &c->table;
	if (t->n_records < t->n_buckets)
		return;
	size_t n = t->n_buckets * 2;
	struct fs_inode **lb = calloc(n, sizeof(*lb)), **ub = calloc(n, sizeof(*ub));
	if (!lb || !ub) {
		free(lb);
		free(ub);
		return; /* longer chains, still correct */
	}
	for (size_t i = 0; i < t->n_buckets; i++) {
		for (struct fs_inode *in = t->lower_buckets[i], *nx; in; in = nx) {
			nx = in->next_lower;
			size_t h = hash_ptr(in->lower, n);
			in->next_lower = lb[h];
			lb[h] = in;
		}
		for (struct fs_inode *in = t->upper_buckets[i], *nx; in; in = nx) {
			nx = in->next_upper;
			size_t h = hash_dev_ino(in->up_dev, in->up_ino, n);
			in->next_upper = ub[h];
			ub[h] = in;
		}
	}
	free(t->lower_buckets);
	free(t->upper_buckets);
	t->lower_buckets = lb;
	t->upper_buckets = ub;
	t->n_buckets = n;
}

struct fs_inode *fs_find_lower(struct fs_ctx *c, const struct ovl_node *n)
{
	for (struct fs_inode *in = c->table.lower_buckets[hash_ptr(n, c->table.n_buckets)]; in;
	     in = in->next_lower)
		if (in->lower == n)
			return in;
	return NULL;
}

struct fs_inode *fs_find_upper(struct fs_ctx *c, dev_t dev, ino_t ino)
{
	for (struct fs_inode *in =
		 c->table.upper_buckets[hash_dev_ino(dev, ino, c->table.n_buckets)];
	     in; in = in->next_upper)
		if (in->up_ino == ino && in->up_dev == dev)
			return in;
	return NULL;
}

static void list_remove(struct fs_ctx *c, struct fs_inode *in)
{
	if (in->all_prev)
		in->all_prev->all_next = in->all_next;
	else
		c->table.all = in->all_next;
	if (in->all_next)
		in->all_next->all_prev = in->all_prev;
}

static void record_free_chain(struct fs_ctx *c, struct fs_inode *in)
{
	while (in && in != &c->root && !in->nlookup && !in->refs) {
		struct fs_inode *p = in->parent;
		unlink_lower(c, in);
		unlink_upper(c, in);
		if (in->upper_fd >= 0)
			close(in->upper_fd);
		free(in->name);
		list_remove(c, in);
		free(in);
		c->table.n_records--;
		if (!p)
			break;
		p->refs--;
		in = p;
	}
}

static void drop_parent(struct fs_ctx *c, struct fs_inode *in)
{
	struct fs_inode *p = in->parent;
	in->parent = NULL;
	free(in->name);
	in->name = NULL;
	if (p) {
		p->refs--;
		record_free_chain(c, p);
	}
}

void fs_table_free(struct fs_ctx *c)
{
	/* unmounted: the kernel has let go of everything; free what it never forgot */
	for (struct fs_inode *in = c->table.all, *nx; in; in = nx) {
		nx = in->all_next;
		if (in->upper_fd >= 0)
			close(in->upper_fd);
		free(in->name);
		free(in);
	}
	c->table.all = NULL;
	free(c->table.lower_buckets);
	free(c->table.upper_buckets);
	c->table.lower_buckets = c->table.upper_buckets = NULL;
}

const struct ovl_node *fs_lower_dir(const struct fs_inode *dir)
{
	if (!dir->lower || dir->is_opaque || !S_ISDIR(dir->lower->attr.mode))
		return NULL;
	return dir->lower;
}

double fs_timeout(const struct fs_inode *in)
{
	return in->upper_fd >= 0 ? FS_UPPER_TIMEOUT_S : FS_LOWER_TIMEOUT_S;
}

void fs_child_release(struct fs_child *ch)
{
	if (ch->upper_fd >= 0)
		close(ch->upper_fd);
	ch->upper_fd = -1;
}

int fs_child_find(struct fs_ctx *c, struct fs_inode *dir, const char *name, struct fs_child *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->upper_fd = -1;
	if (!S_ISDIR(dir->type))
		return -ENOTDIR;
	if (dir->is_detached)
		return -ENOENT;
	if (upper_name_reserved(dir == &c->root, name))
		return -ENOENT;
	const struct ovl_node *ldir = fs_lower_dir(dir);
	const struct ovl_node *lc = ldir ? ovl_node_child(ldir, name) : NULL;
	ch->lower_shadowed = lc;
	if (dir->upper_fd >= 0) {
		int fd = openat(dir->upper_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			if (fstatat(fd, "", &ch->up_st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
				int e = -errno;
				close(fd);
				return e;
			}
			ch->upper_fd = fd;
			if (lc && S_ISDIR(lc->attr.mode) && S_ISDIR(ch->up_st.st_mode) &&
			    !upper_is_opaque(fd))
				ch->lower = lc;
			return 0;
		}
		if (errno != ENOENT)
			return -errno;
		if (lc && upper_has_whiteout(dir->upper_fd, name))
			return -ENOENT;
	}
	if (!lc)
		return -ENOENT;
	ch->lower = lc;
	return 0;
}

static struct fs_inode *record_new(struct fs_ctx *c)
{
	struct fs_inode *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->upper_fd = -1;
	in->all_next = c->table.all;
	if (in->all_next)
		in->all_next->all_prev = in;
	c->table.all = in;
	c->table.n_records++;
	table_grow(c);
	return in;
}

static void set_upper(struct fs_ctx *c, struct fs_inode *in, int fd, const struct stat *host)
{
	in->upper_fd = fd;
	in->up_dev = host->st_dev;
	in->up_ino = host->st_ino;
	unlink_lower(c, in);
	link_upper(c, in);
}

struct fs_inode *fs_record_new_upper(struct fs_ctx *c, int fd)
{
	struct upper_stat us;
	if (upper_stat(fd, &us)) {
		close(fd);
		return NULL;
	}
	struct fs_inode *old = fs_find_upper(c, us.st.st_dev, us.st.st_ino);
	if (old) /* a stale record of a host inode number reused */
		unlink_upper(c, old);
	struct fs_inode *in = record_new(c);
	if (!in) {
		close(fd);
		return NULL;
	}
	in->type = us.st.st_mode & S_IFMT;
	in->st_ino = (uint64_t)us.st.st_ino + FS_UPPER_INO_BASE;
	in->is_opaque = S_ISDIR(in->type) && upper_is_opaque(fd);
	set_upper(c, in, fd, &us.st);
	return in;
}

struct fs_inode *fs_record(struct fs_ctx *c, struct fs_inode *dir, const char *name,
			   struct fs_child *ch)
{
	struct fs_inode *in;
	if (ch->upper_fd >= 0) {
		in = fs_find_upper(c, ch->up_st.st_dev, ch->up_st.st_ino);
		if (in) {
			fs_child_release(ch);
			return in;
		}
		struct upper_stat us;
		if (upper_stat(ch->upper_fd, &us) || !(in = record_new(c)))
			return NULL;
		in->type = us.st.st_mode & S_IFMT;
		in->lower = ch->lower;
		in->st_ino =
		    ch->lower ? ch->lower->ino : (uint64_t)us.st.st_ino + FS_UPPER_INO_BASE;
		in->is_opaque = S_ISDIR(in->type) && upper_is_opaque(ch->upper_fd);
		set_upper(c, in, ch->upper_fd, &us.st);
		ch->upper_fd = -1;
		return in;
	}
	in = fs_find_lower(c, ch->lower);
	if (in)
		return in;
	if (!(in = record_new(c)))
		return NULL;
	in->name = strdup(name);
	if (!in->name) {
		record_free_chain(c, in);
		return NULL;
	}
	in->lower = ch->lower;
	in->type = ch->lower->attr.mode & S_IFMT;
	in->st_ino = ch->lower->ino;
	in->parent = dir;
	dir->refs++;
	link_lower(c, in);
	return in;
}

int fs_stat(struct fs_ctx *c, struct fs_inode *in, struct stat *st)
{
	(void)c;
	if (in->upper_fd >= 0) {
		struct upper_stat us;
		int r = upper_stat(in->upper_fd, &us);
		if (r)
			return r;
		*st = us.st;
		st->st_ino = in->st_ino;
		return 0;
	}
	const struct ovl_node *n = in->lower;
	memset(st, 0, sizeof(*st));
	st->st_ino = in->st_ino;
	st->st_mode = n->attr.mode;
	st->st_uid = n->attr.uid;
	st->st_gid = n->attr.gid;
	st->st_rdev = makedev(n->attr.rdev_major, n->attr.rdev_minor);
	st->st_size = (off_t)n->attr.size;
	st->st_nlink = n->nlink ? n->nlink : 1;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((n->attr.size + 511) / 512);
	st->st_mtim.tv_sec = st->st_atim.tv_sec = st->st_ctim.tv_sec = n->attr.mtime_sec;
	st->st_mtim.tv_nsec = st->st_atim.tv_nsec = st->st_ctim.tv_nsec = n->attr.mtime_nsec;
	return 0;
}

int fs_entry(struct fs_ctx *c, struct fs_inode *in, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	int r = fs_stat(c, in, &e->attr);
	if (r)
		return r;
	e->ino = in == &c->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
	e->attr_timeout = e->entry_timeout = fs_timeout(in);
	in->nlookup++;
	return 0;
}

int fs_lookup_entry(struct fs_ctx *c, struct fs_inode *dir, const char *name,
		    struct fuse_entry_param *e)
{
	struct fs_child ch;
	int r = fs_child_find(c, dir, name, &ch);
	if (r)
		return r;
	struct fs_inode *in = fs_record(c, dir, name, &ch);
	fs_child_release(&ch);
	if (!in)
		return -ENOMEM;
	r = fs_entry(c, in, e);
	if (r)
		record_free_chain(c, in);
	return r;
}

void fs_forget(struct fs_ctx *c, struct fs_inode *in, uint64_t n)
{
	if (in == &c->root)
		return;
	in->nlookup = in->nlookup > n ? in->nlookup - n : 0;
	record_free_chain(c, in);
}

int fs_copy_up(struct fs_ctx *c, struct fs_inode *in, bool has_data)
{
	if (in->upper_fd >= 0)
		return 0;
	if (in->is_detached || !in->parent)
		return -ESTALE;
	struct fs_inode *p = in->parent;
	int r = fs_copy_up(c, p, false);
	if (r)
		return r;
	int fd = -1;
	struct rf_err err = {0};
	r = upper_copy_up(c->upper, p->upper_fd, in->name, in->lower, has_data, false, &fd, &err);
	if (r == -EEXIST) /* copied up with a directory it lies in: adopt it */
		r = upper_open_path(p->upper_fd, in->name, &fd);
	if (r)
		return r;
	struct stat st;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		r = -errno;
		close(fd);
		return r;
	}
	set_upper(c, in, fd, &st);
	if (!S_ISDIR(in->type))
		in->lower = NULL;
	drop_parent(c, in);
	return 0;
}

int fs_symlink_to_file(struct fs_ctx *c, struct fs_inode *in, const struct ovl_attr *a)
{
	struct upper_stat us;
	int r = upper_stat(in->upper_fd, &us);
	if (r)
		return r;
	if (us.has_override)
		return a ? upper_set_override(in->upper_fd, a) : 0;
	struct ovl_attr cur = {.mode = S_IFLNK | 0777};
	int fd = -1;
	r = upper_store_symlink(c->upper, in->upper_fd, a ? a : &cur, &fd);
	if (r)
		return r;
	struct stat st;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		r = -errno;
		close(fd);
		return r;
	}
	/* the record moves to the new host inode; the guest keeps its inode number */
	unlink_upper(c, in);
	close(in->upper_fd);
	set_upper(c, in, fd, &st);
	return 0;
}

/* Copy up everything of lower directory ldir that the upper directory dfd does not hold or
 * hide; records the kernel knows are moved along. */
static int copy_tree(struct fs_ctx *c, int dfd, const struct ovl_node *ldir, int depth)
{
	if (depth > 4096)
		return -ELOOP;
	for (size_t i = 0; ldir && i < ldir->n_children; i++) {
		const struct ovl_node *lc = ldir->children[i];
		int r = 0, fd = openat(dfd, lc->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct fs_inode *rec = NULL;
		if (fd >= 0) {
			struct stat st;
			if (!fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) &&
			    S_ISDIR(st.st_mode) && S_ISDIR(lc->attr.mode) && !upper_is_opaque(fd)) {
				r = copy_tree(c, fd, lc, depth + 1);
				rec = fs_find_upper(c, st.st_dev, st.st_ino);
			}
		} else if (!upper_has_whiteout(dfd, lc->name)) {
			rec = fs_find_lower(c, lc);
			if (rec) {
				r = fs_copy_up(c, rec, true);
				if (!r && (fd = dup(rec->upper_fd)) < 0)
					r = -errno;
			} else {
				struct rf_err err = {0};
				r = upper_copy_up(c->upper, dfd, lc->name, lc, true, false, &fd,
						  &err);
			}
			if (!r && S_ISDIR(lc->attr.mode))
				r = copy_tree(c, fd, lc, depth + 1);
		}
		if (rec && S_ISDIR(rec->type)) {
			rec->lower = NULL;
			rec->is_opaque = true;
		}
		if (fd >= 0)
			close(fd);
		if (r)
			return r;
	}
	return 0;
}

int fs_copy_up_tree(struct fs_ctx *c, struct fs_inode *in)
{
	int r = fs_copy_up(c, in, false);
	if (r)
		return r;
	r = copy_tree(c, in->upper_fd, fs_lower_dir(in), 0);
	if (!r)
		r = upper_make_opaque(in->upper_fd);
	if (!r) {
		in->lower = NULL;
		in->is_opaque = true;
	}
	return r;
}

void fs_detach(struct fs_ctx *c, struct fs_inode *in)
{
	if (in == &c->root)
		return;
	if (in->upper_fd >= 0) {
		struct stat st;
		if (fstatat(in->upper_fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ||
		    st.st_nlink > 0)
			return; /* another hard link still names it */
		unlink_upper(c, in);
	}
	in->is_detached = true;
	unlink_lower(c, in);
	drop_parent(c, in);
}

void fs_new_owner(struct fs_ctx *c, fuse_req_t req, struct ovl_attr *a)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	a->uid = fc->uid == c->owner_uid ? 0 : fc->uid;
	a->gid = fc->gid == c->owner_gid ? 0 : fc->gid;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	a->mtime_sec = now.tv_sec;
	a->mtime_nsec = (uint32_t)now.tv_nsec;
}

int fs_dir_is_empty(struct fs_ctx *c, struct fs_inode *dir)
{
	(void)c;
	const struct ovl_node *ldir = fs_lower_dir(dir);
	if (dir->upper_fd < 0)
		return !ldir || !ldir->n_children;
	int has = upper_dir_has_entries(dir->upper_fd);
	if (has < 0)
		return has;
	int empty = !has;
	for (size_t i = 0; empty && ldir && i < ldir->n_children; i++)
		if (!upper_has_whiteout(dir->upper_fd, ldir->children[i]->name))
			empty = 0;
	return empty;
}
