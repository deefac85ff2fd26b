/*
 * regs.h - a thread's registers in mayday's fixed per-architecture order
 * (the order of Report.register_names), and conversion from ucontext_t.
 *
 * Context: async-signal-safe.
 */
#ifndef MDS_REGS_H
#define MDS_REGS_H

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
#elif defined(__aarch64__)
enum {
    MDS_REG_X0 = 0, /* x0..x30 are 0..30 */
    MDS_REG_SP_ = 31, MDS_REG_PC_ = 32, MDS_REG_PSTATE = 33, MDS_REG_FAULT = 34,
    MDS_NREGS,
    MDS_REG_PC = MDS_REG_PC_,
    MDS_REG_SP = MDS_REG_SP_,
    MDS_REG_FP = 29,
    MDS_REG_LR = 30
};
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

#endif
