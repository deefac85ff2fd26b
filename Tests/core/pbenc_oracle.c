/*
 * pbenc_oracle.c - the independent side of test_pbenc: a model report, the
 * code that writes it with the encoder under test, and the decoders that
 * check what was written.
 *
 * Context: normal-context test code (cmocka), linked into test_pbenc.
 *
 * Independent oracles:
 *  - protobuf-c (mayday__report__unpack/pack of the generated code) decodes
 *    what the encoder wrote, and every decoded field is compared with the
 *    model the test encoded (flattened into "path=value" lines in order);
 *  - sint64, fixed32 and fixed64 are not in the schema: they are written as
 *    unknown fields of Report, which protobuf-c keeps raw in
 *    base.unknown_fields; the test decodes those bytes by hand (its own
 *    varint decoder below, zigzag and little-endian by definition);
 *  - a small hand-written wire walker checks well-formedness, the nesting
 *    depth, and which nested lengths are padded (5 bytes) or minimal.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pbenc_oracle.h"

/* ------------------------------------------ independent wire decoding */

int vget(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*i >= n)
            return -1;
        uint8_t b = p[(*i)++];
        if (shift == 63 && b > 1)
            return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

size_t vmin(uint64_t v) /* minimal varint size, by counting groups */
{
    size_t n = 0;
    do {
        n++;
        v /= 128;
    } while (v);
    return n;
}

int64_t unzigzag(uint64_t z)
{
    /* Spec: (n << 1) ^ (n >> 63) encodes; this is its inverse. */
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int sub_ctx(int ctx, uint64_t field)
{
    if (ctx == C_REPORT) {
        if (field == 9)
            return C_THREAD;
        if (field == 10)
            return C_IMAGE;
        if (field == 99)
            return C_DEEP;
        if (field <= 5 || field == 11 || field == 12)
            return C_LEAF;
    }
    if (ctx == C_THREAD && field == 5)
        return C_LEAF;
    if (ctx == C_IMAGE && field == 6)
        return C_LEAF;
    if (ctx == C_DEEP && field == 99)
        return C_DEEP;
    return C_NONE;
}

/* Walks a message; recurses into the known submessage fields. Returns 0 if
 * well-formed. `base` is the absolute offset of p[0] in the output. */
int walk(const uint8_t *p, size_t n, size_t base, int ctx, int depth,
         wire_stats *st)
{
    size_t i = 0;
    if (depth > st->max_depth)
        st->max_depth = depth;
    while (i < n) {
        uint64_t tag, v;
        if (vget(p, n, &i, &tag) < 0 || (tag >> 3) == 0)
            return -1;
        switch (tag & 7) {
        case 0:
            if (vget(p, n, &i, &v) < 0)
                return -1;
            break;
        case 1:
        case 5: {
            size_t k = (tag & 7) == 1 ? 8 : 4;
            if (n - i < k)
                return -1;
            i += k;
            break;
        }
        case 2: {
            size_t at = i;
            if (vget(p, n, &i, &v) < 0 || v > n - i)
                return -1;
            int sub = sub_ctx(ctx, tag >> 3);
            if (sub != C_NONE) {
                size_t lb = i - at;
                if (lb > vmin(v)) {
                    assert_int_equal(lb, 5); /* only padding is 5 bytes */
                    st->padded++;
                    size_t u = st->flush_unit;
                    if (u && (base + at) / u != (base + at + 4) / u)
                        st->straddled++;
                } else {
                    st->minimal++;
                }
                if (walk(p + i, (size_t)v, base + i,
                         sub == C_LEAF ? C_NONE : sub, depth + 1, st) < 0)
                    return -1;
            }
            i += (size_t)v;
            break;
        }
        default:
            return -1;
        }
    }
    return 0;
}

/* ----------------------------------------------------- string lists */

void add(strlist *l, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    l->v[l->n++] = strdup(tmp);
}

static void add_hex(strlist *l, const char *name, const uint8_t *p, size_t n)
{
    char t[512];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 3 < sizeof t; i++)
        k += (size_t)snprintf(t + k, sizeof t - k, "%02x", p[i]);
    t[k] = 0;
    add(l, "%s=%s", name, t);
}

static void add_regs(strlist *l, const uint64_t *r, size_t n)
{
    char t[512];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(t + k, sizeof t - k, "%llx,",
                              (unsigned long long)r[i]);
    t[k] = 0;
    add(l, "thread.regs=%s", t);
}

void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------------------ model */

enum { NT = 4, NF = 20, NI = 3, NSEG = 3, NREG = 9 };
static const uint64_t edges[] = {0,          1,          127,       128,
                                 300,        16383,      16384,     0xffffffffu,
                                 1ull << 35, 1ull << 63, UINT64_MAX};
