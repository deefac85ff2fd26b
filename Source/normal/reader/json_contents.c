/*
 * json_contents.c - JSON of issue 11's report contents (see
 * json_contents.h; every key in docs/report-format.md): stack memory and
 * windows as base64, FP registers decoded (x87, SSE, AVX, AVX-512) and
 * raw, system calls, the memory map with stacks and guard pages named,
 * attachments.
 *
 * Context: normal (stdio through jsonw.h). Register and vector values are
 * "0x..." strings of the whole register, most significant digit first.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normal/reader/json_contents.h"
#include "normal/reader/reader.h"

/* Pairs of base64 digits for each 12-bit value: two table loads per
 * three input bytes (stacks and windows are most of a report's bytes). */
static char b64_pairs[4096][2];

static void b64_init(void)
{
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int v = 0; v < 4096; v++) {
        b64_pairs[v][0] = t[v >> 6];
        b64_pairs[v][1] = t[v & 63];
    }
}

/* A base64 string member (RFC 4648, with padding). */
static void jw_base64(md_jw *j, const char *key, const uint8_t *p, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, b64_init);
    md_jw__member(j, key, strlen(key));
    md_jw__put(j, "\"", 1); /* no data: "" */
    size_t whole = n / 3 * 3, i = 0;
    while (i < whole) {
        /* Straight into the writer's buffer, a block at a time. */
        if (j->len + 4 * 64 > MD_JW_BUF)
            md_jw__flush(j);
        size_t end = whole - i > 3 * 64 ? i + 3 * 64 : whole;
        char *o = j->buf + j->len;
        for (; i + 6 <= end; i += 6, o += 8) { /* six bytes, 8 digits */
            uint64_t v = (uint64_t)p[i] << 40 | (uint64_t)p[i + 1] << 32 |
                         (uint64_t)p[i + 2] << 24 | (uint64_t)p[i + 3] << 16 |
                         (uint64_t)p[i + 4] << 8 | p[i + 5];
            memcpy(o, b64_pairs[v >> 36], 2);
            memcpy(o + 2, b64_pairs[(v >> 24) & 4095], 2);
            memcpy(o + 4, b64_pairs[(v >> 12) & 4095], 2);
            memcpy(o + 6, b64_pairs[v & 4095], 2);
        }
        for (; i < end; i += 3, o += 4) {
            uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
                         p[i + 2];
            memcpy(o, b64_pairs[v >> 12], 2);
            memcpy(o + 2, b64_pairs[v & 4095], 2);
        }
        j->len = (size_t)(o - j->buf);
    }
    if (i < n) { /* one or two bytes left: padded */
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        char e[4] = {b64_pairs[v >> 12][0], b64_pairs[v >> 12][1],
                     i + 1 < n ? b64_pairs[v & 4095][0] : '=', '='};
        md_jw__put(j, e, 4);
    }
    md_jw__put(j, "\"", 1);
}

/* Bytes as one hex number, most significant first: "0x00ff...". */
static void jw_wide(md_jw *j, const char *key, const uint8_t *p, size_t n)
{
    char b[3 + 2 * 64 + 1] = "\"0x";
    size_t k = 3;
    for (size_t i = 0; i < n && i < 64; i++, k += 2)
        memcpy(b + k, md_jw__hex2 + 2 * p[n - 1 - i], 2);
    b[k++] = '"';
    md_jw__member(j, key, key ? strlen(key) : 0);
    md_jw__put(j, b, sizeof b); /* constant size; only k bytes count */
    j->len -= sizeof b - k;
}

static void emit_memory(md_jw *j, const char *key, const Mayday__Memory *m)
{
    size_t n = m->has_data ? m->data.len : 0;
    md_jw_obj(j, key);
    md_jw_hex(j, "address", m->has_address, m->address);
    md_jw_u64(j, "size", 1, n);
    md_jw_arr(j, "labels");
    for (size_t i = 0; i < m->n_labels; i++)
        md_jw_str(j, NULL, m->labels[i]);
    md_jw_end(j);
    jw_base64(j, "data", n ? m->data.data : NULL, n);
    md_jw_end(j);
}

