/*
 * arena.c - guard-paged crash-time memory (see arena.h).
 *
 * Context: map/unmap in normal context; alloc/reset async-signal-safe.
 */
#include "arena.h"
#include "sys.h"

#include <sys/auxv.h>
#include <sys/mman.h>

#include "poison.h"

static size_t page_size_cache;

size_t mds_page_size(void)
{
    /* getauxval is a plain read of the saved auxv (no lock), but it is
     * first called from install so the crash path only sees the cache. */
    if (page_size_cache == 0) {
        unsigned long p = getauxval(AT_PAGESZ);
        page_size_cache = p ? (size_t)p : 4096;
    }
    return page_size_cache;
}

int mds_arena_map(mds_arena *a, size_t size)
{
    size_t pg = mds_page_size();
    size_t usable = (size + pg - 1) & ~(pg - 1);
    if (usable == 0)
        usable = pg;
    size_t total = usable + 2 * pg;
    void *m;
    long r = mds_mmap(0, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
                      &m);
    if (r < 0)
        return (int)r;
    r = mds_mprotect((unsigned char *)m + pg, usable, PROT_READ | PROT_WRITE);
    if (r < 0) {
        mds_munmap(m, total);
        return (int)r;
    }
    a->map = m;
    a->map_len = total;
    a->base = (unsigned char *)m + pg;
    a->size = usable;
    a->used = 0;
    return 0;
}

void mds_arena_unmap(mds_arena *a)
{
    if (a->map)
        mds_munmap(a->map, a->map_len);
    a->map = a->base = 0;
    a->map_len = a->size = a->used = 0;
}

void *mds_arena_alloc(mds_arena *a, size_t len, size_t align)
{
    if (!a->base || align == 0 || (align & (align - 1)) != 0)
        return 0;
    size_t start = (a->used + align - 1) & ~(align - 1);
    if (start < a->used || start > a->size || len > a->size - start)
        return 0;
    a->used = start + len;
    return a->base + start;
}

void mds_arena_reset(mds_arena *a) { a->used = 0; }
