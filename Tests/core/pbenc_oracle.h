/*
 * pbenc_oracle.h - the independent side of test_pbenc (see
 * pbenc_oracle.c): model report, encoder driver, hand decoders.
 *
 * Context: normal-context test code (cmocka).
 */
#ifndef PBENC_ORACLE_H
#define PBENC_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "crash/core/pbenc.h"
#include "mayday.pb-c.h"
#include "mayday/mayday.h"

/* Hand decoding, independent of pbenc. */
int vget(const uint8_t *p, size_t n, size_t *i, uint64_t *v);
size_t vmin(uint64_t v);
int64_t unzigzag(uint64_t z);
uint64_t le(const uint8_t *p, int n);

/* Contexts of the wire walker: which LEN fields are submessages. */
enum { C_NONE, C_REPORT, C_THREAD, C_IMAGE, C_DEEP, C_LEAF };
typedef struct {
    int padded, minimal, straddled, max_depth;
    size_t flush_unit; /* writer buffer size in file mode, else 0 */
} wire_stats;
int walk(const uint8_t *p, size_t n, size_t base, int ctx, int depth,
         wire_stats *st);

typedef struct {
    char **v;
    size_t n, cap;
} strlist;
void add(strlist *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strlist_free(strlist *l);
/* Lines of `got` must be the first got->n lines of `want`. */
void assert_prefix(const strlist *got, const strlist *want);

typedef struct {
    char version[200]; /* padded to shift every later offset */
    char abort_msg[301];
    uint8_t uuid[16], build_id[20];
} model;
void model_init(model *m, size_t pad);
/* Writes the model through the encoder (depth up to 2, every wire type,
 * sint64/fixed32/fixed64 as unknown Report fields 100..102). */
void encode_model(mds_pb *pb, const model *m);
/* Expected "path=value" lines, in write order. */
void flatten_model(const model *m, strlist *l);
/* The lines protobuf-c decoded (present fields only), same order. */
void flatten_decoded(const Mayday__Report *r, strlist *l);

/* Memory output, or a temp file with a 64-byte writer buffer. */
typedef struct {
    int fd; /* < 0: memory */
    unsigned char *mem;
    size_t memcap;
    unsigned char small[64]; /* file-mode writer buffer */
    unsigned char *out;      /* the bytes produced, after sink_collect */
    size_t outlen;
} sink;
void sink_open(sink *s, int file_mode);
void sink_writer(sink *s, mds_writer *w, uint64_t limit);
void sink_collect(sink *s, const mds_writer *w);
void sink_close(sink *s);

#endif
