/*
 * pbenc.c - streaming protobuf encoder (see pbenc.h).
 *
 * Context: async-signal-safe.
 */
#include "pbenc.h"

#include <string.h>

#include "mayday/mayday.h"
#include "poison.h"

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };
#define PLACEHOLDER 5 /* bytes of a padded length varint: up to 2^35-1 */

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

/* Would `n` more bytes fit? Marks the encoder truncated if not. */
static int room(mds_pb *pb, uint64_t n)
{
    if (pb->dropping || pb->dead)
        return 0;
    uint64_t pos = mds_writer_pos(pb->w);
    if (pos + n > pb->soft_limit || pb->w->err) {
        pb->truncated = pb->dropping = 1;
        return 0;
    }
    return 1;
}

static int put(mds_pb *pb, const void *p, size_t n)
{
    int r = mds_writer_put(pb->w, p, n);
    if (r < 0)
        pb->truncated = pb->dropping = 1;
    return r;
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
    int r = put(pb, tag, tn);
    if (r == 0 && hn)
        r = put(pb, head, hn);
    if (r == 0 && bn)
        r = put(pb, body, bn);
    return r;
}

int mds_pb_uint64(mds_pb *pb, uint32_t num, uint64_t v)
{
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
    unsigned char tag[10], len[10];
    size_t tn = mds_pb_put_varint(tag, ((uint64_t)num << 3) | WT_LEN);
    size_t ln = mds_pb_put_varint(len, body);
    if (!room(pb, tn + ln + body))
        return MAYDAY_ETOOBIG;
    int r = put(pb, tag, tn);
    if (r == 0)
        r = put(pb, len, ln);
    for (size_t i = 0; r == 0 && i < n; i++) {
        unsigned char b[10];
        r = put(pb, b, mds_pb_put_varint(b, v[i]));
    }
    return r;
}

int mds_pb_begin(mds_pb *pb, uint32_t num)
{
    static const unsigned char pad[PLACEHOLDER] = {0x80, 0x80, 0x80, 0x80, 0};
    if (pb->depth >= MDS_PB_MAX_DEPTH) {
        pb->truncated = pb->dropping = 1;
        pb->dead++;
        return MAYDAY_ETOOBIG;
    }
    unsigned char tag[10];
    size_t tn = mds_pb_put_varint(tag, ((uint64_t)num << 3) | WT_LEN);
    if (!room(pb, tn + PLACEHOLDER)) {
        pb->dead++;
        return MAYDAY_ETOOBIG;
    }
    int r = put(pb, tag, tn);
    uint64_t at = mds_writer_pos(pb->w);
    if (r == 0)
        r = put(pb, pad, PLACEHOLDER);
    if (r < 0) {
        pb->dead++;
        return r;
    }
    pb->start[pb->depth++] = at;
    return 0;
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
    uint64_t at = pb->start[--pb->depth];
    uint64_t body_at = at + PLACEHOLDER;
    uint64_t body = mds_writer_pos(w) - body_at;
    if (w->err)
        return w->err;
    if (at >= w->flushed) {
        /* Whole message still buffered: write the minimal length and slide
         * the body down (no outer length has been fixed yet). */
        unsigned char *p = w->buf + (at - w->flushed);
        unsigned char len[10];
        size_t ln = mds_pb_put_varint(len, body);
        memmove(p + ln, p + PLACEHOLDER, (size_t)body);
        memcpy(p, len, ln);
        w->len -= PLACEHOLDER - ln;
        return 0;
    }
    unsigned char len[PLACEHOLDER];
    uint64_t v = body;
    for (int i = 0; i < PLACEHOLDER; i++) {
        len[i] = (unsigned char)((v & 0x7f) | (i < PLACEHOLDER - 1 ? 0x80 : 0));
        v >>= 7;
    }
    return mds_writer_patch(w, at, len, PLACEHOLDER);
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
