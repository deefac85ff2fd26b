/*
 * cfi_parse.c - the lean CFI unwinder's parsing half (see cfi.h): reads an
 * image's .eh_frame_hdr search table, its FDEs and CIEs, and runs their
 * call-frame programs up to a pc, giving the rule row that applies there
 * (mds_cfi_compute_row). cfi.c caches the rows and applies them.
 *
 * Context: crash path, async-signal-safe: no malloc, no stdio, no locks,
 * no dynamic-linker calls, no errno; memory is read only through the
 * walk's line cache (mds_safe_read). Every loop is bounded: binary search
 * by the table size, call-frame programs by MDS_CFI_MAX_OPS operations,
 * LEB128 numbers by 10 bytes, the remember/restore stack by
 * MDS_CFI_STACK_DEPTH.
 *
 * What is handled here (everything else gives a ROW_HANDOFF row):
 *   - .eh_frame_hdr version 1 with a datarel|sdata4 table (what ld emits);
 *   - CIE versions 1 and 3; augmentations "" and "z" followed by any of
 *     L, P, R, S (at most 4 characters, as libunwind reads them);
 *   - FDE pointers absptr or pcrel, in any fixed-size or LEB128 format;
 *   - DW_CFA_advance_loc*, offset*, restore*, nop, undefined,
 *     same_value, register, remember_state/restore_state, def_cfa*,
 *     GNU_args_size, GNU_negative_offset_extended;
 *   - a CFA defined as register + offset, and register rules "same",
 *     "undefined", "at CFA + offset" and "in register".
 * Expressions (DW_CFA_*expression: glibc's signal trampoline, PLT
 * entries, stack-realigning functions) go to libunwind.
 *
 * The rules follow libunwind 1.6 (src/dwarf/Gparser.c, Gfde.c,
 * Gfind_proc_info-lsb.c), read there and written anew here: the row for
 * an address comes from the last search-table entry at or below it (as a
 * 32-bit offset from the header), the FDE must cover it, and the CFI
 * program runs while its location is <= the address; a DW_CFA_restore in
 * a CIE's own program restores "undefined".
 */
#include "crash/walk/cfi.h"
#include "crash/walk/cfi_internal.h"

#include <string.h>

#include "crash/core/poison.h"

#define MDS_CFI_MAX_OPS 20000 /* operations per call-frame program */
#define MDS_CFI_STACK_DEPTH 8 /* DW_CFA_remember_state nesting */

/* ------------------------------------------------------ reading */

typedef struct rd {
    mds_memcache *mc;
    uintptr_t a;
    int err;
} rd;

static uint64_t rd_n(rd *r, size_t n)
{
    uint64_t v = 0;
    if (r->err || mds_memcache_read(r->mc, &v, r->a, n) < 0) {
        r->err = 1;
        return 0;
    }
    r->a += n;
    return v; /* little endian: the low n bytes */
}

static uint8_t rd_u8(rd *r) { return (uint8_t)rd_n(r, 1); }

static uint64_t rd_uleb(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        uint8_t b = rd_u8(r);
        if (r->err)
            return 0;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->err = 1; /* longer than any 64-bit number */
    return 0;
}

static int64_t rd_sleb(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        uint8_t b = rd_u8(r);
        if (r->err)
            return 0;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            shift += 7;
            if (shift < 64 && (b & 0x40))
                v |= ~0ull << shift;
            return (int64_t)v;
        }
    }
    r->err = 1;
    return 0;
}

/* A DW_EH_PE-encoded pointer: absptr or pcrel (datarel if datarel != 0),
 * never indirect. 0, or -1 for an encoding this file does not handle. */
static int rd_encoded(rd *r, uint8_t enc, uintptr_t datarel, uintptr_t *out)
{
    uintptr_t at = r->a;
    uint64_t v;
    if (enc == 0xff || (enc & 0x80))
        return -1; /* omit, indirect */
    switch (enc & 0x0f) {
    case 0x00: /* absptr */
    case 0x04: /* udata8 */
    case 0x0c: /* sdata8 */
        v = rd_n(r, 8);
        break;
    case 0x01:
        v = rd_uleb(r);
        break;
    case 0x02:
        v = rd_n(r, 2);
        break;
    case 0x03:
        v = rd_n(r, 4);
        break;
    case 0x09:
        v = (uint64_t)rd_sleb(r);
        break;
    case 0x0a:
        v = (uint64_t)(int64_t)(int16_t)rd_n(r, 2);
        break;
    case 0x0b:
        v = (uint64_t)(int64_t)(int32_t)rd_n(r, 4);
        break;
    default:
        return -1;
    }
    switch (enc & 0x70) {
    case 0x00:
        break;
    case 0x10: /* pcrel */
        v += at;
        break;
    case 0x30: /* datarel: only where the caller gives the base */
        if (!datarel)
            return -1;
        v += datarel;
        break;
    default:
        return -1;
    }
    if (r->err)
        return -1;
    *out = (uintptr_t)v;
    return 0;
}

