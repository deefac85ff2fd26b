/*
 * text.c - the human-readable rendering of a report: header, signal and
 * cause, the crashed thread first with its registers, the other threads,
 * binary images with build-ids, annotations, breadcrumbs.
 *
 * Context: normal (stdio). Control characters and invalid UTF-8 in report
 * strings are printed as \xNN so a hostile report cannot drive a terminal.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "normal/reader/reader.h"

#define LABEL "%-15s "

/* Prints s, with control bytes and bytes that do not form valid UTF-8
 * escaped as \xNN. */
static void tstr(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned c = *p;
        size_t k = 1;
        if (c >= 0x80) {
            /* Accept well-formed multi-byte sequences (lead + k-1 tails). */
            k = c >= 0xc2 && c <= 0xdf   ? 2
                : c >= 0xe0 && c <= 0xef ? 3
                : c >= 0xf0 && c <= 0xf4 ? 4
                                         : 0;
            for (size_t i = 1; i < k; i++)
                if ((p[i] & 0xc0) != 0x80)
                    k = 0;
        }
        if (c < 0x20 || c == 0x7f || k == 0) {
            fprintf(f, "\\x%02x", c);
            p++;
            continue;
        }
        fwrite(p, 1, k, f);
        p += k;
    }
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

/* issue 10: every limit the report hit, with what it means. */
static void print_limits(FILE *f, const Mayday__Report *r)
{
    int k = 0;
#define LIM(cond, ...)                                                         \
    do {                                                                       \
        if (cond) {                                                            \
            fprintf(f, k++ ? ", " : LABEL, "Limits hit:");                     \
            fprintf(f, __VA_ARGS__);                                           \
        }                                                                      \
    } while (0)
    LIM(r->images_capped, "images (%zu listed, more were loaded)",
        r->n_images);
    LIM(r->segments_capped, "segments of %" PRIu32 " image(s)",
        r->segments_capped);
    LIM(r->image_paths_capped, "paths of %" PRIu32 " image(s)",
        r->image_paths_capped);
    LIM(r->argv_truncated, "argv (cut at 4096 bytes)");
    LIM(r->crashed_threads_dropped,
        "%" PRIu32 " crashed thread(s) without a waiting slot",
        r->crashed_threads_dropped);
    LIM(r->breadcrumbs_dropped, "%" PRIu32 " older breadcrumb(s) dropped",
        r->breadcrumbs_dropped);
    for (size_t i = 0; i < r->n_limits_hit; i++) {
        LIM(1, "%s", "");
        tstr(f, r->limits_hit[i]);
    }
#undef LIM
    if (k)
        fputc('\n', f);
}

static void print_header(FILE *f, const mayday_report *rep)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Process *p = r->process;
    const Mayday__Header *h = r->header;
    char b[200];
    fputs("mayday crash report\n", f);
    if (p) {
        fprintf(f, LABEL, "Process:");
        tstr(f, p->name ? p->name : "?");
        fprintf(f, " [%" PRIu32 "]", p->pid);
        if (p->has_ppid)
            fprintf(f, ", parent %" PRIu32, p->ppid);
        fputc('\n', f);
        if (p->path) {
            fprintf(f, LABEL, "Path:");
            tstr(f, p->path);
            fputc('\n', f);
        }
        if (p->n_argv) {
            fprintf(f, LABEL, "Command line:");
            for (size_t i = 0; i < p->n_argv; i++) {
                if (i)
                    fputc(' ', f);
                tstr(f, p->argv[i]);
            }
            fputc('\n', f);
        }
    }
    if (r->app && (r->app->id || r->app->version)) {
        fprintf(f, LABEL, "Application:");
        tstr(f, r->app->id ? r->app->id : "?");
        fputc(' ', f);
        tstr(f, r->app->version ? r->app->version : "");
        fputc('\n', f);
    }
    const Mayday__System *s = r->system;
    if (s) {
        fprintf(f, LABEL, "OS:");
        tstr(f, s->os ? s->os : "?");
        fputc(' ', f);
        tstr(f, s->release);
        if (s->version) {
            fputs(" (", f);
            tstr(f, s->version);
            fputc(')', f);
        }
        fputc(' ', f);
        tstr(f, s->machine);
        if (s->libc) {
            fputs(", ", f);
            tstr(f, s->libc);
        }
        fputc('\n', f);
    }
    if (h && h->has_time_unix_ns) {
        md_format_time(h->time_unix_ns, b, sizeof(b));
        fprintf(f, LABEL "%s\n", "Time:", b);
    }
    fprintf(f, LABEL "%s\n", "Report ID:", rep->uuid[0] ? rep->uuid : "?");
    if (h && (h->reporter_version || h->has_handler)) {
        fprintf(f, LABEL "mayday ", "Reporter:");
        tstr(f, h->reporter_version ? h->reporter_version : "?");
        if (h->has_handler) {
            fputs(", ", f);
            for (const char *c = md_handler_name(h->handler); *c; c++)
                fputc(*c == '_' ? ' ' : *c, f);
        }
        if (h->has_stop_method)
            fprintf(f, ", threads stopped: %s",
                    md_stop_method_name(h->stop_method));
        fputc('\n', f);
        if (h->stop_note) {
            fprintf(f, LABEL, "Stop note:");
            tstr(f, h->stop_note);
            fputc('\n', f);
        }
    }
    if (r->has_rlimit_fsize)
        fprintf(f, LABEL "%llu bytes (RLIMIT_FSIZE capped the report)\n",
                "File limit:", (unsigned long long)r->rlimit_fsize);
    int n = md_incomplete_reasons(r, b, sizeof(b));
    fprintf(f, LABEL "%s%s%s\n", "Complete:", n ? "no (" : "yes", n ? b : "",
            n ? ")" : "");
    print_limits(f, r);
    if (h && h->live) {
        fprintf(f, LABEL, "Live report:");
        tstr(f, h->reason ? h->reason : "");
        fputc('\n', f);
    }
}

