/*
 * attach.c - attachments at crash time (Report.attachments): the tail of
 * each registered file, read from the descriptor opened at registration
 * (no path lookup), and a copy of each registered application buffer,
 * both into the copy buffer mapped at registration.
 *
 * Context: async-signal-safe. No malloc, stdio, locks or dynamic linker:
 * lseek/pread on descriptors opened in normal context, process_vm_readv
 * for application memory. The registry (mds_attachments) is filled by
 * Source/normal/install/attach_api.c; an entry is read only while it is
 * READY, and marked READING meanwhile so that a second reporter running
 * at the same time skips it instead of sharing its buffer.
 */
#include <errno.h>
#include <unistd.h>

#include "crash/capture/capture.h"
#include "crash/core/fmt.h"
#include "crash/core/sys.h"
#include "crash/handler/fields.h"
#include "crash/core/poison.h"

mds_attachment mds_attachments[MDS_ATTACH_MAX];

static const char *errno_name(long e)
{
    switch (e) {
    case -EIO:
        return "EIO";
    case -EBADF:
        return "EBADF";
    case -EINVAL:
        return "EINVAL";
    case -EFAULT:
        return "EFAULT";
    case -EPERM:
        return "EPERM";
    case -ESPIPE:
        return "ESPIPE";
    case -EISDIR:
        return "EISDIR";
    case -EINTR:
        return "EINTR";
    default:
        return "error";
    }
}

static void error_text(char *buf, size_t cap, const char *what, long e)
{
    mds_sbuf sb;
    mds_sbuf_init(&sb, buf, cap);
    mds_sbuf_str(&sb, what);
    if (e) {
        mds_sbuf_str(&sb, ": ");
        mds_sbuf_str(&sb, errno_name(e));
    }
}

/* Reads the file's last `want` bytes ending at its size. Returns bytes
 * read (may be short) or -errno. */
static long read_tail(int fd, unsigned char *buf, uint64_t off, size_t want)
{
    size_t got = 0;
    while (got < want) {
        long r = mds_pread(fd, buf + got, want - got, (int64_t)(off + got));
        if (r == -EINTR)
            continue;
        if (r < 0)
            return got ? (long)got : r;
        if (r == 0)
            break; /* the file shrank meanwhile */
        got += (size_t)r;
    }
    return (long)got;
}

static void put_one(mds_pb *pb, mds_attachment *a, uint64_t reserve)
{
    unsigned char *buf = a->arena.base;
    uint64_t size = 0, off = 0;
    long n = 0;
    char err[64] = "";
    if (a->kind == MDS_ATTACHMENT_FILE) {
        long end = mds_lseek(a->fd, 0, SEEK_END);
        if (end < 0) {
            error_text(err, sizeof err, "size unknown", end);
        } else {
            size = (uint64_t)end;
            off = size > a->max_bytes ? size - a->max_bytes : 0;
        }
    } else {
        size = a->max_bytes;
    }
    size_t want = (size_t)(size - off);
    /* Never let one attachment push the threads after it out. */
    uint64_t fit = mds_capture_fit(pb, reserve);
    if (want > fit) {
        off += want - fit; /* keep the tail */
        want = (size_t)fit;
        error_text(err, sizeof err, "cut to fit max_report_bytes", 0);
    }
    if (want && a->kind == MDS_ATTACHMENT_FILE) {
        n = read_tail(a->fd, buf, off, want);
        if (n < 0) {
            error_text(err, sizeof err, "read failed", n);
            n = 0;
        }
    } else if (want) {
        n = (long)mds_read_prefix(buf, a->mem + off, want);
        if ((size_t)n < want)
            error_text(err, sizeof err, "buffer not readable", -EFAULT);
    }
    if (mds_pb_begin(pb, F_REPORT_ATTACHMENTS) == 0) {
        mds_pb_string(pb, F_ATTACHMENT_NAME, a->name);
        mds_pb_uint64(pb, F_ATTACHMENT_KIND, a->kind);
        if (a->path[0])
            mds_pb_string(pb, F_ATTACHMENT_PATH, a->path);
        mds_pb_uint64(pb, F_ATTACHMENT_SIZE, size);
        mds_pb_uint64(pb, F_ATTACHMENT_OFFSET, off);
        if (n > 0)
            mds_pb_bytes(pb, F_ATTACHMENT_DATA, buf, (size_t)n);
        if (err[0])
            mds_pb_string(pb, F_ATTACHMENT_ERROR, err);
    }
    mds_pb_end(pb);
}

void mds_put_attachments(mds_pb *pb, uint64_t reserve)
{
    for (int i = 0; i < MDS_ATTACH_MAX; i++) {
        mds_attachment *a = &mds_attachments[i];
        uint32_t ready = MDS_ATT_READY;
        if (!__atomic_compare_exchange_n(&a->state, &ready, MDS_ATT_READING, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
        put_one(pb, a, reserve);
        __atomic_store_n(&a->state, MDS_ATT_READY, __ATOMIC_RELEASE);
    }
}
