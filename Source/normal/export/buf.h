/*
 * buf.h - a growable byte buffer for the exporters (minidump, Sentry
 * envelope): append, reserve zeroed room, align, patch little-endian
 * integers at an offset. An allocation failure is remembered (oom) and every
 * later call is a no-op, so builders check once at the end.
 *
 * Context: normal (malloc). Never used on the crash path.
 */
#ifndef MD_EXPORT_BUF_H
#define MD_EXPORT_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct md_buf {
    unsigned char *p;
    size_t len, cap;
    int oom;
} md_buf;

/* Appends n bytes; returns the offset where they start. */
size_t md_buf_put(md_buf *b, const void *data, size_t n);
/* Appends n zero bytes; returns their offset. */
size_t md_buf_zero(md_buf *b, size_t n);
/* Pads with zeros to a multiple of a (a power of two). */
void md_buf_align(md_buf *b, size_t a);
void md_buf_str(md_buf *b, const char *s);
void md_buf_printf(md_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Little-endian stores at an offset already inside the buffer. */
void md_buf_set16(md_buf *b, size_t off, uint16_t v);
void md_buf_set32(md_buf *b, size_t off, uint32_t v);
void md_buf_set64(md_buf *b, size_t off, uint64_t v);
/* s as a JSON string (RFC 8259 escapes; bytes that are not valid UTF-8
 * become U+FFFD); NULL as null. */
void md_buf_json_str(md_buf *b, const char *s);
void md_buf_free(md_buf *b);

#endif
