/*
 * memcache.h - a tiny read cache in front of mds_safe_read, for the stack
 * walker: libunwind reads memory a word (often a byte) at a time, and one
 * process_vm_readv per word would cost ~80 syscalls per frame.
 *
 * Context: async-signal-safe. No allocation: the cache lives in the
 * walker's preallocated mapping. Lines are aligned to their size (which
 * divides the page size), so an unreadable page never poisons a readable
 * one; unreadable lines are cached too (negative entries). Callers reset
 * the cache at the start of every walk, since stacks change between walks.
 */
#ifndef MDS_MEMCACHE_H
#define MDS_MEMCACHE_H

#include <stddef.h>
#include <stdint.h>

#ifndef MDS_MEMCACHE_LINES
#define MDS_MEMCACHE_LINES 16
#endif
#ifndef MDS_MEMCACHE_LINE
#define MDS_MEMCACHE_LINE 4096 /* a power of two, <= 4096 */
#endif

typedef struct mds_memcache {
    uintptr_t tag[MDS_MEMCACHE_LINES]; /* line address */
    uint8_t state[MDS_MEMCACHE_LINES]; /* 0 empty, 1 readable, 2 bad */
    unsigned next;                     /* round-robin victim */
    unsigned last;                     /* most recent hit */
    uint64_t lookups, fills;           /* statistics */
    unsigned char data[MDS_MEMCACHE_LINES][MDS_MEMCACHE_LINE]
        __attribute__((aligned(64)));
} mds_memcache;

/* Forgets every line (statistics are kept). */
void mds_memcache_reset(mds_memcache *c);
/* Copies len bytes at addr into dst. c may be NULL: then every read goes
 * straight to mds_safe_read. Returns 0 or a negative -errno. */
int mds_memcache_read(mds_memcache *c, void *dst, uintptr_t addr, size_t len);
/* One machine word (any alignment). */
int mds_memcache_word(mds_memcache *c, uintptr_t addr, uintptr_t *out);

#endif
