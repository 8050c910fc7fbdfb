/* Directory operations of the FUSE frontend (fuse_lowlevel.h): lookup and forget, merged
 * readdir/readdirplus, and the namespace changes (mkdir, mknod, symlink, link, unlink, rmdir,
 * rename) written to the upper layer as whiteouts and opaque directories (OCI image spec,
 * layer.md "Whiteouts"). Readdirplus undoes the lookup of an entry that did not fit, as
 * libfuse's example/passthrough_ll.c does. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "meta.h"

#define LOCK(c) pthread_mutex_lock(&(c)->lock)
#define UNLOCK(c) pthread_mutex_unlock(&(c)->lock)

static void do_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fuse_entry_param e;
	LOCK(c);
	int r = fs_lookup_entry(c, fs_inode(req, parent), name, &e);
	UNLOCK(c);
	if (r == -ENOENT) {
		/* a negative entry: the lower layers cannot change, the upper only through us */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = FS_UPPER_TIMEOUT_S;
		fuse_reply_entry(req, &e);
		return;
	}
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void do_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct fs_ctx *c = fs_ctx(req);
	LOCK(c);
	fs_forget(c, fs_inode(req, ino), nlookup);
	UNLOCK(c);
	fuse_reply_none(req);
}

static void do_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs_ctx *c = fs_ctx(req);
	LOCK(c);
	for (size_t i = 0; i < count; i++)
		fs_forget(c, fs_inode(req, forgets[i].ino), forgets[i].nlookup);
	UNLOCK(c);
	fuse_reply_none(req);
}

/* --- readdir: a snapshot of the merged directory taken at opendir --- */

struct dir_entry {
	char *name;
	uint64_t ino;
	unsigned char d_type;
};

struct dir_snap {
	struct dir_entry *e;
	size_t n, cap;
};

static int snap_add(struct dir_snap *s, const char *name, uint64_t ino, unsigned char type)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct dir_entry *ne = realloc(s->e, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		s->e = ne;
		s->cap = cap;
	}
	if (!(s->e[s->n].name = strdup(name)))
		return -ENOMEM;
	s->e[s->n].ino = ino;
	s->e[s->n].d_type = type;
	s->n++;
	return 0;
}

