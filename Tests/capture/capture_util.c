/*
 * capture_util.c - helpers of the issue 11 crash tests (test_capture,
 * test_capture_files): run Tests/capture/capturer with an environment,
 * check how it died, decode its one report (protobuf-c, mdt.c), read
 * what it wrote about itself; lookups in a decoded report.
 *
 * Context: test code (normal context).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash/core/regs.h"
#include "mayday/mayday.h"
#include "mdt.h"

#define TIMEOUT_MS 15000
#include "capture_util.h"

char *capturer;

/* The value after `key` in the child's output (the nth such line). */
int out_get(const run *x, const char *key, int nth, uint64_t v[3])
{
    FILE *f = fopen(x->out, "r");
    if (!f)
        return -1;
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        char k[64];
        unsigned long long a = 0, b = 0, c = 0;
        int n = sscanf(line, "%63s %lli %lli %lli", k, &a, &b, &c);
        if (n >= 2 && !strcmp(k, key) && nth-- == 0) {
            v[0] = a, v[1] = b, v[2] = c;
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

uint64_t out_val(const run *x, const char *key, int nth, int i)
{
    uint64_t v[3];
    if (out_get(x, key, nth, v) < 0)
        fail_msg("the child did not write \"%s\" (see %s)", key, x->out);
    return v[i];
}

/* Runs `capturer DIR scenario OUT` with env; expects death by sig and one
 * report (decoded into x->r). */
void run_child(run *x, const char *scenario, char *const env[], int sig)
{
    memset(x, 0, sizeof *x);
    x->dir = mdt_mkdtemp("capture");
    assert_non_null(x->dir);
    char rdir[4200];
    snprintf(rdir, sizeof rdir, "%s/reports", x->dir);
    snprintf(x->out, sizeof x->out, "%s/out.txt", x->dir);
    char log[4300];
    snprintf(log, sizeof log, "%s/log.txt", x->dir);
    char *argv[] = {capturer, rdir, (char *)scenario, x->out, 0};
    int hung;
    x->status = mdt_run(argv, env, TIMEOUT_MS, &hung, log);
    if (hung)
        fail_msg("%s: hung", scenario);
    if (sig && !(WIFSIGNALED(x->status) && WTERMSIG(x->status) == sig))
        fail_msg("%s: status 0x%x, want signal %d (see %s)", scenario,
                 x->status, sig, log);
    if (!sig && !(WIFEXITED(x->status) && WEXITSTATUS(x->status) == 0))
        fail_msg("%s: status 0x%x, want exit 0 (see %s)", scenario, x->status,
                 log);
    int n = mdt_count_reports(rdir, x->path, sizeof x->path);
    if (n != 1)
        fail_msg("%s: %d reports", scenario, n);
    x->r = mdt_load_report(x->path);
    assert_non_null(x->r);
}

void run_free(run *x)
{
    if (x->r)
        mayday__report__free_unpacked(x->r, 0);
    mdt_rmtree(x->dir);
    free(x->dir);
}

const Mayday__Thread *named(const Mayday__Report *r, const char *name)
{
    for (size_t i = 0; i < r->n_threads; i++)
        if (r->threads[i]->name && !strcmp(r->threads[i]->name, name))
            return r->threads[i];
    fail_msg("no thread named %s", name);
    return 0;
}

const Mayday__Thread *crashed(const Mayday__Report *r)
{
    assert_true(r->has_crashed_thread && r->crashed_thread < r->n_threads);
    return r->threads[r->crashed_thread];
}

/* The recorded byte at addr of the memory region m, or -1. */
int byte_at(const Mayday__Memory *m, uint64_t addr)
{
    if (!m || !m->has_data || addr < m->address ||
        addr - m->address >= m->data.len)
        return -1;
    return m->data.data[addr - m->address];
}

int reg(const Mayday__Report *r, const Mayday__Thread *t, const char *name,
        uint64_t *v)
{
    for (size_t i = 0; i < r->n_register_names && i < t->n_registers; i++)
        if (!strcmp(r->register_names[i], name)) {
            *v = t->registers[i];
            return 0;
        }
    return -1;
}

/* Run `i` of a scenario: the report written by the exception thread or
 * in the crashed thread's handler (odd runs), the other threads stopped
 * with ptrace or with the signal (every other pair of runs). */
const char *mode_env(int i)
{
    return i % 2 ? "CAP_MODE=signal" : "CAP_MODE=thread";
}

int stop_signal(int i) { return (i / 2) % 2; }

const char *stop_env(int i)
{
    return stop_signal(i) ? "CAP_STOP=2" : "CAP_STOP=0";
}

const Mayday__Mapping *mapping_of(const Mayday__Report *r, uint64_t addr)
{
    for (size_t i = 0; i < r->n_mappings; i++) {
        const Mayday__Mapping *m = r->mappings[i];
        if (addr >= m->start && addr - m->start < m->size)
            return m;
    }
    return 0;
}
