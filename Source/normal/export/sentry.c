/*
 * sentry.c - a loaded report as a Sentry event (platform "native"): the
 * exception with a signal-handler mechanism, every thread with its stack
 * trace (outermost frame first, as Sentry wants), the crashed thread's
 * registers, debug_meta.images of type "elf" (code_id = build-id, debug_id
 * derived from it as Sentry does), release/environment/tags, breadcrumbs,
 * contexts (os, device, app) and the annotations as extra.
 * docs/integrations.md lists every key.
 *
 * Context: normal (malloc).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normal/export/export.h"
#include "normal/reader/jsonw.h"
#include "normal/reader/reader.h"

void md_sentry_debug_id(const uint8_t *id, size_t len, char out[37])
{
    uint8_t g[16];
    memset(g, 0, sizeof(g));
    memcpy(g, id, len < 16 ? len : 16);
    /* GUID fields data1 (u32), data2, data3 (u16) are little endian in the
     * build-id bytes; the string prints them as numbers. */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10],
             g[11], g[12], g[13], g[14], g[15]);
}

void md_sentry_event_id(const Mayday__Report *r, char out[33])
{
    out[0] = '\0';
    if (r->header && r->header->has_uuid && r->header->uuid.len == 16)
        md_format_hex(r->header->uuid.data, 16, out, 33);
}

/* The value of annotation key, or NULL. */
static const char *annotation(const Mayday__Report *r, const char *key)
{
    for (size_t i = 0; i < r->n_annotations; i++)
        if (r->annotations[i]->key && strcmp(r->annotations[i]->key, key) == 0)
            return r->annotations[i]->value;
    return NULL;
}

static const char *trust_name(const Mayday__Frame *f, size_t i)
{
    switch (f->has_trust ? f->trust : (i == 0 ? 1 : 0)) {
    case MAYDAY__TRUST__TRUST_CONTEXT:
        return "context";
    case MAYDAY__TRUST__TRUST_CFI:
        return "cfi";
    case MAYDAY__TRUST__TRUST_FRAME_POINTER:
        return "fp";
    case MAYDAY__TRUST__TRUST_STACK_POINTER:
    case MAYDAY__TRUST__TRUST_SCAN:
        return "scan";
    default:
        return "none";
    }
}

typedef struct ev {
    md_jw j;
    const mayday_report *rep;
    const Mayday__Report *r;
    const mayday_export_options *o;
    mayday_format_options fo; /* the symbolicator, if any */
} ev;

/* One Sentry frame (several when the symbolicator knows inlined calls:
 * the outermost function first). */
static void frame(ev *e, const Mayday__Thread *t, size_t fi)
{
    const Mayday__Frame *f = t->frames[fi];
    mayday_symbol s[MD_MAX_SYMBOLS];
    int n = md_frame_symbols(e->rep, &e->fo, t, fi, s);
    for (int k = n > 0 ? n - 1 : 0; k >= 0; k--) {
        md_jw_obj(&e->j, NULL);
        md_jw_hex(&e->j, "instruction_addr", 1, f->pc);
        if (f->has_image) {
            const Mayday__Image *m = e->r->images[f->image];
            if (m->path)
                md_jw_str(&e->j, "package", m->path);
            md_jw_hex(&e->j, "image_addr", 1, m->address);
        }
        if (n > 0 && s[k].function)
            md_jw_str(&e->j, "function", s[k].function);
        if (n > 0 && s[k].file)
            md_jw_str(&e->j, "filename", s[k].file);
        if (n > 0 && s[k].line)
            md_jw_u64(&e->j, "lineno", 1, s[k].line);
        md_jw_str(&e->j, "trust", trust_name(f, fi));
        md_jw_end(&e->j);
    }
}

static void registers(ev *e, const Mayday__Thread *t)
{
    md_jw_obj(&e->j, "registers");
    for (size_t i = 0; i < t->n_registers && i < e->r->n_register_names; i++)
        md_jw_hex(&e->j, e->r->register_names[i], 1, t->registers[i]);
    md_jw_end(&e->j);
}