#define NEDGE (sizeof edges / sizeof edges[0])
static const int64_t sints[] = {0, -1, 1, -64, 63, INT64_MIN, INT64_MAX};
static const uint32_t f32s[] = {0, 1, 0x12345678u, UINT32_MAX};
static const uint64_t f64s[] = {0, 0x0102030405060708u, 1ull << 63, UINT64_MAX};

void model_init(model *m, size_t pad)
{
    memset(m, 0, sizeof *m);
    memcpy(m->version, "0.1.0-test", 10);
    for (size_t i = 0; i < pad && 10 + i < sizeof m->version - 1; i++)
        m->version[10 + i] = (char)('a' + i % 26);
    for (size_t i = 0; i < 300; i++)
        m->abort_msg[i] = (char)(' ' + i % 90);
    for (int i = 0; i < 16; i++)
        m->uuid[i] = (uint8_t)(i * 17); /* includes 0x00 and 0xff */
    for (int i = 0; i < 20; i++)
        m->build_id[i] = (uint8_t)(255 - i * 13);
}

static uint64_t reg(int t, int i)
{
    return i < (int)NEDGE ? edges[i] + (uint64_t)t : (uint64_t)t;
}
static uint64_t fpc(int t, int f) { return edges[(size_t)(t + f) % NEDGE]; }
static const char *argv_[] = {"/usr/bin/app", "", "--flag=1"};
static const char *regname[] = {"rax", "rbx", "rcx", "rdx", "rsi",
                                "rdi", "rbp", "rsp", "rip"};

/* Writes the model with the encoder under test, in field-number order,
 * unknown fields 100..102 last. Return values are ignored on purpose: a
 * capped run drops fields and the decode checks what got through. */
void encode_model(mds_pb *pb, const model *m)
{
    mds_pb_begin(pb, 1); /* Header: depth 1 */
    mds_pb_bytes(pb, 1, m->uuid, 16);
    mds_pb_int64(pb, 2, -1234567890123ll);
    mds_pb_string(pb, 3, m->version);
    mds_pb_bool(pb, 4, 7); /* any non-zero is true */
    mds_pb_string(pb, 5, "");
    mds_pb_uint64(pb, 6, 2);
    mds_pb_uint64(pb, 7, 128);
    mds_pb_end(pb);
    mds_pb_begin(pb, 2); /* System */
    mds_pb_string(pb, 1, "Linux");
    mds_pb_string(pb, 2, NULL); /* NULL writes nothing */
    mds_pb_uint64(pb, 8, 0);
    mds_pb_uint64(pb, 9, 1);
    mds_pb_uint64(pb, 10, UINT64_MAX);
    mds_pb_uint64(pb, 11, 127);
    mds_pb_end(pb);
    mds_pb_begin(pb, 3); /* Process */
    mds_pb_uint64(pb, 1, 128);
    for (int i = 0; i < 3; i++)
        mds_pb_string(pb, 5, argv_[i]);
    mds_pb_int64(pb, 6, INT64_MIN);
    mds_pb_uint64(pb, 7, UINT32_MAX);
    mds_pb_end(pb);
    mds_pb_begin(pb, 4); /* App: empty message */
    mds_pb_end(pb);
    mds_pb_begin(pb, 5); /* Signal */
    mds_pb_uint64(pb, 1, 11);
    mds_pb_int64(pb, 3, -6); /* negative int32: 10-byte varint */
    mds_pb_uint64(pb, 5, UINT64_MAX);
    mds_pb_int64(pb, 8, INT32_MIN);
    mds_pb_int64(pb, 9, INT32_MAX);
    mds_pb_end(pb);
    mds_pb_uint64(pb, 6, 1);
    mds_pb_string(pb, 7, m->abort_msg);
    mds_pb_uint64(pb, 8, 0);
    for (int t = 0; t < NT; t++) {
        uint64_t r[NREG];
        for (int i = 0; i < NREG; i++)
            r[i] = reg(t, i);
        mds_pb_begin(pb, 9);
        mds_pb_uint64(pb, 1, 1000u + (unsigned)t);
        mds_pb_string(pb, 2, t ? "worker" : "main");
        mds_pb_bool(pb, 3, t == 0);
        mds_pb_packed_uint64(pb, 4, r, NREG);
        mds_pb_packed_uint64(pb, 4, r, 0); /* empty: writes nothing */
        for (int f = 0; f < NF; f++) {
            mds_pb_begin(pb, 5); /* Frame: depth 2 */
            mds_pb_uint64(pb, 1, fpc(t, f));
            mds_pb_uint64(pb, 2, 0x7ffd00000000u + (uint64_t)f * 64);
            mds_pb_uint64(pb, 3, (uint64_t)(f % 6));
            if (f % 3)
                mds_pb_uint64(pb, 4, (uint64_t)(f % NI));
            mds_pb_end(pb);
        }
        mds_pb_end(pb);
    }
    for (int i = 0; i < NI; i++) {
        mds_pb_begin(pb, 10);
        mds_pb_string(pb, 1, i ? "/lib/x86_64-linux-gnu/libc.so.6" : "/app");
        mds_pb_uint64(pb, 2, 0x555555554000u * (uint64_t)i);
        mds_pb_bytes(pb, 5, m->build_id, 20 - (size_t)i);
        for (int s = 0; s < NSEG; s++) {
            mds_pb_begin(pb, 6);
            mds_pb_uint64(pb, 1, 0x400000u + (uint64_t)s * 0x1000);
            mds_pb_uint64(pb, 3, (uint64_t)(s + 4));
            mds_pb_end(pb);
        }
        mds_pb_bool(pb, 7, i == 0);
        mds_pb_end(pb);
    }
    mds_pb_begin(pb, 11);
    mds_pb_string(pb, 1, "key");
    mds_pb_string(pb, 2, "value");
    mds_pb_end(pb);
    for (int i = 0; i < NREG; i++)
        mds_pb_string(pb, 13, regname[i]);
    for (size_t i = 0; i < sizeof sints / sizeof sints[0]; i++)
        mds_pb_sint64(pb, 100, sints[i]);
    for (size_t i = 0; i < sizeof f32s / sizeof f32s[0]; i++)
        mds_pb_fixed32(pb, 101, f32s[i]);
    for (size_t i = 0; i < sizeof f64s / sizeof f64s[0]; i++)
        mds_pb_fixed64(pb, 102, f64s[i]);
}

