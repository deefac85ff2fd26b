/*
 * fail_util.c - helpers of the issue-12 tests (see fail_util.h).
 *
 * Context: test code (normal context).
 */
#include "fail_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "mdt.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)(n > 0 ? n : 0) + 1);
    size_t k = n > 0 ? fread(b, 1, (size_t)n, f) : 0;
    b[k] = 0;
    fclose(f);
    return b;
}

void fu_run_child(fu_run *o, const char *binary, const char *scenario,
                  const char *mode, int timeout_ms)
{
    memset(o, 0, sizeof *o);
    o->dir = mdt_mkdtemp("fail");
    assert_non_null(o->dir);
    char *rdir = 0, *out = 0, *env0 = 0;
    assert_true(asprintf(&rdir, "%s/reports", o->dir) > 0);
    assert_true(asprintf(&out, "%s/out.txt", o->dir) > 0);
    assert_true(asprintf(&env0, "CHILD_MODE=%s", mode ? mode : "auto") > 0);
    char *argv[] = {(char *)binary, rdir, (char *)scenario, 0};
    char *env[] = {env0, 0};
    o->status = mdt_run(argv, env, timeout_ms, &o->hung, out);
    o->out = slurp(out);
    o->nreports = mdt_count_reports(rdir, o->path, sizeof o->path);
    if (o->nreports >= 1)
        o->r = mdt_load_report(o->path);
    if (o->hung)
        fail_msg("%s %s: hung (killed after %d ms)", binary, scenario,
                 timeout_ms);
    free(rdir);
    free(out);
    free(env0);
}

void fu_free(fu_run *o)
{
    if (o->r)
        mayday__report__free_unpacked(o->r, 0);
    if (o->dir)
        mdt_rmtree(o->dir);
    free(o->dir);
    free(o->out);
    memset(o, 0, sizeof *o);
}

static const char *find_key(const fu_run *o, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = o->out; p && *p;) {
        if (!strncmp(p, key, k) && p[k] == '=')
            return p + k + 1;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

long fu_out_long(const fu_run *o, const char *key)
{
    const char *v = find_key(o, key);
    return v ? strtol(v, 0, 10) : -1;
}

const char *fu_out_str(const fu_run *o, const char *key, char *buf, size_t cap)
{
    const char *v = find_key(o, key);
    if (!v)
        return 0;
    size_t n = strcspn(v, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, v, n);
    buf[n] = 0;
    return buf;
}

int fu_out_count(const fu_run *o, const char *prefix)
{
    int n = 0;
    size_t k = strlen(prefix);
    for (const char *p = o->out; p && *p;) {
        n += !strncmp(p, prefix, k);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}

int fu_killed_by(const fu_run *o, int sig)
{
    return WIFSIGNALED(o->status) && WTERMSIG(o->status) == sig;
}

const Mayday__Thread *fu_crashed(const Mayday__Report *r)
{
    assert_non_null(r);
    assert_true(r->has_crashed_thread);
    assert_true(r->crashed_thread < r->n_threads);
    return r->threads[r->crashed_thread];
}

static void func_range(const char *binary, const Mayday__Report *r,
                       const char *sym, uint64_t *lo, uint64_t *hi)
{
    uint64_t off, size;
    if (mdt_symbol(binary, sym, &off, &size) != 0)
        fail_msg("no symbol %s in %s", sym, binary);
    const Mayday__Image *m = mdt_main_image(r);
    assert_non_null(m);
    *lo = m->load_bias + off;
    *hi = *lo + size;
}

int fu_frames_in(const char *binary, const Mayday__Report *r,
                 const Mayday__Thread *t, const char *sym)
{
    uint64_t lo, hi;
    func_range(binary, r, sym, &lo, &hi);
    /* Return addresses (every frame but the first) may point just past
     * a call that ends the function (noreturn): look them up at pc - 1. */
    int n = 0;
    for (size_t i = 0; i < t->n_frames; i++) {
        uint64_t pc = t->frames[i]->pc - (i > 0);
        n += pc >= lo && pc < hi;
    }
    return n;
}

int fu_pc_in(const char *binary, const Mayday__Report *r, uint64_t pc,
             const char *sym)
{
    uint64_t lo, hi;
    func_range(binary, r, sym, &lo, &hi);
    return pc - 1 >= lo && pc - 1 < hi; /* a return address */
}

char *fu_format(const char *path, mayday_format format)
{
    mayday_report *rep = 0;
    assert_int_equal(mayday_report_load(path, &rep), 0);
    char *buf = 0;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(mayday_report_format(rep, format, f), 0);
    fclose(f);
    mayday_report_free(rep);
    return buf;
}

char *fu_sh_line(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[4096] = "";
    if (!fgets(line, sizeof line, p))
        line[0] = 0;
    pclose(p);
    line[strcspn(line, "\n")] = 0;
    return strdup(line);
}