static void print_signal(FILE *f, const mayday_report *rep,
                         const mayday_format_options *o)
{
    const Mayday__Report *r = rep->pb;
    const Mayday__Signal *s = r->signal;
    fputc('\n', f);
    if (s) {
        fprintf(f, LABEL, "Signal:");
        if (rep->signal_name[0])
            tstr(f, rep->signal_name);
        else
            fprintf(f, "%" PRIu32, s->number);
        const char *cn = s->code_name;
        if (!cn && s->has_code)
            cn = md_signal_code_name(s->number, s->code);
        if (cn) {
            fputs(" (", f);
            tstr(f, cn);
            fputc(')', f);
        } else if (s->has_code) {
            fprintf(f, " (code %" PRId32 ")", s->code);
        }
        if (s->has_address)
            fprintf(f, " at 0x%016" PRIx64, s->address);
        fputc('\n', f);
        if (s->has_sender_pid)
            fprintf(f, LABEL "pid %" PRIu32 ", uid %" PRIu32 "\n",
                    "Sent by:", s->sender_pid, s->sender_uid);
        md_text_fault(f, rep); /* issue 11 */
    }
    const char *c = r->has_cause ? md_cause_text(r->cause) : NULL;
    if (c)
        fprintf(f, LABEL "%s\n", "Cause:", c);
    if (o->signature_id || o->signature) {
        fprintf(f, LABEL "%s  ",
                "Signature:", o->signature_id ? o->signature_id : "");
        tstr(f, o->signature ? o->signature : "");
        fputc('\n', f);
    }
    if (r->abort_message) {
        fprintf(f, LABEL, "Abort message:");
        tstr(f, r->abort_message);
        fputc('\n', f);
    }
}

typedef struct md_text {
    FILE *f;
    const mayday_report *rep;
    const mayday_format_options *o;
    int name_w; /* width of the image name column */
} md_text;

