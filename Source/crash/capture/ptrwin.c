/*
 * ptrwin.c - memory near pointers (Thread.memory, crashed thread only): a
 * window of pointer_window_bytes around each general register that points
 * into readable memory and around the fault address; overlapping windows
 * merged, each labelled with what pointed there; windows inside the
 * thread's recorded stack memory left out (their bytes are there).
 *
 * Context: async-signal-safe. No malloc, stdio, locks or dynamic linker.
 * Readability comes from the memory map when there is one (a window never
 * leaves its mapping); every byte is read with process_vm_readv, so an
 * unreadable page ends a window instead of faulting.
 */
#include <string.h>

#include "crash/capture/capture.h"
#include "crash/handler/fields.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

#if defined(__x86_64__)
#define NGPR (MDS_REG_RIP + 1) /* rax..r15, rip */
#else
#define NGPR (MDS_REG_PC + 1)
#endif

typedef struct win {
    uint64_t lo, hi;
    uint32_t labels; /* bit i: register i; bit 31: the fault address */
} win;

#define FAULT_BIT 31

/* The window around p, clipped to p's mapping; 0 if p is not readable. */
static int window_of(const mds_capture *c, uint64_t p, uint32_t size, win *w)
{
    uint64_t before = size / 4, after = size - before;
    w->lo = p >= before ? p - before : 0;
    w->hi = p + after < p ? UINT64_MAX : p + after;
    if (c->maps_ok) {
        const mds_mapping *m = mds_maps_find(c, p);
        if (!m || !(m->flags & MDS_MAP_R))
            return 0;
        if (w->lo < m->start)
            w->lo = m->start;
        if (w->hi > m->end)
            w->hi = m->end;
    } else if (p < 4096) {
        return 0; /* the null page: never mapped readable in practice */
    }
    return w->hi > w->lo;
}

static void put_window(mds_pb *pb, mds_capture *c, const win *w)
{
    size_t len = (size_t)(w->hi - w->lo);
    if (len > c->winbuf_cap)
        len = c->winbuf_cap;
    if (len + 64 > mds_capture_fit(pb, c->reserve))
        return;
    size_t n = mds_read_prefix(c->winbuf, w->lo, len);
    if (n == 0)
        return;
    if (mds_pb_begin_min(pb, F_THREAD_MEMORY, MDS_PB_VARINT_MAX) == 0) {
        mds_pb_uint64(pb, F_MEMORY_ADDRESS, w->lo);
        mds_pb_bytes(pb, F_MEMORY_DATA, c->winbuf, n);
        for (int i = 0; i < NGPR; i++)
            if (w->labels & (1u << i))
                mds_pb_string(pb, F_MEMORY_LABELS, mds_reg_names[i]);
        if (w->labels & (1u << FAULT_BIT))
            mds_pb_string(pb, F_MEMORY_LABELS, "fault_address");
    }
    mds_pb_end(pb);
}

void mds_put_windows(mds_pb *pb, mds_capture *c, const mds_regs *regs,
                     int has_fault, uint64_t fault, uint64_t stack_lo,
                     uint64_t stack_hi)
{
    uint32_t size = mds_g.cfg.pointer_window_bytes;
    if (!c || !c->winbuf || size == 0)
        return;
    win v[NGPR + 1];
    int n = 0;
    for (int i = 0; i <= NGPR; i++) {
        uint64_t p;
        uint32_t bit;
        if (i < NGPR) {
            if (!(regs->valid & (1ull << i)))
                continue;
            p = regs->v[i];
            bit = 1u << i;
        } else {
            if (!has_fault)
                continue;
            p = fault;
            bit = 1u << FAULT_BIT;
        }
        win w;
        if (!window_of(c, p, size, &w))
            continue;
        if (w.lo >= stack_lo && w.hi <= stack_hi)
            continue; /* already in the stack memory */
        w.labels = bit;
        /* Insert sorted by lo. */
        int k = n++;
        while (k > 0 && v[k - 1].lo > w.lo) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = w;
    }
    /* Merge overlapping (and touching) windows. */
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0 && v[i].lo <= v[m - 1].hi) {
            if (v[i].hi > v[m - 1].hi)
                v[m - 1].hi = v[i].hi;
            v[m - 1].labels |= v[i].labels;
        } else {
            v[m++] = v[i];
        }
    }
    for (int i = 0; i < m; i++)
        put_window(pb, c, &v[i]);
}
