/*
 * images.c - the loaded-image list, crash-path half (see images.h; the
 * install half, md_images_init, is images_init.c).
 *
 * Context: async-signal-safe, crash path: no malloc, no stdio, no locks,
 * no dynamic linker calls (no dl_iterate_phdr / dladdr), no errno; process
 * memory is read only through mds_safe_read, results go to caller storage.
 *
 * How the list is found: the executable's PT_DYNAMIC (located from
 * AT_PHDR) holds DT_DEBUG, which ld.so points at its live struct r_debug.
 * The `_r_debug` symbol seen from the executable may be a copy-relocated
 * snapshot, so it is used only when DT_DEBUG is missing. r_debug->r_map is
 * the link_map chain; with r_version >= 2 (glibc 2.35+) r_next links the
 * other namespaces (dlmopen). The chain is walked with safe reads and a
 * hard bound; while r_state is not RT_CONSISTENT (a dlopen/dlclose is in
 * flight) the capture is retried a few times, then kept and marked.
 * For every image, the ELF header and program headers are read from
 * memory: PT_LOAD segments, PT_GNU_EH_FRAME and the NT_GNU_BUILD_ID note.
 */
#include "crash/walk/images.h"
#include "crash/walk/walk_internal.h"
#include "crash/core/saferead.h"
#include "crash/core/sys.h"
#include "mayday/mayday.h"

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

#include "crash/core/poison.h"

#define MAX_LINKMAPS 4096  /* bound on the whole chain walk */
#define MAX_NAMESPACES 16  /* bound on the r_next chain */
#define PHDR_CHUNK 16      /* program headers per safe read */
#define MAX_NOTES 64       /* notes examined per PT_NOTE segment */
#define CAPTURE_ATTEMPTS 4 /* tries while r_state != RT_CONSISTENT */
#define RETRY_SLEEP_NS 500000ull
#define VDSO_MAX_SPAN 0x10000 /* the vdso is a few pages; vvar is below */

/* Filled by md_images_init (images_init.c) at install; read-only here.
 * Defined in this file so the crash-path object set is self-contained. */
mds_images_env mds_images_g;

static const char vdso_name[] = "[vdso]";
static const char empty_name[] = "";

/* ------------------------------------------------------- crash path */

static const char *pool_copy_local(mds_image_table *t, const char *s)
{
    size_t len = strlen(s);
    if (!t->pool || t->pool_cap - t->pool_used < len + 1) {
        t->paths_capped++;
        return empty_name;
    }
    char *dst = t->pool + t->pool_used;
    memcpy(dst, s, len + 1);
    t->pool_used += len + 1;
    return dst;
}

/* Copies the string at remote address src into the pool. A path that
 * does not fit (pool full, or longer than MDS_PATH_CAP) is dropped, not
 * cut, and counted. */
static const char *pool_copy_remote(mds_image_table *t, uintptr_t src)
{
    if (!src)
        return empty_name;
    if (!t->pool || t->pool_used >= t->pool_cap) {
        t->paths_capped++;
        return empty_name;
    }
    size_t room = t->pool_cap - t->pool_used;
    if (room > MDS_PATH_CAP)
        room = MDS_PATH_CAP;
    char *dst = t->pool + t->pool_used;
    long n = mds_safe_read_str(dst, room, src);
    if (n < 0)
        return empty_name;
    char more = 0;
    if ((size_t)n + 1 == room && mds_safe_read(&more, src + (uintptr_t)n, 1) == 0 &&
        more != 0) {
        t->paths_capped++;
        return empty_name;
    }
    t->pool_used += (size_t)n + 1;
    return dst;
}

/* A note segment that fits is read with one safe read and scanned in
 * place (issue 15: a note at a time took 3 reads, ~1 us each, for every
 * note of every image). */
#define NOTES_LOCAL 512

