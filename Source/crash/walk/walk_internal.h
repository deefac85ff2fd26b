/*
 * walk_internal.h - state shared between the crash-path halves of
 * Source/crash/walk/ (images.c, unwind.c) and their install-time halves
 * (images_init.c, walker_create.c). Not for use outside this folder.
 *
 * Context: the structures are written in normal context (install) and
 * only read on the crash path, except the walker's per-walk fields, which
 * belong to the one walk in progress.
 */
#ifndef MDS_WALK_INTERNAL_H
#define MDS_WALK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "crash/core/arena.h"
#include "crash/walk/cfi.h"
#include "crash/walk/images.h"
#include "crash/walk/memcache.h"
#include "crash/walk/unwind.h"

#include <libunwind.h>
/* Never used on the crash path: libunwind.h defines them as macros, which
 * would make poison.h warn instead of poisoning the names. */
#undef unw_init_local
#undef unw_init_local2

#define MDS_PATH_CAP 4096

/* What md_images_init resolved; read-only afterwards. */
typedef struct mds_images_env {
    int done;
    uintptr_t r_debug;  /* live r_debug (from DT_DEBUG), 0 if none */
    int r_debug_stale;  /* r_debug came from the _r_debug symbol */
    uintptr_t exe_phdr; /* AT_PHDR */
    size_t exe_phnum;   /* AT_PHNUM */
    uintptr_t exe_bias; /* load bias of the executable */
    uintptr_t exe_dyn;  /* runtime address of its PT_DYNAMIC, or 0 */
    uintptr_t vdso;     /* AT_SYSINFO_EHDR, or 0 */
    char exe_path[MDS_PATH_CAP];
} mds_images_env;

extern mds_images_env mds_images_g;

struct mds_walker {
    mds_arena arena;       /* the guard-paged mapping holding this struct */
    unw_addr_space_t as;   /* private remote address space, or NULL */
    int lu_poisoned;       /* libunwind never used again (re-entry) */
    int mode;              /* MDS_WALK_MODE_* (unwind.h) */
    volatile int busy_tid; /* thread currently walking, 0 if none */
    uint64_t images_sig;   /* signature of the last image table */
    /* per-walk state, read by the accessors */
    const mds_image_table *images;
    mds_regs cur; /* registers of the frame the cursor is at */
    int fpi_fail; /* a find_proc_info failed during this step */
    int eh_img;   /* image whose .eh_frame_hdr is parsed below */
    uintptr_t eh_table;
    uintptr_t eh_count;
    mds_walk_stats stats;
    unw_cursor_t cursor;
    mds_memcache cache;
    mds_cfi_cache cfi; /* the lean unwinder's rule rows */
};

/* The accessors handed to unw_create_addr_space (unwind.c). */
extern unw_accessors_t mds_walk_accessors;

#endif
