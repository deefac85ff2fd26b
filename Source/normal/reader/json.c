/*
 * json.c - the JSON rendering of a report (docs/report-format.md describes
 * every key; the key order and names are stable).
 *
 * Context: normal (stdio). Written through jsonw.h (one helper call per
 * field; escaping, UTF-8 checks and buffering live there). 64-bit
 * addresses are "0x..." strings (JSON numbers lose precision above 2^53).
 */
#include <stdlib.h>
#include <string.h>

#include "normal/reader/json_contents.h"
#include "normal/reader/json_frame.h"
#include "normal/reader/jsonw.h"
#include "normal/reader/reader.h"

static void emit_report(md_jw *j, const mayday_report *rep)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Header *h = r->header;
    md_jw_obj(j, "report");
    md_jw_str(j, "uuid", rep->uuid[0] ? rep->uuid : NULL);
    md_jw_time(j, "time", h && h->has_time_unix_ns, h ? h->time_unix_ns : 0);
    md_jw_dec_str(j, "time_unix_ns", h && h->has_time_unix_ns,
                  h ? h->time_unix_ns : 0);
    md_jw_str(j, "reporter_version", h ? h->reporter_version : NULL);
    md_jw_bool(j, "live", h && h->live);
    md_jw_str(j, "reason", h ? h->reason : NULL);
    md_jw_str(j, "handler",
              h && h->has_handler ? md_handler_name(h->handler) : NULL);
    md_jw_u64(j, "handoff_ns", h && h->has_handoff_ns, h ? h->handoff_ns : 0);
    md_jw_u64(j, "suspend_ns", h && h->has_suspend_ns, h ? h->suspend_ns : 0);
    md_jw_str(j, "stop_method",
              h && h->has_stop_method ? md_stop_method_name(h->stop_method)
                                      : NULL);
    md_jw_str(j, "stop_note", h ? h->stop_note : NULL);
    md_jw_u64(j, "rlimit_fsize", r->has_rlimit_fsize, r->rlimit_fsize);
    char reasons[240];
    int n = md_incomplete_reasons(r, reasons, sizeof(reasons));
    md_jw_bool(j, "complete", n == 0);
    md_jw_arr(j, "incomplete");
    const char *names[] = {"truncated",        "threads_not_suspended",
                           "threads_capped",   "images_inconsistent",
                           "recursive_crash",  "frames_capped",
                           "handoff_timed_out",
                           /* issue 10 */
                           "images_capped", "segments_capped",
                           "image_paths_capped", "argv_truncated",
                           "crashed_threads_dropped", "limits_hit",
                           /* issue 11 */
                           "mappings_capped"};
    int set[] = {r->truncated,        r->threads_not_suspended != 0,
                 r->threads_capped,   r->images_inconsistent,
                 r->recursive_crash,  r->frames_capped,
                 r->handoff_timed_out,
                 r->images_capped, r->segments_capped != 0,
                 r->image_paths_capped != 0, r->argv_truncated,
                 r->crashed_threads_dropped != 0, r->n_limits_hit != 0,
                 r->mappings_capped};
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        if (set[i])
            md_jw_str(j, NULL, names[i]);
    md_jw_end(j);
    md_jw_u64(j, "threads_not_suspended", r->has_threads_not_suspended,
              r->threads_not_suspended);
    /* issue 10: limits hit */
    md_jw_obj(j, "limits");
    md_jw_bool(j, "images_capped", r->images_capped);
    md_jw_u64(j, "segments_capped", 1, r->segments_capped);
    md_jw_u64(j, "image_paths_capped", 1, r->image_paths_capped);
    md_jw_bool(j, "argv_truncated", r->argv_truncated);
    md_jw_u64(j, "crashed_threads_dropped", 1, r->crashed_threads_dropped);
    md_jw_u64(j, "breadcrumbs_dropped", 1, r->breadcrumbs_dropped);
    md_jw_arr(j, "other");
    for (size_t i = 0; i < r->n_limits_hit; i++)
        md_jw_str(j, NULL, r->limits_hit[i]);
    md_jw_end(j);
    md_jw_end(j);
    md_jw_bool(j, "mappings_capped", r->mappings_capped); /* issue 11 */
    md_jw_bool(j, "stack_budget_exhausted", r->stack_budget_exhausted);
    md_jw_end(j);
}

