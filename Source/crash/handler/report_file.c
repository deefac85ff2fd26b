/*
 * report_file.c - the life of one report file: where it goes, creating
 * it, capping it, making it complete, durable and visible (see
 * report_file.h).
 *
 * Context: async-signal-safe. You may not malloc, use stdio, take a lock
 * or enter the dynamic linker here. Every file syscall is bracketed by
 * the work area's io word, so that a thread waiting on this reporter can
 * tell a stuck file system from a slow walk (docs/fault-path.md).
 */
#include "crash/handler/report_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "crash/core/fmt.h"
#include "crash/core/framing.h"
#include "crash/core/sys.h"
#include "crash/handler/procfs.h"
#include "crash/core/poison.h"

static void io(mds_work *w, uint32_t on)
{
    __atomic_store_n(&w->io, on, __ATOMIC_RELEASE);
}

/* max_report_bytes, or with 0 (the default) what the threads listed for
 * this report need at the default contents (mayday.h): about 1.3 KB a
 * thread without its stack memory, measured with 1000 threads. */
#define AUTO_MIN (1ull << 20)
#define AUTO_BASE (256ull << 10)
#define AUTO_PER_THREAD 2048ull
#define AUTO_MAX (256ull << 20)

static uint64_t report_cap(const mds_work *w)
{
    if (mds_g.cfg.max_report_bytes)
        return mds_g.cfg.max_report_bytes;
    uint64_t n = __atomic_load_n(&w->stop.n, __ATOMIC_ACQUIRE) + 1;
    uint64_t stacks = n * mds_g.cfg.stack_bytes;
    if (stacks > mds_g.cfg.stack_budget_bytes)
        stacks = mds_g.cfg.stack_budget_bytes;
    uint64_t cap = AUTO_BASE + n * AUTO_PER_THREAD + stacks +
                   mds_g.cfg.crashed_stack_bytes;
    return cap < AUTO_MIN ? AUTO_MIN : cap > AUTO_MAX ? AUTO_MAX : cap;
}

/* Where to write: the directory opened at install while the configured
 * path still names it; the configured path when it names another
 * directory now (replaced after install: the next launch looks there);
 * the directory opened at install when the path is gone (renamed away;
 * if it was deleted, creating the file fails and there is no report). */
static int choose_dir(void)
{
    struct stat a, b;
    int dfd = mds_g.fd.dir;
    if (dfd < 0 || mds_fstatat(dfd, "", &a, AT_EMPTY_PATH) < 0)
        return AT_FDCWD;
    if (mds_fstatat(AT_FDCWD, mds_g.info.report_dir, &b, 0) == 0 &&
        S_ISDIR(b.st_mode) && (b.st_dev != a.st_dev || b.st_ino != a.st_ino))
        return AT_FDCWD;
    return dfd;
}

static int errno_to_md(long e)
{
    switch (e) {
    case -ENOSPC:
    case -EDQUOT:
        return MAYDAY_ENOSPC;
    case -EACCES:
    case -EROFS:
    case -EPERM:
        return MAYDAY_EACCES;
    case -ENOENT:
        return MAYDAY_ENOENT;
    case -EFBIG:
        return MAYDAY_ETOOBIG;
    default:
        return MAYDAY_EIO;
    }
}

/* "<dir>/" before name when writing by path. */
static void at_path(const mds_rfile *f, const char *name, char *out, size_t cap)
{
    mds_sbuf sb;
    mds_sbuf_init(&sb, out, cap);
    if (f->dirfd == AT_FDCWD) {
        mds_sbuf_str(&sb, mds_g.info.report_dir);
        mds_sbuf_char(&sb, '/');
    }
    mds_sbuf_str(&sb, name);
}

