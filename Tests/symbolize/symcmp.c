/*
 * symcmp.c - runs eu-addr2line / addr2line on a report's addresses and
 * compares their inline chains with the decoder's JSON (see symcmp.h).
 *
 * Context: tests only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symcmp.h"

void sc_chain_free(sc_chain *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->e[i].function);
        free(c->e[i].file);
    }
    c->n = 0;
}

static int is_addr_line(const char *l)
{
    if (strncmp(l, "0x", 2) != 0 || !l[2])
        return 0;
    for (const char *p = l + 2; *p; p++)
        if (!strchr("0123456789abcdef", *p))
            return 0;
    return 1;
}

/* "file:line[:col][ (discriminator N)]", "??:0", "??:?" */
static void parse_loc(char *l, sc_entry *e)
{
    char *d = strstr(l, " (discriminator");
    if (d)
        *d = '\0';
    int nums[2] = {0, 0}, k = 0;
    char *c;
    while (k < 2 && (c = strrchr(l, ':')) != NULL) {
        char *end;
        long v = strtol(c + 1, &end, 10);
        if (end == c + 1 || *end)
            break;
        nums[k++] = (int)v;
        *c = '\0';
    }
    if (k == 0 && (c = strrchr(l, ':')) != NULL && strcmp(c, ":?") == 0)
        *c = '\0';
    /* k == 2: line:col were read right to left. */
    e->line = k == 2 ? nums[1] : nums[0];
    e->file = strcmp(l, "??") == 0 ? NULL : strdup(l);
}

int sc_run_tool(const char *tool, const char *file,
                const unsigned long long *addrs, size_t n, sc_chain *out)
{
    size_t cap = 256 + strlen(file) + n * 24;
    char *cmd = malloc(cap);
    size_t o = (size_t)snprintf(cmd, cap, "%s -f -i -C -a -e '%s'", tool, file);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(cmd + o, cap - o, " 0x%llx", addrs[i]);
    snprintf(cmd + o, cap - o, " 2>/dev/null");
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (!p)
        return -1;
    char line[8192], name[8192];
    long cur = -1;
    int want_name = 0;
    for (size_t i = 0; i < n; i++)
        out[i].n = 0;
    while (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = '\0';
        if (is_addr_line(line)) {
            cur++;
            want_name = 1;
            continue;
        }
        if (cur < 0 || (size_t)cur >= n)
            continue;
        if (want_name) {
            snprintf(name, sizeof(name), "%s", line);
            /* eu-addr2line: "poke inlined at f.c:31:9 in recurse" */
            char *in = strstr(name, " inlined at ");
            if (in)
                *in = '\0';
            want_name = 0;
            continue;
        }
        sc_chain *c = &out[cur];
        if (c->n < SC_MAX_CHAIN) {
            sc_entry *e = &c->e[c->n++];
            e->function = strcmp(name, "??") == 0 ? NULL : strdup(name);
            parse_loc(line, e);
        }
        want_name = 1;
    }
    int st = pclose(p);
    return st == 0 ? 0 : -1;
}

int sc_eu_symbol(const char *file, unsigned long long addr, char *buf, size_t n,
                 unsigned long long *off)
{
    char cmd[8400], line[8192];
    snprintf(cmd, sizeof(cmd),
             "eu-addr2line -S -C -a -e '%s' 0x%llx 2>/dev/null", file, addr);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    buf[0] = '\0';
    *off = 0;
    int k = 0;
    while (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = '\0';
        if (k++ != 1)
            continue;
        /* "name+0xoff", "name", or "(section)+0x..." without a symbol */
        if (line[0] == '(')
            break;
        char *plus = strstr(line, "+0x");
        if (plus) {
            *off = strtoull(plus + 1, NULL, 16);
            *plus = '\0';
        }
        char *at = strchr(line, '@');
        if (at && at != line)
            *at = '\0';
        snprintf(buf, n, "%s", line);
    }
    return pclose(p) == 0 ? 0 : -1;
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* 1 if chains a and b are equal (files compared only if with_file). */
static int chain_eq(const sc_chain *a, const sc_chain *b, int with_file)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (!str_eq(a->e[i].function, b->e[i].function) ||
            a->e[i].line != b->e[i].line ||
            (with_file && !str_eq(a->e[i].file, b->e[i].file)))
            return 0;
    return 1;
}

static void print_chain(const char *tag, const char *who, const sc_chain *c)
{
    for (int i = 0; i < c->n; i++)
        printf("%s   %-8s %s%s (%s:%d)\n", tag, i ? "" : who,
               i ? "  inlined into " : "",
               c->e[i].function ? c->e[i].function : "??",
               c->e[i].file ? c->e[i].file : "??", c->e[i].line);
    if (c->n == 0)
        printf("%s   %-8s (nothing)\n", tag, who);
}