static void emit_process(md_jw *j, const Mayday__Report *r)
{
    const Mayday__App *a = r->app;
    md_jw_obj(j, "app");
    md_jw_str(j, "id", a ? a->id : NULL);
    md_jw_str(j, "version", a ? a->version : NULL);
    md_jw_end(j);

    const Mayday__Process *p = r->process;
    if (!p) {
        md_jw_null(j, "process");
    } else {
        md_jw_obj(j, "process");
        md_jw_u64(j, "pid", p->has_pid, p->pid);
        md_jw_u64(j, "ppid", p->has_ppid, p->ppid);
        md_jw_str(j, "name", p->name);
        md_jw_str(j, "path", p->path);
        md_jw_arr(j, "argv");
        for (size_t i = 0; i < p->n_argv; i++)
            md_jw_str(j, NULL, p->argv[i]);
        md_jw_end(j);
        md_jw_time(j, "start_time", p->has_start_time_unix_ns,
                   p->start_time_unix_ns);
        md_jw_u64(j, "uid", p->has_uid, p->uid);
        md_jw_u64(j, "euid", p->has_euid, p->euid);
        md_jw_u64(j, "gid", p->has_gid, p->gid);
        md_jw_str(j, "cwd", p->cwd);
        md_jw_u64(j, "tracer_pid", p->has_tracer_pid, p->tracer_pid);
        md_jw_end(j);
    }

    const Mayday__System *s = r->system;
    if (!s) {
        md_jw_null(j, "system");
    } else {
        md_jw_obj(j, "system");
        md_jw_str(j, "os", s->os);
        md_jw_str(j, "release", s->release);
        md_jw_str(j, "version", s->version);
        md_jw_str(j, "machine", s->machine);
        md_jw_str(j, "hostname", s->hostname);
        md_jw_str(j, "libc", s->libc);
        md_jw_str(j, "boot_id", s->boot_id);
        md_jw_u64(j, "uptime_ms", s->has_uptime_ms, s->uptime_ms);
        md_jw_u64(j, "cpu_count", s->has_cpu_count, s->cpu_count);
        md_jw_u64(j, "memory_total_bytes", s->has_memory_total_bytes,
                  s->memory_total_bytes);
        md_jw_u64(j, "page_size", s->has_page_size, s->page_size);
        md_jw_end(j);
    }
}

static void emit_signal(md_jw *j, const mayday_report *rep)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Signal *s = r->signal;
    if (!s) {
        md_jw_null(j, "signal");
    } else {
        md_jw_obj(j, "signal");
        md_jw_u64(j, "number", s->has_number, s->number);
        md_jw_str(j, "name", rep->signal_name[0] ? rep->signal_name : NULL);
        md_jw_i64(j, "code", s->has_code, s->code);
        const char *cn = s->code_name;
        if (!cn && s->has_code)
            cn = md_signal_code_name(s->number, s->code);
        md_jw_str(j, "code_name", cn);
        md_jw_hex(j, "address", s->has_address, s->address);
        md_jw_u64(j, "sender_pid", s->has_sender_pid, s->sender_pid);
        md_jw_u64(j, "sender_uid", s->has_sender_uid, s->sender_uid);
        md_jw_i64(j, "errno", s->has_errno_value, s->errno_value);
        md_jw_i64(j, "syscall", s->has_syscall, s->syscall);
        md_json_fault_place(j, r); /* issue 11 */
        md_jw_end(j);
    }
    md_jw_str(j, "cause", r->has_cause ? md_cause_id(r->cause) : NULL);
    md_jw_str(j, "cause_text", r->has_cause ? md_cause_text(r->cause) : NULL);
    md_jw_str(j, "abort_message", r->abort_message);
    md_jw_u64(j, "crashed_thread", r->has_crashed_thread, r->crashed_thread);
}

/* Report.failure (issue 12); null when the report has none. */
static void emit_exception(md_jw *j, const Mayday__Report *r,
                           const Mayday__CxxException *e)
{
    if (!e) {
        md_jw_null(j, "exception");
        return;
    }
    md_jw_obj(j, "exception");
    char *d = md_demangle_type(e->type);
    md_jw_str(j, "type", d ? d : e->type);
    free(d);
    md_jw_str(j, "type_mangled", e->type);
    md_jw_bool(j, "std_exception", e->std_exception);
    md_jw_str(j, "reason",
              e->has_reason ? md_terminate_reason_id(e->reason) : NULL);
    md_jw_str(j, "reason_text",
              e->has_reason ? md_terminate_reason_text(e->reason) : NULL);
    md_jw_hex(j, "throw_pc", e->has_throw_pc, e->throw_pc);
    long fi = md_throw_frame(r);
    md_jw_u64(j, "throw_frame", fi >= 0, (uint64_t)fi);
    md_jw_end(j);
}

