/*
 * cfi.h - a lean DWARF CFI unwinder for the common case: finds a pc's FDE
 * through its image's .eh_frame_hdr, runs the CIE's and FDE's call-frame
 * programs (the usual DW_CFA_* operations), computes the CFA and the
 * caller's registers, and keeps the resulting rule rows in a cache.
 * Anything it does not handle (DWARF expressions, rules for registers it
 * does not track, unusual encodings or augmentations, bad data) it hands
 * back as MDS_CFI_HANDOFF: the walker then asks libunwind for that frame,
 * as it did for every frame before (unwind.c).
 *
 * Why: libunwind's remote unw_step brackets every step with two
 * rt_sigprocmask calls around its rule cache's lock (about 76 system calls
 * per 37-frame walk) and costs about as much again in CPU; nothing on the
 * crash path needs that lock. The semantics are libunwind 1.6's (which
 * row applies to a pc, "pc - 1" for return addresses, the end-of-chain
 * rules, signal frames), so that both give the same frames
 * (Tests/walk/test_lean.c).
 *
 * Context: async-signal-safe: no allocation (the cache is caller memory,
 * part of the walker's install-time mapping), no locks, no syscalls but
 * the safe reads of the line cache. Architecture facts: cfi_arch.h.
 */
#ifndef MDS_CFI_H
#define MDS_CFI_H

#include <stddef.h>
#include <stdint.h>

#include "crash/core/regs.h"
#include "crash/walk/cfi_arch.h"
#include "crash/walk/images.h"
#include "crash/walk/memcache.h"

/* One frame as the unwinder sees it. */
typedef struct mds_cfi_frame {
    uintptr_t pc; /* as reported */
    uintptr_t ip; /* what libunwind's cursor would hold: pc, or pc - 1
                   * after a frame found by a fallback (see unwind.c) */
    uintptr_t sp; /* the frame's stack pointer (its caller's CFA) */
    uint64_t v[MDS_CFI_NCOLS];
    uint64_t known;   /* bit c: v[c] is this frame's value of column c */
    uint64_t undef;   /* bit c: the CFI says column c is undefined */
    uint8_t use_prev; /* rules are looked up at ip - 1 (a call site) */
    uint8_t sig_prev; /* the frame this one was unwound from is a signal
                       * frame (CIE 'S'): libunwind's unw_is_signal_frame */
} mds_cfi_frame;

enum {
    MDS_CFI_OK = 1,      /* *next is the caller */
    MDS_CFI_END = 0,     /* the CFI marks the outermost frame */
    MDS_CFI_NOINFO = -1, /* no FDE for the pc (or the step failed the way
                          * libunwind's would): use the fallbacks */
    MDS_CFI_HANDOFF = -2 /* not handled here: ask libunwind */
};

/* A cached rule row (see cfi.c); MDS_CFI_CACHE_SLOTS rows. */
#define MDS_CFI_CACHE_SLOTS 512
typedef struct mds_cfi_row {
    uintptr_t key; /* the lookup address (ip - use_prev) */
    uint32_t gen;  /* valid if equal to the cache's generation */
    uint8_t kind;  /* rules, no FDE, or hand off */
    uint8_t sig;   /* the CIE has 'S' */
    uint8_t cfa_col;
    uint8_t ra_col;
    int32_t cfa_off;
    uint32_t active; /* bit c: column c's rule is not "same value" */
    uint8_t where[MDS_CFI_NCOLS];
    int16_t off[MDS_CFI_NCOLS]; /* CFA offset or register column */
} mds_cfi_row;

typedef struct mds_cfi_cache {
    uint32_t gen; /* rows of other generations are empty */
    /* per-walk memo of the last .eh_frame_hdr parsed */
    int eh_img;
    uintptr_t eh_table, eh_count;
    /* statistics */
    uint64_t steps, hits, misses, handoffs;
    mds_cfi_row rows[MDS_CFI_CACHE_SLOTS];
} mds_cfi_cache;

/* Forgets every cached row (a generation bump: no memory is touched). */
void mds_cfi_flush(mds_cfi_cache *c);
/* Call at the start of every walk (drops the per-walk memo). */
void mds_cfi_begin_walk(mds_cfi_cache *c);

/* Frame 0 from saved registers: ip = pc, no "pc - 1", not after a signal
 * frame. Registers not in r->valid are unknown. */
void mds_cfi_frame_from_regs(mds_cfi_frame *f, const mds_regs *r);
/* A frame found by a fallback (frame pointer, [sp], scan): only pc, sp
 * and, if fp_valid, the frame pointer are known; ip = pc - 1. */
void mds_cfi_frame_fresh(mds_cfi_frame *f, uintptr_t pc, uintptr_t sp,
                         uintptr_t fp, int fp_valid);
/* The known registers of f as mds_regs (pc = f->ip), for libunwind. */
void mds_cfi_frame_to_regs(const mds_cfi_frame *f, mds_regs *r);

/* One step from cur to its caller. cache may be NULL (nothing cached).
 * t: the image table; mc: the walk's line cache (or NULL for direct safe
 * reads). Returns MDS_CFI_OK, _END, _NOINFO or _HANDOFF. */
int mds_cfi_step(mds_cfi_cache *cache, const mds_image_table *t,
                 mds_memcache *mc, const mds_cfi_frame *cur,
                 mds_cfi_frame *next);

/* Parses img's .eh_frame_hdr header: the binary-search table's address
 * and entry count (version 1, table encoding datarel|sdata4 only).
 * 0 or -1. Shared with unwind.c's libunwind shim. */
int mds_cfi_eh_frame_hdr(mds_memcache *mc, const mds_image *img,
                         uintptr_t *table, uintptr_t *count);

#endif
