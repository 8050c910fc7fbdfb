/* MBR and GPT partition tables read through rf_disk_pread (UEFI spec 2.10, 5.2 "Legacy
 * Master Boot Record" and 5.3 "GUID Partition Table Disk Layout"). Only what locating one
 * partition needs; every offset is bounded by the disk's size. A GPT header and its entry
 * array are checked by their CRC32s (5.3.2); when the primary fails, the backup GPT at the
 * header's AlternateLBA (else the disk's last sector) is used, as the kernel's efi.c does. */
#include "partition.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SECTOR 512u
#define MBR_PROTECTIVE 0xEE
#define GPT_MAX_ENTRIES 4096u

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool is_extended(unsigned type)
{
	return type == 0x05 || type == 0x0F || type == 0x85;
}

static int window(struct rf_disk *d, const char *path, unsigned number, uint64_t first_lba,
		  uint64_t sectors, uint64_t *offset, uint64_t *length, struct rf_err *err)
{
	uint64_t size = rf_disk_size(d);
	if (!sectors || first_lba > size / SECTOR || sectors > size / SECTOR - first_lba)
		return rf_err_set(err, EINVAL, "%s: partition %u lies outside the disk", path,
				  number);
	*offset = first_lba * SECTOR;
	*length = sectors * SECTOR;
	return 0;
}

/* Read and check the GPT header at lba into h and its whole entry array into *entries
 * (malloc'd: the caller frees; NULL on failure). Returns NULL, or a reason for the message (a
 * static string). */
static const char *gpt_read(struct rf_disk *d, uint64_t lba, unsigned char h[SECTOR],
			    unsigned char **entries)
{
	*entries = NULL;
	if (lba > rf_disk_size(d) / SECTOR - 1 || rf_disk_pread(d, h, SECTOR, lba * SECTOR) ||
	    memcmp(h, "EFI PART", 8))
		return "no GPT header";
	uint32_t header_size = le32(h + 12), header_crc = le32(h + 16);
	if (header_size < 92 || header_size > SECTOR)
		return "bad GPT header";
	unsigned char c[SECTOR];
	memcpy(c, h, header_size);
	memset(c + 16, 0, 4);
	if ((uint32_t)crc32(0, c, header_size) != header_crc)
		return "GPT header CRC mismatch";
	uint64_t table_lba = le64(h + 72);
	uint32_t n_entries = le32(h + 80), entry_size = le32(h + 84);
	if (entry_size < 128 || entry_size > SECTOR || entry_size % 8 ||
	    n_entries > GPT_MAX_ENTRIES)
		return "bad GPT header";
	size_t bytes = (size_t)n_entries * entry_size;
	if (table_lba > rf_disk_size(d) / SECTOR ||
	    bytes > rf_disk_size(d) - table_lba * SECTOR)
		return "GPT partition table lies outside the disk";
	*entries = malloc(bytes ? bytes : 1);
	if (!*entries)
		return "out of memory";
	const char *why = NULL;
	if (rf_disk_pread(d, *entries, bytes, table_lba * SECTOR))
		why = "GPT partition table unreadable";
	else if ((uint32_t)crc32(0, *entries, (uInt)bytes) != le32(h + 88))
		why = "GPT partition entries CRC mismatch";
	if (why) {
		free(*entries);
		*entries = NULL;
	}
	return why;
}

static int gpt_find(struct rf_disk *d, const char *path, unsigned number, uint64_t *offset,
		    uint64_t *length, struct rf_err *err)
{
	unsigned char h[SECTOR] = {0};
	unsigned char *entries = NULL;
	const char *why = gpt_read(d, 1, h, &entries);
	if (why) {
		/* the backup: AlternateLBA of a primary header that at least reads, else the
		 * last sector */
		uint64_t last = rf_disk_size(d) / SECTOR - 1;
		uint64_t alt = !memcmp(h, "EFI PART", 8) && le64(h + 32) ? le64(h + 32) : last;
		unsigned char hb[SECTOR] = {0};
		if (gpt_read(d, alt, hb, &entries) && (alt == last || gpt_read(d, last, hb, &entries)))
			return rf_err_set(err, EINVAL, "%s: %s%s", path, why,
					  strcmp(why, "no GPT header") ? " (the backup GPT too)"
								       : " after a protective MBR");
		memcpy(h, hb, SECTOR);
	}
	uint32_t n_entries = le32(h + 80), entry_size = le32(h + 84);
	int r;
	if (number > n_entries) {
		r = rf_err_set(err, ENOENT, "%s: no partition %u (the GPT has %u entries)", path,
			       number, n_entries);
		goto out;
	}
	const unsigned char *e = entries + (size_t)(number - 1) * entry_size;
	static const unsigned char unused[16];
	if (!memcmp(e, unused, 16)) {
		r = rf_err_set(err, ENOENT, "%s: GPT partition %u is unused", path, number);
		goto out;
	}
	uint64_t first = le64(e + 32), last = le64(e + 40);
	if (last < first) {
		r = rf_err_set(err, EINVAL, "%s: GPT partition %u ends before it starts", path,
			       number);
		goto out;
	}
	r = window(d, path, number, first, last - first + 1, offset, length, err);
out:
	free(entries);
	return r;
}

int rf_partition_find(struct rf_disk *d, const char *path, unsigned number, uint64_t *offset,
		      uint64_t *length, struct rf_err *err)
{
	unsigned char mbr[SECTOR];
	if (number == 0)
		return rf_err_set(err, EINVAL, "%s: partitions are numbered from 1", path);
	if (rf_disk_pread(d, mbr, SECTOR, 0) || mbr[510] != 0x55 || mbr[511] != 0xAA)
		return rf_err_set(err, ENOENT, "%s: no partition table (no MBR signature)", path);
	const unsigned char *pe = mbr + 446;
	for (int i = 0; i < 4; i++)
		if (pe[16 * i + 4] == MBR_PROTECTIVE)
			return gpt_find(d, path, number, offset, length, err);
	if (number <= 4) {
		const unsigned char *p = pe + 16 * (number - 1);
		if (!p[4] || is_extended(p[4]))
			return rf_err_set(err, ENOENT, "%s: MBR partition %u is %s", path, number,
					  p[4] ? "the extended partition" : "unused");
		return window(d, path, number, le32(p + 8), le32(p + 12), offset, length, err);
	}
	/* logical partitions: a chain of EBRs inside the extended partition, each giving one
	 * partition relative to itself and the next EBR relative to the extended partition */
	uint64_t ext = 0;
	for (int i = 0; i < 4 && !ext; i++)
		if (is_extended(pe[16 * i + 4]))
			ext = le32(pe + 16 * i + 8);
	if (!ext)
		return rf_err_set(err, ENOENT, "%s: no partition %u (no extended partition)", path,
				  number);
	uint64_t ebr = ext;
	for (unsigned n = 5; n <= number && n < 5 + 256; n++) {
		unsigned char b[SECTOR];
		if (ebr > rf_disk_size(d) / SECTOR || rf_disk_pread(d, b, SECTOR, ebr * SECTOR) ||
		    b[510] != 0x55 || b[511] != 0xAA)
			return rf_err_set(err, EINVAL,
					  "%s: broken extended boot record at sector %llu", path,
					  (unsigned long long)ebr);
		if (n == number)
			return window(d, path, number, ebr + le32(b + 446 + 8), le32(b + 446 + 12),
				      offset, length, err);
		if (!b[446 + 16 + 4])
			break;
		ebr = ext + le32(b + 446 + 16 + 8);
	}
	return rf_err_set(err, ENOENT, "%s: no partition %u", path, number);
}
