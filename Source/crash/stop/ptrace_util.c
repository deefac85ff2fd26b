/*
 * ptrace_util.c - see ptrace_util.h.
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. Every wait has a deadline.
 */
#include "crash/stop/ptrace_util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "crash/core/sys.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

#define NS_PER_MS 1000000ull

/* ------------------------------------------------ per-architecture */

#if defined(__x86_64__)
void mds_pt_raw_to_slot(mds_slot *sl, const mds_raw_regs *r)
{
    mds_regs *m = &sl->regs;
    m->v[MDS_REG_RAX] = r->rax;
    m->v[MDS_REG_RBX] = r->rbx;
    m->v[MDS_REG_RCX] = r->rcx;
    m->v[MDS_REG_RDX] = r->rdx;
    m->v[MDS_REG_RSI] = r->rsi;
    m->v[MDS_REG_RDI] = r->rdi;
    m->v[MDS_REG_RBP] = r->rbp;
    m->v[MDS_REG_RSP] = r->rsp;
    m->v[MDS_REG_R8] = r->r8;
    m->v[MDS_REG_R9] = r->r9;
    m->v[MDS_REG_R10] = r->r10;
    m->v[MDS_REG_R11] = r->r11;
    m->v[MDS_REG_R12] = r->r12;
    m->v[MDS_REG_R13] = r->r13;
    m->v[MDS_REG_R14] = r->r14;
    m->v[MDS_REG_R15] = r->r15;
    m->v[MDS_REG_RIP] = r->rip;
    m->v[MDS_REG_EFLAGS] = r->eflags;
    /* ucontext's packing: cs | gs << 16 | fs << 32. */
    m->v[MDS_REG_CSGSFS] =
        (r->cs & 0xffff) | (r->gs & 0xffff) << 16 | (r->fs & 0xffff) << 32;
    m->v[MDS_REG_ERR] = 0; /* only a signal frame has err/trapno/cr2 */
    m->v[MDS_REG_TRAPNO] = 0;
    m->v[MDS_REG_CR2] = 0;
    m->valid = (1ull << MDS_NREGS) - 1;
    sl->syscall_nr = (int64_t)r->orig_rax;
    if (sl->syscall_nr < -1)
        sl->syscall_nr = -1;
    sl->syscall_args[0] = r->rdi;
    sl->syscall_args[1] = r->rsi;
    sl->syscall_args[2] = r->rdx;
    sl->syscall_args[3] = r->r10;
    sl->syscall_args[4] = r->r8;
    sl->syscall_args[5] = r->r9;
}

/* A system call that the stop ended with EINTR: make the kernel restart
 * it on resume (when no handler runs, as with no stop at all). Only calls
 * that did nothing when they return EINTR (connect, for one, would not
 * restart cleanly). Returns 1 if r changed. */
int mds_pt_fix_restart(mds_raw_regs *r)
{
    if ((long)r->orig_rax < 0 || (long)r->rax != -EINTR)
        return 0;
    switch ((long)r->orig_rax) {
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
    case SYS_rt_sigtimedwait:
    case SYS_semop:
    case SYS_semtimedop:
    case SYS_accept:
    case SYS_accept4:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_recvmmsg:
    case SYS_sendto:
    case SYS_sendmsg:
    case SYS_sendmmsg:
        r->rax = (unsigned long)-MDS_ERESTARTNOHAND;
        return 1;
    default:
        return 0;
    }
}
#elif defined(__aarch64__)
void mds_pt_raw_to_slot(mds_slot *sl, const mds_raw_regs *r)
{
    /* user_pt_regs -> mds_regs: regs_aarch64.c (fault address and ESR,
     * which only a signal frame has, are 0). */
    mds_regs_from_prstatus(&sl->regs, r, sizeof *r);
    sl->syscall_nr = -2; /* NT_ARM_SYSTEM_CALL would tell; not read */
}

