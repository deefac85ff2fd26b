/*
 * buf.c - the exporters' growable byte buffer (see buf.h), and a JSON
 * string escaper into it for the envelope headers.
 *
 * Context: normal (malloc). Never used on the crash path.
 */
#include "normal/export/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for n more bytes; 0 or -1 (and oom set). */
static int grow(md_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (n <= b->cap - b->len)
        return 0;
    size_t want = b->len + n, nc = b->cap ? b->cap : 4096;
    while (nc < want) {
        if (nc > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        nc *= 2;
    }
    unsigned char *np = realloc(b->p, nc);
    if (!np) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = nc;
    return 0;
}

size_t md_buf_put(md_buf *b, const void *data, size_t n)
{
    size_t off = b->len;
    if (n == 0 || grow(b, n) < 0)
        return off;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return off;
}

size_t md_buf_zero(md_buf *b, size_t n)
{
    size_t off = b->len;
    if (n == 0 || grow(b, n) < 0)
        return off;
    memset(b->p + b->len, 0, n);
    b->len += n;
    return off;
}

void md_buf_align(md_buf *b, size_t a)
{
    size_t pad = (a - (b->len & (a - 1))) & (a - 1);
    md_buf_zero(b, pad);
}

void md_buf_str(md_buf *b, const char *s) { md_buf_put(b, s, strlen(s)); }

void md_buf_printf(md_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        md_buf_put(b, small, (size_t)n);
        return;
    }
    if (grow(b, (size_t)n + 1) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void set_le(md_buf *b, size_t off, uint64_t v, size_t n)
{
    if (b->oom || off + n > b->len)
        return;
    for (size_t i = 0; i < n; i++)
        b->p[off + i] = (unsigned char)(v >> (8 * i));
}

void md_buf_set16(md_buf *b, size_t off, uint16_t v) { set_le(b, off, v, 2); }

void md_buf_set32(md_buf *b, size_t off, uint32_t v) { set_le(b, off, v, 4); }

void md_buf_set64(md_buf *b, size_t off, uint64_t v) { set_le(b, off, v, 8); }

/* Length of the valid UTF-8 sequence at p (n left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void md_buf_json_str(md_buf *b, const char *s)
{
    if (!s) {
        md_buf_str(b, "null");
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    md_buf_put(b, "\"", 1);
    while (n > 0) {
        unsigned c = *p;
        size_t k = 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            md_buf_put(b, e, 2);
        } else if (c == '\n') {
            md_buf_put(b, "\\n", 2);
        } else if (c == '\t') {
            md_buf_put(b, "\\t", 2);
        } else if (c == '\r') {
            md_buf_put(b, "\\r", 2);
        } else if (c < 0x20 || c == 0x7f) {
            md_buf_printf(b, "\\u%04x", c);
        } else if ((k = utf8_len(p, n)) == 0) {
            md_buf_put(b, "\\ufffd", 6);
            k = 1;
        } else {
            md_buf_put(b, p, k);
        }
        p += k;
        n -= k;
    }
    md_buf_put(b, "\"", 1);
}

void md_buf_free(md_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
