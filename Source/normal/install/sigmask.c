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
#include <sys/syscall.h>
#include <unistd.h>

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

/* A static program has no RTLD_NEXT: the system call itself, without
 * glibc's two internal signals (cancellation, setxid), as glibc does. */
static int raw_mask(int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy;
    if (set) {
        copy = *set;
        sigdelset(&copy, 32);
        sigdelset(&copy, 33);
        set = &copy;
    }
    long r = syscall(SYS_rt_sigprocmask, how, set, old, 8);
    return r < 0 ? errno : 0;
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
    sigset_t copy;
    set = keep_faults(how, set, &copy);
    return f ? f(how, set, old) : raw_mask(how, set, old);
}

__attribute__((visibility("default"))) int
sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    mask_fn f = lookup(&real_sigprocmask, "sigprocmask");
    sigset_t copy;
    set = keep_faults(how, set, &copy);
    if (f)
        return f(how, set, old);
    int e = raw_mask(how, set, old);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

void md_sigmask_warm(void)
{
    lookup(&real_pthread_sigmask, "pthread_sigmask");
    lookup(&real_sigprocmask, "sigprocmask");
}
