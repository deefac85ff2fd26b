/*
 * unwind.c - walking a stopped thread's stack (see unwind.h).
 *
 * Context: crash path, async-signal-safe: no malloc, no stdio, no pthread
 * locks of ours, no dynamic-linker calls, no errno; memory is read only
 * through mds_safe_read (via the walker's line cache). The install half
 * (md_walker_create/destroy) is walker_create.c.
 *
 * Strategy, per frame, first that works:
 *   1. CFI: the lean unwinder (cfi.c: .eh_frame_hdr, CIE/FDE programs,
 *      a rule-row cache; no locks, no syscalls but safe reads; x86_64);
 *      for the frames it hands off (DWARF expressions, unusual encodings),
 *      and on architectures without it, libunwind's REMOTE API on our own
 *      address space, with our own accessors (memory = safe reads through
 *      a line cache, registers = the frame's known registers, unwind
 *      tables = each image's .eh_frame_hdr from our image table).
 *      libunwind's local path (unw_init_local, unw_backtrace) calls
 *      dl_iterate_phdr and is never used here. MDS_WALK_MODE_LIBUNWIND
 *      gives every CFI step to libunwind (tests and bench/ compare).
 *   2. The context, for frame 0 only: [sp] (x86_64) or lr (aarch64) as
 *      the return address when its pc is 0 or outside every executable
 *      segment (a call through a bad pointer); on aarch64 also lr for a
 *      leaf without CFI (arch_*.c, mds_arch_frame0_caller).
 *   3. Frame pointer: [fp] is the caller's fp, [fp+8] the return address
 *      (rbp on x86_64; the x29 frame record on aarch64).
 *   4. Scan: the first word above sp that points just after a call
 *      instruction in an executable segment (low trust).
 * Return addresses lose their pointer-authentication code (aarch64 PAC)
 * wherever they are read. The instruction decoding is per architecture
 * (arch.h, arch_x86_64.c, arch_aarch64.c).
 * Termination: at most max (and MDS_WALK_HARD_CAP) frames; every frame's
 * sp must be strictly above the previous one (on aarch64 frame 1 may share
 * frame 0's sp: a leaf) and within MDS_WALK_MAX_SPAN
 * of the walk's base (a signal frame may switch stacks at most
 * MDS_WALK_MAX_SWITCHES times); every step reads a bounded amount.
 *
 * Locks inside libunwind 1.6 (see docs/stack-walking.md): a CFI step takes
 * the address space's rs-cache mutex (ours, private) and the library's
 * mempool mutexes; a re-entered walker (a crash during a walk on the same
 * thread) therefore never calls libunwind again.
 */
#include "crash/walk/unwind.h"
#include "crash/core/sys.h"
#include "crash/walk/cfi.h"
#include "crash/walk/frames.h"
#include "crash/walk/arch.h"
#include "crash/walk/memcache.h"
#include "crash/walk/walk_internal.h"
#include "mayday/mayday.h"

#include <elf.h>
#include <libunwind.h>
#include <string.h>

#include "crash/core/poison.h"
/* Also the symbols libunwind's local-unwinding macros expand to. */
#pragma GCC poison _Ux86_64_init_local _Ux86_64_init_local2
#pragma GCC poison _ULx86_64_init_local _ULx86_64_init_local2
#pragma GCC poison _Ux86_64_getcontext unw_init_local2
#pragma GCC poison _Uaarch64_init_local _Uaarch64_init_local2
#pragma GCC poison _ULaarch64_init_local _ULaarch64_init_local2
#pragma GCC poison _Uaarch64_getcontext

/* ------------------------------------------------ libunwind version shim */

#if (UNW_VERSION_MAJOR > 1 ||                                                  \
     (UNW_VERSION_MAJOR == 1 && UNW_VERSION_MINOR >= 7)) &&                    \
    !defined(MDS_UNW_FORCE_SEARCH_TABLE)
