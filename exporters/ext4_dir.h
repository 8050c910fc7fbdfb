/* Linear ext4 directory blocks built in memory (kernel Documentation/filesystems/ext4/
 * directory.rst: ext4_dir_entry_2, with the 12-byte checksum tail of metadata_csum). Internal
 * to exporters/ (ext4_writer.c). */
#ifndef RF_EXT4_DIR_H
#define RF_EXT4_DIR_H

#include <stddef.h>

#include <ext2fs/ext2fs.h>

/* Blocks of EXT4_PLAN_BLOCK bytes in buf (malloc'd, the caller frees it); zero-initialize. */
struct ext4_dirbuf {
	char *buf;
	size_t n_blocks, cap;
	size_t used; /* bytes used in the last block */
	size_t last; /* offset of the last entry in the last block */
};

/* Append an empty block to d. Returns 0 or -ENOMEM. */
int ext4_dir_new_block(struct ext4_dirbuf *d);

/* Stretch the last entry of the last block to the checksum tail and write the tail (its
 * checksum is set later with ext2fs_dir_block_csum_set). */
void ext4_dir_close_block(ext2_filsys fs, struct ext4_dirbuf *d);

/* Append the entry name -> ino of file type ft (EXT2_FT_*), starting a block when the last one
 * is full. Returns 0 or -ENOMEM. */
int ext4_dir_add(ext2_filsys fs, struct ext4_dirbuf *d, ext2_ino_t ino, const char *name, int ft);

#endif