/* Our chain of frame `index`: the consecutive JSON entries with it. */
static size_t our_chain(const jm_node *frames, size_t k, sc_chain *c)
{
    int ok;
    int64_t idx = jm_int(jm_get(frames->kids[k], "index"), &ok);
    c->n = 0;
    while (k < frames->n &&
           jm_int(jm_get(frames->kids[k], "index"), &ok) == idx) {
        const jm_node *f = frames->kids[k];
        if (c->n < SC_MAX_CHAIN) {
            sc_entry *e = &c->e[c->n++];
            const char *fn = jm_str(jm_get(f, "symbol"));
            const char *file = jm_str(jm_get(f, "file"));
            const jm_node *ln = jm_get(f, "line");
            e->function = fn ? strdup(fn) : NULL;
            e->file = file ? strdup(file) : NULL;
            e->line = ln && ln->type == JM_NUM ? (int)ln->num : 0;
        }
        k++;
    }
    /* No symbol at all is the tools' "??" with no location. */
    if (c->n == 1 && !c->e[0].function && !c->e[0].file)
        c->e[0].line = 0;
    return k;
}

void sc_compare(const jm_node *json, size_t thread, sc_map_fn map, void *ud,
                const char *tag, sc_stats *st)
{
    char p[64];
    snprintf(p, sizeof(p), "threads.%zu.frames", thread);
    const jm_node *frames = jm_path(json, p);
    const jm_node *images = jm_get(json, "images");
    if (!frames || frames->type != JM_ARR || !images)
        return;
    for (size_t k = 0; k < frames->n;) {
        const jm_node *f = frames->kids[k];
        sc_chain ours;
        size_t next = our_chain(frames, k, &ours);
        int ok = 0, ok2 = 0;
        int64_t ii = jm_int(jm_get(f, "image"), &ok);
        uint64_t rel = jm_hex(jm_get(f, "image_offset"), &ok2);
        const char *trust = jm_str(jm_get(f, "trust"));
        const jm_node *img =
            ok && (size_t)ii < images->n ? images->kids[ii] : NULL;
        const char *path = img ? jm_str(jm_get(img, "path")) : NULL;
        const jm_node *vd = img ? jm_get(img, "vdso") : NULL;
        int vdso = vd && vd->type == JM_BOOL && vd->b;
        const char *file = path && map ? map(path, ud) : NULL;
        if (!file)
            file = path;
        if (!ok2 || !file || vdso || access(file, R_OK) != 0) {
            sc_chain_free(&ours);
            k = next;
            continue;
        }
        unsigned long long a =
            rel - (trust && strcmp(trust, "context") == 0 ? 0 : 1);
        sc_chain eu = {0}, bu = {0};
        sc_run_tool("eu-addr2line", file, &a, 1, &eu);
        sc_run_tool(ADDR2LINE, file, &a, 1, &bu);
        st->frames++;
        st->entries += eu.n;
        int m_eu = chain_eq(&ours, &eu, 1), m_bu = chain_eq(&ours, &bu, 0);
        st->eu_fl_mismatch += !chain_eq(&ours, &eu, 0);
        /* The ELF symbol and offset of the last entry (eu-addr2line -S);
         * eu counts from the looked-up address (pc - 1 for returns). */
        char esym[4096];
        unsigned long long eoff;
        if (sc_eu_symbol(file, a, esym, sizeof(esym), &eoff) == 0 && esym[0]) {
            const jm_node *last = frames->kids[next - 1];
            const jm_node *es = jm_get(last, "elf_symbol");
            const char *ms = es ? jm_str(es) : jm_str(jm_get(last, "symbol"));
            int okx = 0;
            uint64_t moff = jm_hex(jm_get(last, "offset"), &okx);
            unsigned long long want = eoff + (rel - a);
            if (!ms || strcmp(ms, esym) != 0 || !okx || moff != want) {
                st->sym_mismatch++;
                printf("%s frame %s 0x%llx: symbol %s+0x%llx, eu-addr2line "
                       "-S %s+0x%llx\n",
                       tag, file, a, ms ? ms : "(none)",
                       (unsigned long long)moff, esym, want);
            }
        }
        int agree = chain_eq(&eu, &bu, 0);
        if (!agree)
            st->tools_disagree++;
        /* Where the two tools agree, ours must equal both; where they do
         * not, ours must equal one of them. */
        int bad = agree ? !(m_eu && m_bu) : !(m_eu || m_bu);
        if (!m_eu)
            st->eu_mismatch++;
        if (!m_bu)
            st->bu_mismatch++;
        int outside = eu.n == 1 && bu.n == 1 && !eu.e[0].line &&
                      !bu.e[0].line && ours.n >= 1 && ours.e[0].line;
        st->line_outside_cu += outside;
        if (bad || !agree) {
            printf("%s frame #%lld %s 0x%llx%s:\n", tag,
                   (long long)jm_int(jm_get(f, "index"), &ok), file, a,
                   bad ? " DIFFERS" : " (the tools disagree)");
            print_chain(tag, "mayday", &ours);
            print_chain(tag, "eu", &eu);
            print_chain(tag, "binutils", &bu);
        }
        st->failed += bad;
        sc_chain_free(&ours);
        sc_chain_free(&eu);
        sc_chain_free(&bu);
        k = next;
    }
}