#define MDS_UNW_IN_RANGE 1
#else
#define MDS_UNW_IN_RANGE 0
/* Exported by libunwind 1.6 (libunwind-generic) but not declared in its
 * headers: binary-search an .eh_frame_hdr table described by di
 * (UNW_INFO_FORMAT_REMOTE_TABLE: table_data = first entry, table_len =
 * entries * 8 / sizeof(unw_word_t), segbase = .eh_frame_hdr address).
 * UNW_OBJ gives its per-architecture name (_Ux86_64_..., _Uaarch64_...). */
#define mds_unw_search_table UNW_OBJ(dwarf_search_unwind_table)
extern int mds_unw_search_table(unw_addr_space_t as, unw_word_t ip,
                                unw_dyn_info_t *di, unw_proc_info_t *pi,
                                int need_unwind_info, void *arg);
#endif

#define MDS_WALK_HARD_CAP 4096 /* frames mds_walk stores at most */
#define MDS_WALK_MAX_SPAN (64ull << 20)
#define MDS_WALK_MAX_SWITCHES 2
#define MDS_SCAN_WORDS_CTX 2048 /* words scanned above frame 0's sp */
#define MDS_SCAN_WORDS 512      /* words scanned above other frames' sp */
#define MDS_FN_MAX_SIZE 0x10000 /* "pc is in the call's target function" */

/* ------------------------------------------------------- accessors */

static int acc_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
                   int write, void *arg)
{
    (void)as;
    mds_walker *w = arg;
    if (write)
        return -UNW_EREADONLYREG;
    uintptr_t v;
    if (mds_memcache_word(&w->cache, (uintptr_t)addr, &v) < 0)
        return -UNW_EINVAL;
    *val = v;
    return 0;
}

static int acc_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
                   int write, void *arg)
{
    (void)as;
    mds_walker *w = arg;
    int i = mds_arch_unw_to_mds(reg);
    if (write)
        return -UNW_EREADONLYREG;
    if (i < 0 || !(w->cur.valid & (1ull << i)))
        return -UNW_EBADREG;
    *val = w->cur.v[i];
    return 0;
}

static int acc_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
                     int write, void *arg)
{
    (void)as, (void)reg, (void)val, (void)write, (void)arg;
    return -UNW_EBADREG;
}

static int acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
    (void)as, (void)c, (void)arg;
    return -UNW_EINVAL;
}

static int acc_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
                         size_t len, unw_word_t *off, void *arg)
{
    (void)as, (void)addr, (void)buf, (void)len, (void)off, (void)arg;
    return -UNW_ENOINFO;
}

static int acc_dyn_list(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
    (void)as, (void)addr, (void)arg;
    return -UNW_ENOINFO;
}

static void acc_put_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
    /* libunwind frees table-format unwind info itself (its mempool). */
    (void)as, (void)pi, (void)arg;
}

/* Parses img's .eh_frame_hdr header (memoised for the last image). */
static int eh_table(mds_walker *w, int idx, const mds_image *img)
{
    if (w->eh_img == idx)
        return w->eh_count ? 0 : -1;
    w->eh_img = idx;
    w->eh_count = 0;
    if (mds_cfi_eh_frame_hdr(&w->cache, img, &w->eh_table, &w->eh_count) < 0)
        w->eh_count = 0;
    return w->eh_count ? 0 : -1;
}

/* The one place that differs between libunwind versions. */
static int search_table(mds_walker *w, const mds_image *img, int idx,
                        unw_word_t ip, unw_proc_info_t *pi, int need)
{
#if MDS_UNW_IN_RANGE
    (void)idx;
    return unw_get_proc_info_in_range(img->start, img->end, img->eh_frame_hdr,
                                      img->eh_frame_hdr_len, 0, 0, w->as, ip,
                                      pi, need, w);
#else
    if (eh_table(w, idx, img) < 0)
        return -UNW_ENOINFO;
    unw_dyn_info_t di;
    memset(&di, 0, sizeof(di));
    di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
    di.start_ip = img->start;
    di.end_ip = img->end;
    di.gp = 0;
    di.u.rti.name_ptr = 0;
    di.u.rti.segbase = img->eh_frame_hdr;
    di.u.rti.table_data = w->eh_table;
    di.u.rti.table_len = w->eh_count * 8 / sizeof(unw_word_t);
    return mds_unw_search_table(w->as, ip, &di, pi, need, w);
#endif
}