static void snap_free(struct dir_snap *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		free(s->e[i].name);
	if (s)
		free(s->e);
	free(s);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool in_sorted(char **names, size_t n, const char *name)
{
	return n && bsearch(&name, names, n, sizeof(*names), str_cmp);
}

static int snapshot(struct fs_ctx *c, struct fs_inode *dir, struct dir_snap *s)
{
	int r = 0;
	char **seen = NULL; /* upper names and whiteout targets: hide the lower ones */
	size_t n_seen = 0, cap_seen = 0;
	const struct ovl_node *ldir = fs_lower_dir(dir);
	if ((r = snap_add(s, ".", dir->st_ino, DT_DIR)) || (r = snap_add(s, "..", 1, DT_DIR)))
		return r;
	if (dir->upper_fd >= 0) {
		int fd = openat(dir->upper_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			return r;
		}
		struct dirent *de;
		size_t wl = strlen(META_WHITEOUT_PREFIX);
		while (!r && (de = readdir(d))) {
			const char *nm = de->d_name;
			if (!strcmp(nm, ".") || !strcmp(nm, ".."))
				continue;
			bool is_wh = !strncmp(nm, META_WHITEOUT_PREFIX, wl);
			if (is_wh && !meta_is_whiteout(nm))
				continue; /* the opaque marker */
			if (!is_wh && upper_name_reserved(dir == &c->root, nm))
				continue;
			if (ldir) {
				if (n_seen == cap_seen) {
					cap_seen = cap_seen ? cap_seen * 2 : 64;
					char **ns = realloc(seen, cap_seen * sizeof(*ns));
					if (!ns) {
						r = -ENOMEM;
						break;
					}
					seen = ns;
				}
				if (!(seen[n_seen] = strdup(is_wh ? nm + wl : nm))) {
					r = -ENOMEM;
					break;
				}
				n_seen++;
			}
			if (is_wh)
				continue;
			struct fs_inode *rec = NULL;
			struct stat ds;
			if (!fstatat(dirfd(d), nm, &ds, AT_SYMLINK_NOFOLLOW))
				rec = fs_find_upper(c, ds.st_dev, ds.st_ino);
			uint64_t ino = rec ? rec->st_ino : (uint64_t)de->d_ino + FS_UPPER_INO_BASE;
			const struct ovl_node *lc = ldir ? ovl_node_child(ldir, nm) : NULL;
			if (!rec && lc && S_ISDIR(lc->attr.mode) && de->d_type == DT_DIR)
				ino = lc->ino;
			/* a guest device, fifo or socket is an empty regular file on the host, a
			 * symlink with an owner a file holding its target */
			r = snap_add(s, nm, ino, de->d_type == DT_REG ? DT_UNKNOWN : de->d_type);
		}
		closedir(d);
	}
	if (!r && ldir) {
		if (n_seen)
			qsort(seen, n_seen, sizeof(*seen), str_cmp);
		for (size_t i = 0; !r && i < ldir->n_children; i++) {
			const struct ovl_node *lc = ldir->children[i];
			if (in_sorted(seen, n_seen, lc->name))
				continue;
			r = snap_add(s, lc->name, lc->ino,
				     (unsigned char)((lc->attr.mode & S_IFMT) >> 12));
		}
	}
	for (size_t i = 0; i < n_seen; i++)
		free(seen[i]);
	free(seen);
	return r;
}

/* An open directory: a lower-only one is listed straight from the immutable view; one with
 * an upper part gets a snapshot of the merged listing at its first readdir. */
struct dir_handle {
	const struct ovl_node *ldir; /* lower-only directory, or NULL */
	uint64_t self_ino;
	struct dir_snap *snap;
};

static void do_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_ctx *c = fs_ctx(req);
	struct dir_handle *h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	LOCK(c);
	struct fs_inode *dir = fs_inode(req, ino);
	bool is_lower_only = dir->upper_fd < 0;
	h->ldir = is_lower_only ? fs_lower_dir(dir) : NULL;
	h->self_ino = dir->st_ino;
	UNLOCK(c);
	fi->fh = (uint64_t)(uintptr_t)h;
	/* a lower-only directory cannot change but through us: let the kernel cache it */
	fi->keep_cache = is_lower_only;
	fi->cache_readdir = is_lower_only;
	fuse_reply_open(req, fi);
}

/* Entry i of the open directory (0 ".", 1 ".."); false past the end. */
static bool dir_entry_at(struct dir_handle *h, size_t i, const char **name, uint64_t *ino,
			 unsigned char *type)
{
	if (h->snap) {
		if (i >= h->snap->n)
			return false;
		*name = h->snap->e[i].name;
		*ino = h->snap->e[i].ino;
		*type = h->snap->e[i].d_type;
		return true;
	}
	if (i < 2) {
		*name = i ? ".." : ".";
		*ino = i ? 1 : h->self_ino;
		*type = DT_DIR;
		return true;
	}
	if (!h->ldir || i - 2 >= h->ldir->n_children)
		return false;
	const struct ovl_node *n = h->ldir->children[i - 2];
	*name = n->name;
	*ino = n->ino;
	*type = (unsigned char)((n->attr.mode & S_IFMT) >> 12);
	return true;
}

static void reply_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi, bool is_plus)
{
	struct fs_ctx *c = fs_ctx(req);
	struct dir_handle *h = (struct dir_handle *)(uintptr_t)fi->fh;
	struct fs_inode *dir = fs_inode(req, ino);
	if (!h->ldir && !h->snap) {
		struct dir_snap *s = calloc(1, sizeof(*s));
		int r = s ? 0 : -ENOMEM;
		if (!r) {
			LOCK(c);
			r = snapshot(c, dir, s);
			UNLOCK(c);
		}
		if (r) {
			snap_free(s);
			fuse_reply_err(req, -r);
			return;
		}
		h->snap = s;
	}
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	int err = 0;
	const char *name;
	uint64_t d_ino;
	unsigned char d_type;
	for (size_t i = (size_t)off; dir_entry_at(h, i, &name, &d_ino, &d_type); i++) {
		size_t left = size - used;
		size_t need;
		if (!is_plus) {
			struct stat st = {.st_ino = d_ino, .st_mode = (mode_t)d_type << 12};
			need = fuse_add_direntry(req, buf + used, left, name, &st, (off_t)i + 1);
			if (need > left)
				break;
			used += need;
			continue;
		}
		struct fuse_entry_param e = {0};
		bool is_dot = !strcmp(name, ".") || !strcmp(name, "..");
		if (is_dot) {
			e.attr.st_ino = d_ino;
			e.attr.st_mode = S_IFDIR;
		} else {
			LOCK(c);
			int r = fs_lookup_entry(c, dir, name, &e);
			UNLOCK(c);
			if (r == -ENOENT)
				continue; /* gone since opendir */
			if (r) {
				err = -r;
				break;
			}
		}
		need = fuse_add_direntry_plus(req, buf + used, left, name, &e, (off_t)i + 1);
		if (need > left) {
			/* not handed to the kernel: undo the lookup count */
			if (!is_dot) {
				LOCK(c);
				fs_forget(c, fs_inode(req, e.ino), 1);
				UNLOCK(c);
			}
			break;
		}
		used += need;
	}
	if (err && !used)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	reply_dir(req, ino, size, off, fi, false);
}

