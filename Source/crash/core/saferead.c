/*
 * saferead.c - fault-free reads of our own memory (see saferead.h): the
 * crash-path half. The method was chosen at install (saferead_init.c).
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. Every wait is bounded.
 *
 * process_vm_readv on our own pid is 1 MiB in ~0.5 ms here; PTRACE_PEEKDATA
 * would be ~80x slower and needs a tracer. The pipe costs a few system
 * calls per read (docs/performance.md, "Safe read").
 */
#include "saferead.h"
#include "saferead_state.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "poison.h"

mds_sr_state mds_sr = {
    .method = MDS_SAFEREAD_VM,
    .chunk = MDS_SR_CHUNK,
    .p = {{.rd = -1, .wr = -1},
          {.rd = -1, .wr = -1},
          {.rd = -1, .wr = -1},
          {.rd = -1, .wr = -1}},
};

int mds_sr_vm_read(void *dst, uintptr_t src, size_t len)
{
    struct iovec local = {dst, len};
    struct iovec remote = {(void *)src, len};
    /* pid 0 is not "self" for this syscall. Our own thread id, not the
     * process id: once the main thread has exited, the thread-group
     * leader is a zombie without memory and reads by its id fail with
     * ESRCH; the caller is alive by definition. */
    long r = mds_process_vm_readv((int)mds_gettid(), &local, 1, &remote, 1);
    if (r == (long)len)
        return 0;
    if (r >= 0)
        return -EFAULT; /* partial: the tail crosses into a bad page */
    return (int)r;
}

/* ------------------------------------------------------------- pipes */

void mds_sr_close_pipes(void)
{
    for (int i = 0; i < MDS_SR_PIPES; i++) {
        mds_sr_pipe *p = &mds_sr.p[i];
        if (p->rd >= 0)
            mds_close(p->rd);
        if (p->wr >= 0)
            mds_close(p->wr);
        p->rd = p->wr = -1;
        p->busy = 0;
    }
}

int mds_sr_open_pipes(uint32_t pid)
{
    int opened = 0;
    long err = -EMFILE;
    for (int i = 0; i < MDS_SR_PIPES; i++) {
        mds_sr_pipe *p = &mds_sr.p[i];
        int fds[2];
        struct stat st;
        long r = mds_pipe2(fds, O_CLOEXEC | O_NONBLOCK);
        if (r < 0) {
            err = r;
            continue;
        }
        if ((r = mds_fstat(fds[1], &st)) < 0) {
            mds_close(fds[0]);
            mds_close(fds[1]);
            err = r;
            continue;
        }
        p->rd = fds[0];
        p->wr = fds[1];
        p->dev = st.st_dev;
        p->ino = st.st_ino;
        p->busy = 0;
        opened++;
    }
    __atomic_store_n(&mds_sr.owner_pid, pid, __ATOMIC_RELEASE);
    return opened ? 0 : (int)err;
}

/* In a forked child the pipes are the parent's (shared): the first reader
 * there makes new ones, the others wait for it (bounded). */
static int own_pipes(void)
{
    uint32_t pid = (uint32_t)mds_getpid();
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t owner = __atomic_load_n(&mds_sr.owner_pid, __ATOMIC_ACQUIRE);
        if (owner == pid)
            return 0;
        if (owner != 0 &&
            __atomic_compare_exchange_n(&mds_sr.owner_pid, &owner, 0, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            mds_sr_close_pipes();
            return mds_sr_open_pipes(pid);
        }
        mds_sched_yield();
    }
    return -EBUSY;
}

/* fd is still one end of the pipe we opened (the application may have
 * closed it and got its number back for a file or a socket). */
static int end_is_ours(const mds_sr_pipe *p, int fd)
{
    struct stat st;
    return fd >= 0 && mds_fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
           st.st_dev == p->dev && st.st_ino == p->ino;
}

/* A pipe with an end that is not ours any more: close what still is,
 * never use it again (it stays claimed). */
static void forget(mds_sr_pipe *p)
{
    if (end_is_ours(p, p->rd))
        mds_close(p->rd);
    if (end_is_ours(p, p->wr))
        mds_close(p->wr);
    p->rd = p->wr = -1;
}

#define CLAIM_WAIT_NS (1000 * 1000000ull) /* readers preempted under load */

/* A free pipe whose ends are both still ours, claimed; NULL if none
 * within CLAIM_WAIT_NS (every pipe busy, or none left). */
