/*
 * names.c - strings for the report's enums and for signal numbers/codes,
 * used by the text and JSON formatters and mayday_report_get_info().
 *
 * Context: normal. Static tables only; the identifiers are part of the
 * documented JSON format (docs/report-format.md): never rename them.
 */
#include <signal.h>
#include <stdio.h>

#include "normal/reader/reader.h"

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

const char *md_signal_name(uint32_t signo, char *buf, size_t n)
{
    if (signo < sizeof(k_signals) / sizeof(k_signals[0]) && k_signals[signo])
        return k_signals[signo];
    /* Linux real-time signals: 32..64, glibc's SIGRTMIN is 34. */
    if (signo >= 32 && signo <= 64 && buf && n > 0) {
        snprintf(buf, n, "SIGRT%u", signo);
        return buf;
    }
    return NULL;
}

const char *md_signal_code_name(uint32_t signo, int32_t code)
{
    switch (code) { /* codes valid for every signal (si_code <= 0) */
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
        case 1: return "SEGV_MAPERR";
        case 2: return "SEGV_ACCERR";
        case 3: return "SEGV_BNDERR";
        case 4: return "SEGV_PKUERR";
        case 5: return "SEGV_ACCADI";
        case 6: return "SEGV_ADIDERR";
        case 7: return "SEGV_ADIPERR";
        case 8: return "SEGV_MTEAERR";
        case 9: return "SEGV_MTESERR";
        }
        break;
    case SIGBUS:
        switch (code) {
        case 1: return "BUS_ADRALN";
        case 2: return "BUS_ADRERR";
        case 3: return "BUS_OBJERR";
        case 4: return "BUS_MCEERR_AR";
        case 5: return "BUS_MCEERR_AO";
        }
        break;
    case SIGILL:
        switch (code) {
        case 1: return "ILL_ILLOPC";
        case 2: return "ILL_ILLOPN";
        case 3: return "ILL_ILLADR";
        case 4: return "ILL_ILLTRP";
        case 5: return "ILL_PRVOPC";
        case 6: return "ILL_PRVREG";
        case 7: return "ILL_COPROC";
        case 8: return "ILL_BADSTK";
        }
        break;
    case SIGFPE:
        switch (code) {
        case 1: return "FPE_INTDIV";
        case 2: return "FPE_INTOVF";
        case 3: return "FPE_FLTDIV";
        case 4: return "FPE_FLTOVF";
        case 5: return "FPE_FLTUND";
        case 6: return "FPE_FLTRES";
        case 7: return "FPE_FLTINV";
        case 8: return "FPE_FLTSUB";
        }
        break;
    case SIGTRAP:
        switch (code) {
        case 1: return "TRAP_BRKPT";
        case 2: return "TRAP_TRACE";
        case 3: return "TRAP_BRANCH";
        case 4: return "TRAP_HWBKPT";
        }
        break;
    case SIGSYS:
        if (code == 1)
            return "SYS_SECCOMP";
        break;
    }
    return NULL;
}

static const char *const k_cause_id[] = {
    [1] = "null_dereference",     [2] = "stack_overflow",
    [3] = "exec_non_executable",  [4] = "call_through_null",
    [5] = "bad_access",           [6] = "abort",
    [7] = "assert",               [8] = "illegal_instruction",
    [9] = "divide_by_zero",       [10] = "arithmetic",
    [11] = "breakpoint",          [12] = "bad_syscall",
    [13] = "bus_error",           [14] = "sent_by_process",
};

static const char *const k_cause_text[] = {
    [1] = "null dereference",
    [2] = "stack overflow",
    [3] = "execution of non-executable memory",
    [4] = "call through a null function pointer",
    [5] = "bad memory access",
    [6] = "abort",
    [7] = "assertion failed",
    [8] = "illegal instruction",
    [9] = "integer divide by zero",
    [10] = "arithmetic exception",
    [11] = "breakpoint / trap",
    [12] = "bad system call (seccomp)",
    [13] = "bus error",
    [14] = "signal sent by a process",
};

#define TABLE_GET(t, i)                                                        \
    (((i) > 0 && (size_t)(i) < sizeof(t) / sizeof((t)[0])) ? (t)[i] : NULL)

const char *md_cause_id(int cause) { return TABLE_GET(k_cause_id, cause); }
const char *md_cause_text(int cause) { return TABLE_GET(k_cause_text, cause); }

const char *md_trust_name(int trust)
{
    static const char *const t[] = {
        [1] = "context", [2] = "cfi", [3] = "frame_pointer",
        [4] = "stack_pointer", [5] = "scan",
    };
    const char *s = TABLE_GET(t, trust);
    return s ? s : "unknown";
}

const char *md_state_name(int state)
{
    static const char *const t[] = {
        [1] = "suspended", [2] = "crashed", [3] = "not_suspended",
        [4] = "reporter", [5] = "current",
    };
    const char *s = TABLE_GET(t, state);
    return s ? s : "unknown";
}

const char *md_handler_name(int h)
{
    static const char *const t[] = {
        [1] = "exception_thread", [2] = "signal", [3] = "live",
    };
    const char *s = TABLE_GET(t, h);
    return s ? s : "unknown";
}
