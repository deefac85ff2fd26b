/*
 * fatal.c - mayday_fatal(), mayday_fatalf() and mayday_record_exception():
 * failures the application (or its language runtime) declares.
 *
 * Context: normal-context API, but mayday_fatal and mayday_record_exception
 * are async-signal-safe: they store into the crash path's preallocated
 * failure record (crash/handler/failure.c) and use raw syscalls only.
 * mayday_fatalf formats with vsnprintf first, in the caller's context.
 *
 * How a declared fatal error becomes a report: the message goes into the
 * record, tagged with this thread and the signal; the signal is raised on
 * this thread; mayday's crash handler writes the report (either handler
 * mode) and attaches the record; then it re-delivers the signal and the
 * process ends as abort() would end it.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crash/core/sys.h"
#include "crash/handler/failure.h"
#include "crash/handler/fields.h"
#include "crash/handler/state.h"
#include "mayday/mayday.h"
#include "normal/common/config.h"

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        long k = mds_write(fd, s, n);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* Raises sig on this thread, unblocked; if a handler returns or the
 * signal is ignored, forces the default action; never returns. */
static MAYDAY_NORETURN void die_with(int sig)
{
    uint64_t bit = 1ull << (sig - 1);
    int pid = (int)mds_getpid(), tid = (int)mds_gettid();
    mds_rt_sigprocmask(SIG_UNBLOCK, &bit, 0);
    mds_tgkill(pid, tid, sig);
    /* Still here: a previous handler returned. Like abort(): the
     * default action, once more. */
    struct mds_ksigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    mds_rt_sigaction(sig, &dfl, 0);
    mds_rt_sigprocmask(SIG_UNBLOCK, &bit, 0);
    mds_tgkill(pid, tid, sig);
    mds_exit_group(128 + sig); /* ignored even so (PID 1 of a namespace) */
}

void mayday_fatal(const char *message)
{
    int sig = SIGABRT;
    if (__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE) &&
        md_fatal_signal_ok(mds_g.cfg.fatal_signal))
        sig = mds_g.cfg.fatal_signal;
    const char *m = message ? message : "";
    mds_fail_record_set(MDS_FAIL_FATAL, sig, 0, m, 0, 0, 0);
    size_t n = strnlen(m, MDS_FAIL_MSG_MAX - 1);
    write_all(2, "mayday: fatal: ", 15);
    write_all(2, m, n);
    write_all(2, "\n", 1);
    die_with(sig);
}

void mayday_fatalf(const char *format, ...)
{
    /* One byte more than the record keeps, so that a longer message is
     * flagged as cut. */
    char buf[MDS_FAIL_MSG_MAX + 1];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buf, sizeof buf, format ? format : "", ap);
    va_end(ap);
    if (n < 0)
        snprintf(buf, sizeof buf, "(mayday_fatalf: bad format)");
    mayday_fatal(buf);
}

int mayday_record_exception(const mayday_exception_info *info)
{
    if (!info ||
        info->size < offsetof(mayday_exception_info, throw_pc) +
                         sizeof(info->throw_pc) ||
        info->reason > MAYDAY_TERMINATE_CALLED)
        return MAYDAY_EINVAL;
    return mds_fail_record_set(MDS_FAIL_CXX_TERMINATE, SIGABRT, info->type,
                               info->message, info->reason, info->std_exception,
                               info->throw_pc);
}