static mds_sr_pipe *claim(void)
{
    uint64_t deadline = 0;
    for (int round = 0;; round++) {
        int usable = 0;
        for (int i = 0; i < MDS_SR_PIPES; i++) {
            mds_sr_pipe *p = &mds_sr.p[i];
            uint32_t zero = 0;
            if (p->rd < 0)
                continue;
            usable++;
            if (!__atomic_compare_exchange_n(
                    &p->busy, &zero, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                continue;
            if (end_is_ours(p, p->rd) && end_is_ours(p, p->wr))
                return p;
            forget(p);
            usable--;
        }
        if (!usable)
            return 0;
        if (round < 16) {
            mds_sched_yield();
            continue;
        }
        uint64_t now = mds_now_ns();
        if (!deadline)
            deadline = now + CLAIM_WAIT_NS;
        else if (now >= deadline)
            return 0;
        mds_sleep_ns(100 * 1000);
    }
}

/* Reads exactly n bytes that are in the pipe. */
static int read_back(int fd, unsigned char *dst, size_t n)
{
    size_t got = 0;
    for (int tries = 0; got < n && tries < 64; tries++) {
        long r = mds_read(fd, dst + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else if (r != -EINTR)
            break;
    }
    return got == n ? 0 : -EIO;
}

/* Empties the pipe after a failed write, into buf (cap bytes). */
static void drain(int fd, unsigned char *buf, size_t cap)
{
    for (int tries = 0; tries < 64; tries++) {
        long r = mds_read(fd, buf, cap);
        if (r <= 0 && r != -EINTR)
            return;
    }
}

static int pipe_copy(mds_sr_pipe *p, unsigned char *dst, uintptr_t src,
                     size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t n = len - done;
        if (n > mds_sr.chunk)
            n = mds_sr.chunk;
        long r = mds_write(p->wr, (const void *)(src + done), n);
        if (r > 0) {
            /* Maybe short: a bad page after r bytes (the next write says
             * EFAULT), or a pipe smaller than the chunk (it succeeds). */
            if (read_back(p->rd, dst + done, (size_t)r) < 0)
                return -EIO;
            done += (size_t)r;
            continue;
        }
        if (r == -EINTR)
            continue;
        drain(p->rd, dst + done, n);
        return r == 0 ? -EIO : (int)r;
    }
    return 0;
}

int mds_sr_pipe_read(void *dst, uintptr_t src, size_t len)
{
    int r = own_pipes();
    if (r < 0)
        return r;
    mds_sr_pipe *p = claim();
    if (!p)
        return -EBUSY;
    r = pipe_copy(p, dst, src, len);
    __atomic_store_n(&p->busy, 0, __ATOMIC_RELEASE);
    return r;
}

/* ------------------------------------------------------------ the API */

int mds_safe_read_method(void)
{
    return __atomic_load_n(&mds_sr.method, __ATOMIC_ACQUIRE);
}

int mds_safe_read(void *dst, uintptr_t src, size_t len)
{
    if (len == 0)
        return 0;
    if (src + len < src)
        return -EFAULT;
    switch (mds_safe_read_method()) {
    case MDS_SAFEREAD_VM:
        return mds_sr_vm_read(dst, src, len);
    case MDS_SAFEREAD_PIPE:
        return mds_sr_pipe_read(dst, src, len);
    default:
        return -ENOSYS;
    }
}

int mds_safe_read_word(uintptr_t src, uintptr_t *out)
{
    return mds_safe_read(out, src, sizeof(*out));
}

long mds_safe_read_str(char *dst, size_t cap, uintptr_t src)
{
    if (cap == 0)
        return -EINVAL;
    size_t n = 0;
    while (n + 1 < cap) {
        /* Never let one read cross a page boundary: the next page may be
         * unmapped even though the string ends before it. */
        size_t to_page = 4096 - ((src + n) & 4095);
        size_t chunk = cap - 1 - n;
        if (chunk > to_page)
            chunk = to_page;
        int r = mds_safe_read(dst + n, src + n, chunk);
        if (r < 0) {
            dst[n] = 0;
            return r;
        }
        for (size_t i = 0; i < chunk; i++) {
            if (dst[n + i] == 0)
                return (long)(n + i);
        }
        n += chunk;
    }
    dst[n] = 0;
    return (long)n;
}
