/*
 * json_frame.c - the JSON of one stack frame (a member of "frames"), the
 * object a report holds thousands of (4,800 in a 129-thread report).
 *
 * The keys, separators and indentation of a frame are the same for every
 * frame at one depth, so they are built once per report (md_jf_init) as
 * one prefix per key, padded to a constant size: each field is then a
 * copy of constant size and its value, written straight into the JSON
 * writer's buffer with no per-field checks. The bytes are exactly those
 * of the general md_jw_* calls (md_jf_emit_slow, used for a frame whose
 * strings are long or need escaping, and when the depth is beyond the
 * writer's); tests compare the two.
 *
 * Context: normal (stdio through jsonw.h).
 */
#include <string.h>

#include "normal/reader/json_frame.h"
#include "normal/reader/reader.h"

static const char *const keys[MD_JF_NKEYS] = {
    "index",  "pc",   "sp",     "trust", "image",   "image_name",
    "image_offset", "symbol", "offset", "file", "line", "column",
    "inlined", "elf_symbol", "symbolicated"};

enum { K_INDEX, K_PC, K_SP, K_TRUST, K_IMAGE, K_IMAGE_NAME, K_IMAGE_OFFSET,
       K_SYMBOL, K_OFFSET, K_FILE, K_LINE, K_COLUMN, K_INLINED,
       K_ELF_SYMBOL, K_SYMBOLICATED };

void md_jf_init(md_jf *k, const md_jw *j)
{
    k->ok = 0;
    k->last_trust = k->last_status = NULL;
    k->last_trust_len = k->last_status_len = 0;
    /* The frame's members are one level below the frame object, which is
     * one below the "frames" array the caller has open. */
    int d = j->depth + 1;
    if (d >= MD_JW_MAX_DEPTH)
        return;
    for (int i = 0; i < MD_JF_NKEYS; i++) {
        char *p = k->prefix[i];
        if (i > 0)
            *p++ = ',';
        if (!j->compact) {
            *p++ = '\n';
            memset(p, ' ', 2 * (size_t)d);
            p += 2 * d;
        }
        size_t kl = strlen(keys[i]);
        *p++ = '"';
        memcpy(p, keys[i], kl);
        p += kl;
        *p++ = '"';
        *p++ = ':';
        if (!j->compact)
            *p++ = ' ';
        k->len[i] = (uint8_t)(p - k->prefix[i]);
    }
    k->short_keys = 1;
    for (int i = 0; i < MD_JF_NKEYS; i++)
        k->short_keys &= k->len[i] <= 32;
    /* The object is a member of the array at depth d - 1. */
    char *p = k->open;
    *p++ = ',';
    if (!j->compact) {
        *p++ = '\n';
        memset(p, ' ', 2 * (size_t)(d - 1));
        p += 2 * (d - 1);
    }
    *p++ = '{';
    k->open_len = (uint8_t)(p - k->open);
    p = k->close;
    if (!j->compact) {
        *p++ = '\n';
        memset(p, ' ', 2 * (size_t)(d - 1));
        p += 2 * (d - 1);
    }
    *p++ = '}';
    k->close_len = (uint8_t)(p - k->close);
    k->depth = d;
    k->ok = 1;
}

/* ------------------------------------------------------ value writers */

static inline char *key(char *p, const md_jf *k, int i)
{
    /* Constant sizes: a few vector moves, no call. Frames of a report sit
     * at depth 5, where every prefix fits in 32 bytes. */
    if (k->short_keys)
        memcpy(p, k->prefix[i], 32);
    else
        memcpy(p, k->prefix[i], MD_JF_PAD);
    return p + k->len[i];
}

static inline char *null_(char *p)
{
    memcpy(p, "null", 4);
    return p + 4;
}

#define u64 md_jw__u64_at
#define hex md_jw__hex_at

/* A string known to need no escaping (checked by plain()). */
static inline char *str(char *p, const char *s, size_t n)
{
    *p++ = '"';
    memcpy(p, s, n);
    p += n;
    *p++ = '"';
    return p;
}

/* Length of s if it can be copied into JSON as is and is not long, else
 * (size_t)-1. NULL: 0. */
