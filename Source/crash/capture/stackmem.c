/*
 * stackmem.c - a thread's stack memory (Thread.stack, Thread.stack_limit):
 * the bytes from its stack pointer minus the red zone up towards the top
 * of the stack's mapping, cut by the thread's cap, the report's budget and
 * the room left below the size cap.
 *
 * Context: async-signal-safe. No malloc, stdio, locks or dynamic linker.
 * Memory is read only with process_vm_readv (one iovec per page, so an
 * unreadable page ends the copy instead of faulting), or page by page
 * with the safe read's pipe where process_vm_readv does not work, into the work
 * area's stack buffer mapped at install. With the memory map the range is
 * clipped to the mapping that holds the stack, so a guard page is never
 * even asked for; without it (no /proc), the copy stops at the first page
 * the kernel refuses.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "crash/capture/capture.h"
#include "crash/core/saferead.h"
#include "crash/core/sys.h"
#include "crash/handler/fields.h"
#include "crash/core/poison.h"

#define PAGE 4096u
#define IOV_BATCH 64
/* A stack pointer up to this far below its stack's mapping (a thread that
 * overflowed into its guard page or the gap below the main stack) still
 * gets the stack above it. */
#define BELOW_STACK_MAX (64 * 1024)

uint64_t mds_pb_room(const mds_pb *pb)
{
    uint64_t pos = mds_writer_pos(pb->w);
    if (pb->dropping || pb->dead || pb->w->err || pos >= pb->soft_limit)
        return 0;
    return pb->soft_limit - pos;
}

uint64_t mds_capture_fit(const mds_pb *pb, uint64_t reserve)
{
    uint64_t room = mds_pb_room(pb);
    /* The reserve never takes more than half: with thousands of threads
     * to come, the bulky fields before them still get something. */
    uint64_t keep = 2048 + (reserve < room / 2 ? reserve : room / 2);
    return room > keep ? (room - keep) / 2 : 0;
}

/* Without process_vm_readv (qemu-user, some seccomp policies): the safe
 * read's own method, one page at a time. */
static size_t read_prefix_pages(void *dst, uintptr_t src, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t k = PAGE - ((src + done) & (PAGE - 1));
        if (k > len - done)
            k = len - done;
        if (mds_safe_read((char *)dst + done, src + done, k) < 0)
            break;
        done += k;
    }
    return done;
}

size_t mds_read_prefix(void *dst, uintptr_t src, size_t len)
{
    if (mds_safe_read_method() != MDS_SAFEREAD_VM)
        return read_prefix_pages(dst, src, len);
    size_t done = 0;
    /* Our own thread id, as mds_safe_read: reads by the process id fail
     * once the main thread has exited (a zombie leader has no memory). */
    int pid = (int)mds_gettid();
    while (done < len) {
        struct iovec remote[IOV_BATCH];
        size_t n = 0, want = 0;
        uintptr_t a = src + done;
        while (n < IOV_BATCH && done + want < len) {
            size_t in_page = PAGE - ((a + want) & (PAGE - 1));
            size_t k = len - done - want;
            if (k > in_page)
                k = in_page;
            remote[n].iov_base = (void *)(a + want);
            remote[n].iov_len = k;
            want += k;
            n++;
        }
        struct iovec local = {(char *)dst + done, want};
        long r = mds_process_vm_readv(pid, &local, 1, remote, n);
        if (r <= 0)
            break;
        done += (size_t)r;
        if ((size_t)r < want)
            break; /* a page the kernel refused: the readable prefix ends */
    }
    return done;
}

/* The readable range around sp: [*lo, *top). 0, or -1 if none. */
static int stack_range(const mds_capture *c, uint64_t sp, uint64_t *lo,
                       uint64_t *top, int *known_top)
{
    uint64_t want_lo = sp >= MDS_REDZONE ? sp - MDS_REDZONE : 0;
    const mds_mapping *m = mds_maps_find(c, sp);
    *known_top = 1;
    if (m && (m->flags & MDS_MAP_R)) {
        *lo = want_lo > m->start ? want_lo : m->start;
        *top = m->end;
        return 0;
    }
    if (c && c->maps_ok) {
        /* sp in a guard page or below the stack (overflow): the stack is
         * the readable mapping right above it. */
        const mds_mapping *n = mds_maps_next(c, sp);
        if (n && (n->flags & MDS_MAP_R) && n->start - sp <= BELOW_STACK_MAX) {
            *lo = n->start;
            *top = n->end;
            return 0;
        }
        return -1;
    }
    *known_top = 0; /* no map: read until the kernel refuses */
    *lo = want_lo;
    *top = UINT64_MAX;
    return 0;
}

void mds_put_stack(mds_pb *pb, mds_capture *c, const mds_regs *regs,
                   uint32_t cap, uint64_t *out_lo, uint64_t *out_hi)
{
    *out_lo = *out_hi = 0;
    if (!c || cap == 0 || !c->stackbuf)
        return;
    if (cap > c->stackbuf_cap)
        cap = c->stackbuf_cap;
    uint64_t lo, top;
    int known;
    if (!(regs->valid & (1ull << MDS_REG_SP)) ||
        stack_range(c, regs->v[MDS_REG_SP], &lo, &top, &known) < 0) {
        mds_pb_uint64(pb, F_THREAD_STACK_LIMIT, MDS_STACK_LIMIT_UNREADABLE);
        return;
    }
    uint64_t span = top - lo;
    uint64_t want = cap;
    int limit = MDS_STACK_LIMIT_THREAD_CAP;
    if (known && span <= want) {
        want = span;
        limit = MDS_STACK_LIMIT_NONE;
    }
    if (want > c->budget_left) {
        want = c->budget_left;
        limit = MDS_STACK_LIMIT_BUDGET;
        c->budget_exhausted = 1;
    }
    uint64_t fit = mds_capture_fit(pb, c->reserve);
    if (want > fit) {
        want = fit;
        limit = MDS_STACK_LIMIT_REPORT_SIZE;
    }
    size_t n = want ? mds_read_prefix(c->stackbuf, lo, (size_t)want) : 0;
    if (want && n == 0) {
        limit = MDS_STACK_LIMIT_UNREADABLE;
    } else if (n < want && !known) {
        limit = MDS_STACK_LIMIT_NONE; /* the readable stack ended there */
    } else if (n < want) {
        limit = MDS_STACK_LIMIT_UNREADABLE; /* the map said otherwise */
    }
    if (n) {
        if (mds_pb_begin_min(pb, F_THREAD_STACK, MDS_PB_VARINT_MAX) == 0) {
            mds_pb_uint64(pb, F_MEMORY_ADDRESS, lo);
            mds_pb_bytes(pb, F_MEMORY_DATA, c->stackbuf, n);
        }
        mds_pb_end(pb);
        c->budget_left -= n;
        *out_lo = lo;
        *out_hi = lo + n;
    }
    mds_pb_uint64(pb, F_THREAD_STACK_LIMIT, (uint64_t)limit);
}
