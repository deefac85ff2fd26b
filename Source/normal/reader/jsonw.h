/*
 * jsonw.h - a small buffered JSON writer for the report formatters: one
 * call per field (key and value together), objects and arrays nested up to
 * MD_JW_MAX_DEPTH, pretty (2-space indent) or compact (one line, for JSON
 * Lines). Output goes to a 64 KiB buffer inside the writer and reaches the
 * FILE only in large fwrite()s.
 *
 * Adding a field to the JSON output is one line in the emitting function:
 *
 *     md_jw_str(j, "name", t->name);              // NULL -> null
 *     md_jw_u64(j, "tid", t->has_tid, t->tid);    // has == 0 -> null
 *     md_jw_hex(j, "pc", f->has_pc, f->pc);       // "0x..."
 *     md_jw_obj(j, "signal"); ... md_jw_end(j);   // nested object
 *     md_jw_arr(j, "frames"); ... md_jw_end(j);   // array (key NULL
 *                                                 // for its members)
 *
 * Strings are escaped per RFC 8259 (quotes, backslashes, control
 * characters, DEL) and bytes that are not valid UTF-8 become U+FFFD, so
 * the output is valid JSON whatever the report holds.
 *
 * Context: normal (stdio). Never called on the crash path.
 */
#ifndef MD_JSONW_H
#define MD_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MD_JW_MAX_DEPTH 32
#define MD_JW_BUF 65536

typedef struct md_jw {
    FILE *f;
    size_t len;                     /* bytes in buf */
    int depth;                      /* open objects/arrays */
    int compact;                    /* 1: no newlines or indentation */
    int err;                        /* a write to f failed */
    int empty[MD_JW_MAX_DEPTH + 1]; /* nothing written yet at this depth */
    char closer[MD_JW_MAX_DEPTH + 1];
    char buf[MD_JW_BUF];
} md_jw;

/* compact: 1 for one line (JSON Lines), 0 for indented output. */
void md_jw_init(md_jw *j, FILE *f, int compact);
/* Closes what is still open, writes a final newline and flushes the
 * buffer to f. 0, or MAYDAY_EIO if a write failed. */
int md_jw_finish(md_jw *j);

/* Members: key is the member name inside an object, NULL inside arrays
 * (and for the top-level value). */
void md_jw_obj(md_jw *j, const char *key);
void md_jw_arr(md_jw *j, const char *key);
void md_jw_end(md_jw *j); /* closes the innermost object or array */

/* A string of exactly n bytes (may hold NUL bytes, escaped as \u0000). */
void md_jw_strn(md_jw *j, const char *key, const char *v, size_t n);
void md_jw_null(md_jw *j, const char *key);
/* Numbers and "0x..." strings; has == 0 writes null. */
void md_jw_i64(md_jw *j, const char *key, int has, int64_t v);
/* A decimal string ("1795307638544161989"), for exact 64-bit values. */
void md_jw_dec_str(md_jw *j, const char *key, int has, int64_t v);
/* Lowercase hex of bytes as a string ("d38f79..."); NULL p: null. */
void md_jw_hexbytes(md_jw *j, const char *key, const uint8_t *p, size_t n);
/* A UTC ISO-8601 time with nanoseconds; has == 0 writes null. */
void md_jw_time(md_jw *j, const char *key, int has, int64_t ns);

/* ---- the hot ones, inline (strlen of a literal key folds to a constant;
 * about 20 fields per frame, thousands of frames per report). */

/* Internals used by the inline functions below. */
void md_jw__flush(md_jw *j);
void md_jw__member_slow(md_jw *j, const char *key, size_t kl);
void md_jw__string(md_jw *j, const char *s, size_t n);
extern const unsigned char md_jw__special[256];
extern const char md_jw__indent[1 + 2 * MD_JW_MAX_DEPTH];
extern const char md_jw__hex2[512]; /* "000102...ff" */

/* Separator, indentation and `"key": ` before a value. */
static inline __attribute__((always_inline)) void
md_jw__member(md_jw *j, const char *key, size_t kl)
{
    int d = j->depth;
    if (d >= MD_JW_MAX_DEPTH || kl > 256) {
        md_jw__member_slow(j, key, kl);
        return;
    }
    /* Room for the whole indentation string: a copy of constant size is
     * a few vector moves, one of variable size a call to memmove. */
    if (j->len + 8 + sizeof(md_jw__indent) + kl > MD_JW_BUF)
        md_jw__flush(j);
    char *p = j->buf + j->len;
    if (d > 0) {
        if (!j->empty[d])
            *p++ = ',';
        j->empty[d] = 0;
        if (!j->compact) {
            memcpy(p, md_jw__indent, sizeof(md_jw__indent));
            p += 1 + 2 * (size_t)d;
        }
        if (key && j->closer[d] == '}') {
            /* Keys that are string literals (this project's own names)
             * need no escaping; keys from the report are checked. */
            for (size_t i = 0; !__builtin_constant_p(key[0]) && i < kl; i++)
                if (md_jw__special[(unsigned char)key[i]]) {
                    j->len = (size_t)(p - j->buf);
                    md_jw__string(j, key, kl);
                    p = j->buf + j->len;
                    goto colon;
                }
            *p++ = '"';
            memcpy(p, key, kl);
            p += kl;
            *p++ = '"';
        colon:
            *p++ = ':';
            if (!j->compact)
                *p++ = ' ';
        }
    }
    j->len = (size_t)(p - j->buf);
}

