/*
 * arch_aarch64.c - the aarch64 parts of the stack walker (see arch.h):
 * libunwind's register numbers (the same order as mds_regs), the call
 * instruction before a return address (BL, BLR, BLRAA/BLRAB and their
 * zero-modifier forms), PLT stubs (adrp/ldr/add/br, optionally after
 * "bti c"), and the link register as frame 0's return address.
 *
 * Context: crash path, async-signal-safe. You may not malloc, use stdio,
 * take a lock or enter the dynamic linker; memory is read only through
 * the walker's line cache (safe reads).
 *
 * Return addresses are stripped of their pointer-authentication code
 * (mds_arch_strip_pc) by the caller before they get here.
 */
#if defined(__aarch64__)
#include "crash/walk/arch.h"
#include "crash/walk/unwind.h"

#include <string.h>

#include "crash/core/poison.h"

#define FN_MAX_SIZE 0x10000 /* as in unwind.c: "pc is in the target" */

int mds_arch_unw_to_mds(int r)
{
    /* UNW_AARCH64_X0..X30, SP, PC, PSTATE are 0..33, like MDS_REG_*. */
    if (r < 0 || r > UNW_AARCH64_PSTATE)
        return -1;
    return r;
}

static int read_insn(mds_memcache *mc, uintptr_t a, uint32_t *out)
{
    return mds_memcache_read(mc, out, a, 4);
}

static int64_t sext(uint64_t v, int bits)
{
    uint64_t m = 1ull << (bits - 1);
    return (int64_t)((v ^ m) - m);
}

/* Follows a PLT stub at t to the address in its GOT slot; returns t
 * itself when it is not a stub:
 *   [bti c] adrp x16, PAGE; ldr x17, [x16, #OFF]; add x16, ...; br x17 */
static uintptr_t through_plt(mds_memcache *mc, uintptr_t t)
{
    uint32_t i0, i1, i3;
    uintptr_t a = t;
    if (read_insn(mc, a, &i0) < 0)
        return t;
    if (i0 == 0xd503245f) { /* bti c */
        a += 4;
        if (read_insn(mc, a, &i0) < 0)
            return t;
    }
    if ((i0 & 0x9f00001f) != 0x90000010 || /* adrp x16 */
        read_insn(mc, a + 4, &i1) < 0 ||
        (i1 & 0xffc003ff) != 0xf9400211 || /* ldr x17, [x16, #imm] */
        read_insn(mc, a + 12, &i3) < 0 || i3 != 0xd61f0220) /* br x17 */
        return t;
    uint64_t immlo = (i0 >> 29) & 3, immhi = (i0 >> 5) & 0x7ffff;
    int64_t page_off = sext(immhi << 2 | immlo, 21) * 4096;
    uintptr_t page = (a & ~(uintptr_t)4095) + (uintptr_t)page_off;
    uintptr_t slot = page + ((i1 >> 10) & 0xfff) * 8, target;
    if (mds_memcache_word(mc, slot, &target) < 0)
        return t;
    return mds_arch_strip_pc(target);
}

int mds_arch_call_kind(const mds_image_table *t, mds_memcache *mc, uintptr_t ra,
                       uintptr_t *target)
{
    uint32_t insn;
    if ((ra & 3) || !mds_images_is_exec(t, ra - 4) ||
        read_insn(mc, ra - 4, &insn) < 0)
        return MDS_CALL_NONE;
    if ((insn & 0xfc000000) == 0x94000000) { /* bl imm26 */
        int64_t off = sext(insn & 0x3ffffff, 26) * 4;
        *target = through_plt(mc, ra - 4 + (uintptr_t)off);
        return MDS_CALL_KNOWN;
    }
    if ((insn & 0xfffffc1f) == 0xd63f0000 || /* blr xN */
        (insn & 0xfefff800) == 0xd63f0800)   /* blraa(z), blrab(z) */
        return MDS_CALL_UNKNOWN;
    return MDS_CALL_NONE;
}

/*
 * lr as frame 0's return address, the caller's sp being frame 0's (a leaf
 * that never stored lr). When the pc is not code (a call through a bad
 * pointer), any call site will do. When it is code (frame 0 without CFI),
 * only a direct call to a function starting at most FN_MAX_SIZE below the
 * pc, and not one whose return address lies between that function and
 * the pc: a function that called something, got back and crashed holds
 * its own return address in lr, and the frame record is the better guess.
 */
int mds_arch_frame0_caller(const mds_image_table *t, mds_memcache *mc,
                           const mds_regs *regs, int pc_is_code, uintptr_t *pc,
                           uintptr_t *sp)
{
    if (!(regs->valid & (1ull << MDS_REG_LR)))
        return 0;
    uintptr_t ra = mds_arch_strip_pc(regs->v[MDS_REG_LR]), target = 0;
    uintptr_t at = regs->v[MDS_REG_PC];
    int kind = mds_arch_call_kind(t, mc, ra, &target);
    if (kind == MDS_CALL_NONE)
        return 0;
    if (pc_is_code &&
        (kind != MDS_CALL_KNOWN || target > at || at - target >= FN_MAX_SIZE ||
         (ra >= target && ra <= at)))
        return 0;
    *pc = ra;
    *sp = regs->v[MDS_REG_SP];
    return MDS_TRUST_LINK_REGISTER;
}
#endif /* __aarch64__ */
