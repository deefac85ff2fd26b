/*
 * fmt.h - string and number formatting and parsing without stdio.
 *
 * Context: async-signal-safe; pure functions on caller memory.
 */
#ifndef MDS_FMT_H
#define MDS_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Decimal / hex text of v into buf (cap includes the NUL). Returns the
 * length written (without NUL), or 0 if cap is too small (buf = ""). */
size_t mds_fmt_u64(char *buf, size_t cap, uint64_t v);
size_t mds_fmt_i64(char *buf, size_t cap, int64_t v);
/* Lowercase hex, no prefix; at least min_digits digits (zero-padded). */
size_t mds_fmt_hex(char *buf, size_t cap, uint64_t v, int min_digits);

size_t mds_strlen(const char *s);
/* Like BSD strlcpy: copies, always terminates (cap > 0), returns strlen(src). */
size_t mds_strlcpy(char *dst, const char *src, size_t cap);
int mds_strcmp(const char *a, const char *b);
int mds_strncmp(const char *a, const char *b, size_t n);
int mds_str_has_prefix(const char *s, const char *prefix);
int mds_str_has_suffix(const char *s, const char *suffix);

/* Parses an unsigned number in base 10 or 16 (base 0: "0x" prefix means
 * hex) from s, skipping leading spaces/tabs. *end gets the first unparsed
 * char. Returns 0, or -1 if there are no digits or it overflows. */
int mds_parse_u64(const char *s, int base, uint64_t *out, const char **end);

/* A bounded string builder over a caller buffer. Appends that do not fit
 * are cut and set `overflow`; buf stays NUL-terminated. */
typedef struct mds_sbuf {
    char *buf;
    size_t cap;
    size_t len;
    int overflow;
} mds_sbuf;

void mds_sbuf_init(mds_sbuf *sb, char *buf, size_t cap);
void mds_sbuf_str(mds_sbuf *sb, const char *s);
void mds_sbuf_mem(mds_sbuf *sb, const char *s, size_t n);
void mds_sbuf_u64(mds_sbuf *sb, uint64_t v);
void mds_sbuf_i64(mds_sbuf *sb, int64_t v);
void mds_sbuf_hex(mds_sbuf *sb, uint64_t v, int min_digits);
void mds_sbuf_char(mds_sbuf *sb, char c);

#endif