static int acc_find_proc_info(unw_addr_space_t as, unw_word_t ip,
                              unw_proc_info_t *pi, int need, void *arg)
{
    (void)as;
    mds_walker *w = arg;
    ip = mds_arch_strip_pc((uintptr_t)ip); /* a signed aarch64 lr */
    int idx = mds_images_find(w->images, (uintptr_t)ip);
    if (idx < 0 || !w->images->images[idx].eh_frame_hdr) {
        w->fpi_fail = 1;
        return -UNW_ENOINFO;
    }
    const mds_image *img = &w->images->images[idx];
    if (ip < img->start || ip >= img->end) {
        w->fpi_fail = 1;
        return -UNW_ENOINFO;
    }
    int r = search_table(w, img, idx, ip, pi, need);
    if (r < 0)
        w->fpi_fail = 1;
    return r;
}

unw_accessors_t mds_walk_accessors = {
    .find_proc_info = acc_find_proc_info,
    .put_unwind_info = acc_put_info,
    .get_dyn_info_list_addr = acc_dyn_list,
    .access_mem = acc_mem,
    .access_reg = acc_reg,
    .access_fpreg = acc_fpreg,
    .resume = acc_resume,
    .get_proc_name = acc_proc_name,
};

/* ------------------------------------------------------- the walk */

typedef struct frame_state {
    uintptr_t pc, sp, fp;
    int fp_valid;
} frame_state;

static uint64_t table_signature(const mds_image_table *t)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < t->count; i++) {
        const mds_image *img = &t->images[i];
        h = (h ^ img->start) * 1099511628211ull;
        h = (h ^ img->end) * 1099511628211ull;
        for (uint32_t b = 0; b < img->build_id_len; b++)
            h = (h ^ img->build_id[b]) * 1099511628211ull;
    }
    return h;
}

/* Positions the libunwind cursor at s (pc_adj: pc - 1 for return
 * addresses so the lookup hits the call site). */
static int cursor_init(mds_walker *w, const frame_state *s, uintptr_t pc_adj,
                       const mds_regs *full)
{
    if (full) {
        w->cur = *full;
    } else {
        memset(&w->cur, 0, sizeof(w->cur));
        w->cur.v[MDS_REG_PC] = pc_adj;
        w->cur.v[MDS_REG_SP] = s->sp;
        w->cur.valid = (1ull << MDS_REG_PC) | (1ull << MDS_REG_SP);
        if (s->fp_valid) {
            w->cur.v[MDS_REG_FP] = s->fp;
            w->cur.valid |= 1ull << MDS_REG_FP;
        }
    }
    return unw_init_remote(&w->cursor, w->as, w) == 0 ? 0 : -1;
}

/* One CFI step from the cursor. 1: next found, 0: outermost frame, -1:
 * failed (the caller falls back). frame0: stepping from the context. */
static int step_cfi(mds_walker *w, const frame_state *cur, frame_state *nx,
                    int frame0, int *switched)
{
    int from_signal = unw_is_signal_frame(&w->cursor) > 0;
    w->fpi_fail = 0;
    w->stats.cfi_steps++;
    int r = unw_step(&w->cursor);
    if (r == 0 && !w->fpi_fail)
        return 0;
    if (r <= 0 || w->fpi_fail)
        return -1; /* libunwind failed, or guessed without our tables */
    unw_word_t ip, sp, fp;
    if (unw_get_reg(&w->cursor, UNW_REG_IP, &ip) < 0 ||
        unw_get_reg(&w->cursor, UNW_REG_SP, &sp) < 0)
        return -1;
    nx->pc = mds_arch_strip_pc((uintptr_t)ip);
    nx->sp = sp;
    nx->fp_valid = unw_get_reg(&w->cursor, MDS_ARCH_UNW_FP, &fp) == 0;
    nx->fp = nx->fp_valid ? fp : 0;
    *switched = 0;
    if (nx->sp < cur->sp ||
        (nx->sp == cur->sp && !(MDS_ARCH_FRAME0_SAME_SP && frame0))) {
        if (!from_signal)
            return -1;
        *switched = 1; /* a signal frame may lead to another stack */
    }
    if (!mds_images_is_exec(w->images, nx->pc))
        return -1;
    return 1;
}

