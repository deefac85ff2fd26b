/*
 * memcache.c - line cache over mds_safe_read (see memcache.h).
 *
 * Context: async-signal-safe: no malloc, no stdio, no locks, no errno.
 * One cache serves one walk at a time (the walker guarantees it).
 */
#include "crash/walk/memcache.h"
#include "crash/core/saferead.h"

#include <errno.h>
#include <string.h>

#include "crash/core/poison.h"

#define LINE_MASK ((uintptr_t)MDS_MEMCACHE_LINE - 1)

void mds_memcache_reset(mds_memcache *c)
{
    memset(c->state, 0, sizeof(c->state));
    c->next = 0;
    c->last = 0;
}

/* Returns the slot holding line, filling it if needed; -1 if the line is
 * unreadable. */
static int get_line(mds_memcache *c, uintptr_t line)
{
    c->lookups++;
    unsigned l = c->last;
    if (c->state[l] != 0 && c->tag[l] == line)
        return c->state[l] == 1 ? (int)l : -1;
    for (unsigned i = 0; i < MDS_MEMCACHE_LINES; i++) {
        if (c->state[i] != 0 && c->tag[i] == line) {
            c->last = i;
            return c->state[i] == 1 ? (int)i : -1;
        }
    }
    unsigned v = c->next;
    c->next = (v + 1) % MDS_MEMCACHE_LINES;
    c->fills++;
    c->tag[v] = line;
    c->state[v] =
        mds_safe_read(c->data[v], line, MDS_MEMCACHE_LINE) == 0 ? 1 : 2;
    c->last = v;
    return c->state[v] == 1 ? (int)v : -1;
}

int mds_memcache_read(mds_memcache *c, void *dst, uintptr_t addr, size_t len)
{
    if (addr + len < addr)
        return -EFAULT;
    if (!c)
        return mds_safe_read(dst, addr, len);
    unsigned char *out = dst;
    while (len > 0) {
        uintptr_t line = addr & ~LINE_MASK;
        size_t off = (size_t)(addr - line);
        size_t n = MDS_MEMCACHE_LINE - off;
        if (n > len)
            n = len;
        int slot = get_line(c, line);
        if (slot < 0)
            return -EFAULT;
        memcpy(out, c->data[slot] + off, n);
        out += n;
        addr += n;
        len -= n;
    }
    return 0;
}

int mds_memcache_word(mds_memcache *c, uintptr_t addr, uintptr_t *out)
{
    if (c && (addr & LINE_MASK) <= MDS_MEMCACHE_LINE - sizeof(*out)) {
        int slot = get_line(c, addr & ~LINE_MASK);
        if (slot < 0)
            return -EFAULT;
        memcpy(out, c->data[slot] + (addr & LINE_MASK), sizeof(*out));
        return 0;
    }
    return mds_memcache_read(c, out, addr, sizeof(*out));
}
