/*
 * sys.c - raw system call wrappers (see sys.h).
 *
 * Context: async-signal-safe. No libc function is called: glibc's wrappers
 * would touch errno, and some (clock_gettime through the vdso aside) may take
 * locks or be intercepted by sanitizers.
 */
#include "sys.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

#include "poison.h"

long mds_openat(int dirfd, const char *path, int flags, int mode)
{
    return mds_syscall4(SYS_openat, dirfd, path, flags, mode);
}
long mds_read(int fd, void *buf, size_t len)
{
    return mds_syscall3(SYS_read, fd, buf, len);
}
long mds_write(int fd, const void *buf, size_t len)
{
    return mds_syscall3(SYS_write, fd, buf, len);
}
long mds_pread(int fd, void *buf, size_t len, int64_t off)
{
    return mds_syscall4(SYS_pread64, fd, buf, len, off);
}
long mds_pwrite(int fd, const void *buf, size_t len, int64_t off)
{
    return mds_syscall4(SYS_pwrite64, fd, buf, len, off);
}
long mds_close(int fd) { return mds_syscall1(SYS_close, fd); }
long mds_fsync(int fd) { return mds_syscall1(SYS_fsync, fd); }
long mds_ftruncate(int fd, int64_t len)
{
    return mds_syscall2(SYS_ftruncate, fd, len);
}
long mds_lseek(int fd, int64_t off, int whence)
{
    return mds_syscall3(SYS_lseek, fd, off, whence);
}
long mds_renameat(int olddirfd, const char *oldp, int newdirfd,
                  const char *newp)
{
#ifdef SYS_renameat
    return mds_syscall4(SYS_renameat, olddirfd, oldp, newdirfd, newp);
#else
    return mds_syscall5(SYS_renameat2, olddirfd, oldp, newdirfd, newp, 0);
#endif
}
long mds_unlinkat(int dirfd, const char *path, int flags)
{
    return mds_syscall3(SYS_unlinkat, dirfd, path, flags);
}
long mds_getdents64(int fd, void *buf, size_t len)
{
    return mds_syscall3(SYS_getdents64, fd, buf, len);
}
long mds_pipe2(int fds[2], int flags)
{
    return mds_syscall2(SYS_pipe2, fds, flags);
}
long mds_fstat(int fd, struct stat *st)
{
    return mds_syscall2(SYS_fstat, fd, st);
}
long mds_readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
    return mds_syscall4(SYS_readlinkat, dirfd, path, buf, len);
}

long mds_mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off,
              void **out)
{
    long r = mds_syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, fd,
                          (long)off);
    /* The kernel returns an address or -errno in [-4095, -1]. */
    if (r < 0 && r > -4096)
        return r;
    *out = (void *)r;
    return 0;
}
long mds_munmap(void *addr, size_t len)
{
    return mds_syscall2(SYS_munmap, addr, len);
}
long mds_mprotect(void *addr, size_t len, int prot)
{
    return mds_syscall3(SYS_mprotect, addr, len, prot);
}
long mds_process_vm_readv(int pid, const struct iovec *local, unsigned long nl,
                          const struct iovec *remote, unsigned long nr)
{
    return mds_syscall6(SYS_process_vm_readv, pid, (long)local, (long)nl,
                        (long)remote, (long)nr, 0);
}

long mds_getpid(void) { return mds_syscall0(SYS_getpid); }
long mds_getppid(void) { return mds_syscall0(SYS_getppid); }
long mds_gettid(void) { return mds_syscall0(SYS_gettid); }
long mds_getuid(void) { return mds_syscall0(SYS_getuid); }
long mds_geteuid(void) { return mds_syscall0(SYS_geteuid); }
long mds_getgid(void) { return mds_syscall0(SYS_getgid); }
long mds_tgkill(int tgid, int tid, int sig)
{
    return mds_syscall3(SYS_tgkill, tgid, tid, sig);
}
long mds_rt_tgsigqueueinfo(int tgid, int tid, int sig, void *siginfo)
{
    return mds_syscall4(SYS_rt_tgsigqueueinfo, tgid, tid, sig, siginfo);
}
long mds_rt_sigprocmask(int how, const void *set, void *old)
{
    /* The kernel's sigset is 8 bytes (_NSIG / 8), not glibc's 128. */
    return mds_syscall4(SYS_rt_sigprocmask, how, set, old, 8);
}
long mds_rt_sigaction(int sig, const struct mds_ksigaction *act,
                      struct mds_ksigaction *old)
{
    return mds_syscall4(SYS_rt_sigaction, sig, act, old, 8);
}
long mds_sigaltstack(const void *ss, void *old)
{
    return mds_syscall2(SYS_sigaltstack, ss, old);
}
long mds_exit_group(int status)
{
    for (;;)
        mds_syscall1(SYS_exit_group, status);
}
long mds_sched_yield(void) { return mds_syscall0(SYS_sched_yield); }