static void print_frame(md_text *x, const Mayday__Thread *t, size_t fi)
{
    FILE *f = x->f;
    const Mayday__Report *r = x->rep->pb;
    const Mayday__Frame *fr = t->frames[fi];
    const Mayday__Image *img = fr->has_image ? r->images[fr->image] : NULL;
    const char *iname = img ? md_image_short_name(img) : "???";
    mayday_symbol sym[MD_MAX_SYMBOLS];
    int ns = md_frame_symbols(x->rep, x->o, t, fi, sym);
    const char *trust = NULL;
    if (fr->has_trust && fr->trust == MAYDAY__TRUST__TRUST_SCAN)
        trust = "scan";
    else if (fr->has_trust && fr->trust == MAYDAY__TRUST__TRUST_STACK_POINTER)
        trust = "from sp";
    else if (fr->has_trust && fr->trust == MAYDAY__TRUST__TRUST_FRAME_POINTER)
        trust = "fp";
    else if (fr->has_trust && fr->trust == MAYDAY__TRUST__TRUST_LINK_REGISTER)
        trust = "from lr";
    /* Frames after an omitted stretch keep their depth in the stack. */
    size_t depth = fi;
    if (t->frames_omitted && fi >= t->frames_omitted_at)
        depth += t->frames_omitted;
    for (int k = 0; k < (ns ? ns : 1); k++) {
        fprintf(f, "#%02zu 0x%016" PRIx64 " ", depth, fr->pc);
        /* Pad by display columns: count only UTF-8 lead bytes. */
        tstr(f, iname);
        int w = 0;
        for (const char *c = iname; *c; c++)
            w += ((unsigned char)*c & 0xc0) != 0x80;
        fprintf(f, "%*s  ", x->name_w > w ? x->name_w - w : 0, "");
        if (ns && sym[k].function) {
            /* The offset is from the ELF symbol: name it when it does not
             * start where the function does (a ".cold" part). */
            int split =
                k + 1 == ns && sym[k].symbol && !sym[k].symbol_at_function;
            tstr(f, split ? sym[k].symbol : sym[k].function);
            if (k + 1 == ns)
                fprintf(f, "+0x%" PRIx64, sym[k].offset);
        } else if (img && fr->has_pc) {
            tstr(f, iname);
            fprintf(f, " + 0x%" PRIx64, md_image_rel(img, fr->pc));
        } else if (ns) {
            fputs("??", f);
        }
        if (ns && sym[k].file) {
            fputs(" (", f);
            tstr(f, base_name(sym[k].file));
            if (sym[k].line)
                fprintf(f, ":%" PRIu32, sym[k].line);
            fputc(')', f);
        }
        if (ns && k + 1 < ns)
            fputs(" [inlined]", f);
        if (trust && k + 1 == (ns ? ns : 1))
            fprintf(f, " [%s]", trust);
        fputc('\n', f);
    }
}

/* 1 if thread t is the silent thread of a hang report (issue 12). */
static int is_hung(const Mayday__Report *r, const Mayday__Thread *t)
{
    const Mayday__Failure *fl = r->failure;
    return fl && fl->hang && fl->hang->has_tid && t->has_tid &&
           t->tid == fl->hang->tid;
}

/* --- issue 14: source lines around the crashed frame (--source). */
static void print_source(md_text *x)
{
    md_source src;
    if (!md_source_context(x->rep, x->o, &src))
        return;
    fprintf(x->f, "\nSource of frame #%02zu, ", src.frame);
    tstr(x->f, src.file);
    fprintf(x->f, ":%" PRIu32 ":\n", src.line);
    for (size_t i = 0; i < src.n; i++) {
        fprintf(x->f, "%s%6" PRIu32 "  ",
                src.lines[i].line == src.line ? "->" : "  ", src.lines[i].line);
        tstr(x->f, src.lines[i].text);
        fputc('\n', x->f);
    }
}

/* --- issue 14: what register values point into. */
static void print_register_notes(md_text *x, const Mayday__Thread *t)
{
    const Mayday__Report *r = x->rep->pb;
    int any = 0;
    for (size_t i = 0; i < t->n_registers; i++) {
        char note[512];
        if (!md_register_note(x->rep, x->o, t->registers[i], note,
                              sizeof(note)))
            continue;
        if (!any++)
            fputs("  pointing into images:\n", x->f);
        const char *nm = r->register_names[i];
        size_t w = strlen(nm ? nm : "");
        fprintf(x->f, "  %*s", w < 6 ? (int)(6 - w) : 0, "");
        tstr(x->f, nm);
        fprintf(x->f, " 0x%016" PRIx64 "  ", t->registers[i]);
        tstr(x->f, note);
        fputc('\n', x->f);
    }
}