static void stacktrace(ev *e, const Mayday__Thread *t, int with_regs)
{
    md_jw_obj(&e->j, "stacktrace");
    md_jw_arr(&e->j, "frames");
    for (size_t i = t->n_frames; i-- > 0;)
        frame(e, t, i);
    md_jw_end(&e->j);
    if (with_regs && t->n_registers)
        registers(e, t);
    md_jw_end(&e->j);
}

static const Mayday__Thread *crashed(const Mayday__Report *r)
{
    return r->has_crashed_thread ? r->threads[r->crashed_thread] : NULL;
}

static void exception(ev *e, int with_threads)
{
    const Mayday__Report *r = e->r;
    const Mayday__Signal *s = r->signal;
    if (!s)
        return;
    char nb[16], value[512];
    const char *name = md_report_signal_name(r, nb, sizeof(nb));
    const char *code = s->code_name && s->code_name[0]
                           ? s->code_name
                           : md_signal_code_name(s->number, s->code);
    const char *cause = r->has_cause ? md_cause_text(r->cause) : NULL;
    int k = snprintf(value, sizeof(value), "%s", code ? code : "signal");
    if (s->has_address && k > 0 && (size_t)k < sizeof(value))
        k += snprintf(value + k, sizeof(value) - (size_t)k, " at 0x%" PRIx64,
                      s->address);
    if (cause && k > 0 && (size_t)k < sizeof(value))
        k += snprintf(value + k, sizeof(value) - (size_t)k, ": %s", cause);
    if (r->abort_message && k > 0 && (size_t)k < sizeof(value))
        snprintf(value + k, sizeof(value) - (size_t)k, ": %s",
                 r->abort_message);
    md_jw_obj(&e->j, "exception");
    md_jw_arr(&e->j, "values");
    md_jw_obj(&e->j, NULL);
    md_jw_str(&e->j, "type", name[0] ? name : "signal");
    md_jw_str(&e->j, "value", value);
    const Mayday__Thread *t = crashed(r);
    if (t)
        md_jw_u64(&e->j, "thread_id", 1, t->tid);
    md_jw_obj(&e->j, "mechanism");
    md_jw_str(&e->j, "type", "signalhandler");
    md_jw_bool(&e->j, "synthetic", 1);
    md_jw_bool(&e->j, "handled", 0);
    md_jw_obj(&e->j, "meta");
    md_jw_obj(&e->j, "signal");
    md_jw_u64(&e->j, "number", 1, s->number);
    md_jw_i64(&e->j, "code", 1, s->code);
    if (name[0])
        md_jw_str(&e->j, "name", name);
    if (code)
        md_jw_str(&e->j, "code_name", code);
    md_jw_end(&e->j);
    md_jw_end(&e->j);
    md_jw_end(&e->j);
    if (with_threads && t)
        stacktrace(e, t, 1);
    md_jw_end(&e->j);
    md_jw_end(&e->j);
    md_jw_end(&e->j);
}

static void threads(ev *e)
{
    const Mayday__Report *r = e->r;
    md_jw_obj(&e->j, "threads");
    md_jw_arr(&e->j, "values");
    for (size_t i = 0; i < r->n_threads; i++) {
        const Mayday__Thread *t = r->threads[i];
        int is_crashed = r->has_crashed_thread && r->crashed_thread == i;
        md_jw_obj(&e->j, NULL);
        md_jw_u64(&e->j, "id", 1, t->tid);
        if (t->name)
            md_jw_str(&e->j, "name", t->name);
        md_jw_bool(&e->j, "crashed", is_crashed);
        md_jw_bool(&e->j, "current", is_crashed);
        if (t->has_state)
            md_jw_str(&e->j, "state", md_state_name(t->state));
        stacktrace(e, t, is_crashed);
        md_jw_end(&e->j);
    }
    md_jw_end(&e->j);
    md_jw_end(&e->j);
}

