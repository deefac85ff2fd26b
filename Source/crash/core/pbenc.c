/*
 * pbenc.c - streaming protobuf encoder (see pbenc.h).
 *
 * Context: async-signal-safe.
 *
 * Fast path: when the writer's buffer has room for a field's largest
 * possible encoding, the field (tag, value or length, body) is encoded
 * straight into the buffer and committed with one length update if it
 * fits below the soft limit; otherwise (buffer nearly full, dropping,
 * errors) the general path below does it with writer calls. Both give the
 * same bytes and the same truncation decisions.
 */
#include "pbenc.h"

#include <string.h>

#include "mayday/mayday.h"
#include "poison.h"

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };
#define PLACEHOLDER 5 /* bytes of a padded length varint: up to 2^35-1 */
static const unsigned char pad[PLACEHOLDER] = {0x80, 0x80, 0x80, 0x80, 0};

size_t mds_pb_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t mds_pb_put_varint(unsigned char *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (unsigned char)v;
    return n;
}

void mds_pb_init(mds_pb *pb, mds_writer *w, uint64_t reserve)
{
    memset(pb, 0, sizeof(*pb));
    pb->w = w;
    pb->soft_limit = w->limit > reserve ? w->limit - reserve : 0;
}

/* Bytes the open one-byte placeholders may still grow by. The buffer
 * always keeps that much free, and the cap counts it. */
static inline size_t slack(const mds_pb *pb) { return 4 * (size_t)pb->nopt; }

/* The position counting open placeholders at 5 bytes. */
static inline uint64_t vpos(const mds_pb *pb)
{
    return mds_writer_pos(pb->w) + slack(pb);
}

/* Would `n` more bytes fit? Marks the encoder truncated if not. */
static int room(mds_pb *pb, uint64_t n)
{
    if (pb->dropping || pb->dead)
        return 0;
    if (vpos(pb) + n > pb->soft_limit || pb->w->err) {
        pb->truncated = pb->dropping = 1;
        return 0;
    }
    return 1;
}

/* Widens every open one-byte placeholder to 5 padded bytes (outermost
 * first; each slides what follows it by 4, into the slack kept free). */
static void widen_all(mds_pb *pb)
{
    mds_writer *w = pb->w;
    for (int d = 0; d < pb->depth; d++) {
        if (!pb->opt[d])
            continue;
        size_t off = (size_t)(pb->start[d] - w->flushed);
        memmove(w->buf + off + PLACEHOLDER, w->buf + off + 1, w->len - off - 1);
        memcpy(w->buf + off, pad, PLACEHOLDER);
        w->len += PLACEHOLDER - 1;
        for (int e = d + 1; e < pb->depth; e++)
            pb->start[e] += PLACEHOLDER - 1;
        pb->opt[d] = 0;
    }
    pb->nopt = 0;
}

/* Before n bytes go through the writer: if they might make it flush, the
 * open placeholders are widened and the buffer flushed first (file mode;
 * a memory writer never flushes). */
static void make_room(mds_pb *pb, size_t n)
{
    mds_writer *w = pb->w;
    if (w->fd < 0 || w->cap - w->len >= n + slack(pb))
        return;
    widen_all(pb);
    mds_writer_flush(w);
}

static int put(mds_pb *pb, const void *p, size_t n)
{
    int r = mds_writer_put(pb->w, p, n);
    if (r < 0)
        pb->truncated = pb->dropping = 1;
    return r;
}

/* Where a field of at most max bytes can be encoded in place, or NULL
 * (then the general path runs). */
static inline unsigned char *fast_at(mds_pb *pb, size_t max)
{
    mds_writer *w = pb->w;
    if (pb->dropping || pb->dead || w->err || w->cap - w->len < max + slack(pb))
        return NULL;
    return w->buf + w->len;
}

/* Commits n bytes encoded in place, or refuses them like room(). */
static inline int fast_commit(mds_pb *pb, size_t n)
{
    mds_writer *w = pb->w;
    if (vpos(pb) + n > pb->soft_limit) {
        pb->truncated = pb->dropping = 1;
        return MAYDAY_ETOOBIG;
    }
    w->len += n;
    return 0;
}

static inline size_t put_tag(unsigned char *p, uint32_t num, int wt)
{
    return mds_pb_put_varint(p, ((uint64_t)num << 3) | (uint64_t)wt);
}