static void print_thread(md_text *x, size_t ti, int with_regs)
{
    FILE *f = x->f;
    const Mayday__Report *r = x->rep->pb;
    const Mayday__Thread *t = r->threads[ti];
    int crashed = r->has_crashed_thread && r->crashed_thread == ti;
    int hung = is_hung(r, t);
    with_regs |= hung;
    fprintf(f, "\n%sThread %zu",
            crashed ? "Crashed: " : hung ? "Hung: " : "", ti);
    if (t->has_tid)
        fprintf(f, " (tid %" PRIu32 ")", t->tid);
    if (t->name) {
        fputs(" \"", f);
        tstr(f, t->name);
        fputc('"', f);
    }
    if (t->has_state &&
        t->state != MAYDAY__THREAD_STATE__THREAD_STATE_CRASHED &&
        t->state != MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED)
        fprintf(f, " [%s]", md_state_name(t->state));
    md_text_state_suffix(f, x->rep, t); /* issue 11 */
    fputs(":\n", f);
    if (t->note) {
        fputs("    note: ", f);
        tstr(f, t->note);
        fputc('\n', f);
    }
    for (size_t fi = 0; fi < t->n_frames; fi++) {
        if (t->frames_omitted && fi == t->frames_omitted_at)
            fprintf(f, "    ... %" PRIu32 " frames omitted ...\n",
                    t->frames_omitted);
        print_frame(x, t, fi);
    }
    if (t->frames_capped)
        fputs("    ... (frame limit reached)\n", f);
    if (with_regs)
        print_source(x);
    int full = (x->o->flags & MAYDAY_FORMAT_FULL_MEMORY) != 0;
    if (!with_regs)
        md_text_contents_thread(f, x->rep, ti, 0, full); /* issue 11 */
    if (!with_regs || t->n_registers == 0)
        return;
    fprintf(f, "\nRegisters of thread %zu:\n", ti);
    for (size_t i = 0; i < t->n_registers; i++) {
        const char *nm = r->register_names[i];
        fputs(i % 3 == 0 ? "  " : "  ", f);
        size_t w = strlen(nm ? nm : "");
        fprintf(f, "%*s", w < 6 ? (int)(6 - w) : 0, "");
        tstr(f, nm);
        fprintf(f, " 0x%016" PRIx64, t->registers[i]);
        if (i % 3 == 2 || i + 1 == t->n_registers)
            fputc('\n', f);
    }
    print_register_notes(x, t);
    md_text_contents_thread(f, x->rep, ti, 1, full); /* issue 11 */
}

/* Failure section (issue 12): what failed beyond the bare signal. */
static void print_ms(FILE *f, uint64_t ns)
{
    fprintf(f, "%" PRIu64 ".%03" PRIu64 " s", ns / 1000000000u,
            ns / 1000000u % 1000u);
}

static void print_exception_type(FILE *f, const Mayday__CxxException *e)
{
    if (!e->type)
        return;
    char *d = md_demangle_type(e->type);
    fprintf(f, LABEL, "Exception:");
    tstr(f, d ? d : e->type);
    if (d) {
        fputs(" (", f);
        tstr(f, e->type);
        fputc(')', f);
    }
    fputc('\n', f);
    free(d);
}

/* Why terminate was called, and where the exception was thrown. */
static void print_exception(md_text *x, const Mayday__CxxException *e)
{
    FILE *f = x->f;
    const char *why = e->has_reason ? md_terminate_reason_text(e->reason)
                                    : NULL;
    if (why)
        fprintf(f, LABEL "%s\n", "Terminate:", why);
    long fi = md_throw_frame(x->rep->pb);
    if (fi >= 0) {
        const Mayday__Report *r = x->rep->pb;
        const Mayday__Thread *t = r->threads[r->crashed_thread];
        mayday_symbol sym[MD_MAX_SYMBOLS];
        int ns = md_frame_symbols(x->rep, x->o, t, (size_t)fi, sym);
        fprintf(f, LABEL "frame #%02ld", "Thrown at:", fi);
        if (ns > 0 && sym[ns - 1].function) {
            fputc(' ', f);
            tstr(f, sym[ns - 1].function);
        }
        fputc('\n', f);
    } else if (e->has_throw_pc) {
        fprintf(f, LABEL "0x%016" PRIx64 "\n", "Thrown at:", e->throw_pc);
    }
}

static void print_hang(FILE *f, const Mayday__Hang *h)
{
    fprintf(f, LABEL "tid %" PRIu32, "Hung thread:", h->tid);
    if (h->has_watch)
        fprintf(f, ", watch %" PRIu32, h->watch);
    if (h->name) {
        fputs(" \"", f);
        tstr(f, h->name);
        fputc('"', f);
    }
    fputc('\n', f);
    fprintf(f, LABEL, "Silent for:");
    print_ms(f, h->silent_ns);
    fputs(" (deadline ", f);
    print_ms(f, h->deadline_ns);
    fputs(")\n", f);
    if (h->has_action && h->action == MAYDAY__HANG_ACTION__HANG_ACTION_END) {
        char b[16];
        const char *sn = md_signal_name(h->signal, b, sizeof b);
        fprintf(f, LABEL "the process was ended with %s\n", "Action:",
                sn ? sn : "a signal");
    } else if (h->has_action) {
        fprintf(f, LABEL "the process kept running\n", "Action:");
    }
}

