/*
 * writer.c - capped, buffered output (see writer.h).
 *
 * Context: async-signal-safe.
 */
#include "writer.h"
#include "sys.h"

#include <errno.h>
#include <string.h>

#include "mayday/mayday.h"
#include "poison.h"

void mds_writer_init(mds_writer *w, int fd, void *buf, size_t cap,
                     uint64_t limit)
{
    w->fd = fd;
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->flushed = 0;
    w->limit = (fd < 0 && limit > cap) ? cap : limit;
    w->err = 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        long r = mds_write(fd, p, n);
        if (r == -EINTR)
            continue;
        if (r < 0)
            return r == -ENOSPC ? MAYDAY_ENOSPC : MAYDAY_EIO;
        if (r == 0)
            return MAYDAY_EIO;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int pwrite_all(int fd, const unsigned char *p, size_t n, uint64_t off)
{
    while (n > 0) {
        long r = mds_pwrite(fd, p, n, (int64_t)off);
        if (r == -EINTR)
            continue;
        if (r <= 0)
            return r == -ENOSPC ? MAYDAY_ENOSPC : MAYDAY_EIO;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int mds_writer_flush(mds_writer *w)
{
    if (w->err)
        return w->err;
    if (w->fd < 0 || w->len == 0)
        return 0;
    int r = write_all(w->fd, w->buf, w->len);
    if (r < 0)
        return w->err = r;
    w->flushed += w->len;
    w->len = 0;
    return 0;
}

int mds_writer_put(mds_writer *w, const void *data, size_t n)
{
    if (w->err)
        return w->err;
    if (n > w->limit || mds_writer_pos(w) > w->limit - n)
        return MAYDAY_ETOOBIG;
    const unsigned char *p = data;
    while (n > 0) {
        if (w->len == w->cap) {
            int r = mds_writer_flush(w);
            if (r < 0)
                return r;
        }
        size_t room = w->cap - w->len;
        size_t k = n < room ? n : room;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
    }
    return 0;
}

int mds_writer_patch(mds_writer *w, uint64_t pos, const void *data, size_t n)
{
    if (w->err)
        return w->err;
    if (pos + n > mds_writer_pos(w))
        return MAYDAY_EINVAL;
    const unsigned char *p = data;
    /* Part before the buffer goes to the file, the rest into the buffer. */
    if (pos < w->flushed) {
        size_t k = (size_t)(w->flushed - pos);
        if (k > n)
            k = n;
        int r = pwrite_all(w->fd, p, k, pos);
        if (r < 0)
            return w->err = r;
        p += k;
        pos += k;
        n -= k;
    }
    if (n > 0)
        memcpy(w->buf + (pos - w->flushed), p, n);
    return 0;
}

int mds_writer_rewind(mds_writer *w, uint64_t pos)
{
    if (w->err)
        return w->err;
    if (pos < w->flushed || pos > mds_writer_pos(w))
        return MAYDAY_EINVAL;
    w->len = (size_t)(pos - w->flushed);
    return 0;
}

uint32_t mds_crc32(uint32_t crc, const void *data, size_t n)
{
    /* Bitwise: no table to build or keep; ~1 MiB/3 ms is fine for a report
     * that is checksummed once. */
    const unsigned char *p = data;
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

int mds_writer_crc32(mds_writer *w, uint64_t from, uint32_t *out)
{
    uint64_t end = mds_writer_pos(w);
    uint32_t crc = 0;
    if (from > end)
        return MAYDAY_EINVAL;
    if (w->fd < 0) {
        *out = mds_crc32(0, w->buf + from, (size_t)(end - from));
        return 0;
    }
    int r = mds_writer_flush(w);
    if (r < 0)
        return r;
    /* The buffer is empty after the flush: use it as the read scratch. */
    uint64_t off = from;
    while (off < end) {
        size_t k = (size_t)((end - off) < w->cap ? (end - off) : w->cap);
        long n = mds_pread(w->fd, w->buf, k, (int64_t)off);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return w->err = MAYDAY_EIO;
        crc = mds_crc32(crc, w->buf, (size_t)n);
        off += (uint64_t)n;
    }
    *out = crc;
    return 0;
}