/* One CFI step of the lean unwinder from cur (lc: its register state),
 * the frames it hands off done by libunwind. Same contract as step_cfi. */
static int step_handoff(mds_walker *w, const mds_cfi_frame *lc,
                        mds_cfi_frame *lnx);

static int step_lean(mds_walker *w, const mds_image_table *t, mds_memcache *mc,
                     const frame_state *cur, const mds_cfi_frame *lc,
                     frame_state *nx, mds_cfi_frame *lnx, int frame0,
                     int *switched)
{
    int r = mds_cfi_step(&w->cfi, t, mc, lc, lnx);
    if (r == MDS_CFI_HANDOFF)
        r = step_handoff(w, lc, lnx);
    if (r == MDS_CFI_END)
        return 0;
    if (r != MDS_CFI_OK)
        return -1;
    nx->pc = mds_arch_strip_pc(lnx->pc);
    nx->sp = lnx->sp;
#if MDS_CFI_LEAN
    nx->fp_valid = (lnx->known >> MDS_CFI_FP_COL) & 1;
    nx->fp = nx->fp_valid ? lnx->v[MDS_CFI_FP_COL] : 0;
#else
    nx->fp_valid = 0;
    nx->fp = 0;
#endif
    *switched = 0;
    if (nx->sp < cur->sp ||
        (nx->sp == cur->sp && !(MDS_ARCH_FRAME0_SAME_SP && frame0))) {
        if (!lc->sig_prev)
            return -1;
        *switched = 1; /* a signal frame may lead to another stack */
    }
    if (!mds_images_is_exec(w->images, nx->pc))
        return -1;
    return 1;
}

/* libunwind's unw_step for one frame the lean unwinder handed off: a
 * cursor at lc (its known registers; its pc such that libunwind, which
 * starts without "pc - 1", looks the rules up where we would), one step,
 * then every register libunwind can give back. */
static int step_handoff(mds_walker *w, const mds_cfi_frame *lc,
                        mds_cfi_frame *lnx)
{
    if (!w->as)
        return MDS_CFI_NOINFO;
    mds_cfi_frame_to_regs(lc, &w->cur);
    w->cur.v[MDS_REG_PC] = lc->ip - (lc->use_prev ? 1 : 0);
    if (unw_init_remote(&w->cursor, w->as, w) != 0)
        return MDS_CFI_NOINFO;
    w->fpi_fail = 0;
    w->stats.cfi_steps++;
    int r = unw_step(&w->cursor);
    if (r == 0 && !w->fpi_fail)
        return MDS_CFI_END;
    if (r <= 0 || w->fpi_fail)
        return MDS_CFI_NOINFO;
    unw_word_t ip, sp;
    if (unw_get_reg(&w->cursor, UNW_REG_IP, &ip) < 0 ||
        unw_get_reg(&w->cursor, UNW_REG_SP, &sp) < 0)
        return MDS_CFI_NOINFO;
    memset(lnx, 0, sizeof(*lnx));
    lnx->pc = lnx->ip = ip;
    lnx->sp = sp;
#if MDS_CFI_LEAN
    for (int c = 0; c < MDS_CFI_NCOLS; c++) {
        unw_word_t v;
        if (c != MDS_CFI_SP_COL &&
            unw_get_reg(&w->cursor, mds_cfi_col_unw(c), &v) == 0) {
            lnx->v[c] = v;
            lnx->known |= 1ull << c;
        }
    }
#endif
    /* After the step, libunwind's "signal frame" is the frame just left;
     * it also decides whether the next lookup uses pc - 1. */
    int sig = unw_is_signal_frame(&w->cursor) > 0;
    lnx->use_prev = !sig;
    lnx->sig_prev = (uint8_t)sig;
    return MDS_CFI_OK;
}