/* Writes tag + head (a prebuilt varint/fixed value or length prefix) +
 * body as one unit, or nothing. */
static int field(mds_pb *pb, uint32_t num, int wt, const unsigned char *head,
                 size_t hn, const void *body, size_t bn)
{
    unsigned char tag[10];
    size_t tn = mds_pb_put_varint(tag, ((uint64_t)num << 3) | (uint64_t)wt);
    if (!room(pb, tn + hn + bn))
        return MAYDAY_ETOOBIG;
    make_room(pb, tn + hn + bn);
    int r = put(pb, tag, tn);
    if (r == 0 && hn)
        r = put(pb, head, hn);
    if (r == 0 && bn)
        r = put(pb, body, bn);
    return r;
}

int mds_pb_uint64(mds_pb *pb, uint32_t num, uint64_t v)
{
    unsigned char *p = fast_at(pb, 20);
    if (p) {
        size_t n = put_tag(p, num, WT_VARINT);
        return fast_commit(pb, n + mds_pb_put_varint(p + n, v));
    }
    unsigned char b[10];
    return field(pb, num, WT_VARINT, b, mds_pb_put_varint(b, v), 0, 0);
}

int mds_pb_int64(mds_pb *pb, uint32_t num, int64_t v)
{
    return mds_pb_uint64(pb, num, (uint64_t)v);
}

int mds_pb_sint64(mds_pb *pb, uint32_t num, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    return mds_pb_uint64(pb, num, z);
}

int mds_pb_bool(mds_pb *pb, uint32_t num, int v)
{
    return mds_pb_uint64(pb, num, v ? 1 : 0);
}

int mds_pb_fixed32(mds_pb *pb, uint32_t num, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return field(pb, num, WT_FIXED32, b, 4, 0, 0);
}

int mds_pb_fixed64(mds_pb *pb, uint32_t num, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return field(pb, num, WT_FIXED64, b, 8, 0, 0);
}

int mds_pb_bytes(mds_pb *pb, uint32_t num, const void *data, size_t n)
{
    unsigned char *p = n <= 4096 ? fast_at(pb, 20 + n) : NULL;
    if (p) {
        size_t k = put_tag(p, num, WT_LEN);
        k += mds_pb_put_varint(p + k, n);
        if (n)
            memcpy(p + k, data, n);
        return fast_commit(pb, k + n);
    }
    unsigned char b[10];
    return field(pb, num, WT_LEN, b, mds_pb_put_varint(b, n), data, n);
}

int mds_pb_string(mds_pb *pb, uint32_t num, const char *s)
{
    if (!s)
        return 0;
    return mds_pb_bytes(pb, num, s, strlen(s));
}

int mds_pb_packed_uint64(mds_pb *pb, uint32_t num, const uint64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    size_t body = 0;
    for (size_t i = 0; i < n; i++)
        body += mds_pb_varint_size(v[i]);
    unsigned char *p = n <= 512 ? fast_at(pb, 20 + body) : NULL;
    if (p) {
        size_t k = put_tag(p, num, WT_LEN);
        k += mds_pb_put_varint(p + k, body);
        for (size_t i = 0; i < n; i++)
            k += mds_pb_put_varint(p + k, v[i]);
        return fast_commit(pb, k);
    }
    unsigned char tag[10], len[10];
    size_t tn = mds_pb_put_varint(tag, ((uint64_t)num << 3) | WT_LEN);
    size_t ln = mds_pb_put_varint(len, body);
    if (!room(pb, tn + ln + body))
        return MAYDAY_ETOOBIG;
    make_room(pb, tn + ln + body);
    int r = put(pb, tag, tn);
    if (r == 0)
        r = put(pb, len, ln);
    /* Values in groups: one writer call per group, not per value. */
    for (size_t i = 0; r == 0 && i < n;) {
        unsigned char b[160];
        size_t k = 0;
        for (; i < n && k + 10 <= sizeof(b); i++)
            k += mds_pb_put_varint(b + k, v[i]);
        r = put(pb, b, k);
    }
    return r;
}