static void do_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	reply_dir(req, ino, size, off, fi, true);
}

static void do_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct dir_handle *h = (struct dir_handle *)(uintptr_t)fi->fh;
	snap_free(h->snap);
	free(h);
	fuse_reply_err(req, 0);
}

static void do_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)fi;
	struct fs_ctx *c = fs_ctx(req);
	LOCK(c);
	struct fs_inode *in = fs_inode(req, ino);
	int fd =
	    in->upper_fd >= 0 ? openat(in->upper_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -2;
	UNLOCK(c);
	int r = 0;
	if (fd == -1)
		r = errno;
	else if (fd >= 0) {
		if (datasync ? fdatasync(fd) : fsync(fd))
			r = errno;
		close(fd);
	}
	fuse_reply_err(req, r);
}

/* --- namespace changes --- */

/* Common start of a creation: the name must be free and allowed; the parent is copied up.
 * *had_lower tells whether a lower entry of that name is whited out (so a new directory
 * must be opaque). */
static int prepare_create(struct fs_ctx *c, struct fs_inode *dir, const char *name, bool *had_lower)
{
	if (upper_name_reserved(dir == &c->root, name))
		return -EPERM;
	struct fs_child ch;
	int r = fs_child_find(c, dir, name, &ch);
	if (!r) {
		fs_child_release(&ch);
		return -EEXIST;
	}
	if (r != -ENOENT)
		return r;
	const struct ovl_node *ldir = fs_lower_dir(dir);
	*had_lower = ldir && ovl_node_child(ldir, name);
	return fs_copy_up(c, dir, false);
}

static int finish_create(struct fs_ctx *c, struct fs_inode *dir, const char *name, int fd,
			 struct fuse_entry_param *e)
{
	upper_drop_whiteout(dir->upper_fd, name);
	struct fs_inode *in = fs_record_new_upper(c, fd);
	if (!in)
		return -ENOMEM;
	return fs_entry(c, in, e);
}

int fs_make_node(fuse_req_t req, struct fs_inode *dir, const char *name, mode_t mode, dev_t rdev,
		 struct fuse_entry_param *e)
{
	struct fs_ctx *c = fs_ctx(req);
	struct ovl_attr a = {.mode = mode, .rdev_major = major(rdev), .rdev_minor = minor(rdev)};
	fs_new_owner(c, req, &a);
	bool had_lower = false;
	int fd = -1;
	LOCK(c);
	int r = prepare_create(c, dir, name, &had_lower);
	if (!r)
		r = upper_create(c->upper, dir->upper_fd, name, &a, had_lower, &fd);
	if (!r)
		r = finish_create(c, dir, name, fd, e);
	UNLOCK(c);
	return r;
}

static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fuse_entry_param e;
	int r = fs_make_node(req, fs_inode(req, parent), name, mode, rdev, &e);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void do_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	if (S_ISDIR(mode) || S_ISLNK(mode) || !(mode & S_IFMT)) {
		if (!(mode & S_IFMT))
			mode |= S_IFREG;
		else {
			fuse_reply_err(req, EINVAL);
			return;
		}
	}
	make_node(req, parent, name, mode, rdev);
}

static void do_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | (mode & 07777), 0);
}