/* Scans a PT_NOTE segment copied to buf (len bytes) for NT_GNU_BUILD_ID. */
static void scan_notes(mds_image_table *t, mds_image *img, const unsigned char *buf,
                      uintptr_t len, uintptr_t align)
{
    uintptr_t off = 0;
    int i;
    for (i = 0; i < MAX_NOTES && off + sizeof(ElfW(Nhdr)) <= len; i++) {
        ElfW(Nhdr) nh;
        memcpy(&nh, buf + off, sizeof nh);
        uintptr_t name_off = off + sizeof(nh);
        uintptr_t desc_off =
            name_off + ((nh.n_namesz + align - 1) & ~(align - 1));
        uintptr_t next = desc_off + ((nh.n_descsz + align - 1) & ~(align - 1));
        if (next <= off || next > len || desc_off < name_off)
            return;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            memcmp(buf + name_off, "GNU", 4) == 0) {
            if (nh.n_descsz > MDS_BUILD_ID_MAX) {
                t->build_ids_capped++; /* a prefix would mislead */
                return;
            }
            if (nh.n_descsz > 0) {
                memcpy(img->build_id, buf + desc_off, nh.n_descsz);
                img->build_id_len = nh.n_descsz;
                return;
            }
        }
        off = next;
    }
    if (i == MAX_NOTES && off + sizeof(ElfW(Nhdr)) <= len)
        t->build_ids_capped++; /* MAX_NOTES notes seen, more to go */
}

/* Scans one PT_NOTE segment for NT_GNU_BUILD_ID. */
static void read_build_id(mds_image_table *t, mds_image *img, uintptr_t addr,
                          uintptr_t len, uintptr_t p_align)
{
    uintptr_t align = (p_align == 8) ? 8 : 4;
    uintptr_t off = 0;
    if (len > 65536)
        len = 65536;
    if (len <= NOTES_LOCAL) {
        unsigned char buf[NOTES_LOCAL];
        if (mds_safe_read(buf, addr, len) == 0) {
            scan_notes(t, img, buf, len, align);
            return;
        }
    }
    int i;
    for (i = 0; i < MAX_NOTES && off + sizeof(ElfW(Nhdr)) <= len; i++) {
        ElfW(Nhdr) nh;
        if (mds_safe_read(&nh, addr + off, sizeof(nh)) < 0)
            return;
        uintptr_t name_off = off + sizeof(nh);
        uintptr_t desc_off =
            name_off + ((nh.n_namesz + align - 1) & ~(align - 1));
        uintptr_t next = desc_off + ((nh.n_descsz + align - 1) & ~(align - 1));
        if (next <= off || next > len)
            return;
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            nh.n_descsz > MDS_BUILD_ID_MAX) {
            t->build_ids_capped++; /* not stored: a prefix would mislead */
            return;
        }
        if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
            nh.n_descsz > 0) {
            char name[4];
            if (mds_safe_read(name, addr + name_off, 4) == 0 &&
                memcmp(name, "GNU", 4) == 0 &&
                mds_safe_read(img->build_id, addr + desc_off, nh.n_descsz) ==
                    0) {
                img->build_id_len = nh.n_descsz;
                return;
            }
        }
        off = next;
    }
    if (i == MAX_NOTES && off + sizeof(ElfW(Nhdr)) <= len)
        t->build_ids_capped++; /* MAX_NOTES notes seen, more to go */
}

/* Reads program headers [i, i + n) at phdr_addr into ph. */
static int read_ph_chunk(ElfW(Phdr) *ph, uintptr_t phdr_addr, size_t i,
                         size_t n)
{
    return mds_safe_read(ph, phdr_addr + i * sizeof(ph[0]), n * sizeof(ph[0]));
}

/* The bias from the PT_LOAD that maps file offset 0 (ehdr_addr is where
 * that ELF header is mapped). */
