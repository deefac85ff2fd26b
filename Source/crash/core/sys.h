/*
 * sys.h - raw Linux system calls for the crash path.
 *
 * Context: async-signal-safe; any thread, any context, including a signal
 * handler on an alternate stack in a process whose heap and locks are broken.
 *
 * Rules of Source/crash/ (checked by Tests/core/test_nm_allowlist):
 *   you may not malloc, you may not use stdio, you may not take a lock,
 *   you may not enter the dynamic linker (no dl*, no lazy PLT binding of a
 *   new libc function), you may not touch errno.
 * Every wrapper here returns the kernel's raw result: >= 0 on success,
 * -errno on failure (musl's __syscall convention), and never sets errno.
 */
#ifndef MDS_SYS_H
#define MDS_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>

#if defined(__x86_64__)
static inline long mds_syscall6(long n, long a, long b, long c, long d, long e,
                                long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ __volatile__("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                           "r"(r9)
                         : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long mds_syscall6(long n, long a, long b, long c, long d, long e,
                                long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ __volatile__("svc 0"
                         : "=r"(x0)
                         : "r"(x8), "0"(x0), "r"(x1), "r"(x2), "r"(x3),
                           "r"(x4), "r"(x5)
                         : "memory", "cc");
    return x0;
}
#else
#error "mayday: unsupported architecture (x86_64 and aarch64 only)"
#endif

#define mds_syscall0(n) mds_syscall6((n), 0, 0, 0, 0, 0, 0)
#define mds_syscall1(n, a) mds_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define mds_syscall2(n, a, b)                                                  \
    mds_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define mds_syscall3(n, a, b, c)                                               \
    mds_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define mds_syscall4(n, a, b, c, d)                                            \
    mds_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define mds_syscall5(n, a, b, c, d, e)                                         \
    mds_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

struct iovec;
struct timespec;
struct stat;

/* Files. Paths are NUL-terminated; *at variants take AT_FDCWD or a dirfd. */
long mds_openat(int dirfd, const char *path, int flags, int mode);
long mds_read(int fd, void *buf, size_t len);
long mds_write(int fd, const void *buf, size_t len);
long mds_pread(int fd, void *buf, size_t len, int64_t off);
long mds_pwrite(int fd, const void *buf, size_t len, int64_t off);
long mds_close(int fd);
long mds_fsync(int fd);
long mds_ftruncate(int fd, int64_t len);
long mds_lseek(int fd, int64_t off, int whence);
long mds_renameat(int olddirfd, const char *oldp, int newdirfd,
                  const char *newp);
long mds_unlinkat(int dirfd, const char *path, int flags);
long mds_getdents64(int fd, void *buf, size_t len);
long mds_pipe2(int fds[2], int flags);
/* The kernel's struct stat, which is glibc's on x86_64 and aarch64. */
long mds_fstat(int fd, struct stat *st);
long mds_readlinkat(int dirfd, const char *path, char *buf, size_t len);

/* Memory. */
long mds_mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off,
              void **out);
long mds_munmap(void *addr, size_t len);
long mds_mprotect(void *addr, size_t len, int prot);
long mds_process_vm_readv(int pid, const struct iovec *local, unsigned long nl,
                          const struct iovec *remote, unsigned long nr);

/* Processes, threads and signals. */
long mds_getpid(void);
long mds_getppid(void);
long mds_gettid(void);
long mds_getuid(void);
long mds_geteuid(void);
long mds_getgid(void);
long mds_tgkill(int tgid, int tid, int sig);
long mds_rt_tgsigqueueinfo(int tgid, int tid, int sig, void *siginfo);
long mds_rt_sigprocmask(int how, const void *set, void *old);
/* The kernel's struct sigaction (x86_64/aarch64 layout), which differs
 * from libc's; mds_sigaction_restore converts a libc one saved at install.
 * Raw, so that an interposed sigaction() (e.g. a JVM's libjsig, which
 * takes a mutex) is never entered on the crash path. */
struct mds_ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};
long mds_rt_sigaction(int sig, const struct mds_ksigaction *act,
                      struct mds_ksigaction *old);
long mds_sigaltstack(const void *ss, void *old);
long mds_exit_group(int status) __attribute__((noreturn));
long mds_sched_yield(void);

/* Processes (the ptrace thread stopper, Source/crash/stop/). */
long mds_kill(int pid, int sig);
long mds_ptrace(long req, long pid, void *addr, void *data);
/* wait4(pid, status, options, NULL). */
long mds_wait4(int pid, int *status, int options);
long mds_prctl(int option, unsigned long a, unsigned long b, unsigned long c);
/* prlimit64(0, res, NULL, old): the calling process's limit. */
long mds_getrlimit(int res, uint64_t *soft, uint64_t *hard);
/* rt_sigtimedwait on a 64-bit signal mask, timeout relative in ns. Returns
 * the signal number, -EAGAIN on timeout, -EINTR. */
long mds_sigtimedwait(const uint64_t *set, uint64_t timeout_ns);
/* newfstatat(dirfd, path, st, flags); path "" with AT_EMPTY_PATH = fstat. */
long mds_fstatat(int dirfd, const char *path, struct stat *st, int flags);
long mds_fdatasync(int fd);
long mds_dup3(int oldfd, int newfd, int flags);

/* Starts fn(arg) in a new task made by clone(flags) on the stack that
 * ends at stack_top (16-byte aligned by this function). The child exits
 * with fn's return value. flags usually hold CLONE_VM: the child shares
 * our memory and must only run crash-path code. ctid is the word for
 * CLONE_PARENT_SETTID/CHILD_SETTID/CHILD_CLEARTID (may be NULL). Returns
 * the child's pid (parent) or -errno. */
long mds_clone(unsigned long flags, void *stack_top, volatile uint32_t *ctid,
               int (*fn)(void *), void *arg);

/* POSIX timers delivering sig to thread tid (SIGEV_THREAD_ID). */
long mds_timer_create_tid(int sig, int tid, int *timer_id);
long mds_timer_arm(int timer_id, uint64_t after_ns);
long mds_timer_delete(int timer_id);

/* Time: clock ids as in <time.h>. */
long mds_clock_gettime(int clk, struct timespec *ts);
/* CLOCK_MONOTONIC in ns (0 on failure). */
uint64_t mds_now_ns(void);
uint64_t mds_realtime_ns(void);
/* Sleeps ns (interrupted sleeps return early; callers loop on deadlines). */
void mds_sleep_ns(uint64_t ns);

/* Futex on a 32-bit word, process-private. wait sleeps while *addr ==
 * expected for at most timeout_ns (relative; there is no infinite wait on
 * the crash path) and returns 0, -EAGAIN (value changed), -ETIMEDOUT or
 * -EINTR. */
long mds_futex_wait(volatile uint32_t *addr, uint32_t expected,
                    uint64_t timeout_ns);
long mds_futex_wake(volatile uint32_t *addr, int count);
/* The same, shared (not FUTEX_PRIVATE_FLAG): for the word the kernel
 * clears and wakes at a task's exit (CLONE_CHILD_CLEARTID), whose wake is
 * a shared one and does not reach private waiters. */
long mds_futex_wait_shared(volatile uint32_t *addr, uint32_t expected,
                           uint64_t timeout_ns);

/* Random bytes (getrandom with GRND_NONBLOCK; falls back to time mixing). */
void mds_random(void *buf, size_t len);

#endif /* MDS_SYS_H */
