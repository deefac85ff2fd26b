/*
 * writer.c - capped, buffered output (see writer.h), keeping the CRC of
 * what it writes (crc32.h).
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
    w->crc = 0;
    w->fix = 0;
    w->crc_stale = 0;
    memset(w->head, 0, sizeof(w->head));
    w->io_flag = 0;
}

static void io_begin(mds_writer *w)
{
    if (w->io_flag)
        __atomic_store_n(w->io_flag, 1, __ATOMIC_RELEASE);
}

static void io_end(mds_writer *w)
{
    if (w->io_flag)
        __atomic_store_n(w->io_flag, 0, __ATOMIC_RELEASE);
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
    io_begin(w);
    int r = write_all(w->fd, w->buf, w->len);
    io_end(w);
    if (r < 0)
        return w->err = r;
    if (w->flushed < MDS_WRITER_HEAD) {
        size_t k = MDS_WRITER_HEAD - (size_t)w->flushed;
        memcpy(w->head + w->flushed, w->buf, k < w->len ? k : w->len);
    }
    w->crc = mds_crc32(w->crc, w->buf, w->len);
    w->fix = mds_crc32_shift(w->fix, w->len);
    w->flushed += w->len;
    w->len = 0;
    return 0;
}

int mds_writer_put(mds_writer *w, const void *data, size_t n)
{
    if (!w->err && n <= w->cap - w->len &&
        n <= w->limit - mds_writer_pos(w)) { /* fits in the buffer */
        memcpy(w->buf + w->len, data, n);
        w->len += n;
        return 0;
    }
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

/* The CRC correction for k flushed bytes at pos changing from `was` (NULL:
 * unknown) to `now`. */
static void crc_fix(mds_writer *w, uint64_t pos, const unsigned char *now,
                    const unsigned char *was, size_t k)
{
    if (!was && pos + k <= MDS_WRITER_HEAD)
        was = w->head + pos;
    if (!was) {
        w->crc_stale = 1;
        return;
    }
    uint32_t raw = 0;
    for (size_t i = 0; i < k;) {
        unsigned char d[64];
        size_t m = k - i < sizeof(d) ? k - i : sizeof(d);
        for (size_t j = 0; j < m; j++)
            d[j] = now[i + j] ^ was[i + j];
        raw = mds_crc32_shift(raw, m) ^ mds_crc32_raw(d, m);
        i += m;
    }
    w->fix ^= mds_crc32_shift(raw, w->flushed - pos - k);
    if (pos < MDS_WRITER_HEAD) {
        size_t h = MDS_WRITER_HEAD - (size_t)pos;
        memcpy(w->head + pos, now, k < h ? k : h);
    }
}

static int patch(mds_writer *w, uint64_t pos, const void *data, const void *was,
                 size_t n)
{
    if (w->err)
        return w->err;
    if (pos + n > mds_writer_pos(w))
        return MAYDAY_EINVAL;
    const unsigned char *p = data, *o = was;
    /* Part before the buffer goes to the file, the rest into the buffer. */
    if (pos < w->flushed) {
        size_t k = (size_t)(w->flushed - pos);
        if (k > n)
            k = n;
        io_begin(w);
        int r = pwrite_all(w->fd, p, k, pos);
        io_end(w);
        if (r < 0)
            return w->err = r;
        crc_fix(w, pos, p, o, k);
        p += k;
        o = o ? o + k : NULL;
        pos += k;
        n -= k;
    }
    if (n > 0)
        memcpy(w->buf + (pos - w->flushed), p, n);
    return 0;
}

int mds_writer_patch(mds_writer *w, uint64_t pos, const void *data, size_t n)
{
    return patch(w, pos, data, NULL, n);
}

int mds_writer_patch_over(mds_writer *w, uint64_t pos, const void *data,
                          const void *was, size_t n)
{
    return patch(w, pos, data, was, n);
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

/* The old way, for what the running CRC cannot give: read the (flushed)
 * file back with pread in buffer-sized chunks. */
static int crc_read_back(mds_writer *w, uint64_t from, uint64_t end,
                         uint32_t *out)
{
    uint32_t crc = 0;
    /* The buffer is empty after the flush: use it as the read scratch. */
    uint64_t off = from;
    while (off < end) {
        size_t k = (size_t)((end - off) < w->cap ? (end - off) : w->cap);
        io_begin(w);
        long n = mds_pread(w->fd, w->buf, k, (int64_t)off);
        io_end(w);
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

int mds_writer_crc32(mds_writer *w, uint64_t from, uint32_t *out)
{
    uint64_t end = mds_writer_pos(w);
    if (w->err)
        return w->err;
    if (from > end)
        return MAYDAY_EINVAL;
    if (w->fd < 0) {
        *out = mds_crc32(0, w->buf + from, (size_t)(end - from));
        return 0;
    }
    int r = mds_writer_flush(w); /* as before: the file is complete */
    if (r < 0)
        return r;
    if (w->crc_stale || from > MDS_WRITER_HEAD)
        return crc_read_back(w, from, end, out);
    /* The running CRC of [0, end), minus the first `from` bytes (taken
     * from the head copy). */
    uint32_t all = w->crc ^ w->fix;
    *out = from ? mds_crc32_suffix(all, mds_crc32(0, w->head, (size_t)from),
                                   end - from)
                : all;
    return 0;
}
