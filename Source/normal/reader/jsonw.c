/*
 * jsonw.c - the buffered JSON writer behind json.c (see jsonw.h).
 *
 * Context: normal (stdio). Output is assembled in the writer's own buffer
 * and handed to fwrite() in blocks of up to 64 KiB; runs of characters
 * that need no escaping are copied with one memcpy (the previous writer
 * called fwrite once per character: 7.5 MB/s, docs/performance.md).
 */
#include <string.h>

#include "mayday/mayday.h"
#include "normal/reader/jsonw.h"
#include "normal/reader/reader.h"

void md_jw__flush(md_jw *j)
{
    if (j->len && fwrite(j->buf, 1, j->len, j->f) != j->len)
        j->err = 1;
    j->len = 0;
}

/* Room for n more bytes (n <= MD_JW_BUF). */
static inline char *room(md_jw *j, size_t n)
{
    if (j->len + n > MD_JW_BUF)
        md_jw__flush(j);
    return j->buf + j->len;
}

static inline void put(md_jw *j, const char *s, size_t n)
{
    while (n > 0) {
        size_t k = n < MD_JW_BUF ? n : MD_JW_BUF;
        memcpy(room(j, k), s, k);
        j->len += k;
        s += k;
        n -= k;
    }
}

static inline void putc_(md_jw *j, char c)
{
    *room(j, 1) = c;
    j->len++;
}

void md_jw_init(md_jw *j, FILE *f, int compact)
{
    j->f = f;
    j->len = 0;
    j->depth = 0;
    j->compact = compact;
    j->err = 0;
    j->empty[0] = 1;
}

const char md_jw__indent[1 + 2 * MD_JW_MAX_DEPTH] = {
    '\n', [1 ... 2 * MD_JW_MAX_DEPTH] = ' '};

#define H1(x) "0123456789abcdef"[(x) >> 4], "0123456789abcdef"[(x)&15]
#define H4(x) H1(x), H1((x) + 1), H1((x) + 2), H1((x) + 3)
#define H16(x) H4(x), H4((x) + 4), H4((x) + 8), H4((x) + 12)
#define H64(x) H16(x), H16((x) + 16), H16((x) + 32), H16((x) + 48)
const char md_jw__hex2[512] = {H64(0), H64(64), H64(128), H64(192)};

static void newline_indent(md_jw *j)
{
    if (j->compact)
        return;
    int n = j->depth < MD_JW_MAX_DEPTH ? j->depth : MD_JW_MAX_DEPTH;
    put(j, md_jw__indent, 1 + 2 * (size_t)n);
}

/* Class of each byte in a string: 0 copied as is, 1 escaped or checked. */
const unsigned char md_jw__special[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x7f ... 0xff] = 1,
};

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF too). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
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

void md_jw__string(md_jw *j, const char *s, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    putc_(j, '"');
    if (n <= 128 && j->len + n + 1 <= MD_JW_BUF) {
        /* Short strings (nearly all): one pass, copying as it checks. */
        char *o = j->buf + j->len;
        size_t i = 0;
        while (i < n && !md_jw__special[p[i]]) {
            o[i] = (char)p[i];
            i++;
        }
        j->len += i;
        p += i;
        n -= i;
    }
    while (n > 0) {
        size_t run = 0;
        while (run < n && !md_jw__special[p[run]])
            run++;
        put(j, (const char *)p, run);
        p += run;
        n -= run;
        if (n == 0)
            break;
        unsigned c = *p;
        size_t k = 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(j, e, 2);
        } else if (c == '\n') {
            put(j, "\\n", 2);
        } else if (c == '\t') {
            put(j, "\\t", 2);
        } else if (c == '\r') {
            put(j, "\\r", 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hx[c >> 4], hx[c & 15]};
            put(j, e, 6);
        } else if ((k = utf8_len(p, n)) == 0) {
            put(j, "\\ufffd", 6);
            k = 1;
        } else {
            put(j, (const char *)p, k);
        }
        p += k;
        n -= k;
    }
    putc_(j, '"');
}

/* Separator, indentation and "key": before a member (any depth, any key
 * length; md_jw__member in jsonw.h is the fast path of the same). */
void md_jw__member_slow(md_jw *j, const char *key, size_t kl)
{
    int d = j->depth < MD_JW_MAX_DEPTH ? j->depth : MD_JW_MAX_DEPTH;
    if (j->depth > 0) {
        if (!j->empty[d])
            putc_(j, ',');
        j->empty[d] = 0;
        newline_indent(j);
    }
    if (key && j->depth > 0 && j->closer[d] == '}') {
        md_jw__string(j, key, kl);
        if (j->compact)
            putc_(j, ':');
        else
            put(j, ": ", 2);
    }
}

static void member(md_jw *j, const char *key)
{
    md_jw__member(j, key, key ? strlen(key) : 0);
}

static void open_(md_jw *j, const char *key, char o, char c)
{
    member(j, key);
    putc_(j, o);
    if (j->depth < MD_JW_MAX_DEPTH) {
        j->depth++;
        j->empty[j->depth] = 1;
        j->closer[j->depth] = c;
    } else {
        j->depth++; /* deeper levels are flattened, still balanced */
    }
}

void md_jw_obj(md_jw *j, const char *key) { open_(j, key, '{', '}'); }
void md_jw_arr(md_jw *j, const char *key) { open_(j, key, '[', ']'); }

void md_jw_end(md_jw *j)
{
    if (j->depth == 0)
        return;
    int d = j->depth < MD_JW_MAX_DEPTH ? j->depth : MD_JW_MAX_DEPTH;
    char c = j->closer[d];
    int empty = j->empty[d];
    j->depth--;
    if (!empty)
        newline_indent(j);
    putc_(j, c);
}

int md_jw_finish(md_jw *j)
{
    while (j->depth > 0)
        md_jw_end(j);
    putc_(j, '\n');
    md_jw__flush(j);
    return j->err ? MAYDAY_EIO : 0;
}

void md_jw_strn(md_jw *j, const char *key, const char *v, size_t n)
{
    member(j, key);
    if (v)
        md_jw__string(j, v, n);
    else
        put(j, "null", 4);
}

void md_jw_null(md_jw *j, const char *key)
{
    member(j, key);
    put(j, "null", 4);
}

/* Decimal digits of v at the end of b[24]; returns the first. */
static char *dec(char b[24], uint64_t v)
{
    char *p = b + 24;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void md_jw_i64(md_jw *j, const char *key, int has, int64_t v)
{
    member(j, key);
    if (!has) {
        put(j, "null", 4);
        return;
    }
    char b[25], *p = dec(b + 1, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    put(j, p, (size_t)(b + 25 - p));
}

void md_jw_dec_str(md_jw *j, const char *key, int has, int64_t v)
{
    member(j, key);
    if (!has) {
        put(j, "null", 4);
        return;
    }
    char b[27], *p = dec(b + 2, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    *--p = '"';
    b[26] = '"';
    put(j, p, (size_t)(b + 27 - p));
}

void md_jw_hexbytes(md_jw *j, const char *key, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    member(j, key);
    if (!p) {
        put(j, "null", 4);
        return;
    }
    putc_(j, '"');
    for (size_t i = 0; i < n; i++) {
        char e[2] = {hx[p[i] >> 4], hx[p[i] & 15]};
        put(j, e, 2);
    }
    putc_(j, '"');
}

void md_jw_time(md_jw *j, const char *key, int has, int64_t ns)
{
    if (!has) {
        md_jw_null(j, key);
        return;
    }
    char b[64];
    md_format_time(ns, b, sizeof(b));
    md_jw_str(j, key, b);
}
