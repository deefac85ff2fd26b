/*
 * arena.h - crash-time memory: regions mapped at install time, each with a
 * PROT_NONE guard page on both sides, carved by a bump allocator.
 *
 * Context: mds_arena_map/unmap run in normal context (install/uninstall);
 * mds_arena_alloc and mds_arena_reset are async-signal-safe (no syscalls,
 * lock-free for one owner at a time: the crash path has a single writer).
 *
 * An overrun runs into a guard page and faults there instead of corrupting
 * whatever the kernel happened to map next to the region.
 */
#ifndef MDS_ARENA_H
#define MDS_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct mds_arena {
    unsigned char *map;  /* start of the whole mapping (a guard page) */
    size_t map_len;      /* whole mapping, guards included */
    unsigned char *base; /* first usable byte */
    size_t size;         /* usable bytes (a multiple of the page size) */
    size_t used;         /* bump pointer */
} mds_arena;

/* Maps size bytes (rounded up to pages) between two guard pages.
 * Returns 0 or -errno. Normal context. */
int mds_arena_map(mds_arena *a, size_t size);
/* Unmaps; a zeroed arena is a no-op. Normal context. */
void mds_arena_unmap(mds_arena *a);
/* Bump-allocates len bytes aligned to align (a power of two, <= 4096).
 * Returns NULL when the region is exhausted; never faults. Async-safe. */
void *mds_arena_alloc(mds_arena *a, size_t len, size_t align);
/* Forgets every allocation. Async-safe. */
void mds_arena_reset(mds_arena *a);
/* The page size, cached at first call from normal context (AT_PAGESZ). */
size_t mds_page_size(void);

#endif