static void do_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *dir = fs_inode(req, parent);
	struct fuse_entry_param e;
	struct ovl_attr a = {.mode = S_IFLNK | 0777};
	fs_new_owner(c, req, &a);
	bool had_lower;
	int fd = -1;
	LOCK(c);
	int r = prepare_create(c, dir, name, &had_lower);
	if (!r)
		r = upper_symlink(c->upper, dir->upper_fd, name, link, &a, &fd);
	if (!r)
		r = finish_create(c, dir, name, fd, &e);
	UNLOCK(c);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void do_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *in = fs_inode(req, ino), *dir = fs_inode(req, newparent);
	struct fuse_entry_param e;
	bool had_lower;
	LOCK(c);
	int r = S_ISDIR(in->type) ? -EPERM : prepare_create(c, dir, newname, &had_lower);
	if (!r)
		r = fs_copy_up(c, in, true);
	/* the names of a symlink share one inode, so one owner: a host symlink keeps none, the
	 * stored form does (meta.h) */
	if (!r && S_ISLNK(in->type))
		r = fs_symlink_to_file(c, in, NULL);
	if (!r) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", in->upper_fd);
		if (linkat(AT_FDCWD, p, dir->upper_fd, newname, AT_SYMLINK_FOLLOW))
			r = -errno;
	}
	if (!r) {
		upper_drop_whiteout(dir->upper_fd, newname);
		r = fs_entry(c, in, &e);
	}
	UNLOCK(c);
	if (r)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

/* Remove name from dir: the upper entry goes, a lower one is hidden by a whiteout. */
static int remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, bool is_dir)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *dir = fs_inode(req, parent);
	struct fs_child ch;
	int r = fs_child_find(c, dir, name, &ch);
	if (r)
		return r;
	struct fs_inode *in = fs_record(c, dir, name, &ch);
	bool has_upper = in && in->upper_fd >= 0;
	if (!in) {
		r = -ENOMEM;
		goto out;
	}
	if (is_dir && !S_ISDIR(in->type)) {
		r = -ENOTDIR;
		goto out;
	}
	if (!is_dir && S_ISDIR(in->type)) {
		r = -EISDIR;
		goto out;
	}
	if (is_dir && (r = fs_dir_is_empty(c, in)) <= 0) {
		r = r ? r : -ENOTEMPTY;
		goto out;
	}
	if ((r = fs_copy_up(c, dir, false)))
		goto out;
	if (ch.lower_shadowed && (r = upper_put_whiteout(dir->upper_fd, name)))
		goto out;
	if (has_upper) {
		r = is_dir ? upper_remove_dir(dir->upper_fd, name)
			   : (unlinkat(dir->upper_fd, name, 0) ? -errno : 0);
		if (r)
			goto out;
	}
	fs_detach(c, in);
out:
	fs_child_release(&ch);
	/* a record made just for this call and unknown to the kernel goes again */
	if (in) {
		in->nlookup++;
		fs_forget(c, in, 1);
	}
	return r;
}

static void do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_ctx *c = fs_ctx(req);
	LOCK(c);
	int r = remove_entry(req, parent, name, false);
	UNLOCK(c);
	fuse_reply_err(req, -r);
}

static void do_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_ctx *c = fs_ctx(req);
	LOCK(c);
	int r = remove_entry(req, parent, name, true);
	UNLOCK(c);
	fuse_reply_err(req, -r);
}

/* Make the record movable inside the upper layer: copied up, a directory with everything
 * below it (so nothing of it stays behind in a lower layer). */
static int make_movable(struct fs_ctx *c, struct fs_inode *in)
{
	if (S_ISDIR(in->type) && fs_lower_dir(in))
		return fs_copy_up_tree(c, in);
	return fs_copy_up(c, in, true);
}

