/*
 * json.c - the JSON rendering of a report (docs/report-format.md describes
 * every key; the key order and names are stable).
 *
 * Context: normal (stdio). Strings are escaped per RFC 8259: quotes,
 * backslashes and control characters are escaped, and bytes that are not
 * valid UTF-8 become U+FFFD, so the output is always valid JSON whatever the
 * report holds. 64-bit addresses are "0x..." strings (JSON numbers lose
 * precision above 2^53).
 */
#include <inttypes.h>
#include <string.h>

#include "normal/reader/reader.h"

#define MD_JSON_MAX_DEPTH 16

typedef struct md_json {
    FILE *f;
    int depth;
    int first[MD_JSON_MAX_DEPTH]; /* no member written yet at this depth */
    int after_key;                /* a key was just written */
} md_json;

static void indent(md_json *j)
{
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Separator and indentation before a value or key. */
static void pre(md_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (!j->first[j->depth])
            fputc(',', j->f);
        j->first[j->depth] = 0;
        indent(j);
    }
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
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

static void put_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    fputc('"', f);
    while (n > 0) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c == '\r') {
            fputs("\\r", f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else {
            size_t k = utf8_len(p, n);
            if (k == 0) {
                fputs("\\ufffd", f);
                k = 1;
            } else {
                fwrite(p, 1, k, f);
            }
            p += k;
            n -= k;
            continue;
        }
        p++;
        n--;
    }
    fputc('"', f);
}

static void key(md_json *j, const char *k)
{
    pre(j);
    put_string(j->f, k);
    fputs(": ", j->f);
    j->after_key = 1;
}

static void open_(md_json *j, int c)
{
    pre(j);
    fputc(c, j->f);
    if (j->depth + 1 < MD_JSON_MAX_DEPTH)
        j->depth++;
    j->first[j->depth] = 1;
}

static void close_(md_json *j, int c)
{
    int empty = j->first[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (!empty)
        indent(j);
    fputc(c, j->f);
}

static void v_str(md_json *j, const char *s)
{
    pre(j);
    if (s)
        put_string(j->f, s);
    else
        fputs("null", j->f);
}

static void v_null(md_json *j)
{
    pre(j);
    fputs("null", j->f);
}

static void v_bool(md_json *j, int b)
{
    pre(j);
    fputs(b ? "true" : "false", j->f);
}

static void v_u64(md_json *j, int has, uint64_t v)
{
    pre(j);
    if (has)
        fprintf(j->f, "%" PRIu64, v);
    else
        fputs("null", j->f);
}

static void v_i64(md_json *j, int has, int64_t v)
{
    pre(j);
    if (has)
        fprintf(j->f, "%" PRId64, v);
    else
        fputs("null", j->f);
}

static void v_hex(md_json *j, int has, uint64_t v)
{
    pre(j);
    if (has)
        fprintf(j->f, "\"0x%" PRIx64 "\"", v);
    else
        fputs("null", j->f);
}

static void v_time(md_json *j, int has, int64_t ns)
{
    char b[64];
    if (!has) {
        v_null(j);
        return;
    }
    md_format_time(ns, b, sizeof(b));
    v_str(j, b);
}

#define KSTR(j, k, v) (key(j, k), v_str(j, v))
#define KU(j, k, has, v) (key(j, k), v_u64(j, has, v))

static void emit_report(md_json *j, const mayday_report *rep)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Header *h = r->header;
    key(j, "report");
    open_(j, '{');
    key(j, "uuid");
    v_str(j, rep->uuid[0] ? rep->uuid : NULL);
    key(j, "time");
    v_time(j, h && h->has_time_unix_ns, h ? h->time_unix_ns : 0);
    key(j, "time_unix_ns");
    if (h && h->has_time_unix_ns) {
        char b[32];
        snprintf(b, sizeof(b), "%" PRId64, h->time_unix_ns);
        v_str(j, b);
    } else {
        v_null(j);
    }
    KSTR(j, "reporter_version", h ? h->reporter_version : NULL);
    key(j, "live");
    v_bool(j, h && h->live);
    KSTR(j, "reason", h ? h->reason : NULL);
    KSTR(j, "handler",
         h && h->has_handler ? md_handler_name(h->handler) : NULL);
    KU(j, "handoff_ns", h && h->has_handoff_ns, h ? h->handoff_ns : 0);
    KU(j, "suspend_ns", h && h->has_suspend_ns, h ? h->suspend_ns : 0);
    char reasons[240];
    int n = md_incomplete_reasons(r, reasons, sizeof(reasons));
    key(j, "complete");
    v_bool(j, n == 0);
    key(j, "incomplete");
    open_(j, '[');
    const char *names[] = {"truncated",       "threads_not_suspended",
                           "threads_capped",  "images_inconsistent",
                           "recursive_crash", "frames_capped",
                           "handoff_timed_out"};
    int set[] = {r->truncated,       r->threads_not_suspended != 0,
                 r->threads_capped,  r->images_inconsistent,
                 r->recursive_crash, r->frames_capped,
                 r->handoff_timed_out};
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        if (set[i])
            v_str(j, names[i]);
    close_(j, ']');
    KU(j, "threads_not_suspended", r->has_threads_not_suspended,
       r->threads_not_suspended);
    close_(j, '}');
}

