/*
 * json_mini.c - a small strict JSON parser for tests (see json_mini.h).
 *
 * Context: tests only.
 */
#include <stdlib.h>
#include <string.h>

#include "json_mini.h"

typedef struct jp {
    const char *p, *end, *start;
    int depth;
} jp;

static void ws(jp *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static jm_node *node(jm_type t)
{
    jm_node *n = calloc(1, sizeof(*n));
    if (n)
        n->type = t;
    return n;
}

static int push(jm_node *n, jm_node *kid, char *key)
{
    jm_node **k = realloc(n->kids, (n->n + 1) * sizeof(*k));
    if (!k)
        return -1;
    n->kids = k;
    if (n->type == JM_OBJ) {
        char **ks = realloc(n->keys, (n->n + 1) * sizeof(*ks));
        if (!ks)
            return -1;
        n->keys = ks;
        ks[n->n] = key;
    }
    k[n->n++] = kid;
    return 0;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Valid UTF-8 sequence length at p, 0 if invalid. */
static size_t utf8_ok(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], cp;
    size_t len;
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
    if ((size_t)(end - p) < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

static char *parse_string(jp *j, size_t *out_len)
{
    if (j->p >= j->end || *j->p != '"')
        return NULL;
    j->p++;
    size_t cap = 64, n = 0;
    char *o = malloc(cap);
    while (o) {
        if (j->p >= j->end)
            break;
        if (n + 8 > cap) {
            char *no = realloc(o, cap *= 2);
            if (!no)
                break;
            o = no;
        }
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            o[n] = '\0';
            if (out_len)
                *out_len = n;
            return o;
        }
        if (c < 0x20)
            break;
        if (c == '\\') {
            if (j->end - j->p < 2)
                break;
            char e = j->p[1];
            j->p += 2;
            const char *map = "\"\\/bfnrt", *rep = "\"\\/\b\f\n\r\t";
            const char *m = e ? strchr(map, e) : NULL;
            if (m) {
                o[n++] = rep[m - map];
                continue;
            }
            if (e != 'u' || j->end - j->p < 4)
                break;
            unsigned cp;
            if (hex4(j->p, &cp) < 0)
                break;
            j->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
                    hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                    break;
                j->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                break;
            }
            n += put_utf8(o + n, cp);
            continue;
        }
        size_t k =
            utf8_ok((const unsigned char *)j->p, (const unsigned char *)j->end);
        if (k == 0)
            break;
        memcpy(o + n, j->p, k);
        n += k;
        j->p += k;
    }
    free(o);
    return NULL;
}

static jm_node *value(jp *j);

static jm_node *container(jp *j, int obj)
{
    jm_node *n = node(obj ? JM_OBJ : JM_ARR);
    if (!n)
        return NULL;
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        return n;
    }
    for (;;) {
        char *k = NULL;
        ws(j);
        if (obj) {
            k = parse_string(j, NULL);
            ws(j);
            if (!k || j->p >= j->end || *j->p != ':') {
                free(k);
                break;
            }
            j->p++;
        }
        jm_node *v = value(j);
        if (!v || push(n, v, k) < 0) {
            jm_free(v);
            free(k);
            break;
        }
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
            j->p++;
            return n;
        }
        break;
    }
    jm_free(n);
    return NULL;
}

static jm_node *number(jp *j)
{
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return NULL;
    if (*j->p == '0')
        j->p++;
    else
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return NULL;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return NULL;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    jm_node *n = node(JM_NUM);
    if (!n)
        return NULL;
    n->numtext = strndup(s, (size_t)(j->p - s));
    n->num = strtod(n->numtext, NULL);
    return n;
}

static int lit(jp *j, const char *w)
{
    size_t l = strlen(w);
    if ((size_t)(j->end - j->p) < l || memcmp(j->p, w, l) != 0)
        return 0;
    j->p += l;
    return 1;
}

static jm_node *value(jp *j)
{
    ws(j);
    if (j->p >= j->end || ++j->depth > 200)
        return NULL;
    jm_node *n = NULL;
    char c = *j->p;
    if (c == '{' || c == '[') {
        n = container(j, c == '{');
    } else if (c == '"') {
        size_t len;
        char *s = parse_string(j, &len);
        if (s && (n = node(JM_STR))) {
            n->s = s;
            n->slen = len;
        } else {
            free(s);
        }
    } else if (lit(j, "true") || lit(j, "false")) {
        if ((n = node(JM_BOOL)))
            n->b = c == 't';
    } else if (lit(j, "null")) {
        n = node(JM_NULL);
    } else {
        n = number(j);
    }
    j->depth--;
    return n;
}

jm_node *jm_parse(const char *text, size_t len, size_t *err)
{
    jp j = {.p = text, .end = text + len, .start = text};
    jm_node *n = value(&j);
    ws(&j);
    if (n && j.p != j.end) {
        jm_free(n);
        n = NULL;
    }
    if (!n && err)
        *err = (size_t)(j.p - text);
    return n;
}

void jm_free(jm_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        jm_free(n->kids[i]);
        if (n->keys)
            free(n->keys[i]);
    }
    free(n->kids);
    free(n->keys);
    free(n->s);
    free(n->numtext);
    free(n);
}

jm_node *jm_get(const jm_node *obj, const char *key)
{
    if (!obj || obj->type != JM_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->kids[i];
    return NULL;
}

jm_node *jm_path(const jm_node *root, const char *path)
{
    const jm_node *n = root;
    char buf[256];
    strncpy(buf, path, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    for (char *save = NULL, *t = strtok_r(buf, ".", &save); t && n;
         t = strtok_r(NULL, ".", &save)) {
        if (n->type == JM_ARR) {
            char *e;
            unsigned long i = strtoul(t, &e, 10);
            n = (*e == '\0' && i < n->n) ? n->kids[i] : NULL;
        } else {
            n = jm_get(n, t);
        }
    }
    return (jm_node *)n;
}

const char *jm_str(const jm_node *n)
{
    return n && n->type == JM_STR ? n->s : NULL;
}

uint64_t jm_hex(const jm_node *n, int *ok)
{
    *ok = 0;
    if (!n || n->type != JM_STR || strncmp(n->s, "0x", 2) != 0 || !n->s[2])
        return 0;
    char *e;
    uint64_t v = strtoull(n->s + 2, &e, 16);
    *ok = *e == '\0';
    return v;
}

int64_t jm_int(const jm_node *n, int *ok)
{
    *ok = 0;
    if (!n || n->type != JM_NUM)
        return 0;
    char *e;
    long long v = strtoll(n->numtext, &e, 10);
    *ok = *e == '\0';
    return v;
}