/* arm64 decides about restarting before the stop (do_signal reads x0
 * first): rewriting x0 here would not help. Not done: an epoll_wait or
 * sigtimedwait interrupted by a live report may return EINTR there. */
int mds_pt_fix_restart(mds_raw_regs *r)
{
    (void)r;
    return 0;
}
#endif

/* ------------------------------------------------------ the helper */

static void set_default(int sig)
{
    struct mds_ksigaction k;
    memset(&k, 0, sizeof k);
    mds_rt_sigaction(sig, &k, 0);
}

long mds_pt_regset(long req, uint32_t tid, int type, void *buf, size_t len,
                   size_t *got)
{
    struct iovec io = {buf, len};
    long r = mds_ptrace(req, tid, (void *)(uintptr_t)type, &io);
    if (got)
        *got = r == 0 ? io.iov_len : 0;
    return r;
}

/* ------------------------------------------------------ helper task */

int mds_ptrace_yama; /* set at install when Yama restricts ptrace */

long mds_pt_helper_start(mds_stopset *s, int (*fn)(void *), void *arg)
{
    s->hgo = 0;
    s->hpid = 0;
    long pid = mds_clone(MDS_HELPER_CLONE_FLAGS, s->hstack + s->hstack_len,
                         &s->hpid, fn, arg);
    if (pid < 0)
        return pid;
    s->hlive = (uint32_t)pid;
    if (mds_ptrace_yama)
        mds_prctl(MDS_PR_SET_PTRACER, (unsigned long)pid, 0, 0);
    __atomic_store_n(&s->hgo, 1, __ATOMIC_RELEASE);
    mds_futex_wake(&s->hgo, 1);
    return pid;
}

int mds_pt_helper_setup(mds_stopset *s)
{
    /* This task has its own copy of our dispositions: a fault here must
     * kill it alone (the kernel then detaches its tracees), and nothing
     * may run a handler in it. SIGCHLD stays blocked but default, so the
     * tracees' stops queue it for rt_sigtimedwait. */
    uint64_t all = ~0ull;
    mds_rt_sigprocmask(SIG_BLOCK, &all, 0);
    for (int sig = 1; sig < 32; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            set_default(sig);
    }
    /* No PR_SET_PDEATHSIG: killed while the process dies, this task
     * could block in its exit (closing files) before releasing the
     * zombies it traces; it rather waits for them (stop_ptrace.c). */
    if ((uint32_t)mds_getppid() != s->pid)
        return -1; /* the reporter is gone already */
    while (!__atomic_load_n(&s->hgo, __ATOMIC_ACQUIRE)) {
        if (mds_now_ns() >= s->deadline_ns)
            return -1;
        mds_futex_wait(&s->hgo, 0, 5 * NS_PER_MS);
    }
    return 0;
}

void mds_pt_helper_reap(mds_stopset *s, uint64_t wait_ns)
{
    uint32_t pid = s->hlive;
    if (!pid)
        return;
    uint64_t until = mds_now_ns() + wait_ns;
    int killed = 0;
    while (__atomic_load_n(&s->hpid, __ATOMIC_ACQUIRE) != 0) {
        if (mds_now_ns() >= until) {
            /* Killed and still not gone after a second (stuck in its
             * exit, e.g. closing a file on a hung file system): leave it;
             * a later reap tries again, within its own bound. */
            if (killed)
                return;
            mds_kill((int)pid, SIGKILL);
            killed = 1;
            until = mds_now_ns() + 1000 * NS_PER_MS;
        }
        mds_futex_wait_shared(&s->hpid, pid, 10 * NS_PER_MS);
    }
    /* CLEARTID comes just before the task turns into a zombie. */
    for (int i = 0; i < 2000; i++) {
        int st;
        long r = mds_wait4((int)pid, &st, MDS_WALL | MDS_WNOHANG);
        if (r == (long)pid || (r < 0 && r != -EINTR))
            break;
        mds_sleep_ns(50000);
    }
    s->hlive = 0;
}
