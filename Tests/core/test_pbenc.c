/*
 * test_pbenc.c - tests of the streaming protobuf encoder
 * (Source/crash/core/pbenc.h over writer.h), in memory mode and in file
 * mode (temp file, 64-byte writer buffer so nested lengths get patched
 * with pwrite after a flush).
 *
 * Context: normal-context test program (cmocka).
 *
 * Expected values: exact bytes from the examples of the protobuf encoding
 * specification; protobuf-c's decoding of the output compared with the
 * model the test wrote; zlib's CRC-32 of the output; hand decoding (pbenc_oracle.c) for the wire types
 * the schema lacks (sint64, fixed32, fixed64) and for the nesting depth.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "crash/handler/fields.h"
#include "pbenc_oracle.h"

/* ----------------------------------------------- exact wire bytes */

static void test_varint_spec(void **state)
{
    (void)state;
    static const struct {
        uint64_t v;
        size_t n;
        uint8_t b[10];
    } cases[] = {
        {0, 1, {0x00}},
        {1, 1, {0x01}},
        {127, 1, {0x7f}},
        {128, 2, {0x80, 0x01}},
        {150, 2, {0x96, 0x01}}, /* the spec's example */
        {300, 2, {0xac, 0x02}},
        {16383, 2, {0xff, 0x7f}},
        {16384, 3, {0x80, 0x80, 0x01}},
        {UINT64_MAX,
         10,
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t out[16];
        memset(out, 0xAA, sizeof out);
        assert_int_equal(mds_pb_varint_size(cases[i].v), cases[i].n);
        assert_int_equal(mds_pb_put_varint(out, cases[i].v), cases[i].n);
        assert_memory_equal(out, cases[i].b, cases[i].n);
        assert_int_equal(out[cases[i].n], 0xAA); /* no overrun */
    }
    /* Random values round-trip through the independent decoder. */
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = x >> (x & 63);
        uint8_t out[10];
        size_t n = mds_pb_put_varint(out, v), k = 0;
        uint64_t back;
        assert_int_equal(n, vmin(v));
        assert_int_equal(mds_pb_varint_size(v), n);
        assert_int_equal(vget(out, n, &k, &back), 0);
        assert_int_equal(k, n);
        assert_int_equal(back, v);
    }
}

typedef int (*enc_fn)(mds_pb *pb);
static int e_u150(mds_pb *pb) { return mds_pb_uint64(pb, 1, 150); }
static int e_u0(mds_pb *pb) { return mds_pb_uint64(pb, 1, 0); }
static int e_i_1(mds_pb *pb) { return mds_pb_int64(pb, 1, -1); }
static int e_s_1(mds_pb *pb) { return mds_pb_sint64(pb, 1, -1); }
static int e_s1(mds_pb *pb) { return mds_pb_sint64(pb, 1, 1); }
static int e_s_2(mds_pb *pb) { return mds_pb_sint64(pb, 1, -2); }
static int e_smin(mds_pb *pb) { return mds_pb_sint64(pb, 1, INT64_MIN); }
static int e_smax(mds_pb *pb) { return mds_pb_sint64(pb, 1, INT64_MAX); }
static int e_true(mds_pb *pb) { return mds_pb_bool(pb, 1, 1); }
static int e_false(mds_pb *pb) { return mds_pb_bool(pb, 1, 0); }
static int e_f32(mds_pb *pb) { return mds_pb_fixed32(pb, 1, 0x12345678u); }
static int e_f64(mds_pb *pb)
{
    return mds_pb_fixed64(pb, 1, 0x0102030405060708u);
}
static int e_str(mds_pb *pb) { return mds_pb_string(pb, 2, "testing"); }
static int e_bytes0(mds_pb *pb) { return mds_pb_bytes(pb, 2, "", 0); }
static int e_packed(mds_pb *pb)
{
    static const uint64_t v[] = {3, 270, 86942};
    return mds_pb_packed_uint64(pb, 4, v, 3);
}
static int e_nested(mds_pb *pb)
{
    int r = mds_pb_begin(pb, 3);
    if (r == 0)
        r = mds_pb_uint64(pb, 1, 150);
    return r ? r : mds_pb_end(pb);
}
static int e_tag16(mds_pb *pb) { return mds_pb_uint64(pb, 16, 1); }
static int e_tagmax(mds_pb *pb) { return mds_pb_uint64(pb, (1u << 29) - 1, 1); }

