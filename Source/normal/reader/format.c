/*
 * format.c - entry points of the report formatters (mayday_report_format,
 * mayday_report_format_ex) and the helpers text.c and json.c share: time
 * and hex formatting, image names, completeness, symbol lookup through the
 * caller's symbolicator callback.
 *
 * Context: normal (stdio). libmayday itself has no symbolicator: the
 * `mayday` CLI passes one (libdw) through mayday_format_options.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "normal/reader/reader.h"

void md_format_time(int64_t ns, char *buf, size_t n)
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 ||
        tm.tm_year + 1900 > 9999) {
        snprintf(buf, n, "%" PRId64 "ns", ns);
        return;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)frac);
}

void md_format_hex(const uint8_t *p, size_t len, char *buf, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    size_t o = 0;
    if (n == 0)
        return;
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        buf[o++] = hx[p[i] >> 4];
        buf[o++] = hx[p[i] & 15];
    }
    buf[o] = '\0';
}

const char *md_image_short_name(const Mayday__Image *img)
{
    if (!img)
        return "???";
    if (img->path && img->path[0]) {
        const char *s = strrchr(img->path, '/');
        if (s && s[1])
            return s + 1;
        if (!s)
            return img->path;
    }
    return img->vdso ? "[vdso]" : "???";
}

uint64_t md_image_rel(const Mayday__Image *img, uint64_t pc)
{
    if (img->has_load_bias)
        return pc - img->load_bias;
    return pc - img->address;
}

int md_frame_is_context(const Mayday__Frame *f, size_t index)
{
    if (f->has_trust)
        return f->trust == MAYDAY__TRUST__TRUST_CONTEXT;
    return index == 0;
}

const char *md_report_signal_name(const Mayday__Report *r, char *buf, size_t n)
{
    if (!r->signal)
        return "";
    if (r->signal->name && r->signal->name[0])
        return r->signal->name;
    if (r->signal->has_number) {
        const char *s = md_signal_name(r->signal->number, buf, n);
        if (s)
            return s;
    }
    return "";
}

int md_incomplete_reasons(const Mayday__Report *r, char *buf, size_t n)
{
    int k = 0;
    size_t o = 0;
    if (n)
        buf[0] = '\0';
#define REASON(cond, name)                                                     \
    do {                                                                       \
        if (cond) {                                                            \
            if (o < n) {                                                       \
                int w = snprintf(buf + o, n - o, "%s%s", k ? ", " : "", name); \
                o += w > 0 ? (size_t)w : 0;                                    \
            }                                                                  \
            k++;                                                               \
        }                                                                      \
    } while (0)
    REASON(r->truncated, "truncated");
    REASON(r->threads_not_suspended, "threads_not_suspended");
    REASON(r->threads_capped, "threads_capped");
    REASON(r->images_inconsistent, "images_inconsistent");
    REASON(r->recursive_crash, "recursive_crash");
    REASON(r->frames_capped, "frames_capped");
    REASON(r->handoff_timed_out, "handoff_timed_out");
    /* issue 10: limits hit */
    REASON(r->images_capped, "images_capped");
    REASON(r->segments_capped, "segments_capped");
    REASON(r->image_paths_capped, "image_paths_capped");
    REASON(r->argv_truncated, "argv_truncated");
    REASON(r->crashed_threads_dropped, "crashed_threads_dropped");
    REASON(r->n_limits_hit, "limits_hit");
    REASON(r->mappings_capped, "mappings_capped"); /* issue 11 */
#undef REASON
    return k;
}

int md_frame_symbols(const mayday_report *rep, const mayday_format_options *o,
                     const Mayday__Thread *t, size_t fi,
                     mayday_symbol out[MD_MAX_SYMBOLS])
{
    const Mayday__Frame *f = t->frames[fi];
    if (!o || !o->symbolize || !f->has_image || !f->has_pc)
        return 0;
    memset(out, 0, MD_MAX_SYMBOLS * sizeof(*out));
    for (size_t i = 0; i < MD_MAX_SYMBOLS; i++)
        out[i].size = sizeof(mayday_symbol);
    int n = o->symbolize(o->user_data, rep, f->image, f->pc,
                         md_frame_is_context(f, fi), out, MD_MAX_SYMBOLS);
    if (n <= 0)
        return 0;
    return n > MD_MAX_SYMBOLS ? MD_MAX_SYMBOLS : n;
}

const char *md_frame_status(const mayday_report *rep,
                            const mayday_format_options *o,
                            const Mayday__Frame *f, const mayday_symbol *sym,
                            int ns)
{
    (void)rep, (void)o;
    if (!f->has_image)
        return NULL;
    for (int k = 0; k < ns; k++)
        if (sym[k].file && sym[k].line)
            return "full";
    for (int k = 0; k < ns; k++)
        if (sym[k].function)
            return "function";
    return "none";
}

int md_image_symbols(const mayday_report *rep, const mayday_format_options *o,
                     uint32_t image, mayday_image_symbols *out)
{
    memset(out, 0, sizeof(*out));
    out->size = sizeof(*out);
    if (!o->image_symbols ||
        o->image_symbols(o->user_data, rep, image, out) != 0 || !out->status)
        return MAYDAY_ENOTFOUND;
    return 0;
}

void mayday_format_options_init(mayday_format_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof(*opt));
    opt->size = sizeof(*opt);
}

int mayday_report_format_ex(const mayday_report *report, mayday_format format,
                            const mayday_format_options *opt, FILE *out)
{
    if (!report || !out)
        return MAYDAY_EINVAL;
    /* Callers compiled against an older, shorter struct: copy what they
     * have; fields they lack stay zero. */
    mayday_format_options o;
    mayday_format_options_init(&o);
    if (opt) {
        if (opt->size < sizeof(uint32_t))
            return MAYDAY_EINVAL;
        size_t n = opt->size < sizeof(o) ? opt->size : sizeof(o);
        memcpy(&o, opt, n);
        o.size = sizeof(o);
    }
    int rc;
    switch (format) {
    case MAYDAY_FORMAT_TEXT:
        rc = md_format_text(report, &o, out);
        break;
    case MAYDAY_FORMAT_JSON:
        rc = md_format_json(report, &o, out);
        break;
    default:
        return MAYDAY_EINVAL;
    }
    if (rc == 0 && (fflush(out) != 0 || ferror(out)))
        rc = MAYDAY_EIO;
    return rc;
}

int mayday_report_format(const mayday_report *report, mayday_format format,
                         FILE *out)
{
    return mayday_report_format_ex(report, format, NULL, out);
}