static int step_fp(const mds_image_table *t, mds_memcache *mc,
                   const frame_state *cur, frame_state *nx)
{
    uintptr_t fp = cur->fp, saved[2];
    if (!cur->fp_valid || (fp & 7) || fp < cur->sp ||
        fp - cur->sp > MDS_WALK_MAX_SPAN)
        return -1;
    if (mds_memcache_read(mc, saved, fp, sizeof(saved)) < 0)
        return -1;
    saved[1] = mds_arch_strip_pc(saved[1]);
    if (!mds_images_is_exec(t, saved[1]))
        return -1;
    nx->pc = saved[1];
    nx->sp = fp + 16;
    nx->fp = saved[0];
    nx->fp_valid = 1;
    return 1;
}

/*
 * Scans words above sp for a return address. A call whose target is known
 * and is not the function we are in (a stale return address left by an
 * earlier call, or a tail call) is only taken when nothing better is in
 * the window: first choice is a call to the current function (target at
 * most MDS_FN_MAX_SIZE below pc) or an indirect call.
 */
static int step_scan(const mds_image_table *t, mds_memcache *mc,
                     const frame_state *cur, int context, int words, int strong,
                     frame_state *nx)
{
    uintptr_t a = (cur->sp + 7) & ~(uintptr_t)7, weak = 0, weak_at = 0;
    uintptr_t fpc = context ? cur->pc : cur->pc - 1;
    int known_fn = mds_images_is_exec(t, fpc);
    if (strong && !known_fn)
        return -1;
    for (int i = 0; i < words; i++, a += 8) {
        uintptr_t v, target = 0;
        if (mds_memcache_word(mc, a, &v) < 0)
            break; /* the end of readable stack */
        v = mds_arch_strip_pc(v);
        if (v < 4096)
            continue;
        int kind = mds_arch_call_kind(t, mc, v, &target);
        if (kind == MDS_CALL_NONE)
            continue;
        int good = kind == MDS_CALL_UNKNOWN || !known_fn ||
                   (target <= fpc && fpc - target < MDS_FN_MAX_SIZE);
        if (!good) {
            if (!weak && !strong) {
                weak = v;
                weak_at = a;
            }
            continue;
        }
        weak = v;
        weak_at = a;
        break;
    }
    if (!weak)
        return -1;
    nx->pc = weak;
    nx->sp = weak_at + 8;
    nx->fp = cur->fp;
    nx->fp_valid = cur->fp_valid;
    return 1;
}

/* Words between sp and the frame record fp points at (at most
 * MDS_SCAN_WORDS). */
static int fp_window(const frame_state *cur)
{
    uintptr_t words = (cur->fp - cur->sp) / 8;
    return words > MDS_SCAN_WORDS ? MDS_SCAN_WORDS : (int)words;
}

/*
 * The walk proper. use_lu: libunwind may be used (then w is owned by this
 * walk and w->images == t); mc: the line cache, or NULL for direct safe
 * reads; st: counters; out: where the frames go (it decides what is kept).
 * A walk with use_lu == 0 touches nothing in w. Returns 0, or -1 if the
 * walk stopped at MDS_WALK_MAX_STEPS with more frames to go.
 */