static void images(ev *e)
{
    const Mayday__Report *r = e->r;
    md_jw_obj(&e->j, "debug_meta");
    md_jw_arr(&e->j, "images");
    for (size_t i = 0; i < r->n_images; i++) {
        const Mayday__Image *m = r->images[i];
        md_jw_obj(&e->j, NULL);
        md_jw_str(&e->j, "type", "elf");
        if (m->has_build_id && m->build_id.len > 0) {
            char hex[2 * 64 + 1], did[37];
            md_format_hex(m->build_id.data, m->build_id.len, hex, sizeof(hex));
            md_sentry_debug_id(m->build_id.data, m->build_id.len, did);
            md_jw_str(&e->j, "code_id", hex);
            md_jw_str(&e->j, "debug_id", did);
        }
        md_jw_hex(&e->j, "image_addr", 1, m->address);
        md_jw_u64(&e->j, "image_size", 1, m->size);
        if (m->path && m->path[0])
            md_jw_str(&e->j, "code_file", m->path);
        else if (m->vdso)
            md_jw_str(&e->j, "code_file", "linux-vdso.so.1");
        md_jw_end(&e->j);
    }
    md_jw_end(&e->j);
    md_jw_end(&e->j);
}

static void breadcrumbs(ev *e)
{
    const Mayday__Report *r = e->r;
    if (r->n_breadcrumbs == 0)
        return;
    md_jw_obj(&e->j, "breadcrumbs");
    md_jw_arr(&e->j, "values");
    for (size_t i = 0; i < r->n_breadcrumbs; i++) {
        const Mayday__Breadcrumb *b = r->breadcrumbs[i];
        md_jw_obj(&e->j, NULL);
        md_jw_time(&e->j, "timestamp", 1, b->time_unix_ns);
        md_jw_str(&e->j, "type", "default");
        md_jw_str(&e->j, "category", "mayday");
        md_jw_str(&e->j, "level", "info");
        md_jw_str(&e->j, "message", b->message ? b->message : "");
        md_jw_end(&e->j);
    }
    md_jw_end(&e->j);
    md_jw_end(&e->j);
}

static void contexts(ev *e)
{
    const Mayday__Report *r = e->r;
    const Mayday__System *s = r->system;
    md_jw_obj(&e->j, "contexts");
    if (s) {
        md_jw_obj(&e->j, "os");
        md_jw_str(&e->j, "type", "os");
        md_jw_str(&e->j, "name", s->os ? s->os : "Linux");
        if (s->release)
            md_jw_str(&e->j, "version", s->release);
        if (s->version)
            md_jw_str(&e->j, "kernel_version", s->version);
        md_jw_end(&e->j);
        md_jw_obj(&e->j, "device");
        md_jw_str(&e->j, "type", "device");
        if (s->machine)
            md_jw_str(&e->j, "arch", s->machine);
        if (s->has_cpu_count)
            md_jw_u64(&e->j, "processor_count", 1, s->cpu_count);
        if (s->has_memory_total_bytes)
            md_jw_u64(&e->j, "memory_size", 1, s->memory_total_bytes);
        md_jw_end(&e->j);
    }
    md_jw_obj(&e->j, "app");
    md_jw_str(&e->j, "type", "app");
    if (r->app && r->app->id)
        md_jw_str(&e->j, "app_identifier", r->app->id);
    if (r->app && r->app->version)
        md_jw_str(&e->j, "app_version", r->app->version);
    if (r->process && r->process->name)
        md_jw_str(&e->j, "app_name", r->process->name);
    if (r->process && r->process->start_time_unix_ns > 0) {
        char t[48];
        md_format_time(r->process->start_time_unix_ns, t, sizeof(t));
        md_jw_str(&e->j, "app_start_time", t);
    }
    md_jw_end(&e->j);
    md_jw_end(&e->j);
}

static void tags(ev *e)
{
    const Mayday__Report *r = e->r;
    md_jw_obj(&e->j, "tags");
    char nb[16];
    const char *sig = md_report_signal_name(r, nb, sizeof(nb));
    if (sig[0])
        md_jw_str(&e->j, "signal", sig);
    const char *cause = r->has_cause ? md_cause_id(r->cause) : NULL;
    if (cause)
        md_jw_str(&e->j, "cause", cause);
    for (size_t i = 0; i < r->n_annotations; i++) {
        const char *k = r->annotations[i]->key;
        if (k && strncmp(k, "tag.", 4) == 0 && k[4])
            md_jw_str(&e->j, k + 4, r->annotations[i]->value);
    }
    for (const char *const *t = e->o->tags; t && *t; t++) {
        const char *eq = strchr(*t, '=');
        if (!eq || eq == *t)
            continue;
        char k[128];
        snprintf(k, sizeof(k), "%.*s", (int)(eq - *t), *t);
        md_jw_str(&e->j, k, eq + 1);
    }
    md_jw_end(&e->j);
}