/* ------------------------------------------------ .eh_frame_hdr */

int mds_cfi_eh_frame_hdr(mds_memcache *mc, const mds_image *img,
                         uintptr_t *table, uintptr_t *count)
{
    uintptr_t hdr = img->eh_frame_hdr, ptr, n;
    uint8_t h[4]; /* version, eh_frame_ptr_enc, fde_count_enc, table_enc */
    if (!hdr || mds_memcache_read(mc, h, hdr, 4) < 0 || h[0] != 1)
        return -1;
    if (h[3] != 0x3b) /* DW_EH_PE_datarel | DW_EH_PE_sdata4 */
        return -1;
    rd r = {mc, hdr + 4, 0};
    if (rd_encoded(&r, h[1], hdr, &ptr) < 0 ||
        rd_encoded(&r, h[2], hdr, &n) < 0)
        return -1;
    if (n == 0 || (img->eh_frame_hdr_len &&
                   n > (img->eh_frame_hdr_len - (r.a - hdr)) / 8))
        return -1;
    *table = r.a;
    *count = n;
    return 0;
}

#if MDS_CFI_LEAN

/* Skips an encoded value of the given encoding (a personality pointer:
 * its value is not needed). 0 or -1. */
static int rd_skip_encoded(rd *r, uint8_t enc)
{
    if (enc == 0xff)
        return 0;
    if ((enc & 0x70) > 0x30 || (enc & 0x70) == 0x20)
        return -1; /* funcrel, aligned, textrel */
    switch (enc & 0x0f) {
    case 0x00:
    case 0x04:
    case 0x0c:
        r->a += 8;
        return 0;
    case 0x02:
    case 0x0a:
        r->a += 2;
        return 0;
    case 0x03:
    case 0x0b:
        r->a += 4;
        return 0;
    case 0x01:
        rd_uleb(r);
        return r->err ? -1 : 0;
    case 0x09:
        rd_sleb(r);
        return r->err ? -1 : 0;
    default:
        return -1;
    }
}

/* The FDE address for key, from the image's search table; 0 if none.
 * Like libunwind: the last entry whose start (relative to the header, as
 * a 32-bit number) is <= the key's. */
static uintptr_t search(mds_cfi_cache *c, mds_memcache *mc,
                        const mds_image_table *t, int idx, uintptr_t key)
{
    const mds_image *img = &t->images[idx];
    uintptr_t table, count;
    if (c && c->eh_img == idx) {
        table = c->eh_table;
        count = c->eh_count;
    } else {
        if (mds_cfi_eh_frame_hdr(mc, img, &table, &count) < 0)
            count = 0;
        if (c) {
            c->eh_img = idx;
            c->eh_table = table;
            c->eh_count = count;
        }
    }
    if (count == 0)
        return 0;
    int32_t rel = (int32_t)(key - img->eh_frame_hdr);
    uintptr_t lo = 0, hi = count;
    while (lo < hi) {
        uintptr_t mid = lo + (hi - lo) / 2;
        int32_t start;
        if (mds_memcache_read(mc, &start, table + mid * 8, 4) < 0)
            return 0;
        if (rel < start)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (hi == 0)
        return 0;
    int32_t fde_off;
    if (mds_memcache_read(mc, &fde_off, table + (hi - 1) * 8 + 4, 4) < 0)
        return 0;
    return img->eh_frame_hdr + (uintptr_t)(intptr_t)fde_off;
}

/* ------------------------------------------------ CIE and FDE */

typedef struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_col;
    uint8_t fde_enc;
    uint8_t sized; /* 'z' */
    uint8_t sig;   /* 'S' */
    uintptr_t instr, instr_end;
} cie;

