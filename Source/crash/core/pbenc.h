/*
 * pbenc.h - zero-allocation streaming protobuf encoder.
 *
 * Context: async-signal-safe. Writes through an mds_writer; needs no memory
 * but the mds_pb struct itself.
 *
 * Nested messages are opened with mds_pb_begin() and closed with
 * mds_pb_end(). Their length is not known in advance, so begin writes a
 * one-byte placeholder, which end fills in place when the body is under
 * 128 bytes (most messages: a frame; nothing moves) or widens to the
 * length's minimal size by sliding the body (a thread). Before the writer
 * flushes a buffer holding open placeholders, each is widened to a 5-byte
 * padded varint, which end later patches (with pwrite once flushed): the
 * padded-length streaming design, for messages cut by a flush only.
 *
 * Size cap: every field is written whole or not at all. The first field that
 * does not fit below the soft limit (writer limit minus a reserve) sets
 * `truncated` and from then on every field is dropped, so a capped report
 * is a clean prefix: each enclosing message stays well-formed. The reserve
 * is for the last few completeness fields (mds_pb_release_reserve()). Open
 * placeholders count as 5 bytes there (what they may grow to), so the cap
 * holds whatever their final size.
 */
#ifndef MDS_PBENC_H
#define MDS_PBENC_H

#include <stddef.h>
#include <stdint.h>

#include "writer.h"

#define MDS_PB_MAX_DEPTH 16

typedef struct mds_pb {
    mds_writer *w;
    uint64_t soft_limit;
    int depth;                        /* open, live nested messages */
    int dead;                         /* opened after truncation */
    uint64_t start[MDS_PB_MAX_DEPTH]; /* position of each length field */
    uint8_t opt[MDS_PB_MAX_DEPTH];    /* 1: a one-byte placeholder */
    int nopt;                         /* open one-byte placeholders */
    int truncated;                    /* something was dropped */
    int dropping;                     /* drop every further field */
} mds_pb;

/* reserve: bytes kept back for mds_pb_release_reserve(). */
void mds_pb_init(mds_pb *pb, mds_writer *w, uint64_t reserve);

int mds_pb_uint64(mds_pb *pb, uint32_t field, uint64_t v); /* uint32/64 */
int mds_pb_int64(mds_pb *pb, uint32_t field, int64_t v);   /* int32/64 */
int mds_pb_sint64(mds_pb *pb, uint32_t field, int64_t v);  /* zigzag */
int mds_pb_bool(mds_pb *pb, uint32_t field, int v);
int mds_pb_fixed32(mds_pb *pb, uint32_t field, uint32_t v);
int mds_pb_fixed64(mds_pb *pb, uint32_t field, uint64_t v);
int mds_pb_bytes(mds_pb *pb, uint32_t field, const void *data, size_t n);
/* NUL-terminated; NULL writes nothing. */
int mds_pb_string(mds_pb *pb, uint32_t field, const char *s);
/* A packed repeated uint64 field (n == 0 writes nothing). */
int mds_pb_packed_uint64(mds_pb *pb, uint32_t field, const uint64_t *v,
                         size_t n);

int mds_pb_begin(mds_pb *pb, uint32_t field);
/* Like mds_pb_begin, but opens the message only if `need` more bytes fit
 * in it: the fields a reader requires of every such message (a mapping's
 * start and size, a memory region's address) are then written whole, and
 * a size cap drops the message entirely rather than leaving it without
 * them. Pair with mds_pb_end as mds_pb_begin. */
int mds_pb_begin_min(mds_pb *pb, uint32_t field, size_t need);
int mds_pb_end(mds_pb *pb);
/* 0 if n more bytes fit below the soft limit; otherwise marks the
 * encoder truncated (drops every further field) and MAYDAY_ETOOBIG. For
 * fields that must be written together or not at all. */
int mds_pb_fits(mds_pb *pb, uint64_t n);
/* Bytes of the largest encoding of a varint field (tag below 2^11). */
#define MDS_PB_VARINT_MAX 12

/* Lets the fields that follow use the reserve (at depth 0 only). Clears the
 * drop-everything state so completeness fields can still be written. */
void mds_pb_release_reserve(mds_pb *pb);
/* Closes any open message, flushes. Returns 0 or the writer's error. */
int mds_pb_finish(mds_pb *pb);

/* Helpers, exposed for tests. */
size_t mds_pb_varint_size(uint64_t v);
size_t mds_pb_put_varint(unsigned char *out, uint64_t v);

#endif
