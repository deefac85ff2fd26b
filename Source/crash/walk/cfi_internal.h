/*
 * cfi_internal.h - what the two halves of the lean CFI unwinder share:
 * cfi_parse.c (finds and runs the CFI for an address) and cfi.c (caches
 * the rows, applies them to frames). Not for use outside them.
 *
 * Context: crash path (async-signal-safe).
 */
#ifndef MDS_CFI_INTERNAL_H
#define MDS_CFI_INTERNAL_H

#include "crash/walk/cfi.h"

/* Rule kinds (mds_cfi_row.where and the parser's state). */
enum { W_SAME = 0, W_UNDEF, W_CFAREL, W_REG, W_EXPR };
/* mds_cfi_row.kind */
enum { ROW_RULES = 1, ROW_NOINFO, ROW_HANDOFF };

#if MDS_CFI_LEAN
/* The rule row that applies at key (a lookup address: ip, or ip - 1 for a
 * return address), computed afresh: ROW_RULES, ROW_NOINFO (no FDE covers
 * it) or ROW_HANDOFF (something only libunwind handles). c (may be NULL)
 * memoises the last .eh_frame_hdr parsed. */
void mds_cfi_compute_row(mds_cfi_cache *c, const mds_image_table *t,
                         mds_memcache *mc, uintptr_t key, mds_cfi_row *row);
#endif

#endif