static size_t plain(const char *s)
{
    if (!s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (md_jw__special[(unsigned char)s[n]] || n >= MD_JF_MAX_STR)
            return (size_t)-1;
    return n;
}

/* The project's own names (trust, status) are copied unchecked, as
 * md_jw_name does, up to its 64 bytes. */
static size_t name_len(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 64 ? (size_t)-1 : n;
}

/* ----------------------------------------------------------- frames */

void md_jf_emit_slow(md_jw *j, const md_jf_frame *x)
{
    md_jw_obj(j, NULL);
    md_jw_u64(j, "index", 1, x->index);
    md_jw_hex(j, "pc", x->has_pc, x->pc);
    md_jw_hex(j, "sp", x->has_sp, x->sp);
    md_jw_name(j, "trust", x->trust);
    md_jw_u64(j, "image", x->has_image, x->image);
    md_jw_str(j, "image_name", x->image_name);
    md_jw_hex(j, "image_offset", x->has_image_offset, x->image_offset);
    md_jw_str(j, "symbol", x->symbol);
    md_jw_hex(j, "offset", x->has_offset, x->offset);
    md_jw_str(j, "file", x->file);
    md_jw_u64(j, "line", x->line != 0, x->line);
    md_jw_u64(j, "column", x->column != 0, x->column);
    md_jw_bool(j, "inlined", x->inlined);
    md_jw_str(j, "elf_symbol", x->elf_symbol);
    md_jw_name(j, "symbolicated", x->symbolicated);
    md_jw_end(j);
}

/* A string member: its value as is, or null. */
#define STR_MEMBER(p, k, i, s, n) \
    ((p) = key((p), (k), (i)), (p) = (s) ? str((p), (s), (n)) : null_(p))

/* name_len of the project's names, which repeat from frame to frame:
 * the last one's length is kept. */
static size_t cached_len(const char **last, size_t *len, const char *s)
{
    if (s != *last) {
        *last = s;
        *len = name_len(s);
    }
    return *len;
}

void md_jf_emit(md_jw *j, md_jf *k, const md_jf_frame *x)
{
    size_t nn = x->image_name_len, ns = plain(x->symbol), nf = plain(x->file),
           ne = plain(x->elf_symbol),
           nt = cached_len(&k->last_trust, &k->last_trust_len, x->trust),
           nsy = cached_len(&k->last_status, &k->last_status_len,
                            x->symbolicated);
    if (!k->ok || j->depth + 1 != k->depth || nn > MD_JF_MAX_STR ||
        !x->image_name_plain || ns == (size_t)-1 || nf == (size_t)-1 ||
        ne == (size_t)-1 || nt == (size_t)-1 || nsy == (size_t)-1) {
        md_jf_emit_slow(j, x);
        return;
    }
    /* Every field below fits in this: 15 prefixes, 6 strings, numbers. */
    if (j->len + MD_JF_ROOM > MD_JW_BUF)
        md_jw__flush(j);
    char *p = j->buf + j->len;
    /* What md_jw_obj(j, NULL) writes into the open array: a comma after
     * the first member, the indentation, the brace. */
    int first = j->empty[j->depth];
    memcpy(p, k->open + first, MD_JF_PAD - 1);
    p += k->open_len - first;
    j->empty[j->depth] = 0;
    p = u64(key(p, k, K_INDEX), x->index);
    p = key(p, k, K_PC);
    p = x->has_pc ? hex(p, x->pc) : null_(p);
    p = key(p, k, K_SP);
    p = x->has_sp ? hex(p, x->sp) : null_(p);
    STR_MEMBER(p, k, K_TRUST, x->trust, nt);
    p = key(p, k, K_IMAGE);
    p = x->has_image ? u64(p, x->image) : null_(p);
    STR_MEMBER(p, k, K_IMAGE_NAME, x->image_name, nn);
    p = key(p, k, K_IMAGE_OFFSET);
    p = x->has_image_offset ? hex(p, x->image_offset) : null_(p);
    STR_MEMBER(p, k, K_SYMBOL, x->symbol, ns);
    p = key(p, k, K_OFFSET);
    p = x->has_offset ? hex(p, x->offset) : null_(p);
    STR_MEMBER(p, k, K_FILE, x->file, nf);
    p = key(p, k, K_LINE);
    p = x->line ? u64(p, x->line) : null_(p);
    p = key(p, k, K_COLUMN);
    p = x->column ? u64(p, x->column) : null_(p);
    p = key(p, k, K_INLINED);
    if (x->inlined) {
        memcpy(p, "true", 4);
        p += 4;
    } else {
        memcpy(p, "false", 5);
        p += 5;
    }
    STR_MEMBER(p, k, K_ELF_SYMBOL, x->elf_symbol, ne);
    STR_MEMBER(p, k, K_SYMBOLICATED, x->symbolicated, nsy);
    memcpy(p, k->close, MD_JF_PAD); /* md_jw_end of the object */
    p += k->close_len;
    j->len = (size_t)(p - j->buf);
}