static int find_bias(mds_image *img, uintptr_t phdr_addr, size_t phnum,
                     uintptr_t ehdr_addr)
{
    ElfW(Phdr) ph[PHDR_CHUNK];
    for (size_t i = 0; i < phnum; i += PHDR_CHUNK) {
        size_t n = phnum - i < PHDR_CHUNK ? phnum - i : PHDR_CHUNK;
        if (read_ph_chunk(ph, phdr_addr, i, n) < 0)
            return -1;
        for (size_t k = 0; k < n; k++) {
            if (ph[k].p_type == PT_LOAD && ph[k].p_offset == 0) {
                img->load_bias = ehdr_addr - ph[k].p_vaddr;
                return 0;
            }
        }
    }
    return -1;
}

/* One PT_LOAD: span, hull of the executable ones, and a pool entry while
 * the image and the pool have room. */
static void add_segment(mds_image_table *t, mds_image *img, const ElfW(Phdr) *p)
{
    uintptr_t a = img->load_bias + p->p_vaddr;
    if (a < img->start)
        img->start = a;
    if (a + p->p_memsz > img->end)
        img->end = a + p->p_memsz;
    if (p->p_flags & PF_X) {
        if (a < img->xstart)
            img->xstart = a;
        if (a + p->p_memsz > img->xend)
            img->xend = a + p->p_memsz;
    }
    img->nsegs_total++;
    if (img->nsegs >= MDS_IMAGE_MAX_SEGS || !t->segs ||
        t->segs_used >= t->segs_cap)
        return;
    if (img->nsegs == 0)
        img->segs = &t->segs[t->segs_used];
    mds_segment *s = &t->segs[t->segs_used++];
    img->nsegs++;
    s->addr = a;
    s->size = p->p_memsz;
    s->file_offset = p->p_offset;
    s->flags = p->p_flags;
}

/*
 * Fills img's segments, eh_frame_hdr and build-id from the program
 * headers at phdr_addr, read in chunks. If bias_known is 0, the bias is
 * derived from ehdr_addr and the PT_LOAD that maps file offset 0.
 * Returns 0 or -1.
 */
static int read_phdrs(mds_image_table *t, mds_image *img, uintptr_t phdr_addr,
                      size_t phnum, uintptr_t ehdr_addr, int bias_known)
{
    ElfW(Phdr) ph[PHDR_CHUNK];
    if (phnum == 0)
        return -1;
    if (phnum > MDS_IMAGE_MAX_PHNUM) {
        t->phdrs_capped++;
        return -1;
    }
    if (!bias_known && find_bias(img, phdr_addr, phnum, ehdr_addr) < 0)
        return -1;
    img->start = img->xstart = UINTPTR_MAX;
    img->end = img->xend = 0;
    for (size_t i = 0; i < phnum; i += PHDR_CHUNK) {
        size_t n = phnum - i < PHDR_CHUNK ? phnum - i : PHDR_CHUNK;
        if (read_ph_chunk(ph, phdr_addr, i, n) < 0)
            break;
        for (size_t k = 0; k < n; k++) {
            const ElfW(Phdr) *p = &ph[k];
            if (p->p_type == PT_LOAD && p->p_memsz > 0) {
                add_segment(t, img, p);
            } else if (p->p_type == PT_GNU_EH_FRAME) {
                img->eh_frame_hdr = img->load_bias + p->p_vaddr;
                img->eh_frame_hdr_len = p->p_memsz;
            } else if (p->p_type == PT_NOTE && img->build_id_len == 0) {
                read_build_id(t, img, img->load_bias + p->p_vaddr, p->p_memsz,
                              p->p_align);
            }
        }
    }
    if (img->xstart == UINTPTR_MAX)
        img->xstart = 0;
    if (img->nsegs < img->nsegs_total)
        t->segs_capped++;
    if (img->nsegs_total == 0) {
        img->start = img->end = 0;
        return -1;
    }
    return 0;
}

/* Reads the ELF header at ehdr and then its program headers. */
static int read_elf(mds_image_table *t, mds_image *img, uintptr_t ehdr,
                    int bias_known)
{
    ElfW(Ehdr) eh;
    if (mds_safe_read(&eh, ehdr, sizeof(eh)) < 0)
        return -1;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(ElfW(Phdr)))
        return -1;
    return read_phdrs(t, img, ehdr + eh.e_phoff, eh.e_phnum, ehdr,
                      bias_known);
}