int mds_pb_begin(mds_pb *pb, uint32_t num)
{
    if (pb->depth >= MDS_PB_MAX_DEPTH) {
        pb->truncated = pb->dropping = 1;
        pb->dead++;
        return MAYDAY_ETOOBIG;
    }
    mds_writer *w = pb->w;
    unsigned char *p = fast_at(pb, 10 + PLACEHOLDER);
    if (p) { /* counted as tag + 5 bytes: what the length may take */
        size_t tn = put_tag(p, num, WT_LEN);
        if (vpos(pb) + tn + PLACEHOLDER > pb->soft_limit) {
            pb->truncated = pb->dropping = 1;
            pb->dead++;
            return MAYDAY_ETOOBIG;
        }
        p[tn] = 0;
        w->len += tn + 1;
        pb->start[pb->depth] = mds_writer_pos(w) - 1;
        pb->opt[pb->depth++] = 1;
        pb->nopt++;
        return 0;
    }
    unsigned char tag[10];
    size_t tn = put_tag(tag, num, WT_LEN);
    if (!room(pb, tn + PLACEHOLDER)) {
        pb->dead++;
        return MAYDAY_ETOOBIG;
    }
    make_room(pb, tn + PLACEHOLDER);
    if (w->err || w->cap - w->len < tn + PLACEHOLDER + slack(pb)) {
        pb->truncated = pb->dropping = 1; /* a write error, or no buffer */
        pb->dead++;
        return w->err ? w->err : MAYDAY_ETOOBIG;
    }
    p = w->buf + w->len;
    memcpy(p, tag, tn);
    p[tn] = 0;
    w->len += tn + 1;
    pb->start[pb->depth] = mds_writer_pos(w) - 1;
    pb->opt[pb->depth++] = 1;
    pb->nopt++;
    return 0;
}

int mds_pb_begin_min(mds_pb *pb, uint32_t num, size_t need)
{
    /* Counted as tag + 5 bytes of length, like mds_pb_begin. */
    if (!room(pb, mds_pb_varint_size((uint64_t)num << 3) + PLACEHOLDER + need)) {
        pb->dead++;
        return MAYDAY_ETOOBIG;
    }
    return mds_pb_begin(pb, num);
}

int mds_pb_fits(mds_pb *pb, uint64_t n)
{
    return room(pb, n) ? 0 : MAYDAY_ETOOBIG;
}

int mds_pb_end(mds_pb *pb)
{
    if (pb->dead > 0) {
        pb->dead--;
        return MAYDAY_ETOOBIG;
    }
    if (pb->depth == 0)
        return MAYDAY_EINVAL;
    mds_writer *w = pb->w;
    int d = --pb->depth;
    uint64_t at = pb->start[d];
    if (pb->opt[d]) {
        /* Still the one byte, in the buffer: fill it in, or widen it to
         * the minimal size (into the slack kept for it). */
        pb->opt[d] = 0;
        pb->nopt--;
        if (w->err)
            return w->err;
        unsigned char *p = w->buf + (at - w->flushed);
        uint64_t body = mds_writer_pos(w) - (at + 1);
        if (body < 0x80) {
            p[0] = (unsigned char)body;
            return 0;
        }
        size_t ln = mds_pb_varint_size(body);
        memmove(p + ln, p + 1, (size_t)body);
        mds_pb_put_varint(p, body);
        w->len += ln - 1;
        return 0;
    }
    /* Widened before a flush: a padded length, patched in place. */
    uint64_t body = mds_writer_pos(w) - (at + PLACEHOLDER);
    if (w->err)
        return w->err;
    unsigned char len[PLACEHOLDER];
    uint64_t v = body;
    for (int i = 0; i < PLACEHOLDER; i++) {
        len[i] = (unsigned char)((v & 0x7f) | (i < PLACEHOLDER - 1 ? 0x80 : 0));
        v >>= 7;
    }
    /* The placeholder's bytes are known: the writer keeps its CRC
     * without reading the file back. */
    return mds_writer_patch_over(w, at, len, pad, PLACEHOLDER);
}

void mds_pb_release_reserve(mds_pb *pb)
{
    if (pb->depth == 0 && pb->dead == 0) {
        pb->soft_limit = pb->w->limit;
        /* `truncated` stays as the record of what happened; only the
         * dropping stops. */
        pb->dropping = 0;
    }
}

int mds_pb_finish(mds_pb *pb)
{
    while (pb->dead > 0 || pb->depth > 0)
        mds_pb_end(pb);
    return mds_writer_flush(pb->w);
}