static int do_rename_locked(fuse_req_t req, fuse_ino_t parent, const char *name,
			    fuse_ino_t newparent, const char *newname, unsigned flags)
{
	struct fs_ctx *c = fs_ctx(req);
	struct fs_inode *od = fs_inode(req, parent), *nd = fs_inode(req, newparent);
	struct fs_child sc, tc;
	struct fs_inode *src = NULL, *tgt = NULL;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (upper_name_reserved(nd == &c->root, newname))
		return -EPERM;
	int r = fs_child_find(c, od, name, &sc);
	if (r)
		return r;
	tc.upper_fd = -1;
	int tr = fs_child_find(c, nd, newname, &tc);
	if (tr && tr != -ENOENT) {
		r = tr;
		goto out;
	}
	src = fs_record(c, od, name, &sc);
	if (!src) {
		r = -ENOMEM;
		goto out;
	}
	src->nlookup++; /* hold it while working; dropped at out */
	if (!tr) {
		if (!(tgt = fs_record(c, nd, newname, &tc))) {
			r = -ENOMEM;
			goto out;
		}
		tgt->nlookup++;
	}
	if (tgt == src)
		goto out; /* the same file under both names: nothing to do */
	if (flags & RENAME_NOREPLACE && tgt) {
		r = -EEXIST;
		goto out;
	}
	if (flags & RENAME_EXCHANGE && !tgt) {
		r = -ENOENT;
		goto out;
	}
	if (tgt && !(flags & RENAME_EXCHANGE)) {
		if (S_ISDIR(src->type) && !S_ISDIR(tgt->type)) {
			r = -ENOTDIR;
			goto out;
		}
		if (!S_ISDIR(src->type) && S_ISDIR(tgt->type)) {
			r = -EISDIR;
			goto out;
		}
		if (S_ISDIR(tgt->type) && (r = fs_dir_is_empty(c, tgt)) <= 0) {
			r = r ? r : -ENOTEMPTY;
			goto out;
		}
	}
	if (S_ISDIR(src->type)) {
		/* a directory may not move below itself */
		for (struct fs_inode *p = nd; p; p = p->parent)
			if (p == src) {
				r = -EINVAL;
				goto out;
			}
	}
	if ((r = make_movable(c, src)) || (r = fs_copy_up(c, od, false)) ||
	    (r = fs_copy_up(c, nd, false)))
		goto out;
	if (tgt && (flags & RENAME_EXCHANGE) && (r = make_movable(c, tgt)))
		goto out;
	if (tgt && !(flags & RENAME_EXCHANGE) && tgt->upper_fd >= 0 && S_ISDIR(tgt->type) &&
	    (r = upper_remove_dir(nd->upper_fd, newname)))
		goto out;
	if (renameat2(od->upper_fd, name, nd->upper_fd, newname,
		      flags & RENAME_EXCHANGE ? RENAME_EXCHANGE : 0)) {
		r = -errno;
		goto out;
	}
	/* a directory arriving where a lower entry of that name lies must hide it */
	if (S_ISDIR(src->type) && tc.lower_shadowed && !upper_is_opaque(src->upper_fd) &&
	    !(r = upper_make_opaque(src->upper_fd)))
		src->is_opaque = true;
	if (!r && tgt && (flags & RENAME_EXCHANGE) && S_ISDIR(tgt->type) && sc.lower_shadowed &&
	    !upper_is_opaque(tgt->upper_fd) && !(r = upper_make_opaque(tgt->upper_fd)))
		tgt->is_opaque = true;
	if (!r && !(flags & RENAME_EXCHANGE)) {
		upper_drop_whiteout(nd->upper_fd, newname);
		if (sc.lower_shadowed)
			r = upper_put_whiteout(od->upper_fd, name);
		if (tgt)
			fs_detach(c, tgt);
	}
out:
	fs_child_release(&sc);
	fs_child_release(&tc);
	if (src)
		fs_forget(c, src, 1);
	if (tgt)
		fs_forget(c, tgt, 1);
	return r;
}

static void do_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs_ctx *c = fs_ctx(req);
	LOCK(c);
	int r = do_rename_locked(req, parent, name, newparent, newname, flags);
	UNLOCK(c);
	fuse_reply_err(req, -r);
}

static void do_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs sv;
	if (fstatvfs(upper_root_fd(fs_ctx(req)->upper), &sv))
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

void fs_dir_ops(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = do_lookup;
	ops->forget = do_forget;
	ops->forget_multi = do_forget_multi;
	ops->opendir = do_opendir;
	ops->readdir = do_readdir;
	ops->readdirplus = do_readdirplus;
	ops->releasedir = do_releasedir;
	ops->fsyncdir = do_fsyncdir;
	ops->mknod = do_mknod;
	ops->mkdir = do_mkdir;
	ops->symlink = do_symlink;
	ops->link = do_link;
	ops->unlink = do_unlink;
	ops->rmdir = do_rmdir;
	ops->rename = do_rename;
	ops->statfs = do_statfs;
}
