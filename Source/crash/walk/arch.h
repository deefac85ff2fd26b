/*
 * arch.h - the architecture-specific parts of the stack walker
 * (Source/crash/walk/unwind.c): libunwind's register numbers, return
 * address decoding (call instructions, PLT stubs), pointer authentication,
 * and what frame 0's context says about its caller.
 *
 * One implementation per architecture: arch_x86_64.c, arch_aarch64.c
 * (each compiles to nothing on the other architecture).
 *
 * Context: crash path, async-signal-safe. You may not malloc, use stdio,
 * take a lock or enter the dynamic linker; memory is read only through
 * the walker's line cache (safe reads).
 */
#ifndef MDS_WALK_ARCH_H
#define MDS_WALK_ARCH_H

#include <stdint.h>

#include "crash/core/regs.h"
#include "crash/walk/images.h"
#include "crash/walk/memcache.h"

#include <libunwind.h>
/* Never used on the crash path (see walk_internal.h). */
#undef unw_init_local
#undef unw_init_local2

#if defined(__x86_64__)
#define MDS_ARCH_UNW_FP UNW_X86_64_RBP
/* A CFI step from frame 0 always pops a return address: sp rises. */
#define MDS_ARCH_FRAME0_SAME_SP 0
/* Code without frame pointers uses rbp as a general register: a chain
 * through it rarely looks valid. */
#define MDS_ARCH_FP_MAY_SKIP 0
#elif defined(__aarch64__)
#define MDS_ARCH_UNW_FP UNW_AARCH64_X29
/* A leaf function may keep its return address in lr and never move sp:
 * its caller (frame 1) then has frame 0's sp. */
#define MDS_ARCH_FRAME0_SAME_SP 1
/* x29 is never a general register: in a function built without frame
 * pointers it still points at an outer function's valid frame record,
 * and a frame-pointer step would skip the frames in between. Before
 * taking it, the walker looks between sp and that record for a return
 * address into the current function (unwind.c, fp_window). */
#define MDS_ARCH_FP_MAY_SKIP 1
#endif

/* libunwind register number -> index into mds_regs.v, or -1. */
int mds_arch_unw_to_mds(int unw_reg);

/* A code address as stored in a register or on the stack, without the
 * pointer-authentication code that aarch64 return addresses carry when
 * the code was built with -mbranch-protection=pac-ret (xpaclri: a no-op
 * on CPUs without PAC). Identity on x86_64. */
static inline uintptr_t mds_arch_strip_pc(uintptr_t pc)
{
#if defined(__aarch64__)
    register uintptr_t x30 __asm__("x30") = pc;
    __asm__("hint #7" /* xpaclri */ : "+r"(x30));
    return x30;
#else
    return pc;
#endif
}

/* What precedes a candidate return address. */
enum { MDS_CALL_NONE, MDS_CALL_KNOWN, MDS_CALL_UNKNOWN };

/* MDS_CALL_NONE unless ra is in an executable segment right after a call
 * instruction; MDS_CALL_KNOWN: the call's target is known (direct, or
 * through a PC-relative slot; PLT stubs followed) and put in *target;
 * MDS_CALL_UNKNOWN: an indirect call through a register or memory. */
int mds_arch_call_kind(const mds_image_table *t, mds_memcache *mc, uintptr_t ra,
                       uintptr_t *target);

/* Frame 0's caller from the context alone, without CFI: x86_64 takes [sp]
 * when the pc is not code (a call through a bad pointer pushed the return
 * address); aarch64 takes lr, when the pc is not code or (pc_is_code) when
 * the call before lr targets the function holding the pc (a leaf without
 * unwind tables). Returns the frame's trust (MDS_TRUST_*) and fills *pc,
 * *sp; 0 if the context says nothing. */
int mds_arch_frame0_caller(const mds_image_table *t, mds_memcache *mc,
                           const mds_regs *regs, int pc_is_code, uintptr_t *pc,
                           uintptr_t *sp);

#endif
