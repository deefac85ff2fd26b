/*
 * sigmask.c - keeps the fault signals deliverable in every thread.
 *
 * Context: normal (runs in the application's threads when they change
 * their signal mask).
 *
 * A fault signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS) that
 * is blocked in the thread that faults cannot be caught: the kernel
 * resets it to SIG_DFL and kills the process, no handler runs, no report
 * is written. Daemons commonly block every signal in every thread and
 * take them with sigwait in one thread. So while mayday is installed,
 * pthread_sigmask() and sigprocmask() (defined here, forwarding to the
 * real ones found with dlsym(RTLD_NEXT)) never block those six: for a
 * fault, blocking changes nothing but whether it is reported. What does
 * change: the same signals *sent* with kill() are delivered at once (a
 * report, then the default action) instead of waiting in the pending set
 * for sigwait. MAYDAY_FLAG_NO_SIGMASK_HOOK turns this off.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>

#include "crash/handler/state.h"
#include "normal/install/install.h"

typedef int (*mask_fn)(int, const sigset_t *, sigset_t *);
static mask_fn real_pthread_sigmask, real_sigprocmask;

static mask_fn lookup(mask_fn *slot, const char *name)
{
    mask_fn f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        f = (mask_fn)dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

static const sigset_t *keep_faults(int how, const sigset_t *set, sigset_t *copy)
{
    if (!set || how == SIG_UNBLOCK ||
        !__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE) ||
        (mds_g.cfg.flags & MAYDAY_FLAG_NO_SIGMASK_HOOK))
        return set;
    *copy = *set;
    static const int faults[] = {SIGSEGV, SIGBUS,  SIGILL,
                                 SIGFPE,  SIGTRAP, SIGSYS};
    for (unsigned i = 0; i < sizeof faults / sizeof faults[0]; i++)
        sigdelset(copy, faults[i]);
    return copy;
}

__attribute__((visibility("default"))) int
pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    mask_fn f = lookup(&real_pthread_sigmask, "pthread_sigmask");
    if (!f)
        return ENOSYS;
    sigset_t copy;
    return f(how, keep_faults(how, set, &copy), old);
}

__attribute__((visibility("default"))) int
sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    mask_fn f = lookup(&real_sigprocmask, "sigprocmask");
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    sigset_t copy;
    return f(how, keep_faults(how, set, &copy), old);
}

void md_sigmask_warm(void)
{
    lookup(&real_pthread_sigmask, "pthread_sigmask");
    lookup(&real_sigprocmask, "sigprocmask");
}