static void emit_process(md_json *j, const Mayday__Report *r)
{
    const Mayday__App *a = r->app;
    key(j, "app");
    open_(j, '{');
    KSTR(j, "id", a ? a->id : NULL);
    KSTR(j, "version", a ? a->version : NULL);
    close_(j, '}');

    const Mayday__Process *p = r->process;
    key(j, "process");
    if (!p) {
        v_null(j);
    } else {
        open_(j, '{');
        KU(j, "pid", p->has_pid, p->pid);
        KU(j, "ppid", p->has_ppid, p->ppid);
        KSTR(j, "name", p->name);
        KSTR(j, "path", p->path);
        key(j, "argv");
        open_(j, '[');
        for (size_t i = 0; i < p->n_argv; i++)
            v_str(j, p->argv[i]);
        close_(j, ']');
        key(j, "start_time");
        v_time(j, p->has_start_time_unix_ns, p->start_time_unix_ns);
        KU(j, "uid", p->has_uid, p->uid);
        KU(j, "euid", p->has_euid, p->euid);
        KU(j, "gid", p->has_gid, p->gid);
        KSTR(j, "cwd", p->cwd);
        KU(j, "tracer_pid", p->has_tracer_pid, p->tracer_pid);
        close_(j, '}');
    }

    const Mayday__System *s = r->system;
    key(j, "system");
    if (!s) {
        v_null(j);
    } else {
        open_(j, '{');
        KSTR(j, "os", s->os);
        KSTR(j, "release", s->release);
        KSTR(j, "version", s->version);
        KSTR(j, "machine", s->machine);
        KSTR(j, "hostname", s->hostname);
        KSTR(j, "libc", s->libc);
        KSTR(j, "boot_id", s->boot_id);
        KU(j, "uptime_ms", s->has_uptime_ms, s->uptime_ms);
        KU(j, "cpu_count", s->has_cpu_count, s->cpu_count);
        KU(j, "memory_total_bytes", s->has_memory_total_bytes,
           s->memory_total_bytes);
        KU(j, "page_size", s->has_page_size, s->page_size);
        close_(j, '}');
    }
}

static void emit_signal(md_json *j, const mayday_report *rep)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Signal *s = r->signal;
    key(j, "signal");
    if (!s) {
        v_null(j);
    } else {
        open_(j, '{');
        KU(j, "number", s->has_number, s->number);
        KSTR(j, "name", rep->signal_name[0] ? rep->signal_name : NULL);
        key(j, "code");
        v_i64(j, s->has_code, s->code);
        const char *cn = s->code_name;
        if (!cn && s->has_code)
            cn = md_signal_code_name(s->number, s->code);
        KSTR(j, "code_name", cn);
        key(j, "address");
        v_hex(j, s->has_address, s->address);
        KU(j, "sender_pid", s->has_sender_pid, s->sender_pid);
        KU(j, "sender_uid", s->has_sender_uid, s->sender_uid);
        key(j, "errno");
        v_i64(j, s->has_errno_value, s->errno_value);
        key(j, "syscall");
        v_i64(j, s->has_syscall, s->syscall);
        close_(j, '}');
    }
    KSTR(j, "cause", r->has_cause ? md_cause_id(r->cause) : NULL);
    KSTR(j, "cause_text", r->has_cause ? md_cause_text(r->cause) : NULL);
    KSTR(j, "abort_message", r->abort_message);
    KU(j, "crashed_thread", r->has_crashed_thread, r->crashed_thread);
}

static void emit_frame(md_json *j, const mayday_report *rep,
                       const Mayday__Frame *f, size_t fi,
                       const mayday_symbol *sym)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Image *img = f->has_image ? r->images[f->image] : NULL;
    open_(j, '{');
    KU(j, "index", 1, fi);
    key(j, "pc");
    v_hex(j, f->has_pc, f->pc);
    key(j, "sp");
    v_hex(j, f->has_sp, f->sp);
    KSTR(j, "trust", md_trust_name(f->has_trust ? f->trust : 0));
    KU(j, "image", f->has_image, f->image);
    KSTR(j, "image_name", img ? md_image_short_name(img) : NULL);
    key(j, "image_offset");
    v_hex(j, img && f->has_pc, img ? md_image_rel(img, f->pc) : 0);
    KSTR(j, "symbol", sym ? sym->function : NULL);
    key(j, "offset");
    v_hex(j, sym && sym->function && !sym->inlined, sym ? sym->offset : 0);
    KSTR(j, "file", sym ? sym->file : NULL);
    KU(j, "line", sym && sym->line, sym ? sym->line : 0);
    KU(j, "column", sym && sym->column, sym ? sym->column : 0);
    key(j, "inlined");
    v_bool(j, sym && sym->inlined);
    close_(j, '}');
}