static void emit_hang(md_jw *j, const Mayday__Hang *h)
{
    if (!h) {
        md_jw_null(j, "hang");
        return;
    }
    md_jw_obj(j, "hang");
    md_jw_u64(j, "tid", h->has_tid, h->tid);
    md_jw_u64(j, "watch", h->has_watch, h->watch);
    md_jw_str(j, "name", h->name);
    md_jw_u64(j, "silent_ns", h->has_silent_ns, h->silent_ns);
    md_jw_u64(j, "deadline_ns", h->has_deadline_ns, h->deadline_ns);
    md_jw_str(j, "action",
              h->has_action ? md_hang_action_id(h->action) : NULL);
    char b[16];
    md_jw_str(j, "signal",
              h->has_signal ? md_signal_name(h->signal, b, sizeof b) : NULL);
    md_jw_end(j);
}

static void emit_failure(md_jw *j, const Mayday__Report *r)
{
    const Mayday__Failure *f = r->failure;
    if (!f) {
        md_jw_null(j, "failure");
        return;
    }
    md_jw_obj(j, "failure");
    md_jw_str(j, "kind", f->has_kind ? md_failure_kind_id(f->kind) : NULL);
    md_jw_str(j, "kind_text",
              f->has_kind ? md_failure_kind_text(f->kind) : NULL);
    md_jw_str(j, "message", f->message);
    md_jw_bool(j, "message_truncated", f->message_truncated);
    emit_exception(j, r, f->exception);
    emit_hang(j, f->hang);
    md_jw_end(j);
}

/* Image names for frames, once per report rather than per frame. */
typedef struct frame_names {
    const char **name;
    size_t *len;
    unsigned char *plain;
} frame_names;

static void names_init(frame_names *n, const Mayday__Report *r)
{
    size_t k = r->n_images ? r->n_images : 1;
    n->name = malloc(k * sizeof(*n->name));
    n->len = malloc(k * sizeof(*n->len));
    n->plain = malloc(k);
    if (!n->name || !n->len || !n->plain) {
        free(n->name), free(n->len), free(n->plain);
        n->name = NULL; /* NULL: looked up per frame */
        return;
    }
    for (size_t i = 0; i < r->n_images; i++) {
        const char *s = md_image_short_name(r->images[i]);
        n->name[i] = s;
        n->len[i] = s ? strlen(s) : 0;
        n->plain[i] = 1;
        for (size_t c = 0; c < n->len[i]; c++)
            if (md_jw__special[(unsigned char)s[c]])
                n->plain[i] = 0;
    }
}

static void names_free(frame_names *n)
{
    if (!n->name)
        return;
    free(n->name), free(n->len), free(n->plain);
}

static void emit_frame(md_jw *j, md_jf *keys, const mayday_report *rep,
                       const Mayday__Frame *f, size_t fi,
                       const mayday_symbol *sym, const char *status,
                       const frame_names *names)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Image *img = f->has_image ? r->images[f->image] : NULL;
    md_jf_frame x = {
        .index = fi,
        .has_pc = f->has_pc,
        .pc = f->pc,
        .has_sp = f->has_sp,
        .sp = f->sp,
        .trust = md_trust_name(f->has_trust ? f->trust : 0),
        .has_image = f->has_image,
        .image = f->image,
        .has_image_offset = img && f->has_pc,
        .image_offset = img ? md_image_rel(img, f->pc) : 0,
        .symbol = sym ? sym->function : NULL,
        .has_offset = sym && sym->function && !sym->inlined,
        .offset = sym ? sym->offset : 0,
        .file = sym ? sym->file : NULL,
        .line = sym ? sym->line : 0,
        .column = sym ? sym->column : 0,
        .inlined = sym && sym->inlined,
        /* --- issue 14: decoder --- */
        .elf_symbol = sym && !sym->inlined ? sym->symbol : NULL,
        .symbolicated = status,
        .image_name_plain = 1,
    };
    if (img && names->name) {
        x.image_name = names->name[f->image];
        x.image_name_len = names->len[f->image];
        x.image_name_plain = names->plain[f->image];
    } else if (img) {
        x.image_name = md_image_short_name(img);
        x.image_name_len = x.image_name ? strlen(x.image_name) : 0;
        x.image_name_plain = 0; /* not checked: the general path */
    }
    md_jf_emit(j, keys, &x);
}

