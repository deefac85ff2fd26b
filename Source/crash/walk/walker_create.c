/*
 * walker_create.c - install-time half of the stack walker (see unwind.h):
 * maps the walker's guard-paged memory, creates libunwind's private remote
 * address space (unw_create_addr_space mallocs it) with our accessors and
 * UNW_CACHE_GLOBAL, and warms it with one walk of the calling thread, so
 * that libunwind's lazy global initialisation (tdep_init: its mempools,
 * signal masks, memory validation pipe) happens here and not at crash time;
 * a second walk of the same stack fills the lean unwinder's rule rows.
 *
 * Context: normal context only (install/uninstall); uses libc freely.
 * Built into the normal-context object set, not into mayday_crash.
 */
#include "crash/walk/unwind.h"
#include "crash/walk/walk_internal.h"

#include <libunwind.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

#define WARM_FRAMES 128

/* The brief's choice is UNW_CACHE_GLOBAL; other policies can be built for
 * measurements (bench/bench_walk), e.g. -DMDS_UNW_CACHE_POLICY=
 * UNW_CACHE_PER_THREAD. See docs/stack-walking.md, "Caches". */
#ifndef MDS_UNW_CACHE_POLICY
#define MDS_UNW_CACHE_POLICY UNW_CACHE_GLOBAL
#endif

/* One walk of the calling thread, from getcontext(). */
static void warm_up(mds_walker *w)
{
    mds_arena tmp;
    if (mds_arena_map(&tmp, 256 * 1024) < 0)
        return;
    mds_image_table t;
    memset(&t, 0, sizeof(t));
    t.cap = 256;
    t.images = mds_arena_alloc(&tmp, t.cap * sizeof(mds_image), 64);
    t.pool_cap = 32768;
    t.pool = mds_arena_alloc(&tmp, t.pool_cap, 8);
    t.segs_cap = t.cap * MDS_SEGS_PER_IMAGE;
    t.segs = mds_arena_alloc(&tmp, t.segs_cap * sizeof(mds_segment), 8);
    mds_frame *fr = mds_arena_alloc(&tmp, WARM_FRAMES * sizeof(mds_frame), 8);
    ucontext_t uc;
    memset(&uc, 0, sizeof uc); /* getcontext leaves some registers unset */
    if (t.images && t.pool && t.segs && fr && getcontext(&uc) == 0 &&
        mds_images_capture(&t) == 0) {
        mds_regs regs;
        mds_regs_from_ucontext(&regs, &uc);
        /* libunwind first (its lazy global init and rule cache, for the
         * frames the lean unwinder hands off), then the lean unwinder's
         * rule rows, in the mode the walker keeps. */
        int mode = w->mode;
        mds_walker_set_mode(w, MDS_WALK_MODE_LIBUNWIND);
        mds_walk(w, &t, &regs, fr, WARM_FRAMES, NULL);
        mds_walker_set_mode(w, mode);
        mds_walk(w, &t, &regs, fr, WARM_FRAMES, NULL);
    }
    mds_arena_unmap(&tmp);
}

mds_walker *md_walker_create(void)
{
    if (md_images_init() < 0)
        return NULL;
    mds_arena a;
    if (mds_arena_map(&a, sizeof(mds_walker)) < 0)
        return NULL;
    mds_walker *w = mds_arena_alloc(&a, sizeof(mds_walker), 64);
    if (!w) {
        mds_arena_unmap(&a);
        return NULL;
    }
    /* A fresh anonymous mapping is zeroed; clearing the lean unwinder's
     * rule rows too would only touch their pages (40 KiB) for nothing. */
    memset(w, 0, offsetof(mds_walker, cfi.rows));
    w->arena = a;
    w->eh_img = -1;
    w->as = unw_create_addr_space(&mds_walk_accessors, 0);
    if (!w->as) {
        mds_arena_unmap(&a);
        return NULL;
    }
    if (unw_set_caching_policy(w->as, MDS_UNW_CACHE_POLICY) != 0) {
        unw_destroy_addr_space(w->as);
        mds_arena_unmap(&a);
        return NULL;
    }
    warm_up(w);
    memset(&w->stats, 0, sizeof(w->stats));
    return w;
}

void md_walker_destroy(mds_walker *w)
{
    if (!w)
        return;
    if (w->as)
        unw_destroy_addr_space(w->as);
    mds_arena a = w->arena;
    mds_arena_unmap(&a);
}
