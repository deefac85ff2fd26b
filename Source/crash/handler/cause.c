/*
 * cause.c - signal names and the probable cause (see cause.h).
 *
 * Context: async-signal-safe.
 */
#include "crash/handler/cause.h"

#include "crash/handler/fields.h"
#include "crash/core/poison.h"

const char *mds_signal_name(int signo)
{
    switch (signo) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    default: return "SIG?";
    }
}

const char *mds_signal_code_name(int signo, int code)
{
    switch (code) {
    case SI_USER: return "SI_USER";
    case SI_KERNEL: return "SI_KERNEL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_TIMER: return "SI_TIMER";
    case SI_MESGQ: return "SI_MESGQ";
    case SI_ASYNCIO: return "SI_ASYNCIO";
    case SI_SIGIO: return "SI_SIGIO";
    case SI_TKILL: return "SI_TKILL";
    default: break;
    }
    switch (signo) {
    case SIGSEGV:
        switch (code) {
        case SEGV_MAPERR: return "SEGV_MAPERR";
        case SEGV_ACCERR: return "SEGV_ACCERR";
        case 3: return "SEGV_BNDERR";
        case 4: return "SEGV_PKUERR";
        }
        break;
    case SIGBUS:
        switch (code) {
        case BUS_ADRALN: return "BUS_ADRALN";
        case BUS_ADRERR: return "BUS_ADRERR";
        case BUS_OBJERR: return "BUS_OBJERR";
        case 4: return "BUS_MCEERR_AR";
        case 5: return "BUS_MCEERR_AO";
        }
        break;
    case SIGILL:
        switch (code) {
        case ILL_ILLOPC: return "ILL_ILLOPC";
        case ILL_ILLOPN: return "ILL_ILLOPN";
        case ILL_ILLADR: return "ILL_ILLADR";
        case ILL_ILLTRP: return "ILL_ILLTRP";
        case ILL_PRVOPC: return "ILL_PRVOPC";
        case ILL_PRVREG: return "ILL_PRVREG";
        case ILL_COPROC: return "ILL_COPROC";
        case ILL_BADSTK: return "ILL_BADSTK";
        }
        break;
    case SIGFPE:
        switch (code) {
        case FPE_INTDIV: return "FPE_INTDIV";
        case FPE_INTOVF: return "FPE_INTOVF";
        case FPE_FLTDIV: return "FPE_FLTDIV";
        case FPE_FLTOVF: return "FPE_FLTOVF";
        case FPE_FLTUND: return "FPE_FLTUND";
        case FPE_FLTRES: return "FPE_FLTRES";
        case FPE_FLTINV: return "FPE_FLTINV";
        case FPE_FLTSUB: return "FPE_FLTSUB";
        }
        break;
    case SIGTRAP:
        switch (code) {
        case TRAP_BRKPT: return "TRAP_BRKPT";
        case TRAP_TRACE: return "TRAP_TRACE";
        }
        break;
    case SIGSYS:
        if (code == 1)
            return "SYS_SECCOMP";
        break;
    }
    return "";
}

int mds_signal_is_fault(int signo, int code)
{
    if (code <= 0)
        return 0;
    /* SI_KERNEL: on x86_64 a general-protection fault (a non-canonical
     * address, a privileged instruction) is SIGSEGV/SIGBUS with SI_KERNEL
     * and no address; re-executing the instruction faults again. */
    if (code == SI_KERNEL)
        return signo == SIGSEGV || signo == SIGBUS;
    return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL ||
           signo == SIGFPE;
}

int mds_probable_cause(const siginfo_t *info, const mds_regs *regs,
                       int exec_at_pc, int has_abort_msg)
{
    int sig = info->si_signo, code = info->si_code;
    uintptr_t addr = (uintptr_t)info->si_addr;
    uintptr_t pc = regs->v[MDS_REG_PC], sp = regs->v[MDS_REG_SP];

    if (sig == SIGABRT)
        return has_abort_msg ? MDS_CAUSE_ASSERT : MDS_CAUSE_ABORT;
    if (code <= 0)
        return MDS_CAUSE_SENT_BY_PROCESS;
    switch (sig) {
    case SIGSEGV:
        if (code == SI_KERNEL) /* general protection: no address known */
            return pc == 0 ? MDS_CAUSE_CALL_THROUGH_NULL : MDS_CAUSE_BAD_ACCESS;
        if (pc == 0)
            return MDS_CAUSE_CALL_THROUGH_NULL;
        /* A fault right at or below the stack pointer: the stack ran into
         * its guard. Stores through push/call fault within a few words of
         * sp; a big frame (sub rsp, N) can fault further down. */
        if (addr <= sp + 256 && sp - addr < 256 * 1024)
            return MDS_CAUSE_STACK_OVERFLOW;
        if (addr < 64 * 1024)
            return MDS_CAUSE_NULL_DEREFERENCE;
        if (addr == pc && !exec_at_pc)
            return MDS_CAUSE_EXEC_NON_EXECUTABLE;
        return MDS_CAUSE_BAD_ACCESS;
    case SIGBUS:
        return MDS_CAUSE_BUS_ERROR;
    case SIGILL:
        return MDS_CAUSE_ILLEGAL_INSTRUCTION;
    case SIGFPE:
        return code == FPE_INTDIV ? MDS_CAUSE_DIVIDE_BY_ZERO
                                  : MDS_CAUSE_ARITHMETIC;
    case SIGTRAP:
        return MDS_CAUSE_BREAKPOINT;
    case SIGSYS:
        return MDS_CAUSE_BAD_SYSCALL;
    }
    return MDS_CAUSE_UNKNOWN;
}