static int walk(mds_walker *w, int use_lu, const mds_image_table *t,
                mds_memcache *mc, mds_walk_stats *st, const mds_regs *regs,
                mds_frame_sink *out)
{
    frame_state cur = {regs->v[MDS_REG_PC], regs->v[MDS_REG_SP],
                       regs->v[MDS_REG_FP],
                       (regs->valid & (1ull << MDS_REG_FP)) != 0};
    mds_frame f0 = {cur.pc, cur.sp, mds_images_find(t, cur.pc),
                    MDS_TRUST_CONTEXT};
    if (!mds_sink_push(out, &f0))
        return 0;
    uint64_t n = 1;
    uintptr_t base = cur.sp;
    int switches = 0;
    int lean = MDS_CFI_LEAN && use_lu && w->mode == MDS_WALK_MODE_LEAN;
    /* The lean unwinder's state of cur and nx (swapped, not copied). */
    mds_cfi_frame lf[2], *lc = &lf[0], *lnx = &lf[1];
    if (lean)
        mds_cfi_frame_from_regs(lc, regs);
    int lu_ok = use_lu && !lean && cursor_init(w, &cur, cur.pc, regs) == 0;

    for (;;) {
        frame_state nx = {0, 0, 0, 0};
        int trust = 0, switched = 0;
        int code = cur.pc >= 4096 && mds_images_is_exec(t, cur.pc);
        if (n == 1 && !code) {
            uintptr_t pc, sp;
            trust = mds_arch_frame0_caller(t, mc, regs, 0, &pc, &sp);
            if (trust)
                nx = (frame_state){pc, sp, cur.fp, cur.fp_valid};
        }
        if (!trust && (lu_ok || lean)) {
            int r = lean ? step_lean(w, t, mc, &cur, lc, &nx, lnx, n == 1,
                                     &switched)
                         : step_cfi(w, &cur, &nx, n == 1, &switched);
            if (r == 0)
                break; /* CFI says this is the outermost frame */
            if (r > 0) {
                if (switched && switches >= MDS_WALK_MAX_SWITCHES)
                    return -1; /* a bound, not the stack's end */
                trust = MDS_TRUST_CFI;
            }
        }
        if (!trust && n == 1 && code) {
            uintptr_t pc, sp;
            trust = mds_arch_frame0_caller(t, mc, regs, 1, &pc, &sp);
            if (trust)
                nx = (frame_state){pc, sp, cur.fp, cur.fp_valid};
        }
        if (!trust && MDS_ARCH_FP_MAY_SKIP && cur.fp_valid && cur.fp > cur.sp &&
            step_scan(t, mc, &cur, n == 1, fp_window(&cur), 1, &nx) > 0)
            trust = MDS_TRUST_SCAN; /* a frame the frame pointer skips */
        if (!trust && step_fp(t, mc, &cur, &nx) > 0)
            trust = MDS_TRUST_FRAME_POINTER;
        if (!trust &&
            step_scan(t, mc, &cur, n == 1,
                      n == 1 ? MDS_SCAN_WORDS_CTX : MDS_SCAN_WORDS, 0, &nx) > 0)
            trust = MDS_TRUST_SCAN;
        if (!trust)
            break;
        if (switched) {
            switches++;
            base = nx.sp;
        } else if (nx.sp < cur.sp ||
                   (nx.sp == cur.sp && !(MDS_ARCH_FRAME0_SAME_SP && n == 1))) {
            break;
        }
        if (nx.sp - base > MDS_WALK_MAX_SPAN)
            return -1; /* a bound, not the stack's end */
        if (n >= MDS_WALK_MAX_STEPS)
            return -1;
        mds_frame fr = {nx.pc, nx.sp, mds_images_find(t, nx.pc - 1),
                        (uint8_t)trust};
        if (!mds_sink_push(out, &fr))
            break;
        n++;
        switch (trust) {
        case MDS_TRUST_CFI:
            st->cfi_frames++;
            break;
        case MDS_TRUST_FRAME_POINTER:
            st->fp_frames++;
            break;
        case MDS_TRUST_STACK_POINTER:
        case MDS_TRUST_LINK_REGISTER:
            st->sp_frames++;
            break;
        default:
            st->scan_frames++;
            break;
        }
        if (lean) {
            if (trust != MDS_TRUST_CFI)
                mds_cfi_frame_fresh(lnx, nx.pc, nx.sp, nx.fp, nx.fp_valid);
            mds_cfi_frame *tmp = lc;
            lc = lnx;
            lnx = tmp;
        } else if (trust != MDS_TRUST_CFI && use_lu) {
            lu_ok = cursor_init(w, &nx, nx.pc - 1, NULL) == 0;
        }
        cur = nx;
    }
    return 0;
}

/* Owns the walker for one walk (or walks without it when it is busy) and
 * runs walk() into out. Returns walk()'s result or a negative code. */
