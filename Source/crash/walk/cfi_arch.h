/*
 * cfi_arch.h - what the lean CFI unwinder (cfi.c) must know about the
 * architecture: which DWARF register columns it tracks, how they map to
 * mds_regs and to libunwind's register numbers, which columns are the
 * stack and frame pointers, what ends a call chain, and what the signal
 * return trampoline looks like.
 *
 * Context: constants and pure inline functions, usable anywhere (crash
 * path included).
 *
 * Every value here mirrors libunwind 1.6's behaviour for the architecture,
 * because the lean unwinder must give frame for frame what libunwind's
 * remote unwinder gives (Tests/walk/test_lean.c compares them).
 *
 * Adding an architecture (aarch64 is issue 16): write its block below.
 * Without one (or with -DMDS_CFI_NO_LEAN), MDS_CFI_LEAN is 0, cfi.c
 * compiles to stubs that hand every frame to libunwind, and the walker
 * behaves as it did before the lean unwinder existed. Notes for aarch64 from
 * libunwind 1.6 (to be checked against its sources when writing the block):
 * DWARF columns x0-x30 are 0-30, sp is 31, the return-address column is 30
 * (x30/lr) and the pc is the value of that column; libunwind tracks 97 columns
 * (v0-v31 are 64-95, and the AAPCS64 callee-saved d8-d15 do get CFI rules), so
 * columns the lean unwinder does not map must still be accepted (their
 * rules parsed, their values unknown) rather than handed off; its
 * unw_is_signal_frame() looks at the code (the vdso's
 * __kernel_rt_sigreturn, `mov x8, #139; svc #0`), not at the CIE as on
 * x86_64 (MDS_CFI_SIGNAL_FROM_CIE); whether reading sp gives the CFA
 * there too (MDS_CFI_SP_IS_CFA) is to be checked.
 */
#ifndef MDS_CFI_ARCH_H
#define MDS_CFI_ARCH_H

#include <stdint.h>

#include "crash/core/regs.h"

#if defined(__x86_64__) && !defined(MDS_CFI_NO_LEAN)

#define MDS_CFI_LEAN 1
/* DWARF columns 0-16 (rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8-r15,
 * rip): libunwind's DWARF_NUM_PRESERVED_REGS on x86_64. A rule for any
 * other column makes libunwind fail the step; the lean unwinder then
 * hands the frame to libunwind, which fails it the same way. */
#define MDS_CFI_NCOLS 17
#define MDS_CFI_SP_COL 7
#define MDS_CFI_FP_COL 6
/* Reading the stack pointer of a frame gives its CFA, whatever rule the
 * CFI gives the sp column (libunwind's x86_64 tdep_access_reg). */
#define MDS_CFI_SP_IS_CFA 1
/* libunwind's x86_64 unw_step: "end of call-chain is marked with a NULL
 * RBP or undefined return address". */
#define MDS_CFI_END_IF_FP_UNDEF 1

/* mds_regs index of each column; -1: none. */
static const signed char mds_cfi_col_reg[MDS_CFI_NCOLS] = {
    MDS_REG_RAX, MDS_REG_RDX, MDS_REG_RCX, MDS_REG_RBX, MDS_REG_RSI,
    MDS_REG_RDI, MDS_REG_RBP, MDS_REG_RSP, MDS_REG_R8,  MDS_REG_R9,
    MDS_REG_R10, MDS_REG_R11, MDS_REG_R12, MDS_REG_R13, MDS_REG_R14,
    MDS_REG_R15, MDS_REG_RIP};

/* libunwind's register number for a column (UNW_X86_64_RAX.. are the
 * DWARF numbers). */
static inline int mds_cfi_col_unw(int col) { return col; }

/* libunwind 1.6's x86_64 unw_is_signal_frame() answers from the CIE of
 * the frame the cursor last stepped from (its 'S' augmentation, glibc's
 * __restore_rt), not from the code at the pc; the walk uses it to allow a
 * stack switch. cfi.c keeps the same fact (mds_cfi_frame.sig_prev). */
#define MDS_CFI_SIGNAL_FROM_CIE 1

#else

#define MDS_CFI_LEAN 0
#define MDS_CFI_NCOLS 1

#endif

#endif
