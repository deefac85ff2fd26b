/*
 * images.h - the list of loaded images (executable, shared libraries, vdso)
 * with their segments, unwind tables and build-ids, read from the live
 * link_map chain.
 *
 * Context: md_images_init() is normal context (install). Everything named
 * mds_* is async-signal-safe: it reads process memory only through
 * mds_safe_read and writes only into the caller's preallocated table.
 */
#ifndef MDS_IMAGES_H
#define MDS_IMAGES_H

#include <stddef.h>
#include <stdint.h>

/* Limits (docs/fault-path.md, "Limits and what happens at them"):
 * - MDS_IMAGE_MAX_SEGS: PT_LOAD segments stored per image; beyond it the
 *   image keeps its first ones, is counted in segs_capped, and lookups use
 *   its span (any pc inside it) and the hull of its executable segments.
 * - MDS_IMAGE_MAX_PHNUM: program headers read per image; an image with
 *   more is listed without segments and counted in phdrs_capped.
 * - MDS_BUILD_ID_MAX: a longer build-id is not stored (counted in
 *   build_ids_capped).
 * The segments themselves live in the table's pool (segs/segs_cap): a
 * full pool also counts the image in segs_capped. */
#define MDS_IMAGE_MAX_SEGS 64
#define MDS_IMAGE_MAX_PHNUM 1024
#define MDS_BUILD_ID_MAX 64
/* Segment pool entries per image on average that callers should provide
 * (x86_64 executables and libraries have 4 or 5 PT_LOAD segments). */
#define MDS_SEGS_PER_IMAGE 8

typedef struct mds_segment {
    uintptr_t addr;       /* runtime address */
    uintptr_t size;       /* p_memsz */
    uint64_t file_offset; /* p_offset */
    uint32_t flags;       /* PF_X=1, PF_W=2, PF_R=4 */
} mds_segment;

typedef struct mds_image {
    const char *path;         /* in the table's string pool; never NULL */
    uintptr_t load_bias;      /* l_addr */
    uintptr_t start, end;     /* span of the PT_LOAD segments */
    uintptr_t eh_frame_hdr;   /* runtime address of .eh_frame_hdr, or 0 */
    uintptr_t eh_frame_hdr_len;
    uint32_t nsegs;           /* entries in segs */
    uint32_t nsegs_total;     /* PT_LOAD segments of the image */
    mds_segment *segs;        /* in the table's segment pool */
    uintptr_t xstart, xend;   /* hull of the executable segments */
    uint32_t build_id_len;    /* 0: none found */
    uint8_t build_id[MDS_BUILD_ID_MAX];
    uint8_t is_main, is_vdso;
} mds_image;

typedef struct mds_image_table {
    mds_image *images; /* caller storage, cap entries */
    size_t cap;
    size_t count;
    char *pool;        /* caller storage for paths */
    size_t pool_cap;
    size_t pool_used;
    mds_segment *segs; /* caller storage for segments, segs_cap entries */
    size_t segs_cap;
    size_t segs_used;
    int inconsistent;  /* r_state was not RT_CONSISTENT after retries */
    int capped;        /* more images than cap (or than the link-map bound) */
    /* Limits hit (see above), counted per image: */
    uint32_t segs_capped;      /* segment list cut */
    uint32_t paths_capped;     /* path cut or dropped (pool full) */
    uint32_t phdrs_capped;     /* more program headers than the bound */
    uint32_t build_ids_capped; /* build-id longer than MDS_BUILD_ID_MAX */
    int namespaces_capped;     /* more dlmopen namespaces than the bound */
} mds_image_table;

/* Normal context, once at install: finds the live r_debug through the
 * executable's DT_DEBUG (via AT_PHDR), the vdso (AT_SYSINFO_EHDR) and the
 * path of /proc/self/exe. Returns 0 or a negative MAYDAY_E* code. */
int md_images_init(void);

/* Async-signal-safe: fills t from the live link_map chain (bounded walk,
 * retried while r_state is not consistent). Returns 0 or a negative code;
 * on error t still holds what was gathered. */
int mds_images_capture(mds_image_table *t);

/* Async-signal-safe: index of the image whose PT_LOAD segment contains pc,
 * or -1. */
int mds_images_find(const mds_image_table *t, uintptr_t pc);
/* Async-signal-safe: 1 if pc is inside an executable (PF_X) segment. */
int mds_images_is_exec(const mds_image_table *t, uintptr_t pc);

#endif