static void print_failure(md_text *x)
{
    FILE *f = x->f;
    const Mayday__Failure *fl = x->rep->pb->failure;
    if (!fl)
        return;
    const char *k = fl->has_kind ? md_failure_kind_text(fl->kind) : NULL;
    fprintf(f, LABEL "%s\n", "Failure:", k ? k : "unknown");
    if (fl->exception)
        print_exception_type(f, fl->exception);
    if (fl->message) {
        fprintf(f, LABEL, "Message:");
        tstr(f, fl->message);
        fputs(fl->message_truncated ? " [cut]\n" : "\n", f);
    }
    if (fl->exception)
        print_exception(x, fl->exception);
    if (fl->hang)
        print_hang(f, fl->hang);
}

static void print_images(md_text *x)
{
    FILE *f = x->f;
    const Mayday__Report *r = x->rep->pb;
    if (r->n_images == 0)
        return;
    fputs("\nBinary images:\n", f);
    for (size_t i = 0; i < r->n_images; i++) {
        const Mayday__Image *m = r->images[i];
        char bid[2 * 64 + 1] = "-";
        if (m->has_build_id && m->build_id.len) {
            size_t len = m->build_id.len < 64 ? m->build_id.len : 64;
            md_format_hex(m->build_id.data, len, bid, sizeof(bid));
        }
        fprintf(f, "  0x%016" PRIx64 " - 0x%016" PRIx64 " ", m->address,
                m->address + m->size);
        const char *nm = md_image_short_name(m);
        tstr(f, nm);
        int w = (int)strlen(nm);
        fprintf(f, "%*s  %-40s ", x->name_w > w ? x->name_w - w : 0, "", bid);
        tstr(f, m->path ? m->path : "");
        const char *note =
            x->o->image_note
                ? x->o->image_note(x->o->user_data, x->rep, (uint32_t)i)
                : NULL;
        if (note) {
            fputs("  (", f);
            tstr(f, note);
            fputc(')', f);
        }
        fputc('\n', f);
    }
}

int md_format_text(const mayday_report *rep, const mayday_format_options *o,
                   FILE *f)
{
    const Mayday__Report *r = rep->pb;
    md_text x = {.f = f, .rep = rep, .o = o, .name_w = 3};
    for (size_t i = 0; i < r->n_images; i++) {
        int w = (int)strlen(md_image_short_name(r->images[i]));
        if (w > x.name_w)
            x.name_w = w < 40 ? w : 40;
    }
    print_header(f, rep);
    print_signal(f, rep, o);
    print_failure(&x); /* issue 12 */
    if (r->has_crashed_thread)
        print_thread(&x, r->crashed_thread, 1);
    for (size_t ti = 0; ti < r->n_threads; ti++)
        if ((!r->has_crashed_thread || ti != r->crashed_thread) &&
            md_thread_shown(r, o, ti))
            print_thread(
                &x, ti,
                (r->n_threads == 1 || (o->flags & MAYDAY_FORMAT_BRIEF)) &&
                    !r->has_crashed_thread);
    print_images(&x);
    if (r->n_annotations) {
        fputs("\nAnnotations:\n", f);
        for (size_t i = 0; i < r->n_annotations; i++) {
            fputs("  ", f);
            tstr(f, r->annotations[i]->key);
            fputs(" = ", f);
            tstr(f, r->annotations[i]->value);
            fputc('\n', f);
        }
    }
    if (r->n_breadcrumbs) {
        fputs("\nBreadcrumbs (oldest first):\n", f);
        for (size_t i = 0; i < r->n_breadcrumbs; i++) {
            char b[64] = "?";
            if (r->breadcrumbs[i]->has_time_unix_ns)
                md_format_time(r->breadcrumbs[i]->time_unix_ns, b, sizeof(b));
            fprintf(f, "  %s  ", b);
            tstr(f, r->breadcrumbs[i]->message);
            fputc('\n', f);
        }
    }
    md_text_contents_report(f, rep, (o->flags & MAYDAY_FORMAT_FULL_MEMORY) != 0);
    return 0;
}
