/*
 * names.c - strings for the report's enums and for signal numbers/codes,
 * used by the text and JSON formatters and mayday_report_get_info().
 *
 * Context: normal. Static tables only; the identifiers are part of the
 * documented JSON format (docs/report-format.md): never rename them.
 */
#include <signal.h>
#include <stdio.h>

#include "crash/handler/cause.h"
#include "normal/reader/reader.h"

/* One table for the crash path and the reader: Source/crash/handler/cause.c
 * (async-signal-safe, so the writer can use it too). */
const char *md_signal_name(uint32_t signo, char *buf, size_t n)
{
    const char *s = signo <= 64 ? mds_signal_name((int)signo) : "SIG?";
    if (s[3] != '?')
        return s;
    /* Linux real-time signals: 32..64, glibc's SIGRTMIN is 34. */
    if (signo >= 32 && signo <= 64 && buf && n > 0) {
        snprintf(buf, n, "SIGRT%u", signo);
        return buf;
    }
    return NULL;
}

const char *md_signal_code_name(uint32_t signo, int32_t code)
{
    const char *s = mds_signal_code_name((int)signo, code);
    return s[0] ? s : NULL;
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
        [4] = "stack_pointer", [5] = "scan", [6] = "link_register",
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

const char *md_stop_method_name(int m)
{
    static const char *const t[] = {
        [1] = "ptrace", [2] = "signal", [3] = "none",
    };
    const char *s = TABLE_GET(t, m);
    return s ? s : "unknown";
}

const char *md_stop_failure_name(int f)
{
    static const char *const t[] = {
        [1] = "timeout", [2] = "traced",  [3] = "signal_blocked",
        [4] = "no_method", [5] = "exited",
    };
    const char *s = TABLE_GET(t, f);
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