/* --- issue 14: what register values point into (images' segments). */
static void emit_register_notes(md_jw *j, const mayday_report *rep,
                                const mayday_format_options *o,
                                const Mayday__Thread *t)
{
    const Mayday__Report *r = rep->pb;
    uint64_t lo, hi;
    md_image_bounds(r, &lo, &hi);
    md_jw_obj(j, "register_notes");
    for (size_t i = 0; i < t->n_registers; i++) {
        char note[512];
        uint64_t v = t->registers[i];
        if (v >= lo && v < hi &&
            md_register_note(rep, o, v, note, sizeof(note))) {
            const char *nm = r->register_names[i];
            md_jw_str(j, nm ? nm : "", note);
        }
    }
    md_jw_end(j);
}

static void emit_threads(md_jw *j, const mayday_report *rep,
                         const mayday_format_options *o)
{
    const Mayday__Report *r = rep->pb;
    frame_names names;
    names_init(&names, r);
    /* Register names are keys of every thread's objects: measured once. */
    size_t *rlen = malloc((r->n_register_names ? r->n_register_names : 1) *
                          sizeof(*rlen));
    for (size_t i = 0; rlen && i < r->n_register_names; i++)
        rlen[i] = r->register_names[i] ? strlen(r->register_names[i]) : 0;
    md_jf keys = {.ok = 0, .depth = -1};
    md_jw_arr(j, "threads");
    for (size_t ti = 0; ti < r->n_threads; ti++) {
        const Mayday__Thread *t = r->threads[ti];
        if (!md_thread_shown(r, o, ti))
            continue;
        md_jw_obj(j, NULL);
        md_jw_u64(j, "index", 1, ti);
        md_jw_u64(j, "tid", t->has_tid, t->tid);
        md_jw_str(j, "name", t->name);
        md_jw_bool(j, "crashed", t->crashed);
        md_jw_name(j, "state", t->has_state ? md_state_name(t->state) : NULL);
        md_jw_str(j, "note", t->note);
        md_jw_str(j, "stop_failure",
                  t->has_stop_failure ? md_stop_failure_name(t->stop_failure)
                                      : NULL);
        md_jw_bool(j, "frames_capped", t->frames_capped);
        md_jw_u64(j, "frames_omitted", 1, t->frames_omitted);
        md_jw_u64(j, "frames_omitted_at", t->has_frames_omitted_at,
                  t->frames_omitted_at);
        md_jw_obj(j, "registers");
        for (size_t i = 0; i < t->n_registers; i++) {
            const char *nm = r->register_names[i] ? r->register_names[i] : "";
            md_jw__number_kl(j, nm, rlen ? rlen[i] : strlen(nm), 1,
                             t->registers[i], 1);
        }
        md_jw_end(j);
        emit_register_notes(j, rep, o, t);
        md_jw_arr(j, "frames");
        if (keys.depth != j->depth + 1)
            md_jf_init(&keys, j);
        for (size_t fi = 0; fi < t->n_frames; fi++) {
            mayday_symbol sym[MD_MAX_SYMBOLS];
            int ns = md_frame_symbols(rep, o, t, fi, sym);
            const char *st = md_frame_status(rep, o, t->frames[fi], sym, ns);
            if (ns == 0)
                emit_frame(j, &keys, rep, t->frames[fi], fi, NULL, st,
                           &names);
            for (int k = 0; k < ns; k++) {
                sym[k].inlined = k + 1 < ns;
                emit_frame(j, &keys, rep, t->frames[fi], fi, &sym[k], st,
                           &names);
            }
        }
        md_jw_end(j);
        md_json_thread_contents(j, r, t, rlen); /* issue 11 */
        md_jw_end(j);
    }
    md_jw_end(j);
    names_free(&names);
    free(rlen);
}

/* --- issue 14: decoder --- */
static void emit_image_symbols(md_jw *j, const mayday_report *rep,
                               const mayday_format_options *o, uint32_t i)
{
    mayday_image_symbols is;
    if (md_image_symbols(rep, o, i, &is) != 0) {
        md_jw_null(j, "symbols");
        return;
    }
    md_jw_obj(j, "symbols");
    md_jw_str(j, "status", is.status);
    md_jw_str(j, "file", is.file);
    md_jw_str(j, "found_by", is.found_by);
    md_jw_str(j, "debug_file", is.debug_file);
    md_jw_str(j, "debug_found_by", is.debug_found_by);
    md_jw_end(j);
}

