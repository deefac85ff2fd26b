/*
 * regs_aarch64.c - aarch64 registers (see regs.h): x0..x30, sp, pc,
 * pstate, the fault address and ESR from a signal frame's ucontext, the
 * same from ptrace's NT_PRSTATUS (struct user_pt_regs), and the FP/SIMD
 * registers from the frame's fpsimd_context record.
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker. The ucontext is the kernel's signal frame
 * (or a copy of it): its records are walked within uc_mcontext.__reserved
 * only, with every size checked.
 */
#if defined(__aarch64__)
#include "regs.h"

#include <errno.h>
#include <string.h>
#include <ucontext.h>

#include "poison.h"

/* The kernel's record headers (asm/sigcontext.h), restated here so that
 * no kernel header is needed beside glibc's ucontext_t. */
#define FPSIMD_MAGIC 0x46508001u
#define ESR_MAGIC 0x45535201u
struct rec_head {
    uint32_t magic;
    uint32_t size;
};

const char *const mds_reg_names[MDS_NREGS] = {
    "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",
    "x9",  "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17",
    "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26",
    "x27", "x28", "fp",  "lr",  "sp",  "pc",  "pstate", "far", "esr"};

/* The record with this magic in the frame's __reserved area, or NULL.
 * Records are 16-byte aligned and end with a zero header; an
 * extra_context's out-of-line space is not followed (fpsimd and esr are
 * always in __reserved). */
static const unsigned char *find_record(const mcontext_t *m, uint32_t magic,
                                        uint32_t min_size)
{
    const unsigned char *p = m->__reserved;
    size_t off = 0, cap = sizeof(m->__reserved);
    while (off + sizeof(struct rec_head) <= cap) {
        struct rec_head h;
        memcpy(&h, p + off, sizeof h);
        if (h.magic == 0 || h.size < sizeof h || (h.size & 15) ||
            h.size > cap - off)
            return 0;
        if (h.magic == magic)
            return h.size >= min_size ? p + off : 0;
        off += h.size;
    }
    return 0;
}

void mds_regs_from_ucontext(mds_regs *r, const void *ucontext)
{
    const mcontext_t *m = &((const ucontext_t *)ucontext)->uc_mcontext;
    for (int i = 0; i < 31; i++)
        r->v[i] = m->regs[i];
    r->v[MDS_REG_SP_] = m->sp;
    r->v[MDS_REG_PC_] = m->pc;
    r->v[MDS_REG_PSTATE] = m->pstate;
    r->v[MDS_REG_FAULT] = m->fault_address;
    r->v[MDS_REG_ESR] = 0;
    const unsigned char *esr = find_record(m, ESR_MAGIC, 16);
    if (esr)
        memcpy(&r->v[MDS_REG_ESR], esr + 8, 8);
    r->valid = (1ull << MDS_NREGS) - 1;
}

int mds_regs_from_prstatus(mds_regs *r, const void *buf, size_t len)
{
    /* struct user_pt_regs: u64 regs[31], sp, pc, pstate. */
    if (len < 34 * sizeof(uint64_t))
        return -EINVAL;
    memcpy(r->v, buf, 34 * sizeof(uint64_t));
    r->v[MDS_REG_FAULT] = 0;
    r->v[MDS_REG_ESR] = 0;
    r->valid = (1ull << MDS_NREGS) - 1;
    return 0;
}

size_t mds_fpregs_from_ucontext(void *dst, size_t cap, const void *ucontext)
{
    /* fpsimd_context: head (8), fpsr (4), fpcr (4), vregs[32] (512). */
    const mcontext_t *m = &((const ucontext_t *)ucontext)->uc_mcontext;
    const unsigned char *rec = find_record(m, FPSIMD_MAGIC, 8 + 8 + 512);
    if (!rec || cap < MDS_FPSIMD_SIZE)
        return 0;
    unsigned char *d = dst;
    memcpy(d, rec + 16, 512);     /* vregs */
    memcpy(d + 512, rec + 8, 8);  /* fpsr, fpcr */
    memset(d + 520, 0, 8);        /* __reserved[2] */
    return MDS_FPSIMD_SIZE;
}
#endif /* __aarch64__ */
