/*
 * cause.c - signal names and the probable cause (see cause.h).
 *
 * Context: async-signal-safe.
 */
#include "crash/handler/cause.h"

#include "crash/handler/fields.h"
#include "crash/core/poison.h"

static const char *const k_signals[] = {
    [1] = "SIGHUP",     [2] = "SIGINT",     [3] = "SIGQUIT",
    [4] = "SIGILL",     [5] = "SIGTRAP",    [6] = "SIGABRT",
    [7] = "SIGBUS",     [8] = "SIGFPE",     [9] = "SIGKILL",
    [10] = "SIGUSR1",   [11] = "SIGSEGV",   [12] = "SIGUSR2",
    [13] = "SIGPIPE",   [14] = "SIGALRM",   [15] = "SIGTERM",
    [16] = "SIGSTKFLT", [17] = "SIGCHLD",   [18] = "SIGCONT",
    [19] = "SIGSTOP",   [20] = "SIGTSTP",   [21] = "SIGTTIN",
    [22] = "SIGTTOU",   [23] = "SIGURG",    [24] = "SIGXCPU",
    [25] = "SIGXFSZ",   [26] = "SIGVTALRM", [27] = "SIGPROF",
    [28] = "SIGWINCH",  [29] = "SIGIO",     [30] = "SIGPWR",
    [31] = "SIGSYS",
};

const char *mds_signal_name(int signo)
{
    if (signo > 0 && (size_t)signo < sizeof k_signals / sizeof k_signals[0])
        return k_signals[signo];
    return "SIG?";
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const char *const k_segv[] = {
    0, "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR",
    "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR",
    "SEGV_MTESERR"};
static const char *const k_bus[] = {0, "BUS_ADRALN", "BUS_ADRERR",
                                    "BUS_OBJERR", "BUS_MCEERR_AR",
                                    "BUS_MCEERR_AO"};
static const char *const k_ill[] = {
    0, "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
    "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"};
static const char *const k_fpe[] = {
    0, "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
    "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"};
static const char *const k_trap[] = {0, "TRAP_BRKPT", "TRAP_TRACE",
                                     "TRAP_BRANCH", "TRAP_HWBKPT"};
static const char *const k_sys[] = {0, "SYS_SECCOMP"};

const char *mds_signal_code_name(int signo, int code)
{
    switch (code) { /* codes valid for every signal */
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
    const char *const *t = 0;
    size_t n = 0;
    switch (signo) {
    case SIGSEGV: t = k_segv; n = N(k_segv); break;
    case SIGBUS: t = k_bus; n = N(k_bus); break;
    case SIGILL: t = k_ill; n = N(k_ill); break;
    case SIGFPE: t = k_fpe; n = N(k_fpe); break;
    case SIGTRAP: t = k_trap; n = N(k_trap); break;
    case SIGSYS: t = k_sys; n = N(k_sys); break;
    }
    if (t && code > 0 && (size_t)code < n)
        return t[code];
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