/* 0, or MDS_CFI_HANDOFF for anything unusual. */
static int parse_cie(mds_memcache *mc, uintptr_t addr, cie *out)
{
    rd r = {mc, addr, 0};
    uint64_t len = rd_n(&r, 4), id;
    if (len == 0xffffffffull) {
        len = rd_n(&r, 8);
        uintptr_t end = r.a + len;
        id = rd_n(&r, 8);
        out->instr_end = end;
    } else {
        uintptr_t end = r.a + len;
        id = rd_n(&r, 4);
        out->instr_end = end;
    }
    uint8_t version = rd_u8(&r);
    if (r.err || id != 0 || (version != 1 && version != 3))
        return MDS_CFI_HANDOFF;
    char aug[8];
    size_t na = 0;
    for (;;) {
        uint8_t ch = rd_u8(&r);
        if (r.err || na == sizeof aug)
            return MDS_CFI_HANDOFF;
        if (!ch)
            break;
        aug[na++] = (char)ch;
    }
    if (na > 4 || (na > 0 && aug[0] != 'z'))
        return MDS_CFI_HANDOFF; /* libunwind reads 4; no 'z': no sizes */
    out->code_align = rd_uleb(&r);
    out->data_align = rd_sleb(&r);
    out->ra_col = version == 1 ? rd_u8(&r) : rd_uleb(&r);
    out->fde_enc = 0x00; /* absptr */
    out->sized = na > 0;
    out->sig = 0;
    if (out->sized)
        rd_uleb(&r); /* augmentation data size; parsed item by item */
    for (size_t i = 1; i < na && !r.err; i++) {
        switch (aug[i]) {
        case 'L':
            rd_u8(&r);
            break;
        case 'R':
            out->fde_enc = rd_u8(&r);
            break;
        case 'P':
            if (rd_skip_encoded(&r, rd_u8(&r)) < 0)
                return MDS_CFI_HANDOFF;
            break;
        case 'S':
            out->sig = 1;
            break;
        default:
            return MDS_CFI_HANDOFF;
        }
    }
    if (r.err || out->ra_col >= MDS_CFI_NCOLS)
        return MDS_CFI_HANDOFF;
    out->instr = r.a;
    return 0;
}

typedef struct fde {
    uintptr_t start, end;
    uintptr_t instr, instr_end;
} fde;

/* 0; MDS_CFI_NOINFO when this is no FDE (a terminator, a CIE);
 * MDS_CFI_HANDOFF for anything unusual. */
static int parse_fde(mds_memcache *mc, uintptr_t addr, fde *f, cie *ci)
{
    rd r = {mc, addr, 0};
    uint64_t len = rd_n(&r, 4);
    int64_t cie_off;
    uintptr_t off_at;
    if (r.err)
        return MDS_CFI_HANDOFF;
    if (len == 0)
        return MDS_CFI_NOINFO;
    if (len == 0xffffffffull) {
        len = rd_n(&r, 8);
        f->instr_end = r.a + len;
        off_at = r.a;
        cie_off = (int64_t)rd_n(&r, 8);
    } else {
        f->instr_end = r.a + len;
        off_at = r.a;
        cie_off = (int32_t)rd_n(&r, 4);
    }
    if (r.err)
        return MDS_CFI_HANDOFF;
    if (cie_off == 0)
        return MDS_CFI_NOINFO;
    int rc = parse_cie(mc, off_at - (uintptr_t)cie_off, ci);
    if (rc < 0)
        return rc;
    uintptr_t start, range;
    if (rd_encoded(&r, ci->fde_enc, 0, &start) < 0 ||
        rd_encoded(&r, ci->fde_enc & 0x0f, 0, &range) < 0)
        return MDS_CFI_HANDOFF;
    f->start = start;
    f->end = start + range;
    if (ci->sized) {
        uint64_t n = rd_uleb(&r);
        if (r.err)
            return MDS_CFI_HANDOFF;
        f->instr = r.a + n;
    } else {
        f->instr = r.a;
    }
    return 0;
}

/* ------------------------------------------------ call-frame programs */

typedef struct rules {
    uint8_t cfa_where; /* W_SAME (not defined yet), W_REG or W_EXPR */
    uint64_t cfa_reg;
    int64_t cfa_off;
    uint8_t where[MDS_CFI_NCOLS];
    int64_t val[MDS_CFI_NCOLS];
} rules;

