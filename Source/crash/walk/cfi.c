/*
 * cfi.c - the lean CFI unwinder (see cfi.h): the rule-row cache, frames,
 * and applying a row to a frame (the parsing is cfi_parse.c).
 *
 * Context: crash path, async-signal-safe: no malloc, no stdio, no locks,
 * no dynamic-linker calls, no errno; memory is read only through the
 * walk's line cache (mds_safe_read); loops are bounded by the column
 * count and the cache's probe window.
 *
 * The rules follow libunwind 1.6 (src/dwarf/Gparser.c, src/x86_64/Gstep.c,
 * Gregs.c), read there and written anew here: a row is looked up at
 * ip - 1 for a return address and at ip for frame 0 and for the frame a
 * signal frame interrupted; reading the stack pointer gives the CFA; a
 * rule "in register" copies the column in order, from the columns
 * already updated; an undefined return address ends the walk (and on
 * x86_64 an undefined rbp does too); an unchanged ip and CFA is a failed
 * step. Unlike libunwind's, the cache is keyed by the lookup address
 * (ip or ip - 1), not by ip alone.
 */
#include "crash/walk/cfi.h"
#include "crash/walk/cfi_internal.h"

#include <string.h>

#include "crash/core/poison.h"

#if MDS_CFI_LEAN

#define MDS_CFI_PROBE 4 /* cache slots tried per key */

_Static_assert(MDS_CFI_CACHE_SLOTS == 512, "lookup() hashes to 9 bits");
_Static_assert(MDS_CFI_NCOLS <= 32, "mds_cfi_row.active is 32 bits");

#define BIT(c) (1ull << (c))

/* ------------------------------------------------ the row cache */

static mds_cfi_row *lookup(mds_cfi_cache *c, const mds_image_table *t,
                           mds_memcache *mc, uintptr_t key,
                           mds_cfi_row *scratch)
{
    if (!c) {
        mds_cfi_compute_row(NULL, t, mc, key, scratch);
        return scratch;
    }
    unsigned h = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 55);
    mds_cfi_row *free_slot = NULL;
    for (unsigned i = 0; i < MDS_CFI_PROBE; i++) {
        mds_cfi_row *r = &c->rows[(h + i) % MDS_CFI_CACHE_SLOTS];
        if (r->gen == c->gen && r->key == key) {
            c->hits++;
            return r;
        }
        if (!free_slot && r->gen != c->gen)
            free_slot = r;
    }
    c->misses++;
    if (!free_slot) /* evict one of the window, by the key's low bits */
        free_slot = &c->rows[(h + (unsigned)(key >> 4) % MDS_CFI_PROBE) %
                             MDS_CFI_CACHE_SLOTS];
    /* Fill with an invalid generation first: a crash while filling leaves
     * no half-written valid row behind. */
    free_slot->gen = c->gen - 1;
    mds_cfi_compute_row(c, t, mc, key, free_slot);
    free_slot->gen = c->gen;
    return free_slot;
}

void mds_cfi_flush(mds_cfi_cache *c)
{
    if (!c)
        return;
    if (++c->gen == 0) { /* wrapped: really forget */
        memset(c->rows, 0, sizeof(c->rows));
        c->gen = 1;
    }
}

void mds_cfi_begin_walk(mds_cfi_cache *c)
{
    if (!c)
        return;
    if (c->gen == 0)
        c->gen = 1; /* zeroed memory: generation 0 is never valid */
    c->eh_img = -1;
}

/* ------------------------------------------------ frames and steps */

void mds_cfi_frame_from_regs(mds_cfi_frame *f, const mds_regs *r)
{
    memset(f, 0, sizeof(*f));
    f->pc = f->ip = r->v[MDS_REG_PC];
    f->sp = r->v[MDS_REG_SP];
    for (int c = 0; c < MDS_CFI_NCOLS; c++) {
        int i = mds_cfi_col_reg[c];
        if (i >= 0 && (r->valid & (1ull << i))) {
            f->v[c] = r->v[i];
            f->known |= BIT(c);
        }
    }
}

void mds_cfi_frame_fresh(mds_cfi_frame *f, uintptr_t pc, uintptr_t sp,
                         uintptr_t fp, int fp_valid)
{
    mds_regs r;
    mds_regs_from_pc_sp(&r, pc - 1, sp);
    if (fp_valid) {
        r.v[MDS_REG_FP] = fp;
        r.valid |= 1ull << MDS_REG_FP;
    }
    mds_cfi_frame_from_regs(f, &r);
    f->pc = pc;
}

void mds_cfi_frame_to_regs(const mds_cfi_frame *f, mds_regs *r)
{
    memset(r, 0, sizeof(*r));
    for (int c = 0; c < MDS_CFI_NCOLS; c++) {
        int i = mds_cfi_col_reg[c];
        if (i >= 0 && (f->known & BIT(c))) {
            r->v[i] = f->v[c];
            r->valid |= 1ull << i;
        }
    }
    r->v[MDS_REG_PC] = f->ip;
    r->v[MDS_REG_SP] = f->sp;
    r->valid |= (1ull << MDS_REG_PC) | (1ull << MDS_REG_SP);
}

