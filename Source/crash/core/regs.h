/*
 * regs.h - a thread's registers in mayday's fixed per-architecture order
 * (the order of Report.register_names), and conversion from ucontext_t
 * and from ptrace's register sets.
 *
 * Implementations: regs.c (x86_64), regs_aarch64.c (aarch64).
 *
 * Context: async-signal-safe.
 */
#ifndef MDS_REGS_H
#define MDS_REGS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
enum {
    MDS_REG_RAX, MDS_REG_RBX, MDS_REG_RCX, MDS_REG_RDX, MDS_REG_RSI,
    MDS_REG_RDI, MDS_REG_RBP, MDS_REG_RSP, MDS_REG_R8, MDS_REG_R9,
    MDS_REG_R10, MDS_REG_R11, MDS_REG_R12, MDS_REG_R13, MDS_REG_R14,
    MDS_REG_R15, MDS_REG_RIP, MDS_REG_EFLAGS, MDS_REG_CSGSFS, MDS_REG_ERR,
    MDS_REG_TRAPNO, MDS_REG_CR2,
    MDS_NREGS,
    MDS_REG_PC = MDS_REG_RIP,
    MDS_REG_SP = MDS_REG_RSP,
    MDS_REG_FP = MDS_REG_RBP
};
/* Bytes below sp that a function may use without moving sp (the System V
 * x86_64 ABI's red zone): live data of the interrupted frame. */
#define MDS_ARCH_RED_ZONE 128
#elif defined(__aarch64__)
enum {
    MDS_REG_X0 = 0, /* x0..x30 are 0..30, as in the kernel's user_pt_regs */
    MDS_REG_SP_ = 31, MDS_REG_PC_ = 32, MDS_REG_PSTATE = 33,
    MDS_REG_FAULT = 34, /* fault_address of the signal frame (FAR) */
    MDS_REG_ESR = 35,   /* its esr_context (ESR_EL1), 0 when absent */
    MDS_NREGS,
    MDS_REG_PC = MDS_REG_PC_,
    MDS_REG_SP = MDS_REG_SP_,
    MDS_REG_FP = 29,
    MDS_REG_LR = 30
};
/* AAPCS64 has no red zone: nothing below sp belongs to the frame. */
#define MDS_ARCH_RED_ZONE 0
#else
#error "mayday: unsupported architecture (x86_64 and aarch64 only)"
#endif

typedef struct mds_regs {
    uint64_t v[MDS_NREGS];
    uint64_t valid; /* bit i set: v[i] is known */
} mds_regs;

/* Names in report order, e.g. "rax". */
extern const char *const mds_reg_names[MDS_NREGS];

/* Fills r from a ucontext_t (as passed to an SA_SIGINFO handler). */
void mds_regs_from_ucontext(mds_regs *r, const void *ucontext);
/* Only pc/sp (e.g. from /proc/self/task/TID/syscall): others invalid. */
void mds_regs_from_pc_sp(mds_regs *r, uint64_t pc, uint64_t sp);

#if defined(__aarch64__)
/* Fills r from a PTRACE_GETREGSET NT_PRSTATUS buffer (struct
 * user_pt_regs: x0..x30, sp, pc, pstate) of len bytes. The fault address
 * and ESR are not in it (0, marked valid so that the set is complete).
 * Returns 0, or -EINVAL if len is too short. */
int mds_regs_from_prstatus(mds_regs *r, const void *buf, size_t len);

/* Size of the FP/SIMD state in the kernel's user_fpsimd_state layout
 * (NT_PRFPREG): v0..v31 (16 bytes each), fpsr, fpcr, 8 reserved bytes. */
#define MDS_FPSIMD_SIZE 528
/* Copies the FP/SIMD registers of a signal frame (its fpsimd_context
 * record in uc_mcontext.__reserved) into dst in the user_fpsimd_state
 * layout. Returns the bytes written (MDS_FPSIMD_SIZE), or 0 when cap is
 * too small or the frame has no such record. */
size_t mds_fpregs_from_ucontext(void *dst, size_t cap, const void *ucontext);
#endif

#endif