static void emit_images(md_jw *j, const mayday_report *rep,
                        const mayday_format_options *o)
{
    const Mayday__Report *r = rep->pb;
    md_jw_arr(j, "images");
    for (size_t i = 0; i < r->n_images; i++) {
        const Mayday__Image *m = r->images[i];
        md_jw_obj(j, NULL);
        md_jw_u64(j, "index", 1, i);
        md_jw_str(j, "path", m->path);
        md_jw_str(j, "name", md_image_short_name(m));
        md_jw_hex(j, "base", m->has_address, m->address);
        md_jw_hex(j, "size", m->has_size, m->size);
        md_jw_hex(j, "load_bias", m->has_load_bias, m->load_bias);
        md_jw_hexbytes(j, "build_id", m->has_build_id ? m->build_id.data : NULL,
                       m->build_id.len < 64 ? m->build_id.len : 64);
        md_jw_bool(j, "main_program", m->main_program);
        md_jw_bool(j, "vdso", m->vdso);
        md_jw_arr(j, "segments");
        for (size_t s = 0; s < m->n_segments; s++) {
            const Mayday__Segment *g = m->segments[s];
            char fl[4] = {g->flags & 4 ? 'r' : '-', g->flags & 2 ? 'w' : '-',
                          g->flags & 1 ? 'x' : '-', 0};
            md_jw_obj(j, NULL);
            md_jw_hex(j, "address", g->has_address, g->address);
            md_jw_hex(j, "size", g->has_size, g->size);
            md_jw_str(j, "flags", g->has_flags ? fl : NULL);
            md_jw_hex(j, "file_offset", g->has_file_offset, g->file_offset);
            md_jw_end(j);
        }
        md_jw_end(j);
        const char *note = o->image_note
                               ? o->image_note(o->user_data, rep, (uint32_t)i)
                               : NULL;
        md_jw_str(j, "symbols_note", note);
        emit_image_symbols(j, rep, o, (uint32_t)i);
        md_jw_end(j);
    }
    md_jw_end(j);
}

/* --- issue 14: signature and source context (null when absent). */
static void emit_decoder_extras(md_jw *j, const mayday_report *rep,
                                const mayday_format_options *o)
{
    if (o->signature_id || o->signature) {
        md_jw_obj(j, "signature");
        md_jw_str(j, "id", o->signature_id);
        md_jw_str(j, "text", o->signature);
        md_jw_end(j);
    } else {
        md_jw_null(j, "signature");
    }
    md_source src;
    if (!md_source_context(rep, o, &src)) {
        md_jw_null(j, "source");
        return;
    }
    md_jw_obj(j, "source");
    md_jw_u64(j, "frame", 1, src.frame);
    md_jw_str(j, "file", src.file);
    md_jw_u64(j, "line", 1, src.line);
    md_jw_arr(j, "lines");
    for (size_t i = 0; i < src.n; i++) {
        md_jw_obj(j, NULL);
        md_jw_u64(j, "line", 1, src.lines[i].line);
        md_jw_str(j, "text", src.lines[i].text);
        md_jw_end(j);
    }
    md_jw_end(j);
    md_jw_end(j);
}

static void emit_annotations(md_jw *j, const Mayday__Report *r)
{
    md_jw_obj(j, "annotations");
    for (size_t i = 0; i < r->n_annotations; i++) {
        const Mayday__Annotation *a = r->annotations[i];
        md_jw_str(j, a->key ? a->key : "", a->value ? a->value : "");
    }
    md_jw_end(j);
    md_jw_arr(j, "breadcrumbs");
    for (size_t i = 0; i < r->n_breadcrumbs; i++) {
        const Mayday__Breadcrumb *b = r->breadcrumbs[i];
        md_jw_obj(j, NULL);
        md_jw_time(j, "time", b->has_time_unix_ns, b->time_unix_ns);
        md_jw_str(j, "message", b->message ? b->message : "");
        md_jw_end(j);
    }
    md_jw_end(j);
}

int md_format_json(const mayday_report *rep, const mayday_format_options *o,
                   FILE *out)
{
    /* 64 KiB buffer: on the heap, callers' threads may have small stacks. */
    md_jw *j = malloc(sizeof(*j));
    if (!j)
        return MAYDAY_ENOMEM;
    md_jw_init(j, out, (o->flags & MAYDAY_FORMAT_COMPACT) != 0);
    md_jw_obj(j, NULL);
    md_jw_str(j, "format", "mayday-report");
    md_jw_u64(j, "format_version", 1, 1);
    emit_report(j, rep);
    emit_process(j, rep->pb);
    emit_signal(j, rep);
    emit_failure(j, rep->pb); /* issue 12 */
    emit_threads(j, rep, o);
    emit_images(j, rep, o);
    emit_annotations(j, rep->pb);
    emit_decoder_extras(j, rep, o);
    md_json_report_contents(j, rep->pb); /* issue 11 */
    md_jw_end(j);
    int rc = md_jw_finish(j);
    free(j);
    return rc;
}