long mds_kill(int pid, int sig) { return mds_syscall2(SYS_kill, pid, sig); }
long mds_ptrace(long req, long pid, void *addr, void *data)
{
    return mds_syscall4(SYS_ptrace, req, pid, addr, data);
}
long mds_wait4(int pid, int *status, int options)
{
    return mds_syscall4(SYS_wait4, pid, status, options, 0);
}
long mds_prctl(int option, unsigned long a, unsigned long b, unsigned long c)
{
    return mds_syscall5(SYS_prctl, option, a, b, c, 0);
}
long mds_getrlimit(int res, uint64_t *soft, uint64_t *hard)
{
    struct {
        uint64_t cur, max;
    } lim;
    long r = mds_syscall4(SYS_prlimit64, 0, res, 0, &lim);
    if (r < 0)
        return r;
    if (soft)
        *soft = lim.cur;
    if (hard)
        *hard = lim.max;
    return 0;
}
long mds_sigtimedwait(const uint64_t *set, uint64_t timeout_ns)
{
    struct timespec ts = {(time_t)(timeout_ns / 1000000000ull),
                          (long)(timeout_ns % 1000000000ull)};
    return mds_syscall4(SYS_rt_sigtimedwait, set, 0, &ts, 8);
}
long mds_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
#ifdef SYS_newfstatat
    return mds_syscall4(SYS_newfstatat, dirfd, path, st, flags);
#else
    return mds_syscall4(SYS_fstatat, dirfd, path, st, flags);
#endif
}
long mds_fdatasync(int fd) { return mds_syscall1(SYS_fdatasync, fd); }
long mds_dup3(int oldfd, int newfd, int flags)
{
    return mds_syscall3(SYS_dup3, oldfd, newfd, flags);
}

long mds_timer_create_tid(int sig, int tid, int *timer_id)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_signo = sig;
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev._sigev_un._tid = tid;
    return mds_syscall3(SYS_timer_create, CLOCK_MONOTONIC, &ev, timer_id);
}
long mds_timer_arm(int timer_id, uint64_t after_ns)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(after_ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(after_ns % 1000000000ull);
    return mds_syscall4(SYS_timer_settime, timer_id, 0, &its, 0);
}
long mds_timer_delete(int timer_id)
{
    return mds_syscall1(SYS_timer_delete, timer_id);
}

long mds_clock_gettime(int clk, struct timespec *ts)
{
    /* A real syscall, not the vdso: the vdso is fine in a handler, but a
     * raw call keeps the crash path free of any libc entry point. */
    return mds_syscall2(SYS_clock_gettime, clk, ts);
}
uint64_t mds_now_ns(void)
{
    struct timespec ts;
    if (mds_clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
uint64_t mds_realtime_ns(void)
{
    struct timespec ts;
    if (mds_clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
void mds_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull),
                          (long)(ns % 1000000000ull)};
    mds_syscall2(SYS_nanosleep, &ts, 0);
}

long mds_futex_wait(volatile uint32_t *addr, uint32_t expected,
                    uint64_t timeout_ns)
{
    struct timespec ts = {(time_t)(timeout_ns / 1000000000ull),
                          (long)(timeout_ns % 1000000000ull)};
    return mds_syscall4(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, &ts);
}
long mds_futex_wait_shared(volatile uint32_t *addr, uint32_t expected,
                           uint64_t timeout_ns)
{
    struct timespec ts = {(time_t)(timeout_ns / 1000000000ull),
                          (long)(timeout_ns % 1000000000ull)};
    return mds_syscall4(SYS_futex, addr, FUTEX_WAIT, expected, &ts);
}
long mds_futex_wake(volatile uint32_t *addr, int count)
{
    return mds_syscall3(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count);
}

void mds_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    long r = mds_syscall3(SYS_getrandom, buf, len, 1 /* GRND_NONBLOCK */);
    if (r == (long)len)
        return;
    /* No entropy yet (early boot): mix clocks, pid and addresses. Report
     * ids only need to be unique, not secret. */
    uint64_t x = mds_realtime_ns() ^ (mds_now_ns() << 17) ^
                 ((uint64_t)mds_getpid() << 40) ^ (uint64_t)(uintptr_t)buf;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (unsigned char)(x >> 24);
    }
}