typedef struct prog {
    rd r;
    uintptr_t end; /* end of the instructions */
    const cie *ci;
    const rules *init; /* after the CIE's program, for DW_CFA_restore */
    rules stack[MDS_CFI_STACK_DEPTH];
    int depth;
} prog;

static int set_rule(rules *s, uint64_t col, uint8_t where, int64_t val)
{
    if (col >= MDS_CFI_NCOLS)
        return MDS_CFI_HANDOFF; /* libunwind: -UNW_EBADREG */
    s->where[col] = where;
    s->val[col] = val;
    return 0;
}

/* One operation; 0, or MDS_CFI_HANDOFF. */
static int op(prog *p, rules *s, uintptr_t *loc)
{
    rd *r = &p->r;
    const cie *ci = p->ci;
    uint8_t o = rd_u8(r);
    uint64_t reg, v;
    if (r->err)
        return MDS_CFI_HANDOFF;
    switch (o >> 6) {
    case 1: /* DW_CFA_advance_loc */
        *loc += (o & 0x3f) * ci->code_align;
        return 0;
    case 2: /* DW_CFA_offset */
        v = rd_uleb(r);
        return set_rule(s, o & 0x3f, W_CFAREL, (int64_t)v * ci->data_align);
    case 3: /* DW_CFA_restore */
        reg = o & 0x3f;
        if (reg >= MDS_CFI_NCOLS)
            return MDS_CFI_HANDOFF;
        s->where[reg] = p->init->where[reg];
        s->val[reg] = p->init->val[reg];
        return 0;
    }
    switch (o) {
    case 0x00: /* nop */
        return 0;
    case 0x02: /* advance_loc1 */
        *loc += rd_n(r, 1) * ci->code_align;
        return 0;
    case 0x03: /* advance_loc2 */
        *loc += rd_n(r, 2) * ci->code_align;
        return 0;
    case 0x04: /* advance_loc4 */
        *loc += rd_n(r, 4) * ci->code_align;
        return 0;
    case 0x05: /* offset_extended */
        reg = rd_uleb(r);
        v = rd_uleb(r);
        return set_rule(s, reg, W_CFAREL, (int64_t)v * ci->data_align);
    case 0x11: /* offset_extended_sf */
        reg = rd_uleb(r);
        return set_rule(s, reg, W_CFAREL, rd_sleb(r) * ci->data_align);
    case 0x2f: /* GNU_negative_offset_extended */
        reg = rd_uleb(r);
        v = rd_uleb(r);
        return set_rule(s, reg, W_CFAREL, -((int64_t)v * ci->data_align));
    case 0x06: /* restore_extended */
        reg = rd_uleb(r);
        if (reg >= MDS_CFI_NCOLS)
            return MDS_CFI_HANDOFF;
        s->where[reg] = p->init->where[reg];
        s->val[reg] = p->init->val[reg];
        return 0;
    case 0x07: /* undefined */
        return set_rule(s, rd_uleb(r), W_UNDEF, 0);
    case 0x08: /* same_value */
        return set_rule(s, rd_uleb(r), W_SAME, 0);
    case 0x09: /* register */
        reg = rd_uleb(r);
        v = rd_uleb(r);
        if (v >= MDS_CFI_NCOLS)
            return MDS_CFI_HANDOFF;
        return set_rule(s, reg, W_REG, (int64_t)v);
    case 0x0a: /* remember_state */
        if (p->depth >= MDS_CFI_STACK_DEPTH)
            return MDS_CFI_HANDOFF;
        p->stack[p->depth++] = *s;
        return 0;
    case 0x0b: /* restore_state */
        if (p->depth == 0)
            return MDS_CFI_HANDOFF; /* libunwind: stack underflow */
        *s = p->stack[--p->depth];
        return 0;
    case 0x0c: /* def_cfa */
        reg = rd_uleb(r);
        v = rd_uleb(r);
        if (reg >= MDS_CFI_NCOLS)
            return MDS_CFI_HANDOFF;
        s->cfa_where = W_REG;
        s->cfa_reg = reg;
        s->cfa_off = (int64_t)v;
        return 0;
    case 0x12: /* def_cfa_sf */
        reg = rd_uleb(r);
        if (reg >= MDS_CFI_NCOLS)
            return MDS_CFI_HANDOFF;
        s->cfa_where = W_REG;
        s->cfa_reg = reg;
        s->cfa_off = rd_sleb(r) * ci->data_align;
        return 0;
    case 0x0d: /* def_cfa_register */
        reg = rd_uleb(r);
        if (reg >= MDS_CFI_NCOLS)
            return MDS_CFI_HANDOFF;
        s->cfa_where = W_REG;
        s->cfa_reg = reg;
        return 0;
    case 0x0e: /* def_cfa_offset */
        s->cfa_off = (int64_t)rd_uleb(r);
        return 0;
    case 0x13: /* def_cfa_offset_sf */
        s->cfa_off = rd_sleb(r) * ci->data_align;
        return 0;
    case 0x0f: /* def_cfa_expression */
        v = rd_uleb(r);
        r->a += v;
        s->cfa_where = W_EXPR;
        return 0;
    case 0x10: /* expression */
    case 0x16: /* val_expression */
        reg = rd_uleb(r);
        v = rd_uleb(r);
        r->a += v;
        return set_rule(s, reg, W_EXPR, 0);
    case 0x2e: /* GNU_args_size */
        rd_uleb(r);
        return 0;
    default: /* set_loc, vendor operations, unknown */
        return MDS_CFI_HANDOFF;
    }
}

