/*
 * fpregs.c - floating-point/SIMD registers (Thread.fp) and the system
 * call a stopped thread was in, from a signal frame.
 *
 * Context: async-signal-safe. No malloc, stdio, locks or dynamic linker.
 * mds_fp_save_crashed runs in the crashed thread's handler and copies
 * from the ucontext the kernel just wrote (so plain memcpy) into memory
 * mapped at install (mds_crash_fp_g.buf); mds_syscall_from_regs runs in a
 * thread parked by the signal stopper (crash/stop/stop_signal.c), whose
 * slot the stopper fills with FXSAVE itself; the ptrace stopper fills
 * both from the stop.
 *
 * x86_64 signal frames: uc_mcontext.fpregs points to the FXSAVE area
 * (512 bytes). If the kernel saved an XSAVE area, bytes 464..511 of it
 * (software-reserved) hold struct _fpx_sw_bytes with FP_XSTATE_MAGIC1, the
 * area's size xstate_size, and FP_XSTATE_MAGIC2 follows the area.
 * aarch64: the frame's fpsimd_context record, copied into the layout of
 * struct user_fpsimd_state (regs_aarch64.c); SVE state is not kept.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "crash/capture/capture.h"
#include "crash/handler/fields.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

mds_crash_fp mds_crash_fp_g;

#define FXSAVE_LEN 512
#define SW_BYTES 464 /* offset of struct _fpx_sw_bytes in the FXSAVE area */
#define XSAVE_MAGIC1 0x46505853u
#define XSAVE_MAGIC2 0x46505845u
#define XSAVE_HDR_END 576
#define MDS_XSAVE_KEEP 7 /* the last component kept: AVX-512's Hi16_ZMM */

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#if defined(__x86_64__)
static const unsigned char *frame_fp(const void *ucv)
{
    const ucontext_t *uc = ucv;
    return (const unsigned char *)uc->uc_mcontext.fpregs;
}
#else
static const unsigned char *frame_fp(const void *ucv)
{
    (void)ucv;
    return 0;
}
#endif

/* Keeps the FP/SIMD components (x87, SSE, AVX, AVX-512: 0..7) that are in
 * use: a component whose XSTATE_BV bit is clear is in its initial state
 * and its bytes mean nothing (they are stale), so they are zeroed; later
 * components (PKRU, AMX tiles, ...) are dropped and their bits cleared.
 * Trailing zeros are then left out of the report. */
static void keep_fp_components(mds_crash_fp *f, uint32_t len)
{
    uint64_t bv;
    memcpy(&bv, f->buf + 512, sizeof bv);
    for (uint32_t i = 2; i < f->ncomp; i++) {
        uint64_t off = f->xsave_off[i], size = f->xsave_size[i];
        if (!size || off + size > len)
            continue;
        if (i > MDS_XSAVE_KEEP || !(bv & (1ull << i)))
            memset(f->buf + off, 0, (size_t)size);
    }
    bv &= (1ull << (MDS_XSAVE_KEEP + 1)) - 1;
    memcpy(f->buf + 512, &bv, sizeof bv);
}

void mds_fp_save_crashed(const void *ucv, uint32_t tid)
{
    mds_crash_fp *f = &mds_crash_fp_g;
    __atomic_store_n(&f->len, 0, __ATOMIC_RELEASE);
#if defined(__aarch64__)
    /* The frame's fpsimd_context, in ptrace's user_fpsimd_state layout
     * (the other threads' slots have the same). */
    size_t n = f->buf && ucv ? mds_fpregs_from_ucontext(f->buf, f->cap, ucv)
                             : 0;
    if (n) {
        f->format = MDS_FP_FORMAT_AARCH64_FPSIMD;
        f->tid = tid;
        __atomic_store_n(&f->len, (uint32_t)n, __ATOMIC_RELEASE);
    }
    return;
#endif
    const unsigned char *fp = frame_fp(ucv);
    if (!f->buf || f->cap < FXSAVE_LEN || !fp)
        return;
    uint32_t len = FXSAVE_LEN, format = MDS_FP_FORMAT_FXSAVE;
    uint32_t ext = get32(fp + SW_BYTES + 4), xsize = get32(fp + SW_BYTES + 16);
    if (get32(fp + SW_BYTES) == XSAVE_MAGIC1 && xsize >= XSAVE_HDR_END &&
        xsize + 4 <= ext && xsize <= f->cap &&
        get32(fp + xsize) == XSAVE_MAGIC2) {
        len = xsize;
        format = MDS_FP_FORMAT_XSAVE;
    }
    memcpy(f->buf, fp, len);
    if (format == MDS_FP_FORMAT_XSAVE)
        keep_fp_components(f, len);
    f->format = format;
    f->tid = tid;
    __atomic_store_n(&f->len, len, __ATOMIC_RELEASE);
}