int mds_rfile_create(mds_work *w, mds_rfile *f, const uint8_t uuid[16],
                     uint64_t now_rt)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    mds_sbuf sb;
    mds_sbuf_init(&sb, f->name, sizeof f->name);
    mds_sbuf_u64(&sb, now_rt / 1000000ull);
    mds_sbuf_char(&sb, '-');
    for (int i = 0; i < 16; i++)
        mds_sbuf_hex(&sb, uuid[i], 2);
    mds_sbuf_str(&sb, MDS_FILE_SUFFIX);
    mds_strlcpy(f->tmpname, f->name, sizeof f->tmpname);
    mds_strlcpy(f->tmpname + sb.len, ".tmp", sizeof f->tmpname - sb.len);

    /* Never pass RLIMIT_FSIZE: the kernel would send SIGXFSZ, and the
     * process would die of that instead of its own signal. */
    uint64_t cap = report_cap(w), soft = ~0ull;
    if (mds_getrlimit(RLIMIT_FSIZE, &soft, 0) == 0 && soft < cap) {
        cap = soft;
        f->fsize_limit = soft;
    }
    if (cap < MDS_FILE_HEADER_LEN + 256)
        return MAYDAY_ETOOBIG;

    io(w, 1);
    f->dirfd = choose_dir();
    char *p = w->tmp;
    at_path(f, f->tmpname, p, MDS_PATH_MAX);
    f->fd = mds_open_reserved(
        f->dirfd, p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    io(w, 0);
    if (f->fd < 0)
        return errno_to_md(f->fd);
    mds_writer_init(&f->wr, (int)f->fd, w->wbuf, MDS_WRITE_BUF, cap);
    f->wr.io_flag = &w->io;
    unsigned char hdr[MDS_FILE_HEADER_LEN] = {0};
    return mds_writer_put(&f->wr, hdr, sizeof hdr);
}

int mds_rfile_finish(mds_work *w, mds_rfile *f, mds_request *req, int r,
                     uint32_t seq)
{
    if (f->fd < 0)
        return r ? r : MAYDAY_EIO;
    /* Header: magic, version, message length and CRC. */
    unsigned char hdr[MDS_FILE_HEADER_LEN] = {0};
    memcpy(hdr, MDS_FILE_MAGIC, MDS_FILE_MAGIC_LEN);
    hdr[6] = MDS_FILE_VERSION;
    uint64_t len = mds_writer_pos(&f->wr) - MDS_FILE_HEADER_LEN;
    uint32_t crc = 0;
    if (r == 0)
        r = mds_writer_crc32(&f->wr, MDS_FILE_HEADER_LEN, &crc);
    for (int i = 0; i < 4; i++) {
        hdr[8 + i] = (unsigned char)(len >> (8 * i));
        hdr[12 + i] = (unsigned char)(crc >> (8 * i));
    }
    if (r == 0)
        r = mds_writer_patch(&f->wr, 0, hdr, sizeof hdr);
    if (r == 0)
        r = mds_writer_flush(&f->wr);
    int durable = !(mds_g.cfg.flags & MAYDAY_FLAG_NO_FSYNC);
    io(w, 1);
    if (r == 0 && durable && mds_fsync((int)f->fd) < 0)
        r = MAYDAY_EIO;
    mds_close((int)f->fd);
    f->fd = -1;
    io(w, 0);
    /* Exactly one report per crash: a hand-off the crashed thread gave up
     * on (it writes its own) is not published. */
    if (r == 0 && seq) {
        uint32_t taken = MDS_RQ_TAKEN;
        if (!__atomic_compare_exchange_n(&req->rstate, &taken,
                                         MDS_RQ_PUBLISHING, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            r = MAYDAY_ETIMEDOUT;
    }
    char *fin = w->path;
    at_path(f, f->name, fin, MDS_PATH_MAX);
    io(w, 1);
    if (r == 0 && mds_renameat(f->dirfd, w->tmp, f->dirfd, fin) < 0)
        r = MAYDAY_EIO;
    if (r < 0) {
        mds_unlinkat(f->dirfd, w->tmp, 0);
    } else if (durable) {
        /* Make the rename itself durable. */
        if (f->dirfd != AT_FDCWD) {
            mds_fsync(f->dirfd);
        } else {
            long dfd = mds_open_reserved(AT_FDCWD, mds_g.info.report_dir,
                                         O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            if (dfd >= 0) {
                mds_fsync((int)dfd);
                mds_close((int)dfd);
            }
        }
    }
    io(w, 0);
    /* w->path: the full path, for on_crash and the marker. */
    mds_sbuf sb;
    mds_sbuf_init(&sb, fin, MDS_PATH_MAX);
    if (r < 0) {
        fin[0] = 0;
    } else {
        mds_sbuf_str(&sb, mds_g.info.report_dir);
        mds_sbuf_char(&sb, '/');
        mds_sbuf_str(&sb, f->name);
    }
    return r;
}
