/*
 * fmt.c - formatting and parsing without stdio (see fmt.h).
 *
 * Context: async-signal-safe. Tested against snprintf/strtoull in
 * Tests/core/test_fmt.c.
 */
#include "fmt.h"

#include <string.h>

#include "poison.h"

static size_t put_digits(char *buf, size_t cap, uint64_t v, unsigned base,
                         int min_digits, const char *prefix)
{
    char tmp[72];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while ((int)n < min_digits && n < 64)
        tmp[n++] = '0';
    size_t pl = prefix ? strlen(prefix) : 0;
    if (cap == 0)
        return 0;
    if (pl + n + 1 > cap) {
        buf[0] = 0;
        return 0;
    }
    memcpy(buf, prefix, pl);
    for (size_t i = 0; i < n; i++)
        buf[pl + i] = tmp[n - 1 - i];
    buf[pl + n] = 0;
    return pl + n;
}

size_t mds_fmt_u64(char *buf, size_t cap, uint64_t v)
{
    return put_digits(buf, cap, v, 10, 1, 0);
}

size_t mds_fmt_i64(char *buf, size_t cap, int64_t v)
{
    if (v < 0)
        return put_digits(buf, cap, (uint64_t)0 - (uint64_t)v, 10, 1, "-");
    return put_digits(buf, cap, (uint64_t)v, 10, 1, 0);
}

size_t mds_fmt_hex(char *buf, size_t cap, uint64_t v, int min_digits)
{
    return put_digits(buf, cap, v, 16, min_digits, 0);
}

size_t mds_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t mds_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = mds_strlen(src);
    if (cap) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(dst, src, k);
        dst[k] = 0;
    }
    return n;
}

int mds_strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int mds_strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

int mds_str_has_prefix(const char *s, const char *p)
{
    return mds_strncmp(s, p, mds_strlen(p)) == 0;
}

int mds_str_has_suffix(const char *s, const char *suf)
{
    size_t n = mds_strlen(s), k = mds_strlen(suf);
    return n >= k && mds_strcmp(s + n - k, suf) == 0;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

int mds_parse_u64(const char *s, int base, uint64_t *out, const char **end)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (base == 0) {
        base = 10;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            base = 16;
            s += 2;
        }
    }
    uint64_t v = 0;
    int any = 0, bad = 0;
    for (;; s++) {
        int d = digit_value(*s);
        if (d >= base)
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            bad = 1;
        v = v * (uint64_t)base + (uint64_t)d;
        any = 1;
    }
    if (end)
        *end = s;
    if (!any || bad)
        return -1;
    *out = v;
    return 0;
}

void mds_sbuf_init(mds_sbuf *sb, char *buf, size_t cap)
{
    sb->buf = buf;
    sb->cap = cap;
    sb->len = 0;
    sb->overflow = cap == 0;
    if (cap)
        buf[0] = 0;
}

void mds_sbuf_mem(mds_sbuf *sb, const char *s, size_t n)
{
    if (sb->cap == 0)
        return;
    size_t room = sb->cap - 1 - sb->len;
    if (n > room) {
        n = room;
        sb->overflow = 1;
    }
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = 0;
}

void mds_sbuf_str(mds_sbuf *sb, const char *s)
{
    mds_sbuf_mem(sb, s, mds_strlen(s));
}

void mds_sbuf_char(mds_sbuf *sb, char c) { mds_sbuf_mem(sb, &c, 1); }

void mds_sbuf_u64(mds_sbuf *sb, uint64_t v)
{
    char t[24];
    mds_sbuf_mem(sb, t, mds_fmt_u64(t, sizeof t, v));
}

void mds_sbuf_i64(mds_sbuf *sb, int64_t v)
{
    char t[24];
    mds_sbuf_mem(sb, t, mds_fmt_i64(t, sizeof t, v));
}

void mds_sbuf_hex(mds_sbuf *sb, uint64_t v, int min_digits)
{
    char t[72];
    mds_sbuf_mem(sb, t, mds_fmt_hex(t, sizeof t, v, min_digits));
}
