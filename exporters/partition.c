/* GPT and MBR partition tables for the disk exports: UEFI 2.10 section 5.2 (protective MBR,
 * GPT header and partition entry array, primary at LBA 1, backup at the last LBA) and the
 * classic MBR partition entry layout. */
#include "partition.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#define SECTOR 512u
#define GPT_ENTRIES 128u
#define GPT_ENTRY_SIZE 128u
#define GPT_ARRAY_SECTORS (GPT_ENTRIES * GPT_ENTRY_SIZE / SECTOR)

/* 0FC63DAF-8483-4772-8E79-3D69D8477DE4 "Linux filesystem data", in GPT's mixed-endian bytes */
static const uint8_t linux_fs_guid[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
					  0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int part_check_kind(const char *kind, struct rf_err *err)
{
	if (!strcmp(kind, "gpt") || !strcmp(kind, "mbr"))
		return 0;
	return rf_err_set(err, EINVAL, "--partition '%s': use gpt or mbr", kind);
}

/* A version 4 GUID from uuid and a salt, so disk and partition GUIDs differ. */
static void derive_guid(const uint8_t uuid[16], uint64_t salt, uint8_t out[16])
{
	XXH128_canonical_t can;
	XXH128_canonicalFromHash(&can, XXH3_128bits_withSeed(uuid, 16, salt));
	memcpy(out, can.digest, 16);
	out[7] = (uint8_t)((out[7] & 0x0f) | 0x40); /* mixed endian: byte 7 holds the version */
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

static void mbr_entry(uint8_t *e, uint8_t type, uint32_t lba, uint32_t count)
{
	/* CHS fields saturated: LBA is what every reader uses */
	e[0] = 0;
	e[1] = 0xfe;
	e[2] = 0xff;
	e[3] = 0xff;
	e[4] = type;
	e[5] = 0xfe;
	e[6] = 0xff;
	e[7] = 0xff;
	le32(e + 8, lba);
	le32(e + 12, count);
}

static void gpt_header(uint8_t *h, uint64_t my_lba, uint64_t alt_lba, uint64_t last_usable,
		       const uint8_t disk_guid[16], uint64_t entries_lba, uint32_t entries_crc)
{
	memset(h, 0, SECTOR);
	memcpy(h, "EFI PART", 8);
	le32(h + 8, 0x00010000);
	le32(h + 12, 92);
	le64(h + 24, my_lba);
	le64(h + 32, alt_lba);
	le64(h + 40, 2 + GPT_ARRAY_SECTORS);
	le64(h + 48, last_usable);
	memcpy(h + 56, disk_guid, 16);
	le64(h + 72, entries_lba);
	le32(h + 80, GPT_ENTRIES);
	le32(h + 84, GPT_ENTRY_SIZE);
	le32(h + 88, entries_crc);
	le32(h + 16, (uint32_t)crc32(0, h, 92));
}

static int put(int fd, const void *buf, size_t len, uint64_t off, const char *name,
	       struct rf_err *err)
{
	if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
		return rf_err_errno(err, errno, "%s: writing the partition table", name);
	return 0;
}

int part_write(int fd, const char *kind, uint64_t fs_bytes, const uint8_t uuid[16],
	       const char *name, uint64_t *disk_bytes, struct rf_err *err)
{
	int r = part_check_kind(kind, err);
	if (r)
		return r;
	bool gpt = !strcmp(kind, "gpt");
	uint64_t part_bytes = (fs_bytes + PART_OFFSET - 1) & ~(PART_OFFSET - 1);
	uint64_t disk = PART_OFFSET + part_bytes + (gpt ? PART_OFFSET : 0);
	uint64_t sectors = disk / SECTOR, first = PART_OFFSET / SECTOR;
	uint64_t last = first + part_bytes / SECTOR - 1;
	if (!gpt && last >= UINT32_MAX)
		return rf_err_set(err, EFBIG, "%s: a filesystem over 2 TiB needs --partition gpt",
				  name);
	if (ftruncate(fd, (off_t)disk))
		return rf_err_errno(err, errno, "%s: cannot size the disk", name);
	uint8_t mbr[SECTOR] = {0};
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	if (!gpt) {
		memcpy(mbr + 440, uuid, 4); /* disk signature */
		mbr_entry(mbr + 446, 0x83, (uint32_t)first, (uint32_t)(last - first + 1));
		*disk_bytes = disk;
		return put(fd, mbr, SECTOR, 0, name, err);
	}
	uint64_t n = sectors - 1 > UINT32_MAX ? UINT32_MAX : sectors - 1;
	mbr_entry(mbr + 446, 0xee, 1, (uint32_t)n);
	uint8_t entries[GPT_ENTRIES * GPT_ENTRY_SIZE] = {0};
	uint8_t disk_guid[16];
	derive_guid(uuid, 1, disk_guid);
	memcpy(entries, linux_fs_guid, 16);
	derive_guid(uuid, 2, entries + 16);
	le64(entries + 32, first);
	le64(entries + 40, last);
	static const char label[] = "rootfs";
	for (size_t i = 0; i < sizeof(label) - 1; i++)
		le16(entries + 56 + 2 * i, (uint16_t)label[i]);
	uint32_t ecrc = (uint32_t)crc32(0, entries, sizeof(entries));
	uint64_t alt = sectors - 1, last_usable = alt - GPT_ARRAY_SECTORS - 1;
	uint8_t hdr[SECTOR];
	r = put(fd, mbr, SECTOR, 0, name, err);
	gpt_header(hdr, 1, alt, last_usable, disk_guid, 2, ecrc);
	if (!r)
		r = put(fd, hdr, SECTOR, SECTOR, name, err);
	if (!r)
		r = put(fd, entries, sizeof(entries), 2 * SECTOR, name, err);
	if (!r)
		r = put(fd, entries, sizeof(entries), (alt - GPT_ARRAY_SECTORS) * SECTOR, name,
			err);
	gpt_header(hdr, alt, 1, last_usable, disk_guid, alt - GPT_ARRAY_SECTORS, ecrc);
	if (!r)
		r = put(fd, hdr, SECTOR, alt * SECTOR, name, err);
	if (!r)
		*disk_bytes = disk;
	return r;
}
