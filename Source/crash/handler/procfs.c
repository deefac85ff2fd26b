/*
 * procfs.c - /proc readers (see procfs.h).
 *
 * Context: async-signal-safe. You may not malloc, use stdio or enter the
 * dynamic linker here: raw syscalls into caller buffers only.
 */
#include "crash/handler/procfs.h"

#include <errno.h>
#include <fcntl.h>

#include "crash/core/fmt.h"
#include "crash/core/sys.h"
#include "crash/core/poison.h"

long mds_read_file(const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return -EINVAL;
    long fd = mds_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
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

static void task_path(char *out, size_t cap, uint32_t tid, const char *leaf)
{
    mds_sbuf sb;
    mds_sbuf_init(&sb, out, cap);
    mds_sbuf_str(&sb, "/proc/self/task/");
    mds_sbuf_u64(&sb, tid);
    mds_sbuf_char(&sb, '/');
    mds_sbuf_str(&sb, leaf);
}

long mds_thread_name(uint32_t tid, char *buf, size_t cap)
{
    char path[64];
    task_path(path, sizeof path, tid, "comm");
    long n = mds_read_file(path, buf, cap);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0))
        buf[--n] = 0;
    return n;
}

long mds_tracer_pid(void)
{
    /* Read in small overlapping chunks: this runs on the crashed thread's
     * altstack, which may be small. */
    char buf[320];
    long fd = mds_openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC,
                         0);
    if (fd < 0)
        return -1;
    long result = -1;
    int64_t off = 0;
    for (int chunks = 0; chunks < 64; chunks++) {
        long n = mds_pread((int)fd, buf, sizeof buf - 1, off);
        if (n <= 0)
            break;
        buf[n] = 0;
        for (long i = 0; i < n; i++) {
            if ((i == 0 || buf[i - 1] == '\n') && i + 32 < n &&
                mds_str_has_prefix(buf + i, "TracerPid:")) {
                uint64_t v;
                if (mds_parse_u64(buf + i + 10, 10, &v, 0) == 0)
                    result = (long)v;
                goto done;
            }
        }
        if (n < (long)sizeof buf - 1)
            break;
        off += n - 48; /* overlap: a line cut at the end is seen again */
    }
done:
    mds_close((int)fd);
    return result;
}

int mds_thread_pc_sp(uint32_t tid, uint64_t *pc, uint64_t *sp)
{
    /* "nr a1 a2 a3 a4 a5 a6 sp pc", or "-1 sp pc", or "running". */
    char path[64], buf[256];
    task_path(path, sizeof path, tid, "syscall");
    long n = mds_read_file(path, buf, sizeof buf);
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
    uint64_t s, p;
    if (mds_parse_u64(f[nf - 2], 0, &s, 0) < 0 ||
        mds_parse_u64(f[nf - 1], 0, &p, 0) < 0)
        return -1;
    *sp = s;
    *pc = p;
    return 0;
}

struct dirent64_raw {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

long mds_for_each_thread(char *buf, size_t cap,
                         int (*fn)(uint32_t tid, void *ctx), void *ctx)
{
    long fd = mds_openat(AT_FDCWD, "/proc/self/task",
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    long count = 0;
    int stop = 0;
    while (!stop) {
        long n = mds_getdents64((int)fd, buf, cap);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            break;
        for (long off = 0; off < n && !stop;) {
            struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
            uint64_t tid;
            const char *end;
            if (d->d_name[0] != '.' &&
                mds_parse_u64(d->d_name, 10, &tid, &end) == 0 && !*end) {
                count++;
                stop = fn((uint32_t)tid, ctx);
            }
            off += d->d_reclen;
        }
    }
    mds_close((int)fd);
    return count;
}