void mds_syscall_from_regs(const mds_regs *r, int64_t *nr, uint64_t a[6])
{
    *nr = -2;
#if defined(__x86_64__)
    const uint64_t need = (1ull << MDS_REG_RIP) | (1ull << MDS_REG_RAX);
    if ((r->valid & need) != need || r->v[MDS_REG_RIP] < 7)
        return;
    uint64_t pc = r->v[MDS_REG_RIP], rax = r->v[MDS_REG_RAX];
    /* b[0..6]: the 7 bytes before pc; b[7..8]: the 2 at pc. */
    unsigned char b[9];
    size_t n = mds_read_prefix(b, pc - 7, sizeof b);
    int before = n >= 7, at = n == sizeof b;
    if (!before)
        at = mds_read_prefix(b + 7, pc, 2) == 2;
    if (!before && !at)
        return;
    if (at && b[7] == 0x0f && b[8] == 0x05 && rax < 4096) {
        /* At a syscall instruction: a restarted system call (the kernel
         * put its number back into rax and pc on the instruction), or
         * one about to be entered. */
        *nr = (int64_t)rax;
    } else if (before && b[5] == 0x0f && b[6] == 0x05 &&
               (int64_t)rax == -EINTR) {
        /* Just after one that our signal ended with EINTR (nanosleep,
         * pause, epoll_wait...): its number is gone from rax; glibc's
         * wrappers load it with "mov $nr, %eax" right before. */
        if (b[0] != 0xb8)
            return; /* unknown */
        *nr = (int64_t)get32(b + 1);
    } else {
        *nr = -1;
        return;
    }
    a[0] = r->v[MDS_REG_RDI];
    a[1] = r->v[MDS_REG_RSI];
    a[2] = r->v[MDS_REG_RDX];
    a[3] = r->v[MDS_REG_R10];
    a[4] = r->v[MDS_REG_R8];
    a[5] = r->v[MDS_REG_R9];
#else
    (void)r;
    (void)a;
#endif
}

/* Writes Thread.fp; trailing zero bytes are left out (documented: a
 * reader pads with zeros). */
void mds_put_fp(mds_pb *pb, uint32_t format, const void *data, size_t len,
                uint64_t reserve)
{
    const unsigned char *p = data;
    unsigned char fx[FXSAVE_LEN];
    if (format == MDS_FP_FORMAT_FXSAVE && len == FXSAVE_LEN) {
        /* The kernel's software bytes (signal frames and ptrace both put
         * its XSAVE magic there) are no register state. */
        memcpy(fx, data, SW_BYTES);
        memset(fx + SW_BYTES, 0, FXSAVE_LEN - SW_BYTES);
        p = fx;
    }
    while (len > 0 && p[len - 1] == 0)
        len--;
    if (len + 128 > mds_capture_fit(pb, reserve))
        return; /* a small size cap: the threads and images come first */
    if (mds_pb_begin(pb, F_THREAD_FP) == 0) {
        mds_pb_uint64(pb, F_FP_FORMAT, format);
        if (len)
            mds_pb_bytes(pb, F_FP_DATA, p, len);
        if (format == MDS_FP_FORMAT_XSAVE) {
            const mds_crash_fp *f = &mds_crash_fp_g;
            uint64_t off[MDS_XSAVE_COMPONENTS], size[MDS_XSAVE_COMPONENTS];
            uint32_t n = f->ncomp < MDS_XSAVE_KEEP + 1 ? f->ncomp
                                                       : MDS_XSAVE_KEEP + 1;
            for (uint32_t i = 0; i < n; i++) {
                off[i] = f->xsave_off[i];
                size[i] = f->xsave_size[i];
            }
            /* Both or neither: the reader pairs them. */
            if (mds_pb_fits(pb, 2 * (MDS_PB_VARINT_MAX + 10 * (uint64_t)n)) ==
                0) {
                mds_pb_packed_uint64(pb, F_FP_XSAVE_OFFSETS, off, n);
                mds_pb_packed_uint64(pb, F_FP_XSAVE_SIZES, size, n);
            }
        }
    }
    mds_pb_end(pb);
}

void mds_put_crashed_fp(mds_pb *pb, uint32_t tid, uint64_t reserve)
{
    const mds_crash_fp *f = &mds_crash_fp_g;
    uint32_t len = __atomic_load_n(&f->len, __ATOMIC_ACQUIRE);
    if (len && f->tid == tid)
        mds_put_fp(pb, f->format, f->buf, len, reserve);
}