static mds_image *new_image(mds_image_table *t)
{
    if (t->count >= t->cap) {
        t->capped = 1;
        return NULL;
    }
    mds_image *img = &t->images[t->count];
    memset(img, 0, sizeof(*img));
    img->path = empty_name;
    return img;
}

static int add_main(mds_image_table *t)
{
    mds_image *img = new_image(t);
    if (!img)
        return -1;
    img->load_bias = mds_images_g.exe_bias;
    img->is_main = 1;
    img->path = pool_copy_local(t, mds_images_g.exe_path);
    read_phdrs(t, img, mds_images_g.exe_phdr, mds_images_g.exe_phnum, 0, 1);
    t->count++;
    return 0;
}

static int add_vdso(mds_image_table *t)
{
    mds_image *img = new_image(t);
    if (!img)
        return -1;
    img->is_vdso = 1;
    img->path = pool_copy_local(t, vdso_name);
    if (read_elf(t, img, mds_images_g.vdso, 0) < 0) {
        t->segs_used -= img->nsegs;
        return -1;
    }
    t->count++;
    return 0;
}

/* The public part of struct link_map, as laid out by <link.h>. */
struct lm_head {
    uintptr_t l_addr, l_name, l_ld, l_next, l_prev;
};

/* Walks one namespace's chain. *budget bounds the total walk. */
static void walk_chain(mds_image_table *t, uintptr_t lm_addr, int *budget,
                       int *saw_main, int *saw_vdso)
{
    uintptr_t prev = 0;
    for (; lm_addr && *budget > 0; (*budget)--) {
        struct lm_head lm;
        if (mds_safe_read(&lm, lm_addr, sizeof(lm)) < 0)
            return;
        if (prev && lm.l_prev != prev)
            return; /* broken chain: stop rather than wander */
        prev = lm_addr;
        lm_addr = lm.l_next;

        int is_main = mds_images_g.exe_dyn && lm.l_ld == mds_images_g.exe_dyn;
        /* glibc names the vdso "linux-vdso.so.1"; recognise it by its
         * dynamic section lying inside the vdso image instead. */
        int is_vdso =
            mds_images_g.vdso && (lm.l_addr == mds_images_g.vdso ||
                                  lm.l_ld - mds_images_g.vdso < VDSO_MAX_SPAN);
        if ((is_main && *saw_main) || (is_vdso && *saw_vdso))
            continue; /* e.g. the main program in a second namespace */

        /* ld.so is shared between namespaces: skip exact duplicates. */
        int dup = 0;
        for (size_t i = 0; i < t->count && !is_main && !is_vdso; i++) {
            if (t->images[i].load_bias == lm.l_addr && lm.l_addr != 0 &&
                !t->images[i].is_main)
                dup = 1;
        }
        if (dup)
            continue;

        if (is_main) {
            if (add_main(t) == 0)
                *saw_main = 1;
            continue;
        }
        if (is_vdso) {
            if (add_vdso(t) == 0)
                *saw_vdso = 1;
            continue;
        }
        mds_image *img = new_image(t);
        if (!img)
            return;
        img->load_bias = lm.l_addr;
        size_t pool_mark = t->pool_used, segs_mark = t->segs_used;
        img->path = pool_copy_remote(t, lm.l_name);
        if (read_elf(t, img, lm.l_addr, 1) < 0 && img->path[0] == 0) {
            /* Nothing usable (no headers, no name): drop it. */
            t->pool_used = pool_mark;
            t->segs_used = segs_mark;
            continue;
        }
        t->count++;
    }
    if (lm_addr && *budget <= 0)
        t->capped = 1; /* more link-map entries than MAX_LINKMAPS */
}

