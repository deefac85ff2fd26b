/*
 * extras.c - optional parts of the renderings (issue 14): which thread
 * --brief keeps, the source lines around the crashed frame
 * (MAYDAY_FORMAT_SOURCE), and what a register value points into (an
 * image's segment, and the function there when it is code).
 *
 * Context: normal (stdio; reads source files named by the symbolicator).
 */
#include <inttypes.h>
#include <string.h>

#include "normal/reader/reader.h"

size_t md_brief_thread(const Mayday__Report *r)
{
    return r->has_crashed_thread ? r->crashed_thread : 0;
}

int md_thread_shown(const Mayday__Report *r, const mayday_format_options *o,
                    size_t ti)
{
    return !(o->flags & MAYDAY_FORMAT_BRIEF) || ti == md_brief_thread(r);
}

int md_source_context(const mayday_report *rep, const mayday_format_options *o,
                      md_source *out)
{
    const Mayday__Report *r = rep->pb;
    memset(out, 0, sizeof(*out));
    size_t ti = md_brief_thread(r);
    if (!(o->flags & MAYDAY_FORMAT_SOURCE) || ti >= r->n_threads)
        return 0;
    const Mayday__Thread *t = r->threads[ti];
    for (size_t fi = 0; fi < t->n_frames; fi++) {
        mayday_symbol sym[MD_MAX_SYMBOLS];
        int ns = md_frame_symbols(rep, o, t, fi, sym);
        /* The innermost entry: where the pc is. */
        if (ns == 0 || !sym[0].file || !sym[0].line)
            continue;
        FILE *f = fopen(sym[0].file, "re");
        if (!f)
            continue;
        snprintf(out->file, sizeof(out->file), "%s", sym[0].file);
        out->line = sym[0].line;
        out->frame = fi;
        uint32_t first =
            out->line > MD_SOURCE_CONTEXT ? out->line - MD_SOURCE_CONTEXT : 1;
        char buf[4096];
        uint32_t ln = 0;
        while (out->n < MD_SOURCE_LINES && fgets(buf, sizeof(buf), f)) {
            size_t len = strlen(buf);
            int whole = len > 0 && buf[len - 1] == '\n';
            ln++;
            if (ln >= first) {
                md_source_line *l = &out->lines[out->n++];
                l->line = ln;
                buf[strcspn(buf, "\r\n")] = '\0';
                snprintf(l->text, sizeof(l->text), "%s", buf);
            }
            /* Skip the rest of an overlong line. */
            while (!whole && fgets(buf, sizeof(buf), f)) {
                len = strlen(buf);
                whole = len > 0 && buf[len - 1] == '\n';
            }
            if (ln >= out->line + MD_SOURCE_CONTEXT)
                break;
        }
        fclose(f);
        return out->n > 0;
    }
    return 0;
}

void md_image_bounds(const Mayday__Report *r, uint64_t *lo, uint64_t *hi)
{
    *lo = UINT64_MAX;
    *hi = 0;
    for (size_t i = 0; i < r->n_images; i++)
        for (size_t s = 0; s < r->images[i]->n_segments; s++) {
            const Mayday__Segment *g = r->images[i]->segments[s];
            if (g->address < *lo)
                *lo = g->address;
            if (g->address + g->size > *hi)
                *hi = g->address + g->size;
        }
}

/* snprintf(buf, n, "%s %s +0x%" PRIx64, name, fl, rel), without stdio's
 * format machinery when it fits (a note for most registers of every
 * thread: the JSON of a 129-thread report made ~400 of them). */
static int note_head(char *buf, size_t n, const char *name, const char *fl,
                     uint64_t rel)
{
    size_t nl = name ? strlen(name) : 0;
    if (!name || nl + 1 + 3 + 4 + 16 + 1 > n)
        return snprintf(buf, n, "%s %s +0x%" PRIx64, name, fl, rel);
    char *p = buf;
    memcpy(p, name, nl);
    p += nl;
    *p++ = ' ';
    memcpy(p, fl, 3);
    p += 3;
    memcpy(p, " +0x", 4);
    p += 4;
    size_t nd = rel ? (size_t)(67 - __builtin_clzll(rel)) / 4 : 1;
    for (size_t i = nd; i-- > 0; rel >>= 4)
        p[i] = "0123456789abcdef"[rel & 15];
    p += nd;
    *p = 0;
    return (int)(p - buf);
}

int md_register_note(const mayday_report *rep, const mayday_format_options *o,
                     uint64_t v, char *buf, size_t n)
{
    const Mayday__Report *r = rep->pb;
    for (size_t i = 0; i < r->n_images; i++) {
        const Mayday__Image *m = r->images[i];
        for (size_t s = 0; s < m->n_segments; s++) {
            const Mayday__Segment *g = m->segments[s];
            if (!g->has_address || !g->has_size || v < g->address ||
                v - g->address >= g->size)
                continue;
            char fl[4] = {g->flags & 4 ? 'r' : '-', g->flags & 2 ? 'w' : '-',
                          g->flags & 1 ? 'x' : '-', 0};
            int w = note_head(buf, n, md_image_short_name(m), fl,
                              md_image_rel(m, v));
            mayday_symbol sym[MD_MAX_SYMBOLS];
            int ns = 0;
            if ((g->flags & 1) && o->symbolize && w > 0 && (size_t)w < n) {
                memset(sym, 0, sizeof(sym));
                for (size_t k = 0; k < MD_MAX_SYMBOLS; k++)
                    sym[k].size = sizeof(sym[k]);
                ns = o->symbolize(o->user_data, rep, (uint32_t)i, v, 1, sym,
                                  MD_MAX_SYMBOLS);
            }
            if (ns > 0 && ns <= MD_MAX_SYMBOLS && sym[ns - 1].function)
                snprintf(buf + w, n - (size_t)w, " %s+0x%" PRIx64,
                         sym[ns - 1].symbol && !sym[ns - 1].symbol_at_function
                             ? sym[ns - 1].symbol
                             : sym[ns - 1].function,
                         sym[ns - 1].offset);
            return 1;
        }
    }
    return 0;
}