/* Each encoder call, in memory and in file mode, gives exactly the bytes
 * the protobuf encoding spec prescribes. */
static void test_wire_types_exact(void **state)
{
    (void)state;
    static const struct {
        enc_fn f;
        size_t n;
        uint8_t b[16];
    } cases[] = {
        {e_u150, 3, {0x08, 0x96, 0x01}},
        {e_u0, 2, {0x08, 0x00}},
        {e_i_1,
         11,
         {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
        {e_s_1, 2, {0x08, 0x01}},
        {e_s1, 2, {0x08, 0x02}},
        {e_s_2, 2, {0x08, 0x03}},
        {e_smin,
         11,
         {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
        {e_smax,
         11,
         {0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
        {e_true, 2, {0x08, 0x01}},
        {e_false, 2, {0x08, 0x00}},
        {e_f32, 5, {0x0d, 0x78, 0x56, 0x34, 0x12}},
        {e_f64, 9, {0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}},
        {e_str, 9, {0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}},
        {e_bytes0, 2, {0x12, 0x00}},
        {e_packed, 8, {0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05}},
        {e_nested, 5, {0x1a, 0x03, 0x08, 0x96, 0x01}},
        {e_tag16, 3, {0x80, 0x01, 0x01}},
        {e_tagmax, 6, {0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01}},
    };
    for (int mode = 0; mode < 2; mode++) {
        sink s;
        sink_open(&s, mode);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            mds_writer w;
            mds_pb pb;
            sink_writer(&s, &w, 1 << 16);
            mds_pb_init(&pb, &w, 0);
            assert_int_equal(cases[i].f(&pb), 0);
            assert_int_equal(mds_pb_finish(&pb), 0);
            assert_false(pb.truncated);
            sink_collect(&s, &w);
            assert_int_equal(s.outlen, cases[i].n);
            assert_memory_equal(s.out, cases[i].b, cases[i].n);
        }
        sink_close(&s);
    }
}

/* ------------------------------------------------- whole reports */

/* Encodes the model (pad shifts all offsets), decodes with protobuf-c,
 * compares line by line, accumulates wire statistics. */
static void roundtrip(sink *s, size_t pad, wire_stats *st)
{
    model m;
    mds_writer w;
    mds_pb pb;
    model_init(&m, pad);
    sink_writer(s, &w, UINT64_MAX);
    mds_pb_init(&pb, &w, 0);
    encode_model(&pb, &m);
    assert_int_equal(pb.depth, 0);
    assert_int_equal(mds_pb_finish(&pb), 0);
    assert_false(pb.truncated);
    uint32_t crc0, crc16;
    assert_int_equal(mds_writer_crc32(&w, 0, &crc0), 0);
    assert_int_equal(mds_writer_crc32(&w, 16, &crc16), 0);
    sink_collect(s, &w);
    /* The writer's CRC (kept as written, padded lengths patched after a
     * flush included) is zlib's over the output. */
    assert_int_equal(crc0, (uint32_t)crc32(0, s->out, (uInt)s->outlen));
    assert_int_equal(crc16,
                     (uint32_t)crc32(0, s->out + 16, (uInt)(s->outlen - 16)));

    Mayday__Report *r = mayday__report__unpack(NULL, s->outlen, s->out);
    assert_non_null(r);
    strlist want = {0}, got = {0};
    flatten_model(&m, &want);
    flatten_decoded(r, &got);
    assert_prefix(&got, &want);
    assert_int_equal(got.n, want.n);
    st->flush_unit = s->fd >= 0 ? sizeof s->small : 0;
    assert_int_equal(walk(s->out, s->outlen, 0, C_REPORT, 0, st), 0);
    assert_int_equal(st->max_depth, 2);
    if (s->fd < 0) {
        /* Memory mode compacts every length: the output is canonical,
         * byte for byte what protobuf-c itself packs. */
        size_t n = mayday__report__get_packed_size(r);
        uint8_t *re = malloc(n);
        assert_non_null(re);
        assert_int_equal(mayday__report__pack(r, re), n);
        assert_int_equal(n, s->outlen);
        assert_memory_equal(re, s->out, n);
        free(re);
    }
    strlist_free(&want);
    strlist_free(&got);
    mayday__report__free_unpacked(r, NULL);
}

static void test_report_memory(void **state)
{
    (void)state;
    sink s;
    wire_stats st = {0};
    sink_open(&s, 0);
    for (size_t pad = 0; pad < 140; pad += 7)
        roundtrip(&s, pad, &st);
    assert_int_equal(st.padded, 0);
    assert_true(st.minimal > 0);
    sink_close(&s);
}

/* File mode with a 64-byte buffer: every shift of the offsets modulo the
 * buffer is tried, so nested lengths are patched after a flush (padded
 * 5-byte varint, including placeholders cut by a flush) and compacted when
 * the whole message was still buffered (minimal varint). */
static void test_report_file(void **state)
{
    (void)state;
    sink s;
    wire_stats st = {0};
    sink_open(&s, 1);
    for (size_t pad = 0; pad < 140; pad++)
        roundtrip(&s, pad, &st);
    printf("file mode: %d padded, %d minimal nested lengths, %d padded "
           "placeholders cut by a flush\n",
           st.padded, st.minimal, st.straddled);
    assert_true(st.padded > 0);
    assert_true(st.minimal > 0);
    assert_true(st.straddled > 0);
    sink_close(&s);
}

/* ------------------------------------------------------ nesting depth */

/* Report { crashed_thread = 3; 99 { 1: 0; 99 { 1: 1; ... 2: 42 } } ...}
 * opened MDS_PB_MAX_DEPTH deep, then one level too deep. */
static void check_depth(int file_mode)
{
    sink s;
    mds_writer w;
    mds_pb pb;
    sink_open(&s, file_mode);
    sink_writer(&s, &w, UINT64_MAX);
    mds_pb_init(&pb, &w, 16);
    assert_int_equal(mds_pb_uint64(&pb, 8, 3), 0);
    for (int d = 0; d < MDS_PB_MAX_DEPTH; d++) {
        assert_int_equal(mds_pb_begin(&pb, 99), 0);
        assert_int_equal(mds_pb_uint64(&pb, 1, (uint64_t)d), 0);
    }
    assert_int_equal(pb.depth, MDS_PB_MAX_DEPTH);
    assert_int_equal(mds_pb_uint64(&pb, 2, 42), 0);
    assert_false(pb.truncated);
    /* One too deep: refused, flagged, its content dropped. */
    assert_int_equal(mds_pb_begin(&pb, 99), MAYDAY_ETOOBIG);
    assert_true(pb.truncated);
    assert_int_not_equal(mds_pb_uint64(&pb, 3, 7), 0);
    assert_int_equal(mds_pb_begin(&pb, 99), MAYDAY_ETOOBIG); /* deeper */
    assert_int_not_equal(mds_pb_end(&pb), 0);
    assert_int_not_equal(mds_pb_end(&pb), 0);
    assert_int_equal(pb.dead, 0);
    /* Everything after the cut is dropped too (clean prefix). */
    assert_int_not_equal(mds_pb_uint64(&pb, 4, 5), 0);
    for (int d = 0; d < MDS_PB_MAX_DEPTH; d++)
        assert_int_equal(mds_pb_end(&pb), 0);
    assert_int_equal(mds_pb_end(&pb), MAYDAY_EINVAL); /* nothing open */
    assert_int_not_equal(mds_pb_string(&pb, 13, "after"), 0);
    /* The reserve still takes the completeness flag. */
    mds_pb_release_reserve(&pb);
    assert_int_equal(mds_pb_bool(&pb, 20, pb.truncated), 0);
    assert_int_equal(mds_pb_finish(&pb), 0);
    sink_collect(&s, &w);

    Mayday__Report *r = mayday__report__unpack(NULL, s.outlen, s.out);
    assert_non_null(r);
    assert_true(r->has_crashed_thread);
    assert_int_equal(r->crashed_thread, 3);
    assert_int_equal(r->n_register_names, 0);
    assert_true(r->has_truncated && r->truncated);
    assert_int_equal(r->base.n_unknown_fields, 1);
    const ProtobufCMessageUnknownField *u = &r->base.unknown_fields[0];
    assert_int_equal(u->tag, 99);
    /* Hand walk of the chain: each level holds 1 = its depth and the next
     * level; the innermost holds 1 = 15 and 2 = 42, nothing else. */
    const uint8_t *p = u->data;
    size_t n = u->len, i = 0;
    uint64_t v, tag;
    assert_int_equal(vget(p, n, &i, &v), 0); /* protobuf-c keeps the len */
    assert_int_equal(v, n - i);
    for (int d = 0; d < MDS_PB_MAX_DEPTH; d++) {
        assert_int_equal(vget(p, n, &i, &tag), 0);
        assert_int_equal(tag, 1 << 3);
        assert_int_equal(vget(p, n, &i, &v), 0);
        assert_int_equal(v, (uint64_t)d);
        if (d == MDS_PB_MAX_DEPTH - 1)
            break;
        assert_int_equal(vget(p, n, &i, &tag), 0);
        assert_int_equal(tag, (99 << 3) | 2);
        assert_int_equal(vget(p, n, &i, &v), 0);
        assert_int_equal(v, n - i); /* the rest is this level */
    }
    assert_int_equal(vget(p, n, &i, &tag), 0);
    assert_int_equal(tag, 2 << 3);
    assert_int_equal(vget(p, n, &i, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(i, n);
    wire_stats st = {0};
    assert_int_equal(walk(s.out, s.outlen, 0, C_REPORT, 0, &st), 0);
    assert_int_equal(st.max_depth, MDS_PB_MAX_DEPTH);
    mayday__report__free_unpacked(r, NULL);
    sink_close(&s);
}

static void test_depth_memory(void **state)
{
    (void)state;
    check_depth(0);
}

static void test_depth_file(void **state)
{
    (void)state;
    check_depth(1);
}

/* --------------------------------------------------------- size cap */

enum { RESERVE = 3 }; /* tag 20 (2 bytes) + bool (1 byte) */

/* Every cap from 0 to past the full size: the output never exceeds the
 * cap, always decodes, is a prefix of the full report (present fields
 * right, later ones absent), grows with the cap, and carries
 * truncated = true exactly when something was dropped. */
static void check_cap(int file_mode)
{
    sink s;
    model m;
    strlist want = {0};
    model_init(&m, 5);
    flatten_model(&m, &want);
    sink_open(&s, file_mode);

    /* Full size without a cap. */
    mds_writer w;
    mds_pb pb;
    sink_writer(&s, &w, UINT64_MAX);
    mds_pb_init(&pb, &w, 0);
    encode_model(&pb, &m);
    assert_int_equal(mds_pb_finish(&pb), 0);
    uint64_t full = mds_writer_pos(&w);

    size_t prev = 0;
    int n_trunc = 0;
    uint64_t top = file_mode ? full + 2 * RESERVE : s.memcap;
    for (uint64_t cap = 0; cap <= full + 2 * RESERVE; cap++) {
        uint64_t limit = cap;
        if (!file_mode && cap == full + 2 * RESERVE)
            limit = top; /* and once with the whole memory buffer */
        sink_writer(&s, &w, limit);
        mds_pb_init(&pb, &w, RESERVE);
        encode_model(&pb, &m);
        assert_int_equal(pb.depth, 0);
        assert_int_equal(pb.dead, 0);
        int trunc = pb.truncated;
        mds_pb_release_reserve(&pb);
        if (limit >= RESERVE)
            assert_int_equal(mds_pb_bool(&pb, 20, trunc), 0);
        assert_int_equal(mds_pb_finish(&pb), 0);
        assert_int_equal(w.err, 0);
        assert_true(mds_writer_pos(&w) <= limit);
        /* Truncated exactly when the full report plus the flag did not
         * fit below the cap. */
        assert_int_equal(trunc, full + RESERVE > limit);
        n_trunc += trunc;
        sink_collect(&s, &w);

        Mayday__Report *r = mayday__report__unpack(NULL, s.outlen, s.out);
        if (!r)
            fail_msg("cap %llu: protobuf-c rejects the output",
                     (unsigned long long)cap);
        strlist got = {0};
        flatten_decoded(r, &got);
        assert_prefix(&got, &want);
        assert_true(got.n >= prev);
        prev = got.n;
        if (limit >= RESERVE) {
            assert_true(r->has_truncated);
            assert_int_equal(r->truncated, trunc);
        }
        if (!trunc)
            assert_int_equal(got.n, want.n);
        wire_stats st = {0};
        assert_int_equal(walk(s.out, s.outlen, 0, C_REPORT, 0, &st), 0);
        strlist_free(&got);
        mayday__report__free_unpacked(r, NULL);
    }
    assert_int_equal(prev, want.n);
    assert_true(n_trunc > 1000);
    strlist_free(&want);
    sink_close(&s);
}

static void test_cap_memory(void **state)
{
    (void)state;
    check_cap(0);
}

static void test_cap_file(void **state)
{
    (void)state;
    check_cap(1);
}

/* ----------------------------------------------------- writer errors */

static void test_disk_full(void **state)
{
    (void)state;
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0)
        skip();
    unsigned char buf[64];
    mds_writer w;
    mds_pb pb;
    model m;
    model_init(&m, 0);
    mds_writer_init(&w, fd, buf, sizeof buf, UINT64_MAX);
    mds_pb_init(&pb, &w, RESERVE);
    encode_model(&pb, &m);
    assert_true(pb.truncated);
    assert_int_equal(w.err, MAYDAY_ENOSPC);
    assert_int_equal(pb.depth, 0);
    assert_int_equal(mds_pb_finish(&pb), MAYDAY_ENOSPC);
    close(fd);
}

static void test_finish_closes_open(void **state)
{
    (void)state;
    sink s;
    mds_writer w;
    mds_pb pb;
    sink_open(&s, 1);
    sink_writer(&s, &w, UINT64_MAX);
    mds_pb_init(&pb, &w, 0);
    mds_pb_begin(&pb, 9);
    mds_pb_uint64(&pb, 1, 77);
    mds_pb_begin(&pb, 5);
    mds_pb_uint64(&pb, 1, 0x1234);
    /* Left open on purpose: finish closes both. */
    assert_int_equal(mds_pb_finish(&pb), 0);
    assert_int_equal(pb.depth, 0);
    sink_collect(&s, &w);
    Mayday__Report *r = mayday__report__unpack(NULL, s.outlen, s.out);
    assert_non_null(r);
    assert_int_equal(r->n_threads, 1);
    assert_int_equal(r->threads[0]->tid, 77);
    assert_int_equal(r->threads[0]->n_frames, 1);
    assert_int_equal(r->threads[0]->frames[0]->pc, 0x1234);
    mayday__report__free_unpacked(r, NULL);
    sink_close(&s);
}

/* mds_pb_begin_min: at every cap a message is either absent or holds
 * the fields it was opened for; never an empty opening. mds_pb_fits:
 * two fields that go together, both or neither. */
static void test_begin_min(void **state)
{
    (void)state;
    sink s;
    sink_open(&s, 0);
    int seen_cut = 0;
    for (uint64_t cap = 0; cap < 400; cap++) {
        mds_writer w;
        mds_pb pb;
        sink_writer(&s, &w, cap);
        mds_pb_init(&pb, &w, 0);
        for (int i = 0; i < 12; i++) {
            if (mds_pb_begin_min(&pb, F_REPORT_MAPPINGS,
                                 2 * MDS_PB_VARINT_MAX) == 0) {
                mds_pb_uint64(&pb, F_MAPPING_START, 0x7f0000000000ull + i);
                mds_pb_uint64(&pb, F_MAPPING_SIZE, 4096);
                mds_pb_string(&pb, F_MAPPING_PATH, "/lib/x.so");
            }
            mds_pb_end(&pb);
        }
        if (mds_pb_fits(&pb, 2 * MDS_PB_VARINT_MAX) == 0) {
            mds_pb_uint64(&pb, 27, 1); /* rlimit_fsize */
            mds_pb_uint64(&pb, 21, 2); /* threads_not_suspended */
        }
        assert_int_equal(pb.depth, 0);
        assert_int_equal(pb.dead, 0);
        assert_int_equal(mds_pb_finish(&pb), 0);
        sink_collect(&s, &w);
        Mayday__Report *r = mayday__report__unpack(NULL, s.outlen, s.out);
        assert_non_null(r);
        for (size_t i = 0; i < r->n_mappings; i++) {
            assert_true(r->mappings[i]->has_start);
            assert_true(r->mappings[i]->has_size);
        }
        assert_int_equal(r->has_rlimit_fsize, r->has_threads_not_suspended);
        seen_cut += r->n_mappings > 0 && r->n_mappings < 12;
        mayday__report__free_unpacked(r, NULL);
    }
    assert_true(seen_cut > 100);
    sink_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_spec),
        cmocka_unit_test(test_wire_types_exact),
        cmocka_unit_test(test_report_memory),
        cmocka_unit_test(test_report_file),
        cmocka_unit_test(test_depth_memory),
        cmocka_unit_test(test_depth_file),
        cmocka_unit_test(test_cap_memory),
        cmocka_unit_test(test_cap_file),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_finish_closes_open),
        cmocka_unit_test(test_begin_min),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
