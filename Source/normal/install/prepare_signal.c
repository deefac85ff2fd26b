/*
 * prepare_signal.c - altstacks for the threads that exist at install, by
 * signal, where the ptrace injection (prepare.c) could not run: each
 * thread gets the reserved signal once and its handler
 * (mds_altstack_sig_handler, Source/crash/handler/altstack_signal.c) maps
 * and sets an altstack. Threads that block the signal are skipped (they
 * would only get it later, from the stop mechanism's own handler, which
 * ignores it); so is everything under a debugger (it would stop on the
 * signal). Waits at most 500 ms for the answers.
 *
 * Context: normal (install).
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash/core/sys.h"
#include "crash/handler/altstack_signal.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "normal/install/install.h"

#define WAIT_NS (500 * 1000000ull)

int md_prepare_by_signal(void)
{
    int sig = mds_g.suspend_signo;
    uint32_t pid = (uint32_t)getpid(), self = (uint32_t)mds_gettid();
    mds_task_status st;
    if (sig <= 0 || (mds_task_status_read(pid, self, &st) == 0 &&
                     st.tracer_pid > 0))
        return MAYDAY_ENOTSUP;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = mds_altstack_sig_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(sig, &sa, &old) != 0)
        return MAYDAY_ESYS;
    __atomic_store_n(&mds_altstack_sig_acks, 0, __ATOMIC_RELEASE);
    uint32_t sent = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        uint32_t tid = (uint32_t)strtoul(e->d_name, 0, 10);
        if (tid == 0 || tid == self || tid == mds_g.exc_tid)
            continue;
        if (mds_task_status_read(pid, tid, &st) == 0 && st.has_sig_blk &&
            (st.sig_blk & (1ull << (sig - 1))))
            continue;
        if (mds_tgkill((int)pid, (int)tid, sig) == 0)
            sent++;
    }
    if (d)
        closedir(d);
    uint64_t deadline = mds_now_ns() + WAIT_NS;
    for (;;) {
        uint32_t n = __atomic_load_n(&mds_altstack_sig_acks, __ATOMIC_ACQUIRE);
        uint64_t now = mds_now_ns();
        if (n >= sent || now >= deadline)
            break;
        mds_futex_wait(&mds_altstack_sig_acks, n, deadline - now);
    }
    sigaction(sig, &old, 0);
    return 0;
}
