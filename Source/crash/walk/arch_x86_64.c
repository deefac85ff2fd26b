/*
 * arch_x86_64.c - the x86_64 parts of the stack walker (see arch.h):
 * libunwind's register numbers, call instructions before a return
 * address (E8 rel32, FF /2), PLT stubs, [sp] as frame 0's return address.
 *
 * Context: crash path, async-signal-safe. You may not malloc, use stdio,
 * take a lock or enter the dynamic linker; memory is read only through
 * the walker's line cache (safe reads).
 */
#if defined(__x86_64__)
#include "crash/walk/arch.h"
#include "crash/walk/unwind.h"

#include <string.h>

#include "crash/core/poison.h"

int mds_arch_unw_to_mds(int r)
{
    static const signed char map[UNW_X86_64_RIP + 1] = {
        MDS_REG_RAX, MDS_REG_RDX, MDS_REG_RCX, MDS_REG_RBX, MDS_REG_RSI,
        MDS_REG_RDI, MDS_REG_RBP, MDS_REG_RSP, MDS_REG_R8,  MDS_REG_R9,
        MDS_REG_R10, MDS_REG_R11, MDS_REG_R12, MDS_REG_R13, MDS_REG_R14,
        MDS_REG_R15, MDS_REG_RIP};
    if (r < 0 || r > UNW_X86_64_RIP)
        return -1;
    return map[r];
}

/* Follows a PLT stub at t ([endbr64] [bnd] jmp *GOT(%rip)) to the
 * function it jumps to; returns t itself when it is not a stub. */
static uintptr_t through_plt(mds_memcache *mc, uintptr_t t)
{
    uint8_t c[11];
    if (mds_memcache_read(mc, c, t, sizeof(c)) < 0)
        return t;
    size_t i = 0;
    if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
        i = 4;
    if (c[i] == 0xf2)
        i++;
    if (c[i] != 0xff || c[i + 1] != 0x25)
        return t;
    int32_t rel;
    memcpy(&rel, &c[i + 2], 4);
    uintptr_t slot = t + i + 6 + (intptr_t)rel, target;
    if (mds_memcache_word(mc, slot, &target) < 0)
        return t;
    return target;
}

/* E8 rel32, or FF /2 in any addressing form. */
int mds_arch_call_kind(const mds_image_table *t, mds_memcache *mc, uintptr_t ra,
                       uintptr_t *target)
{
    if (!mds_images_is_exec(t, ra) || !mds_images_is_exec(t, ra - 7))
        return MDS_CALL_NONE;
    uint8_t b[8]; /* b[i] = byte at ra - 8 + i */
    if (mds_memcache_read(mc, b, ra - 8, 8) < 0)
        return MDS_CALL_NONE;
    if (b[3] == 0xe8) {
        int32_t rel;
        memcpy(&rel, &b[4], 4);
        *target = through_plt(mc, ra + (intptr_t)rel);
        return MDS_CALL_KNOWN;
    }
    for (int k = 2; k <= 7; k++) {
        if (b[8 - k] != 0xff)
            continue;
        uint8_t m = b[8 - k + 1];
        int mod = m >> 6, reg = (m >> 3) & 7, rm = m & 7;
        if (reg != 2)
            continue;
        int len = 2;
        if (mod == 1)
            len += 1;
        else if (mod == 2)
            len += 4;
        else if (mod == 0 && rm == 5)
            len += 4; /* rip-relative */
        if (mod != 3 && rm == 4) {
            if (k < 3)
                continue;
            len += 1; /* SIB */
            if (mod == 0 && (b[8 - k + 2] & 7) == 5)
                len += 4;
        }
        if (len != k)
            continue;
        if (k == 6 && m == 0x15) { /* call *disp32(%rip), e.g. -fno-plt */
            int32_t rel;
            uintptr_t slot;
            memcpy(&rel, &b[4], 4);
            if (mds_memcache_word(mc, ra + (intptr_t)rel, &slot) == 0) {
                *target = slot;
                return MDS_CALL_KNOWN;
            }
        }
        return MDS_CALL_UNKNOWN;
    }
    return MDS_CALL_NONE;
}

/* A call through a bad pointer pushed its return address: [sp]. */
int mds_arch_frame0_caller(const mds_image_table *t, mds_memcache *mc,
                           const mds_regs *regs, int pc_is_code, uintptr_t *pc,
                           uintptr_t *sp)
{
    uintptr_t ra, target;
    if (pc_is_code)
        return 0;
    uintptr_t s = regs->v[MDS_REG_SP];
    if (mds_memcache_word(mc, s, &ra) < 0 ||
        mds_arch_call_kind(t, mc, ra, &target) == MDS_CALL_NONE)
        return 0;
    *pc = ra;
    *sp = s + 8;
    return MDS_TRUST_STACK_POINTER;
}
#endif /* __x86_64__ */