static void emit_vectors(md_jw *j, const md_fp_view *v)
{
    md_jw_arr(j, "xmm");
    for (int i = 0; i < 16; i++)
        jw_wide(j, NULL, v->area + 160 + 16 * i, 16);
    md_jw_end(j);
    if (v->avx) {
        md_jw_arr(j, "ymm");
        for (int i = 0; i < 16; i++) {
            uint8_t y[32];
            memcpy(y, v->area + 160 + 16 * i, 16);
            memcpy(y + 16, v->avx + 16 * i, 16);
            jw_wide(j, NULL, y, 32);
        }
        md_jw_end(j);
    } else {
        md_jw_null(j, "ymm");
    }
    if (v->avx && v->zmm_hi256 && v->hi16_zmm) {
        md_jw_arr(j, "zmm");
        for (int i = 0; i < 32; i++) {
            uint8_t z[64];
            if (i < 16) {
                memcpy(z, v->area + 160 + 16 * i, 16);
                memcpy(z + 16, v->avx + 16 * i, 16);
                memcpy(z + 32, v->zmm_hi256 + 32 * i, 32);
            } else {
                memcpy(z, v->hi16_zmm + 64 * (i - 16), 64);
            }
            jw_wide(j, NULL, z, 64);
        }
        md_jw_end(j);
    } else {
        md_jw_null(j, "zmm");
    }
    if (v->opmask) {
        md_jw_arr(j, "k");
        for (int i = 0; i < 8; i++) {
            uint64_t k;
            memcpy(&k, v->opmask + 8 * i, 8);
            md_jw_hex(j, NULL, 1, k);
        }
        md_jw_end(j);
    } else {
        md_jw_null(j, "k");
    }
}

static void emit_fp(md_jw *j, const Mayday__FpState *f)
{
    static const char *formats[] = {"unknown", "fxsave", "xsave",
                                    "aarch64_fpsimd"};
    md_fp_view v;
    md_jw_obj(j, "fp");
    md_jw_str(j, "format",
              f->has_format && f->format < 4 ? formats[f->format] : "unknown");
    if (md_fp_layout(f, &v) == 0) {
        uint16_t fcw, fsw;
        uint32_t mxcsr;
        memcpy(&fcw, v.area, 2);
        memcpy(&fsw, v.area + 2, 2);
        memcpy(&mxcsr, v.area + 24, 4);
        md_jw_hex(j, "xstate_bv", 1, v.xstate_bv);
        md_jw_hex(j, "fcw", 1, fcw);
        md_jw_hex(j, "fsw", 1, fsw);
        md_jw_hex(j, "ftw", 1, v.area[4]);
        md_jw_hex(j, "mxcsr", 1, mxcsr);
        md_jw_arr(j, "st");
        for (int i = 0; i < 8; i++)
            jw_wide(j, NULL, v.area + 32 + 16 * i, 10);
        md_jw_end(j);
        emit_vectors(j, &v);
        md_fp_view_free(&v);
    }
    jw_base64(j, "data", f->has_data ? f->data.data : NULL,
              f->has_data ? f->data.len : 0);
    md_jw_end(j);
}

void md_json_thread_contents(md_jw *j, const Mayday__Report *r,
                             const Mayday__Thread *t, const size_t *rlen)
{
    static const char *limits[] = {"none", "thread_cap", "budget",
                                   "report_size", "unreadable"};
    md_jw_bool(j, "mayday_thread", t->mayday_thread);
    if (t->has_syscall) {
        md_jw_obj(j, "syscall");
        md_jw_i64(j, "number", 1, t->syscall);
        md_jw_str(j, "name",
                  t->syscall >= 0 ? md_syscall_name(r, t->syscall) : NULL);
        md_jw_arr(j, "args");
        for (size_t i = 0; i < t->n_syscall_args; i++)
            md_jw_hex(j, NULL, 1, t->syscall_args[i]);
        md_jw_end(j);
        md_jw_end(j);
    } else {
        md_jw_null(j, "syscall");
    }
    md_jw_str(j, "proc_state", t->proc_state);
    md_jw_obj(j, "register_mappings");
    int mi = -1;
    for (size_t i = 0; r->n_mappings && i < t->n_registers; i++) {
        /* Registers often point into the mapping the previous one did
         * (the stack): checked before the bisection. */
        uint64_t v = t->registers[i];
        const Mayday__Mapping *m = mi >= 0 ? r->mappings[mi] : NULL;
        if (!m || v < m->start || v - m->start >= m->size)
            mi = md_mapping_of(r, v);
        const char *nm = r->register_names[i] ? r->register_names[i] : "";
        md_jw__number_kl(j, nm, rlen ? rlen[i] : strlen(nm), mi >= 0,
                         (uint64_t)mi, 0);
    }
    md_jw_end(j);
    md_jw_str(j, "stack_limit",
              t->has_stack_limit && t->stack_limit < 5 ? limits[t->stack_limit]
                                                       : NULL);
    if (t->stack)
        emit_memory(j, "stack", t->stack);
    else
        md_jw_null(j, "stack");
    if (t->fp)
        emit_fp(j, t->fp);
    else
        md_jw_null(j, "fp");
    md_jw_arr(j, "memory");
    for (size_t i = 0; i < t->n_memory; i++)
        emit_memory(j, NULL, t->memory[i]);
    md_jw_end(j);
}