/* n is a constant at every call: the copy is inlined. */
static inline __attribute__((always_inline)) void
md_jw__put(md_jw *j, const char *s, size_t n)
{
    if (j->len + n > MD_JW_BUF)
        md_jw__flush(j);
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

static inline __attribute__((always_inline)) void
md_jw_str(md_jw *j, const char *key, const char *v)
{
    md_jw__member(j, key, key ? strlen(key) : 0);
    if (v)
        md_jw__string(j, v, strlen(v));
    else
        md_jw__put(j, "null", 4);
}

static inline __attribute__((always_inline)) void
md_jw_bool(md_jw *j, const char *key, int v)
{
    md_jw__member(j, key, key ? strlen(key) : 0);
    if (v)
        md_jw__put(j, "true", 4);
    else
        md_jw__put(j, "false", 5);
}

/* Decimal digits of v at p (room for 20); returns the end. */
static inline __attribute__((always_inline)) char *md_jw__u64_at(char *p,
                                                                 uint64_t v)
{
    size_t nd = 1;
    for (uint64_t t = v; t >= 10; t /= 10)
        nd++;
    char *q = p + nd;
    do {
        *--q = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p + nd;
}

/* "0x..." of v, quotes included, at p (room for 20); returns the end. */
static inline __attribute__((always_inline)) char *md_jw__hex_at(char *p,
                                                                 uint64_t v)
{
    size_t nd = v ? (size_t)(67 - __builtin_clzll(v)) / 4 : 1;
    p[0] = '"';
    p[1] = '0';
    p[2] = 'x';
    p[3 + nd] = '"';
    /* Two digits per step from a 256-entry table, right to left. */
    char *q = p + 3 + nd;
    while (q - (p + 3) >= 2) {
        q -= 2;
        memcpy(q, md_jw__hex2 + 2 * (v & 0xff), 2);
        v >>= 8;
    }
    if (q > p + 3)
        q[-1] = "0123456789abcdef"[v & 15];
    return p + nd + 4;
}

/* A number member: decimal, or "0x..." (as_hex, a constant at each call:
 * folded); has == 0 writes null. */
static inline __attribute__((always_inline)) void
md_jw__number_kl(md_jw *j, const char *key, size_t kl, int has, uint64_t v,
                 int as_hex)
{
    md_jw__member(j, key, kl);
    if (!has) {
        md_jw__put(j, "null", 4);
        return;
    }
    if (j->len + 24 > MD_JW_BUF)
        md_jw__flush(j);
    char *p = j->buf + j->len;
    j->len = (size_t)((as_hex ? md_jw__hex_at(p, v) : md_jw__u64_at(p, v)) -
                      j->buf);
}

static inline __attribute__((always_inline)) void
md_jw__number(md_jw *j, const char *key, int has, uint64_t v, int as_hex)
{
    md_jw__number_kl(j, key, key ? strlen(key) : 0, has, v, as_hex);
}

static inline __attribute__((always_inline)) void
md_jw_u64(md_jw *j, const char *key, int has, uint64_t v)
{
    md_jw__number(j, key, has, v, 0);
}

static inline __attribute__((always_inline)) void
md_jw_hex(md_jw *j, const char *key, int has, uint64_t v)
{
    md_jw__number(j, key, has, v, 1);
}

/* A string the project itself chose (enum names: trust, state, ...):
 * printable ASCII without quotes or backslashes, copied without checks. */
static inline __attribute__((always_inline)) void
md_jw_name(md_jw *j, const char *key, const char *v)
{
    md_jw__member(j, key, key ? strlen(key) : 0);
    if (!v) {
        md_jw__put(j, "null", 4);
        return;
    }
    size_t n = strlen(v);
    if (n > 64 || j->len + n + 2 > MD_JW_BUF) {
        md_jw__string(j, v, n);
        return;
    }
    char *p = j->buf + j->len;
    p[0] = '"';
    memcpy(p + 1, v, n);
    p[n + 1] = '"';
    j->len += n + 2;
}

#endif