static int read_state(uintptr_t rd, int *state)
{
    struct r_debug r;
    if (mds_safe_read(&r, rd, sizeof(r)) < 0)
        return -1;
    *state = (int)r.r_state;
    return 0;
}

static void capture_once(mds_image_table *t)
{
    int budget = MAX_LINKMAPS;
    int saw_main = 0, saw_vdso = 0;
    uintptr_t rd = mds_images_g.r_debug;
    for (int ns = 0; rd; ns++) {
        if (ns == MAX_NAMESPACES) {
            t->namespaces_capped = 1;
            break;
        }
        struct r_debug_extended r;
        memset(&r, 0, sizeof(r));
        if (mds_safe_read(&r.base, rd, sizeof(r.base)) < 0)
            break;
        walk_chain(t, (uintptr_t)r.base.r_map, &budget, &saw_main, &saw_vdso);
        if (r.base.r_version < 2 || mds_safe_read(&r, rd, sizeof(r)) < 0)
            break;
        rd = (uintptr_t)r.r_next;
    }
    if (!saw_main)
        add_main(t);
    if (!saw_vdso && mds_images_g.vdso)
        add_vdso(t);
}

/* Empties t (its storage stays). */
static void table_reset(mds_image_table *t)
{
    t->count = 0;
    t->pool_used = 0;
    t->segs_used = 0;
    t->capped = 0;
    t->segs_capped = t->paths_capped = 0;
    t->phdrs_capped = t->build_ids_capped = 0;
    t->namespaces_capped = 0;
}

int mds_images_capture(mds_image_table *t)
{
    if (!t || !t->images)
        return MAYDAY_EINVAL;
    table_reset(t);
    t->inconsistent = 0;
    if (!mds_images_g.done)
        return MAYDAY_ENOTINSTALLED;

    for (int attempt = 0; attempt < CAPTURE_ATTEMPTS; attempt++) {
        int last = attempt == CAPTURE_ATTEMPTS - 1;
        int before = RT_CONSISTENT, after = RT_CONSISTENT;
        if (mds_images_g.r_debug &&
            read_state(mds_images_g.r_debug, &before) < 0)
            before = RT_CONSISTENT; /* unreadable: walk what we can */
        if (before != RT_CONSISTENT && !last) {
            mds_sleep_ns(RETRY_SLEEP_NS);
            continue;
        }
        table_reset(t);
        capture_once(t);
        if (mds_images_g.r_debug &&
            read_state(mds_images_g.r_debug, &after) < 0)
            after = RT_CONSISTENT;
        if (before == RT_CONSISTENT && after == RT_CONSISTENT)
            return 0;
        if (last)
            break;
        mds_sleep_ns(RETRY_SLEEP_NS);
    }
    t->inconsistent = 1;
    return 0;
}

int mds_images_find(const mds_image_table *t, uintptr_t pc)
{
    if (!t)
        return -1;
    for (size_t i = 0; i < t->count; i++) {
        const mds_image *img = &t->images[i];
        if (pc < img->start || pc >= img->end)
            continue;
        if (img->nsegs < img->nsegs_total)
            return (int)i; /* list cut: the span stands for the segments */
        for (uint32_t s = 0; s < img->nsegs; s++) {
            if (pc - img->segs[s].addr < img->segs[s].size)
                return (int)i;
        }
    }
    return -1;
}

int mds_images_is_exec(const mds_image_table *t, uintptr_t pc)
{
    if (!t)
        return 0;
    for (size_t i = 0; i < t->count; i++) {
        const mds_image *img = &t->images[i];
        if (pc < img->start || pc >= img->end)
            continue;
        if (img->nsegs < img->nsegs_total) {
            if (pc >= img->xstart && pc < img->xend)
                return 1; /* list cut: the executable hull stands for it */
            continue;
        }
        for (uint32_t s = 0; s < img->nsegs; s++) {
            const mds_segment *sg = &img->segs[s];
            if ((sg->flags & PF_X) && pc - sg->addr < sg->size)
                return 1;
        }
    }
    return 0;
}