void md_json_fault_place(md_jw *j, const Mayday__Report *r)
{
    const Mayday__Signal *s = r->signal;
    int mi = s->has_address ? md_mapping_of(r, s->address) : -1;
    char d[300];
    md_jw_u64(j, "address_mapping", mi >= 0, (uint64_t)mi);
    if (s->has_address && r->n_mappings) {
        md_describe_address(r, s->address, d, sizeof(d));
        md_jw_str(j, "address_description", d);
    } else {
        md_jw_null(j, "address_description");
    }
}

static void emit_mapping(md_jw *j, const Mayday__Report *r, size_t i,
                         const int *owners)
{
    const Mayday__Mapping *m = r->mappings[i];
    char perms[5], dev[32], role[256];
    md_mapping_perms(m, perms);
    if (m->dev_major < 256 && m->dev_minor < 256) { /* snprintf's %02x */
        memcpy(dev, md_jw__hex2 + 2 * m->dev_major, 2);
        dev[2] = ':';
        memcpy(dev + 3, md_jw__hex2 + 2 * m->dev_minor, 2);
        dev[5] = 0;
    } else {
        snprintf(dev, sizeof(dev), "%02x:%02x", m->dev_major, m->dev_minor);
    }
    int owner = owners ? owners[i] : md_stack_owner(r, (int)i);
    md_mapping_role_ex(r, owners, (int)i, role, sizeof(role));
    int named = owner >= 0 || !strncmp(role, "guard page", 10);
    md_jw_obj(j, NULL);
    md_jw_u64(j, "index", 1, i);
    md_jw_hex(j, "start", 1, m->start);
    md_jw_hex(j, "end", 1, m->start + m->size);
    md_jw_str(j, "perms", perms);
    md_jw_hex(j, "offset", 1, m->offset);
    md_jw_str(j, "dev", dev);
    md_jw_u64(j, "inode", 1, m->inode);
    md_jw_str(j, "path", m->path);
    md_jw_str(j, "role", named ? role : NULL);
    md_jw_end(j);
}

void md_json_report_contents(md_jw *j, const Mayday__Report *r)
{
    int *owners = md_stack_owners(r);
    md_jw_arr(j, "mappings");
    for (size_t i = 0; i < r->n_mappings; i++)
        emit_mapping(j, r, i, owners);
    md_jw_end(j);
    free(owners);
    md_jw_arr(j, "attachments");
    for (size_t i = 0; i < r->n_attachments; i++) {
        const Mayday__Attachment *a = r->attachments[i];
        size_t n = a->has_data ? a->data.len : 0;
        md_jw_obj(j, NULL);
        md_jw_str(j, "name", a->name);
        md_jw_str(j, "kind",
                  a->kind == MAYDAY__ATTACHMENT_KIND__ATTACHMENT_KIND_FILE
                      ? "file"
                  : a->kind == MAYDAY__ATTACHMENT_KIND__ATTACHMENT_KIND_MEMORY
                      ? "memory"
                      : "unknown");
        md_jw_str(j, "path", a->path);
        md_jw_u64(j, "size", a->has_size, a->size);
        md_jw_u64(j, "offset", 1, a->offset);
        md_jw_u64(j, "data_size", 1, n);
        md_jw_bool(j, "truncated",
                   a->offset > 0 || (a->has_size && a->offset + n < a->size));
        md_jw_str(j, "error", a->error);
        jw_base64(j, "data", n ? a->data.data : NULL, n);
        md_jw_end(j);
    }
    md_jw_end(j);
}