/* What encode_model wrote, as the expected decoded lines, in order. */
void flatten_model(const model *m, strlist *l)
{
    add(l, "header{");
    add_hex(l, "header.uuid", m->uuid, 16);
    add(l, "header.time=-1234567890123");
    add(l, "header.version=%s", m->version);
    add(l, "header.live=1");
    add(l, "header.reason=");
    add(l, "header.handler=2");
    add(l, "header.handoff=128");
    add(l, "system{");
    add(l, "system.os=Linux");
    add(l, "system.uptime=0");
    add(l, "system.cpus=1");
    add(l, "system.mem=18446744073709551615");
    add(l, "system.page=127");
    add(l, "process{");
    add(l, "process.pid=128");
    for (int i = 0; i < 3; i++)
        add(l, "process.argv=%s", argv_[i]);
    add(l, "process.start=%lld", (long long)INT64_MIN);
    add(l, "process.uid=%u", UINT32_MAX);
    add(l, "app{");
    add(l, "signal{");
    add(l, "signal.number=11");
    add(l, "signal.code=-6");
    add(l, "signal.address=%llu", (unsigned long long)UINT64_MAX);
    add(l, "signal.errno=%d", INT32_MIN);
    add(l, "signal.syscall=%d", INT32_MAX);
    add(l, "cause=1");
    add(l, "abort=%s", m->abort_msg);
    add(l, "crashed_thread=0");
    for (int t = 0; t < NT; t++) {
        uint64_t r[NREG];
        for (int i = 0; i < NREG; i++)
            r[i] = reg(t, i);
        add(l, "thread{");
        add(l, "thread.tid=%u", 1000u + (unsigned)t);
        add(l, "thread.name=%s", t ? "worker" : "main");
        add(l, "thread.crashed=%d", t == 0);
        add_regs(l, r, NREG);
        for (int f = 0; f < NF; f++) {
            add(l, "frame{");
            add(l, "frame.pc=%llu", (unsigned long long)fpc(t, f));
            add(l, "frame.sp=%llu",
                (unsigned long long)(0x7ffd00000000u + (uint64_t)f * 64));
            add(l, "frame.trust=%d", f % 6);
            if (f % 3)
                add(l, "frame.image=%d", f % NI);
        }
    }
    for (int i = 0; i < NI; i++) {
        add(l, "image{");
        add(l, "image.path=%s", i ? "/lib/x86_64-linux-gnu/libc.so.6" : "/app");
        add(l, "image.bias=%llu",
            (unsigned long long)(0x555555554000u * (uint64_t)i));
        add_hex(l, "image.build_id", m->build_id, 20 - (size_t)i);
        for (int s = 0; s < NSEG; s++) {
            add(l, "segment{");
            add(l, "segment.address=%llu",
                (unsigned long long)(0x400000u + (uint64_t)s * 0x1000));
            add(l, "segment.flags=%d", s + 4);
        }
        add(l, "image.main=%d", i == 0);
    }
    add(l, "annotation{");
    add(l, "annotation.key=key");
    add(l, "annotation.value=value");
    for (int i = 0; i < NREG; i++)
        add(l, "regname=%s", regname[i]);
    for (size_t i = 0; i < sizeof sints / sizeof sints[0]; i++)
        add(l, "sint64=%lld", (long long)sints[i]);
    for (size_t i = 0; i < sizeof f32s / sizeof f32s[0]; i++)
        add(l, "fixed32=%u", f32s[i]);
    for (size_t i = 0; i < sizeof f64s / sizeof f64s[0]; i++)
        add(l, "fixed64=%llu", (unsigned long long)f64s[i]);
}