static void emit_threads(md_json *j, const mayday_report *rep,
                         const mayday_format_options *o)
{
    const Mayday__Report *r = rep->pb;
    key(j, "threads");
    open_(j, '[');
    for (size_t ti = 0; ti < r->n_threads; ti++) {
        const Mayday__Thread *t = r->threads[ti];
        open_(j, '{');
        KU(j, "index", 1, ti);
        KU(j, "tid", t->has_tid, t->tid);
        KSTR(j, "name", t->name);
        key(j, "crashed");
        v_bool(j, t->crashed);
        KSTR(j, "state", t->has_state ? md_state_name(t->state) : NULL);
        KSTR(j, "note", t->note);
        key(j, "frames_capped");
        v_bool(j, t->frames_capped);
        key(j, "registers");
        open_(j, '{');
        for (size_t i = 0; i < t->n_registers; i++) {
            const char *nm = r->register_names[i];
            key(j, nm ? nm : "");
            v_hex(j, 1, t->registers[i]);
        }
        close_(j, '}');
        key(j, "frames");
        open_(j, '[');
        for (size_t fi = 0; fi < t->n_frames; fi++) {
            mayday_symbol sym[MD_MAX_SYMBOLS];
            int ns = md_frame_symbols(rep, o, t, fi, sym);
            if (ns == 0)
                emit_frame(j, rep, t->frames[fi], fi, NULL);
            for (int k = 0; k < ns; k++) {
                sym[k].inlined = k + 1 < ns;
                emit_frame(j, rep, t->frames[fi], fi, &sym[k]);
            }
        }
        close_(j, ']');
        close_(j, '}');
    }
    close_(j, ']');
}

static void emit_images(md_json *j, const mayday_report *rep,
                        const mayday_format_options *o)
{
    const Mayday__Report *r = rep->pb;
    key(j, "images");
    open_(j, '[');
    for (size_t i = 0; i < r->n_images; i++) {
        const Mayday__Image *m = r->images[i];
        open_(j, '{');
        KU(j, "index", 1, i);
        KSTR(j, "path", m->path);
        KSTR(j, "name", md_image_short_name(m));
        key(j, "base");
        v_hex(j, m->has_address, m->address);
        key(j, "size");
        v_hex(j, m->has_size, m->size);
        key(j, "load_bias");
        v_hex(j, m->has_load_bias, m->load_bias);
        key(j, "build_id");
        if (m->has_build_id) {
            char b[2 * 64 + 1];
            size_t len = m->build_id.len < 64 ? m->build_id.len : 64;
            md_format_hex(m->build_id.data, len, b, sizeof(b));
            v_str(j, b);
        } else {
            v_null(j);
        }
        key(j, "main_program");
        v_bool(j, m->main_program);
        key(j, "vdso");
        v_bool(j, m->vdso);
        key(j, "segments");
        open_(j, '[');
        for (size_t s = 0; s < m->n_segments; s++) {
            const Mayday__Segment *g = m->segments[s];
            char fl[4] = {g->flags & 4 ? 'r' : '-', g->flags & 2 ? 'w' : '-',
                          g->flags & 1 ? 'x' : '-', 0};
            open_(j, '{');
            key(j, "address");
            v_hex(j, g->has_address, g->address);
            key(j, "size");
            v_hex(j, g->has_size, g->size);
            KSTR(j, "flags", g->has_flags ? fl : NULL);
            key(j, "file_offset");
            v_hex(j, g->has_file_offset, g->file_offset);
            close_(j, '}');
        }
        close_(j, ']');
        const char *note = o->image_note
                               ? o->image_note(o->user_data, rep, (uint32_t)i)
                               : NULL;
        KSTR(j, "symbols_note", note);
        close_(j, '}');
    }
    close_(j, ']');
}

int md_format_json(const mayday_report *rep, const mayday_format_options *o,
                   FILE *out)
{
    const Mayday__Report *r = rep->pb;
    md_json jj = {.f = out};
    md_json *j = &jj;
    open_(j, '{');
    KSTR(j, "format", "mayday-report");
    KU(j, "format_version", 1, 1);
    emit_report(j, rep);
    emit_process(j, r);
    emit_signal(j, rep);
    emit_threads(j, rep, o);
    emit_images(j, rep, o);
    key(j, "annotations");
    open_(j, '{');
    for (size_t i = 0; i < r->n_annotations; i++) {
        const Mayday__Annotation *a = r->annotations[i];
        key(j, a->key ? a->key : "");
        v_str(j, a->value ? a->value : "");
    }
    close_(j, '}');
    key(j, "breadcrumbs");
    open_(j, '[');
    for (size_t i = 0; i < r->n_breadcrumbs; i++) {
        const Mayday__Breadcrumb *b = r->breadcrumbs[i];
        open_(j, '{');
        key(j, "time");
        v_time(j, b->has_time_unix_ns, b->time_unix_ns);
        KSTR(j, "message", b->message ? b->message : "");
        close_(j, '}');
    }
    close_(j, ']');
    close_(j, '}');
    fputc('\n', out);
    return 0;
}
