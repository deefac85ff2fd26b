/*
 * procfs.c - /proc readers and reserved descriptors (see procfs.h).
 *
 * Context: async-signal-safe. You may not malloc, use stdio or enter the
 * dynamic linker here: raw syscalls into caller buffers only.
 */
#include "crash/handler/procfs.h"

#include <errno.h>
#include <fcntl.h>

#include "crash/core/fmt.h"
#include "crash/core/sys.h"
#include "crash/handler/state.h"
#include "crash/core/poison.h"

long mds_open_reserved(int dirfd, const char *path, int flags, int mode)
{
    long fd = mds_openat(dirfd, path, flags, mode);
    for (int i = 0; i < 2 && (fd == -EMFILE || fd == -ENFILE); i++) {
        int spare =
            __atomic_exchange_n(&mds_g.fd.spare[i], -1, __ATOMIC_ACQ_REL);
        if (spare < 0)
            continue;
        mds_close(spare);
        fd = mds_openat(dirfd, path, flags, mode);
    }
    return fd;
}

/* "/proc/self/<rel>" into out; 0, or -ENAMETOOLONG. */
static int self_path(char *out, size_t cap, const char *rel)
{
    mds_sbuf sb;
    mds_sbuf_init(&sb, out, cap);
    mds_sbuf_str(&sb, "/proc/self/");
    mds_sbuf_str(&sb, rel);
    return sb.overflow ? -ENAMETOOLONG : 0;
}

/* The reserved /proc/PID descriptor when it names pid, else -1 (none, or
 * a forked child that inherited its parent's). */
static int proc_fd(uint32_t pid)
{
    int pfd = mds_g.fd.proc;
    return pfd >= 0 && mds_g.fd.proc_pid == pid ? pfd : -1;
}

long mds_proc_open_pid(uint32_t pid, const char *rel, int flags)
{
    int pfd = proc_fd(pid);
    if (pfd >= 0)
        return mds_open_reserved(pfd, rel, flags | O_CLOEXEC, 0);
    char path[96];
    mds_sbuf sb;
    mds_sbuf_init(&sb, path, sizeof path);
    mds_sbuf_str(&sb, "/proc/");
    mds_sbuf_u64(&sb, pid);
    mds_sbuf_char(&sb, '/');
    mds_sbuf_str(&sb, rel);
    if (sb.overflow)
        return -ENAMETOOLONG;
    return mds_open_reserved(AT_FDCWD, path, flags | O_CLOEXEC, 0);
}

long mds_proc_open(const char *rel, int flags)
{
    uint32_t pid = (uint32_t)mds_getpid();
    if (proc_fd(pid) >= 0)
        return mds_proc_open_pid(pid, rel, flags);
    char path[96];
    if (self_path(path, sizeof path, rel) < 0)
        return -ENAMETOOLONG;
    return mds_open_reserved(AT_FDCWD, path, flags | O_CLOEXEC, 0);
}

long mds_proc_readlink(const char *rel, char *buf, size_t cap)
{
    int pfd = proc_fd((uint32_t)mds_getpid());
    if (pfd >= 0)
        return mds_readlinkat(pfd, rel, buf, cap);
    char path[96];
    if (self_path(path, sizeof path, rel) < 0)
        return -ENAMETOOLONG;
    return mds_readlinkat(AT_FDCWD, path, buf, cap);
}

static long read_all(long fd, char *buf, size_t cap)
{
    if (fd < 0) {
        buf[0] = 0;
        return fd;
    }
    size_t n = 0;
    while (n + 1 < cap) {
        long r = mds_read((int)fd, buf + n, cap - 1 - n);
        if (r == -EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    mds_close((int)fd);
    return (long)n;
}

long mds_proc_read(const char *rel, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    return read_all(mds_proc_open(rel, O_RDONLY), buf, cap);
}

long mds_read_file_at(int dirfd, const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    return read_all(mds_open_reserved(dirfd, path, O_RDONLY | O_CLOEXEC, 0),
                    buf, cap);
}

void mds_task_path(char *out, size_t cap, uint32_t tid, const char *leaf)
{
    mds_sbuf sb;
    mds_sbuf_init(&sb, out, cap);
    mds_sbuf_str(&sb, "task/");
    mds_sbuf_u64(&sb, tid);
    mds_sbuf_char(&sb, '/');
    mds_sbuf_str(&sb, leaf);
}

long mds_thread_name_of(uint32_t pid, uint32_t tid, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    char path[48];
    mds_task_path(path, sizeof path, tid, "comm");
    buf[0] = 0;
    long fd = mds_proc_open_pid(pid, path, O_RDONLY);
    if (fd < 0)
        return fd;
    /* One read: comm is at most 16 bytes with its newline and the kernel
     * gives it whole to the first read (a second one only says EOF). */
    long n;
    do
        n = mds_read((int)fd, buf, cap - 1);
    while (n == -EINTR);
    mds_close((int)fd);
    if (n < 0)
        return n;
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0))
        buf[--n] = 0;
    return n;
}

