/*
 * regs.c - ucontext_t to mds_regs (see regs.h): x86_64, and what every
 * architecture shares. aarch64: regs_aarch64.c.
 *
 * Context: async-signal-safe.
 */
#include "regs.h"

#include <string.h>
#include <ucontext.h>

#include "poison.h"

#if defined(__x86_64__)
const char *const mds_reg_names[MDS_NREGS] = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
    "rip", "eflags", "csgsfs", "err", "trapno", "cr2"};

void mds_regs_from_ucontext(mds_regs *r, const void *ucontext)
{
    const greg_t *g = ((const ucontext_t *)ucontext)->uc_mcontext.gregs;
    static const unsigned char map[MDS_NREGS] = {
        REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI,
        REG_RBP, REG_RSP, REG_R8, REG_R9, REG_R10, REG_R11,
        REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP, REG_EFL,
        REG_CSGSFS, REG_ERR, REG_TRAPNO, REG_CR2};
    for (int i = 0; i < MDS_NREGS; i++)
        r->v[i] = (uint64_t)g[map[i]];
    r->valid = (1ull << MDS_NREGS) - 1;
}
#endif

void mds_regs_from_pc_sp(mds_regs *r, uint64_t pc, uint64_t sp)
{
    memset(r, 0, sizeof(*r));
    r->v[MDS_REG_PC] = pc;
    r->v[MDS_REG_SP] = sp;
    r->valid = (1ull << MDS_REG_PC) | (1ull << MDS_REG_SP);
}
