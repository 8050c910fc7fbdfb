/* What the dynamic loader reads from an ELF object, read with libelf: PT_INTERP, and through
 * PT_DYNAMIC the DT_NEEDED, DT_SONAME, DT_RPATH and DT_RUNPATH strings (System V gABI,
 * "Dynamic Section"; glibc elf/get-dynamic-info.h for the RPATH/RUNPATH precedence). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

static int elf_ready(void)
{
	static int state; /* 0 unknown, 1 ok, -1 bad libelf */
	if (!state)
		state = elf_version(EV_CURRENT) == EV_NONE ? -1 : 1;
	return state > 0;
}

void host_elf_free(struct host_elf *e)
{
	if (!e)
		return;
	free(e->interp);
	free(e->soname);
	free(e->rpath);
	free(e->runpath);
	for (size_t i = 0; i < e->n_needed; i++)
		free(e->needed[i]);
	free(e->needed);
	free(e);
}

/* File offset of virtual address vaddr, through the PT_LOAD segments as ld.so maps them. */
static int vaddr_to_offset(Elf *elf, size_t phnum, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
			*off = ph.p_offset + (vaddr - ph.p_vaddr);
			return 0;
		}
	}
	return -1;
}

static int read_dynamic(const char *path, Elf *elf, size_t phnum, const GElf_Phdr *dyn_ph,
			struct host_elf *e, struct rf_err *err)
{
	Elf_Data *d =
	    elf_getdata_rawchunk(elf, (int64_t)dyn_ph->p_offset, dyn_ph->p_filesz, ELF_T_DYN);
	if (!d)
		return rf_err_set(err, ENOEXEC, "%s: corrupt dynamic segment: %s", path,
				  elf_errmsg(-1));
	size_t n = d->d_size / gelf_fsize(elf, ELF_T_DYN, 1, EV_CURRENT);
	uint64_t strtab = 0, strsz = 0;
	bool has_strtab = false;
	size_t n_needed = 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Dyn dy;
		if (!gelf_getdyn(d, (int)i, &dy) || dy.d_tag == DT_NULL)
			break;
		if (dy.d_tag == DT_STRTAB) {
			strtab = dy.d_un.d_ptr;
			has_strtab = true;
		} else if (dy.d_tag == DT_STRSZ) {
			strsz = dy.d_un.d_val;
		} else if (dy.d_tag == DT_NEEDED) {
			n_needed++;
		}
	}
	if (!has_strtab)
		return 0; /* no strings: nothing the loader would look up */
	uint64_t str_off;
	if (vaddr_to_offset(elf, phnum, strtab, &str_off) || !strsz)
		return rf_err_set(err, ENOEXEC, "%s: DT_STRTAB outside the loaded segments", path);
	Elf_Data *sd = elf_getdata_rawchunk(elf, (int64_t)str_off, strsz, ELF_T_BYTE);
	if (!sd)
		return rf_err_set(err, ENOEXEC, "%s: corrupt string table: %s", path,
				  elf_errmsg(-1));
	const char *strs = sd->d_buf;
	e->needed = calloc(n_needed ? n_needed : 1, sizeof(*e->needed));
	if (!e->needed)
		return rf_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		GElf_Dyn dy;
		if (!gelf_getdyn(d, (int)i, &dy) || dy.d_tag == DT_NULL)
			break;
		char **slot = NULL;
		if (dy.d_tag == DT_NEEDED)
			slot = &e->needed[e->n_needed];
		else if (dy.d_tag == DT_SONAME)
			slot = &e->soname;
		else if (dy.d_tag == DT_RPATH)
			slot = &e->rpath;
		else if (dy.d_tag == DT_RUNPATH)
			slot = &e->runpath;
		if (!slot)
			continue;
		uint64_t o = dy.d_un.d_val;
		if (o >= strsz || !memchr(strs + o, '\0', strsz - o))
			return rf_err_set(err, ENOEXEC, "%s: dynamic string offset out of range",
					  path);
		free(*slot);
		if (!(*slot = strdup(strs + o)))
			return rf_err_set(err, ENOMEM, "out of memory");
		if (dy.d_tag == DT_NEEDED)
			e->n_needed++;
	}
	if (e->runpath) {
		free(e->rpath);
		e->rpath = NULL;
	}
	return 0;
}

int host_elf_read(const char *path, struct host_elf **out, struct rf_err *err)
{
	if (!elf_ready())
		return rf_err_set(err, ELIBBAD, "libelf: %s", elf_errmsg(-1));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rf_err_errno(err, errno, "%s", path);
	int r = 0;
	struct host_elf *e = NULL;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		goto out; /* not ELF: *out = NULL */
	if ((eh.e_ident[EI_CLASS] != ELFCLASS32 && eh.e_ident[EI_CLASS] != ELFCLASS64) ||
	    (eh.e_ident[EI_DATA] != ELFDATA2LSB && eh.e_ident[EI_DATA] != ELFDATA2MSB))
		goto out;
	if (!(e = calloc(1, sizeof(*e)))) {
		r = rf_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	e->ei_class = eh.e_ident[EI_CLASS];
	e->ei_data = eh.e_ident[EI_DATA];
	e->e_machine = eh.e_machine;
	e->e_type = eh.e_type;
	size_t phnum;
	if (elf_getphdrnum(elf, &phnum)) {
		r = rf_err_set(err, ENOEXEC, "%s: corrupt program headers: %s", path,
			       elf_errmsg(-1));
		goto out;
	}
	for (size_t i = 0; i < phnum && !r; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph)) {
			r = rf_err_set(err, ENOEXEC, "%s: corrupt program header %zu", path, i);
		} else if (ph.p_type == PT_INTERP && !e->interp) {
			Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
							   ELF_T_BYTE);
			if (!d || !d->d_size || !memchr(d->d_buf, '\0', d->d_size))
				r = rf_err_set(err, ENOEXEC, "%s: corrupt PT_INTERP", path);
			else if (!(e->interp = strdup(d->d_buf)))
				r = rf_err_set(err, ENOMEM, "out of memory");
		} else if (ph.p_type == PT_DYNAMIC && !e->is_dynamic) {
			e->is_dynamic = true;
			r = read_dynamic(path, elf, phnum, &ph, e, err);
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (r) {
		host_elf_free(e);
		return r;
	}
	*out = e;
	return 0;
}