/* Applies a row to cur (libunwind's apply_reg_state, plus the x86_64
 * end-of-chain rule of its unw_step). */
static int apply(const mds_cfi_row *row, mds_memcache *mc,
                 const mds_cfi_frame *cur, mds_cfi_frame *nx)
{
    uintptr_t base;
    if (row->cfa_col == MDS_CFI_SP_COL && MDS_CFI_SP_IS_CFA)
        base = cur->sp;
    else if (cur->known & BIT(row->cfa_col))
        base = cur->v[row->cfa_col];
    else
        return MDS_CFI_NOINFO; /* libunwind cannot read it either */
    uintptr_t cfa = base + (uintptr_t)(intptr_t)row->cfa_off;
    memcpy(nx->v, cur->v, sizeof(nx->v));
    nx->known = cur->known;
    nx->undef = cur->undef;
    /* In column order (a rule "in register" reads the columns already
     * updated), only the columns whose rule is not "same value". */
    for (uint32_t act = row->active; act; act &= act - 1) {
        int i = __builtin_ctz(act);
        uint64_t b = BIT(i);
        switch (row->where[i]) {
        case W_UNDEF:
            nx->known &= ~b;
            nx->undef |= b;
            break;
        case W_CFAREL: {
            uintptr_t v;
            nx->undef &= ~b;
            if (mds_memcache_word(mc, cfa + (uintptr_t)(intptr_t)row->off[i],
                                  &v) == 0) {
                nx->v[i] = v;
                nx->known |= b;
            } else {
                nx->known &= ~b; /* libunwind fails only if it is used */
            }
            break;
        }
        case W_REG: {
            int j = row->off[i];
            uint64_t bj = BIT(j);
            nx->v[i] = nx->v[j];
            nx->known = (nx->known & ~b) | ((nx->known & bj) ? b : 0);
            nx->undef = (nx->undef & ~b) | ((nx->undef & bj) ? b : 0);
            break;
        }
        }
    }
    if (nx->undef & BIT(row->ra_col))
        return MDS_CFI_END; /* DWARF: no return address, end of stack */
    if (!(nx->known & BIT(row->ra_col)))
        return MDS_CFI_NOINFO;
    nx->pc = nx->ip = nx->v[row->ra_col];
    nx->sp = cfa;
    if (nx->ip == cur->ip && cfa == cur->sp)
        return MDS_CFI_NOINFO; /* libunwind: -UNW_EBADFRAME */
#if MDS_CFI_END_IF_FP_UNDEF
    if (nx->undef & BIT(MDS_CFI_FP_COL))
        return MDS_CFI_END;
#endif
    nx->use_prev = !row->sig;
    nx->sig_prev = row->sig;
    return MDS_CFI_OK;
}

int mds_cfi_step(mds_cfi_cache *c, const mds_image_table *t, mds_memcache *mc,
                 const mds_cfi_frame *cur, mds_cfi_frame *nx)
{
    mds_cfi_row scratch;
    if (c)
        c->steps++;
    const mds_cfi_row *row =
        lookup(c, t, mc, cur->ip - (cur->use_prev ? 1 : 0), &scratch);
    if (row->kind == ROW_NOINFO)
        return MDS_CFI_NOINFO;
    if (row->kind == ROW_HANDOFF) {
        if (c)
            c->handoffs++;
        return MDS_CFI_HANDOFF;
    }
    return apply(row, mc, cur, nx);
}

#else /* !MDS_CFI_LEAN: every frame goes to libunwind */

void mds_cfi_flush(mds_cfi_cache *c) { (void)c; }
void mds_cfi_begin_walk(mds_cfi_cache *c) { (void)c; }
void mds_cfi_frame_from_regs(mds_cfi_frame *f, const mds_regs *r)
{
    memset(f, 0, sizeof(*f));
    f->pc = f->ip = r->v[MDS_REG_PC];
    f->sp = r->v[MDS_REG_SP];
}
void mds_cfi_frame_fresh(mds_cfi_frame *f, uintptr_t pc, uintptr_t sp,
                         uintptr_t fp, int fp_valid)
{
    (void)fp, (void)fp_valid;
    memset(f, 0, sizeof(*f));
    f->pc = pc;
    f->ip = pc - 1;
    f->sp = sp;
}
void mds_cfi_frame_to_regs(const mds_cfi_frame *f, mds_regs *r)
{
    mds_regs_from_pc_sp(r, f->ip, f->sp);
}
int mds_cfi_step(mds_cfi_cache *c, const mds_image_table *t, mds_memcache *mc,
                 const mds_cfi_frame *cur, mds_cfi_frame *nx)
{
    (void)c, (void)t, (void)mc, (void)cur, (void)nx;
    return MDS_CFI_HANDOFF;
}
#endif
