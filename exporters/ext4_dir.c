/* Linear ext4 directory blocks built in memory, as the kernel's
 * Documentation/filesystems/ext4/directory.rst lays them out (linear directories, checksum
 * tail). */
#include "ext4_dir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext4_plan.h"

#define BS EXT4_PLAN_BLOCK

int ext4_dir_new_block(struct ext4_dirbuf *d)
{
	if (d->n_blocks == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 4;
		char *b = realloc(d->buf, cap * BS);
		if (!b)
			return -ENOMEM;
		d->buf = b;
		d->cap = cap;
	}
	memset(d->buf + d->n_blocks * BS, 0, BS);
	d->n_blocks++;
	d->used = 0;
	d->last = 0;
	return 0;
}

/* Stretch the last entry of the last block to the checksum tail and add the tail. */
void ext4_dir_close_block(ext2_filsys fs, struct ext4_dirbuf *d)
{
	char *blk = d->buf + (d->n_blocks - 1) * BS;
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)(blk + d->last);
	if (!d->used) /* an empty block: one unused entry spanning it */
		ext2fs_dirent_set_name_len(de, 0);
	ext2fs_set_rec_len(fs, BS - 12 - (unsigned)d->last, de);
	ext2fs_initialize_dirent_tail(fs, EXT2_DIRENT_TAIL(blk, BS));
}

int ext4_dir_add(ext2_filsys fs, struct ext4_dirbuf *d, ext2_ino_t ino, const char *name, int ft)
{
	size_t nl = strlen(name), rec = (8 + nl + 3) & ~(size_t)3;
	if (!d->n_blocks || d->used + rec > BS - 12) {
		if (d->n_blocks)
			ext4_dir_close_block(fs, d);
		if (ext4_dir_new_block(d))
			return -ENOMEM;
	}
	char *blk = d->buf + (d->n_blocks - 1) * BS;
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)(blk + d->used);
	de->inode = ino;
	ext2fs_set_rec_len(fs, (unsigned)rec, de);
	ext2fs_dirent_set_name_len(de, (int)nl);
	ext2fs_dirent_set_file_type(de, ft);
	memcpy(de->name, name, nl);
	d->last = d->used;
	d->used += rec;
	return 0;
}