/* What protobuf-c decoded, in the same order; only present fields. */
void flatten_decoded(const Mayday__Report *r, strlist *l)
{
    const Mayday__Header *h = r->header;
    if (h) {
        add(l, "header{");
        if (h->has_uuid)
            add_hex(l, "header.uuid", h->uuid.data, h->uuid.len);
        if (h->has_time_unix_ns)
            add(l, "header.time=%lld", (long long)h->time_unix_ns);
        if (h->reporter_version)
            add(l, "header.version=%s", h->reporter_version);
        if (h->has_live)
            add(l, "header.live=%d", h->live);
        if (h->reason)
            add(l, "header.reason=%s", h->reason);
        if (h->has_handler)
            add(l, "header.handler=%d", (int)h->handler);
        if (h->has_handoff_ns)
            add(l, "header.handoff=%llu", (unsigned long long)h->handoff_ns);
    }
    const Mayday__System *s = r->system;
    if (s) {
        add(l, "system{");
        if (s->os)
            add(l, "system.os=%s", s->os);
        if (s->release)
            add(l, "system.release=%s", s->release);
        if (s->has_uptime_ms)
            add(l, "system.uptime=%llu", (unsigned long long)s->uptime_ms);
        if (s->has_cpu_count)
            add(l, "system.cpus=%u", s->cpu_count);
        if (s->has_memory_total_bytes)
            add(l, "system.mem=%llu",
                (unsigned long long)s->memory_total_bytes);
        if (s->has_page_size)
            add(l, "system.page=%u", s->page_size);
    }
    const Mayday__Process *p = r->process;
    if (p) {
        add(l, "process{");
        if (p->has_pid)
            add(l, "process.pid=%u", p->pid);
        for (size_t i = 0; i < p->n_argv; i++)
            add(l, "process.argv=%s", p->argv[i]);
        if (p->has_start_time_unix_ns)
            add(l, "process.start=%lld", (long long)p->start_time_unix_ns);
        if (p->has_uid)
            add(l, "process.uid=%u", p->uid);
    }
    if (r->app)
        add(l, "app{");
    const Mayday__Signal *g = r->signal;
    if (g) {
        add(l, "signal{");
        if (g->has_number)
            add(l, "signal.number=%u", g->number);
        if (g->has_code)
            add(l, "signal.code=%d", g->code);
        if (g->has_address)
            add(l, "signal.address=%llu", (unsigned long long)g->address);
        if (g->has_errno_value)
            add(l, "signal.errno=%d", g->errno_value);
        if (g->has_syscall)
            add(l, "signal.syscall=%d", g->syscall);
    }
    if (r->has_cause)
        add(l, "cause=%d", (int)r->cause);
    if (r->abort_message)
        add(l, "abort=%s", r->abort_message);
    if (r->has_crashed_thread)
        add(l, "crashed_thread=%u", r->crashed_thread);
    for (size_t t = 0; t < r->n_threads; t++) {
        const Mayday__Thread *th = r->threads[t];
        add(l, "thread{");
        if (th->has_tid)
            add(l, "thread.tid=%u", th->tid);
        if (th->name)
            add(l, "thread.name=%s", th->name);
        if (th->has_crashed)
            add(l, "thread.crashed=%d", th->crashed);
        if (th->n_registers)
            add_regs(l, th->registers, th->n_registers);
        for (size_t f = 0; f < th->n_frames; f++) {
            const Mayday__Frame *fr = th->frames[f];
            add(l, "frame{");
            if (fr->has_pc)
                add(l, "frame.pc=%llu", (unsigned long long)fr->pc);
            if (fr->has_sp)
                add(l, "frame.sp=%llu", (unsigned long long)fr->sp);
            if (fr->has_trust)
                add(l, "frame.trust=%d", (int)fr->trust);
            if (fr->has_image)
                add(l, "frame.image=%u", fr->image);
        }
    }
    for (size_t i = 0; i < r->n_images; i++) {
        const Mayday__Image *im = r->images[i];
        add(l, "image{");
        if (im->path)
            add(l, "image.path=%s", im->path);
        if (im->has_load_bias)
            add(l, "image.bias=%llu", (unsigned long long)im->load_bias);
        if (im->has_build_id)
            add_hex(l, "image.build_id", im->build_id.data, im->build_id.len);
        for (size_t k = 0; k < im->n_segments; k++) {
            const Mayday__Segment *sg = im->segments[k];
            add(l, "segment{");
            if (sg->has_address)
                add(l, "segment.address=%llu", (unsigned long long)sg->address);
            if (sg->has_flags)
                add(l, "segment.flags=%u", sg->flags);
        }
        if (im->has_main_program)
            add(l, "image.main=%d", im->main_program);
    }
    for (size_t i = 0; i < r->n_annotations; i++) {
        add(l, "annotation{");
        if (r->annotations[i]->key)
            add(l, "annotation.key=%s", r->annotations[i]->key);
        if (r->annotations[i]->value)
            add(l, "annotation.value=%s", r->annotations[i]->value);
    }
    for (size_t i = 0; i < r->n_register_names; i++)
        add(l, "regname=%s", r->register_names[i]);
    /* Unknown to the schema: decoded by hand from protobuf-c's raw copy. */
    for (unsigned i = 0; i < r->base.n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *u = &r->base.unknown_fields[i];
        size_t k = 0;
        uint64_t z = 0;
        if (u->tag == 100 && u->wire_type == PROTOBUF_C_WIRE_TYPE_VARINT) {
            assert_int_equal(vget(u->data, u->len, &k, &z), 0);
            assert_int_equal(k, u->len);
            add(l, "sint64=%lld", (long long)unzigzag(z));
        } else if (u->tag == 101 &&
                   u->wire_type == PROTOBUF_C_WIRE_TYPE_32BIT) {
            assert_int_equal(u->len, 4);
            add(l, "fixed32=%u", (unsigned)le(u->data, 4));
        } else if (u->tag == 102 &&
                   u->wire_type == PROTOBUF_C_WIRE_TYPE_64BIT) {
            assert_int_equal(u->len, 8);
            add(l, "fixed64=%llu", (unsigned long long)le(u->data, 8));
        } else {
            add(l, "unknown=%u/%d", u->tag, (int)u->wire_type);
        }
    }
}