long mds_thread_name(uint32_t tid, char *buf, size_t cap)
{
    return mds_thread_name_of((uint32_t)mds_getpid(), tid, buf, cap);
}

long mds_self_name(char *buf, size_t cap)
{
    char name[17];
    if (cap == 0)
        return -EINVAL;
    buf[0] = 0;
    name[16] = 0;
    long r = mds_prctl(16 /* PR_GET_NAME */, (unsigned long)name, 0, 0);
    if (r < 0)
        return r;
    size_t n = 0;
    while (n + 1 < cap && name[n]) {
        buf[n] = name[n];
        n++;
    }
    buf[n] = 0;
    return (long)n;
}

/* The value after "Name:" at the start of a line in buf[0..n), parsed
 * in base (16 for masks). */
static int field(const char *buf, long n, const char *name, int base,
                 uint64_t *out)
{
    size_t k = mds_strlen(name);
    for (long i = 0; i + (long)k < n; i++) {
        if ((i == 0 || buf[i - 1] == '\n') &&
            mds_str_has_prefix(buf + i, name)) {
            /* Only a whole line: a value cut at the end of the chunk is
             * seen again, whole, in the next (overlapping) one. */
            long e = i + (long)k;
            while (e < n && buf[e] != '\n')
                e++;
            if (e >= n)
                return -1;
            const char *p = buf + i + k;
            while (*p == ' ' || *p == '\t')
                p++;
            return mds_parse_u64(p, base, out, 0);
        }
    }
    return -1;
}

int mds_task_status_read(uint32_t pid, uint32_t tid, mds_task_status *st)
{
    /* Read in small overlapping chunks: this may run on the crashed
     * thread's altstack, which may be small. */
    char path[48], buf[512];
    st->tracer_pid = st->seccomp = -1;
    st->sig_blk = 0;
    st->has_sig_blk = 0;
    mds_task_path(path, sizeof path, tid, "status");
    long fd = mds_proc_open_pid(pid, path, O_RDONLY);
    if (fd < 0)
        return (int)fd;
    int64_t off = 0;
    for (int chunks = 0; chunks < 64; chunks++) {
        long n = mds_pread((int)fd, buf, sizeof buf - 1, off);
        if (n <= 0)
            break;
        buf[n] = 0;
        uint64_t v;
        if (st->tracer_pid < 0 && field(buf, n, "TracerPid:", 10, &v) == 0)
            st->tracer_pid = (long)v;
        if (!st->has_sig_blk && field(buf, n, "SigBlk:", 16, &v) == 0) {
            st->sig_blk = v;
            st->has_sig_blk = 1;
        }
        if (st->seccomp < 0 && field(buf, n, "Seccomp:", 10, &v) == 0)
            st->seccomp = (long)v;
        if (st->seccomp >= 0 && st->tracer_pid >= 0 && st->has_sig_blk)
            break;
        if (n < (long)sizeof buf - 1)
            break;
        off += n - 64; /* overlap: a line cut at the end is seen again */
    }
    mds_close((int)fd);
    return 0;
}

int mds_thread_syscall(uint32_t tid, uint64_t *pc, uint64_t *sp, int64_t *nr)
{
    /* "nr a1 a2 a3 a4 a5 a6 sp pc", or "-1 sp pc", or "running". */
    char path[48], buf[256];
    mds_task_path(path, sizeof path, tid, "syscall");
    long n = mds_proc_read(path, buf, sizeof buf);
    if (n <= 0 || buf[0] == 'r')
        return -1;
    const char *f[9];
    int nf = 0;
    for (long i = 0; i < n && nf < 9; i++) {
        if (buf[i] != ' ' && buf[i] != '\n' && (i == 0 || buf[i - 1] == ' '))
            f[nf++] = buf + i;
    }
    if (nf < 3)
        return -1;
    uint64_t s, p, num;
    if (mds_parse_u64(f[nf - 2], 0, &s, 0) < 0 ||
        mds_parse_u64(f[nf - 1], 0, &p, 0) < 0)
        return -1;
    *sp = s;
    *pc = p;
    if (nr)
        *nr = f[0][0] == '-'                          ? -1
              : mds_parse_u64(f[0], 10, &num, 0) == 0 ? (int64_t)num
                                                      : -2;
    return 0;
}