static void extra(ev *e)
{
    const Mayday__Report *r = e->r;
    md_jw_obj(&e->j, "extra");
    for (size_t i = 0; i < r->n_annotations; i++) {
        const char *k = r->annotations[i]->key;
        if (k && strncmp(k, "tag.", 4) != 0)
            md_jw_str(&e->j, k, r->annotations[i]->value);
    }
    if (r->abort_message)
        md_jw_str(&e->j, "abort_message", r->abort_message);
    char why[256];
    if (md_incomplete_reasons(r, why, sizeof(why)) > 0)
        md_jw_str(&e->j, "mayday.incomplete", why);
    if (r->header && r->header->live && r->header->reason)
        md_jw_str(&e->j, "mayday.live_reason", r->header->reason);
    md_jw_end(&e->j);
}

/* release, environment, user, sdk. */
static void attributes(ev *e)
{
    const Mayday__Report *r = e->r;
    const char *rel = e->o->release ? e->o->release : annotation(r, "release");
    char relbuf[512];
    if (!rel && r->app && r->app->id && r->app->version) {
        snprintf(relbuf, sizeof(relbuf), "%s@%s", r->app->id, r->app->version);
        rel = relbuf;
    }
    if (rel)
        md_jw_str(&e->j, "release", rel);
    const char *env =
        e->o->environment ? e->o->environment : annotation(r, "environment");
    if (env)
        md_jw_str(&e->j, "environment", env);
    if (e->o->client_id) {
        char id[33];
        md_format_hex(e->o->client_id, 16, id, sizeof(id));
        md_jw_obj(&e->j, "user");
        md_jw_str(&e->j, "id", id);
        md_jw_end(&e->j);
    }
    md_jw_obj(&e->j, "sdk");
    md_jw_str(&e->j, "name", "mayday");
    md_jw_str(&e->j, "version", mayday_version());
    md_jw_end(&e->j);
}

/* The event's members (e->j is open on the top-level object). */
static void members(ev *e, int with_threads)
{
    const Mayday__Report *r = e->r;
    char id[33];
    md_sentry_event_id(r, id);
    if (id[0])
        md_jw_str(&e->j, "event_id", id);
    if (r->header && r->header->time_unix_ns > 0)
        md_jw_time(&e->j, "timestamp", 1, r->header->time_unix_ns);
    md_jw_str(&e->j, "platform", "native");
    md_jw_str(&e->j, "level", r->signal ? "fatal" : "error");
    if (!r->signal && r->header && r->header->reason)
        md_jw_str(&e->j, "message", r->header->reason);
    attributes(e);
    tags(e);
    exception(e, with_threads);
    if (with_threads) {
        threads(e);
        images(e);
    }
    breadcrumbs(e);
    contexts(e);
    extra(e);
}

int md_sentry_event(const mayday_report *rep, const mayday_export_options *opt,
                    int with_threads, md_buf *out)
{
    /* The reader's JSON writer (compact), into a memory stream. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ev *e = calloc(1, sizeof(*e));
    if (!f || !e) {
        if (f)
            fclose(f);
        free(text);
        free(e);
        return MAYDAY_ENOMEM;
    }
    e->rep = rep;
    e->r = md_report_pb(rep);
    e->o = opt;
    mayday_format_options_init(&e->fo);
    e->fo.symbolize = opt->symbolize;
    e->fo.user_data = opt->user_data;
    md_jw_init(&e->j, f, 1);
    md_jw_obj(&e->j, NULL);
    members(e, with_threads);
    int rc = md_jw_finish(&e->j);
    free(e);
    if (fclose(f) != 0 && rc == 0)
        rc = MAYDAY_ENOMEM;
    /* md_jw_finish ends with a newline: not part of the event. */
    while (rc == 0 && len > 0 && text[len - 1] == '\n')
        len--;
    if (rc == 0)
        md_buf_put(out, text, len);
    free(text);
    if (rc == 0 && out->oom)
        rc = MAYDAY_ENOMEM;
    return rc;
}