/* Lines of `got` must be the first got->n lines of `want`. */
void assert_prefix(const strlist *got, const strlist *want)
{
    assert_true(got->n <= want->n);
    for (size_t i = 0; i < got->n; i++) {
        if (strcmp(got->v[i], want->v[i]) != 0)
            fail_msg("line %zu: got '%s', want '%s'", i, got->v[i], want->v[i]);
    }
}

/* ------------------------------------------------------ output sinks */

void sink_open(sink *s, int file_mode)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    if (file_mode) {
        char path[] = "/tmp/mayday-test-pbenc-XXXXXX";
        s->fd = mkstemp(path);
        assert_true(s->fd >= 0);
        unlink(path);
    } else {
        s->memcap = 1 << 16;
        s->mem = malloc(s->memcap);
        assert_non_null(s->mem);
    }
}

void sink_writer(sink *s, mds_writer *w, uint64_t limit)
{
    free(s->out);
    s->out = NULL;
    if (s->fd >= 0) {
        assert_int_equal(ftruncate(s->fd, 0), 0);
        assert_int_equal(lseek(s->fd, 0, SEEK_SET), 0);
        mds_writer_init(w, s->fd, s->small, sizeof s->small, limit);
    } else {
        mds_writer_init(w, -1, s->mem, s->memcap, limit);
    }
}

void sink_collect(sink *s, const mds_writer *w)
{
    s->outlen = (size_t)mds_writer_pos(w);
    s->out = malloc(s->outlen + 1);
    assert_non_null(s->out);
    if (s->fd >= 0) {
        struct stat st;
        assert_int_equal(fstat(s->fd, &st), 0);
        assert_int_equal((size_t)st.st_size, s->outlen);
        assert_int_equal(pread(s->fd, s->out, s->outlen, 0),
                         (ssize_t)s->outlen);
    } else {
        memcpy(s->out, s->mem, s->outlen);
    }
}

void sink_close(sink *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->mem);
    free(s->out);
}