/* Runs a program while the location is <= until; 0 or MDS_CFI_HANDOFF. */
static int run(prog *p, rules *s, uintptr_t loc, uintptr_t until)
{
    p->depth = 0;
    for (int n = 0; loc <= until && p->r.a < p->end; n++) {
        if (n >= MDS_CFI_MAX_OPS)
            return MDS_CFI_HANDOFF;
        int rc = op(p, s, &loc);
        if (rc < 0 || p->r.err)
            return MDS_CFI_HANDOFF;
    }
    return 0;
}

void mds_cfi_compute_row(mds_cfi_cache *c, const mds_image_table *t,
                         mds_memcache *mc, uintptr_t key, mds_cfi_row *row)
{
    memset(row, 0, sizeof(*row));
    row->key = key;
    row->kind = ROW_NOINFO;
    int idx = mds_images_find(t, key);
    if (idx < 0)
        return;
    const mds_image *img = &t->images[idx];
    if (!img->eh_frame_hdr || key < img->start || key >= img->end)
        return;
    uintptr_t fde_at = search(c, mc, t, idx, key);
    if (!fde_at)
        return;
    fde f;
    cie ci;
    int rc = parse_fde(mc, fde_at, &f, &ci);
    if (rc == MDS_CFI_NOINFO)
        return;
    row->kind = ROW_HANDOFF;
    if (rc < 0)
        return;
    if (key < f.start || key >= f.end) {
        row->kind = ROW_NOINFO;
        return;
    }
    row->sig = ci.sig;

    /* libunwind's starting state: every column "same", the CFA not
     * defined; a DW_CFA_restore inside the CIE's own program restores
     * its zeroed initial state, "undefined". */
    rules s, init;
    memset(&s, 0, sizeof(s));
    memset(&init, 0, sizeof(init));
    memset(init.where, W_UNDEF, sizeof(init.where));
    prog p;
    p.ci = &ci;
    p.init = &init;
    p.r = (rd){mc, ci.instr, 0};
    p.end = ci.instr_end;
    if (run(&p, &s, 0, ~(uintptr_t)0) < 0)
        return;
    init = s;
    p.r = (rd){mc, f.instr, 0};
    p.end = f.instr_end;
    if (run(&p, &s, f.start, key) < 0)
        return;

    /* Only what apply() handles, and what fits the row. */
    if (s.cfa_where != W_REG || s.cfa_off != (int32_t)s.cfa_off)
        return;
    for (int i = 0; i < MDS_CFI_NCOLS; i++) {
        if (s.where[i] == W_EXPR || s.val[i] != (int16_t)s.val[i])
            return;
        row->where[i] = s.where[i];
        row->off[i] = (int16_t)s.val[i];
        if (s.where[i] != W_SAME)
            row->active |= 1u << i;
    }
    row->cfa_col = (uint8_t)s.cfa_reg;
    row->cfa_off = (int32_t)s.cfa_off;
    row->ra_col = (uint8_t)ci.ra_col;
    row->kind = ROW_RULES;
}

#endif