static int walk_into(mds_walker *w, const mds_image_table *images,
                     const mds_regs *regs, mds_frame_sink *out)
{
    if (!(regs->valid & (1ull << MDS_REG_PC)) ||
        !(regs->valid & (1ull << MDS_REG_SP)))
        return MAYDAY_EINVAL;
    int tid = (int)mds_gettid(), prev = 0;
    if (!__atomic_compare_exchange_n(&w->busy_tid, &prev, tid, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        /* Re-entered (a crash inside a walk on this thread) or used by two
         * threads at once: walk without libunwind and without the shared
         * cache, touching nothing in w; a same-thread re-entry may have
         * left libunwind's mutexes held, so it is never used again. */
        if (prev == tid)
            w->lu_poisoned = 1;
        mds_walk_stats scratch;
        memset(&scratch, 0, sizeof(scratch));
        return walk(w, 0, images, NULL, &scratch, regs, out) < 0 ? 1 : 0;
    }
    w->images = images;
    w->eh_img = -1;
    mds_memcache_reset(&w->cache);
    mds_cfi_begin_walk(&w->cfi);
    uint64_t sig = table_signature(images);
    if (sig != w->images_sig) {
        /* Images changed since the caches were filled: a cached rule
         * could belong to a library that is gone. Flushing only bumps a
         * counter (ours and libunwind's; no allocation). */
        if (w->as)
            unw_flush_cache(w->as, 0, 0);
        mds_cfi_flush(&w->cfi);
        w->images_sig = sig;
    }
    int use_lu = w->as && !w->lu_poisoned;
    int r = walk(w, use_lu, images, &w->cache, &w->stats, regs, out);
    w->stats.walks++;
    w->stats.mem_fills = w->cache.fills;
    w->stats.mem_lookups = w->cache.lookups;
    w->stats.lean_steps = w->cfi.steps;
    w->stats.lean_hits = w->cfi.hits;
    w->stats.handoffs = w->cfi.handoffs;
    __atomic_store_n(&w->busy_tid, 0, __ATOMIC_RELEASE);
    return r < 0 ? 1 : 0;
}

int mds_walk(mds_walker *w, const mds_image_table *images, const mds_regs *regs,
             mds_frame *frames, size_t max, int *capped)
{
    if (!w || !images || !regs || !frames)
        return MAYDAY_EINVAL;
    if (capped)
        *capped = 0;
    if (max == 0)
        return 0;
    mds_frame_sink out;
    mds_sink_init(&out, frames,
                  max > MDS_WALK_HARD_CAP ? MDS_WALK_HARD_CAP : max, 0);
    int r = walk_into(w, images, regs, &out);
    if (r < 0)
        return r;
    if (capped && (out.full || r > 0))
        *capped = 1;
    return (int)mds_sink_finish(&out, NULL, NULL);
}

int mds_walk_ends(mds_walker *w, const mds_image_table *images,
                  const mds_regs *regs, mds_frame *frames, size_t max,
                  size_t outer, mds_walk_result *res)
{
    if (!w || !images || !regs || !frames || !res)
        return MAYDAY_EINVAL;
    memset(res, 0, sizeof(*res));
    if (max == 0)
        return 0;
    mds_frame_sink out;
    mds_sink_init(&out, frames, max, outer);
    int r = walk_into(w, images, regs, &out);
    if (r < 0)
        return r;
    res->stopped = r > 0 || out.full;
    res->count = mds_sink_finish(&out, &res->omitted, &res->gap_at);
    return (int)res->count;
}

void mds_walker_flush(mds_walker *w)
{
    if (w && w->as)
        unw_flush_cache(w->as, 0, 0);
    if (w)
        mds_cfi_flush(&w->cfi);
}

void mds_walker_set_mode(mds_walker *w, int mode)
{
    if (w)
        w->mode = mode == MDS_WALK_MODE_LIBUNWIND ? mode : MDS_WALK_MODE_LEAN;
}

void mds_walker_get_stats(const mds_walker *w, mds_walk_stats *out)
{
    if (w && out)
        *out = w->stats;
}
