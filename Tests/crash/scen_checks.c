/*
 * scen_checks.c - report checks for the scenarios of crasher_shapes.c and
 * crasher_states.c (issues 9 and 10). The outcome checks (death signal,
 * exit status, number of reports) are test_scenarios.c's.
 *
 * Context: test program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "emu.h"
#include "scen.h"

const Mayday__Thread *scen_thread_named(const Mayday__Report *r,
                                        const char *name)
{
    for (size_t i = 0; i < r->n_threads; i++) {
        if (r->threads[i]->name && !strcmp(r->threads[i]->name, name))
            return r->threads[i];
    }
    return 0;
}

/* "<dir>/../<leaf>" of a report path "<dir>/reports/<file>". */
static void side_of(const char *path, const char *leaf, char *out, size_t cap,
                    int levels)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (int i = 0; i < levels; i++) {
        char *slash = strrchr(tmp, '/');
        if (slash)
            *slash = 0;
    }
    snprintf(out, cap, "%s/%s", tmp, leaf);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* qemu-user's own RCU thread: a task of the process that qemu starts
 * before the guest's first instruction (so the lowest tid after the main
 * thread's, counted past a wrap of pid_max) and that blocks every signal:
 * with no ptrace under qemu nothing can stop it (docs/platforms.md). */
static int qemu_rcu_thread(const Mayday__Report *r, const Mayday__Thread *t)
{
    if (!mdt_emulator() || !r->process ||
        t->state != MAYDAY__THREAD_STATE__THREAD_STATE_NOT_SUSPENDED ||
        !t->note || !strstr(t->note, "blocks mayday's signal") ||
        t->tid == r->process->pid)
        return 0;
    /* Distance from main's tid, unsigned: a tid that wrapped past
     * pid_max is far, not near (seen: qemu's thread 32765, a worker 300). */
    uint32_t pid = r->process->pid, mine = (uint32_t)t->tid - pid;
    for (size_t i = 0; i < r->n_threads; i++) {
        uint32_t d = (uint32_t)r->threads[i]->tid - pid;
        if (d != 0 && d < mine)
            return 0;
    }
    return 1;
}

/* Every thread that is not the crashed one nor mayday's own was stopped,
 * with all its registers. */
void check_all_stopped(const scen *s, const Mayday__Report *r, const char *path)
{
    (void)s;
    (void)path;
    int others = 0;
    for (size_t i = 0; i < r->n_threads; i++) {
        const Mayday__Thread *t = r->threads[i];
        if (t->crashed ||
            t->state == MAYDAY__THREAD_STATE__THREAD_STATE_REPORTER ||
            t->state == MAYDAY__THREAD_STATE__THREAD_STATE_CURRENT)
            continue;
        if (qemu_rcu_thread(r, t))
            continue;
        others++;
        if (t->state != MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED)
            fail_msg("thread %u (%s) not stopped: %s", t->tid,
                     t->name ? t->name : "?", t->note ? t->note : "");
        assert_int_equal(t->n_registers, r->n_register_names);
        assert_true(t->n_frames >= 1);
    }
    assert_true(others >= 1);
}

/* Mode stall-helper: every thread stopped although the helper was held
 * off the CPU longer than suspend_timeout_ms, and the report says so. */
void check_stalled(const scen *s, const Mayday__Report *r, const char *path)
{
    check_all_stopped(s, r, path);
    const char *note = r->header->stop_note;
    if (!note || !strstr(note, "off the CPU"))
        fail_msg("stop_note \"%s\" does not tell the stall (suspend_ns %llu, "
                 "method %d)",
                 note ? note : "", (unsigned long long)r->header->suspend_ns,
                 (int)r->header->stop_method);
}

/* No record after the report was written (the callback's line): the
 * writers were stopped and stayed stopped until the process died. */
void check_writer(const scen *s, const Mayday__Report *r, const char *path)
{
    char rec[4200];
    side_of(path, "records", rec, sizeof rec, 2);
    size_t len;
    char *buf = slurp(rec, &len);
    assert_non_null(buf);
    char *mark = strstr(buf, "REPORTED\n");
    if (!mark)
        fail_msg("no REPORTED line in %s", rec);
    const char *after = mark + 9;
    if (*after)
        fail_msg("%zu bytes written after the report: \"%.40s\"", strlen(after),
                 after);
    free(buf);
    check_all_stopped(s, r, path);
}

/* The application's handlers on the real-time signals never ran: mayday
 * sent none of them (ptrace), or put its own back for the time of the
 * report (signal fallback). */
void check_rt(const scen *s, const Mayday__Report *r, const char *path)
{
    (void)s;
    char rec[4200];
    side_of(path, "records", rec, sizeof rec, 2);
    size_t len;
    char *buf = slurp(rec, &len);
    assert_non_null(buf);
    if (strstr(buf, "H\n"))
        fail_msg("an application handler of a real-time signal ran");
    free(buf);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "worker-%d", i);
        const Mayday__Thread *t = scen_thread_named(r, name);
        assert_non_null(t);
        assert_int_equal(t->state,
                         MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED);
    }
}

void check_live_sleepers(const scen *s, const Mayday__Report *r,
                         const char *path)
{
    assert_true(r->header->has_live && r->header->live);
    assert_int_equal(r->header->stop_method,
                     MAYDAY__STOP_METHOD__STOP_METHOD_PTRACE);
    assert_true(r->n_threads >= 10);
    check_all_stopped(s, r, path);
}

/* Exactly one crash report (any number of live ones) in dir. */
void check_one_crash(const scen *s, const Mayday__Report *r, const char *dir)
{
    (void)s;
    (void)r;
    static char paths[64][4096];
    int n = mdt_list_reports(dir, paths, 64);
    int crashes = 0;
    assert_true(n >= 1);
    for (int i = 0; i < n; i++) {
        Mayday__Report *x = mdt_load_report(paths[i]);
        if (!x)
            fail_msg("%s does not decode", paths[i]);
        if (x->signal) {
            crashes++;
            assert_int_equal(x->signal->number, 11);
            assert_true(x->has_crashed_thread);
            assert_true(x->threads[x->crashed_thread]->n_frames >= 2);
        }
        mayday__report__free_unpacked(x, 0);
    }
    assert_int_equal(crashes, 1);
}

/* Under gdb nothing is stopped (gdb traces every thread): all are listed,
 * blocked ones with pc/sp from /proc, and say why. */
void check_many_gdb(const scen *s, const Mayday__Report *r, const char *path)
{
    (void)s;
    (void)path;
    assert_true(r->n_threads >= 201);
    assert_int_equal(r->header->stop_method,
                     MAYDAY__STOP_METHOD__STOP_METHOD_NONE);
    assert_non_null(r->header->stop_note);
    int listed = 0;
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", i);
        const Mayday__Thread *t = scen_thread_named(r, name);
        if (!t)
            fail_msg("thread %s missing from the report", name);
        assert_int_equal(t->state,
                         MAYDAY__THREAD_STATE__THREAD_STATE_NOT_SUSPENDED);
        assert_true(
            t->stop_failure == MAYDAY__STOP_FAILURE__STOP_FAILURE_TRACED ||
            t->stop_failure == MAYDAY__STOP_FAILURE__STOP_FAILURE_NO_METHOD);
        listed += t->n_frames >= 1;
    }
    /* Parked in pause(): /proc has pc/sp, for those that are back in it
     * after gdb let them run on (gdb resumes every thread). */
    if (listed < 1)
        fail_msg("none of 200 sleepers has a frame (%d)", listed);
}

/* RLIMIT_FSIZE of 3000 bytes: the report stops there, says so, and the
 * process died of SIGSEGV, not SIGXFSZ (the harness checks that). */
void check_rlimit(const scen *s, const Mayday__Report *r, const char *path)
{
    (void)s;
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size <= 3000);
    assert_true(r->has_rlimit_fsize && r->rlimit_fsize == 3000);
    assert_true(r->has_truncated && r->truncated);
    assert_non_null(r->signal);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* A full file system: no report and no partial file left behind; the
 * marker written at crash time says what happened and why. */
void check_full_disk(const scen *s, const Mayday__Report *r, const char *dir)
{
    (void)s;
    (void)r;
    char p[4200];
    side_of(dir, "listing", p, sizeof p, 1);
    size_t len;
    char *ls = slurp(p, &len);
    assert_non_null(ls);
    if (strstr(ls, ".mayday"))
        fail_msg("a report or temp file was left: %s", ls);
    free(ls);
    side_of(dir, "marker", p, sizeof p, 1);
    unsigned char *m = (unsigned char *)slurp(p, &len);
    assert_non_null(m);
    assert_int_equal(len, 512);
    assert_memory_equal(m, "MAYDAYLC", 8);
    assert_int_equal(le32(m + 12), 3);            /* no report */
    assert_int_equal(le32(m + 20), 11);           /* SIGSEGV */
    assert_int_equal((int32_t)le32(m + 28), -12); /* MAYDAY_ENOSPC */
    free(m);
}

/* The vfork child's crash and then the parent's: two reports, two pids,
 * and the parent's is complete (the child left nothing claimed). */
void check_vfork(const scen *s, const Mayday__Report *r, const char *dir)
{
    (void)s;
    (void)r;
    static char paths[4][4096];
    int n = mdt_list_reports(dir, paths, 4);
    assert_int_equal(n, 2);
    uint32_t pids[2];
    for (int i = 0; i < 2; i++) {
        Mayday__Report *x = mdt_load_report(paths[i]);
        assert_non_null(x);
        assert_non_null(x->signal);
        assert_int_equal(x->signal->number, 11);
        pids[i] = x->process->pid;
        assert_true(x->threads[x->crashed_thread]->n_frames >= 2);
        mayday__report__free_unpacked(x, 0);
    }
    assert_int_not_equal(pids[0], pids[1]);
}

/* After pthread_exit() in main, memory reads and the process's /proc
 * files still work: frames, images, argv. */
void check_main_exited(const scen *s, const Mayday__Report *r, const char *path)
{
    (void)s;
    (void)path;
    const Mayday__Thread *t = r->threads[r->crashed_thread];
    assert_true(t->n_frames >= 3);
    assert_true(r->n_images >= 3);
    assert_true(r->process->n_argv >= 2);
}

/* The directory was renamed after install: the report follows the
 * directory opened at install. */
void check_dir_renamed(const scen *s, const Mayday__Report *r, const char *dir)
{
    (void)s;
    (void)r;
    char moved[4200];
    snprintf(moved, sizeof moved, "%s.moved", dir);
    assert_int_equal(mdt_count_reports(dir, 0, 0), 0);
    char path[4096];
    assert_int_equal(mdt_count_reports(moved, path, sizeof path), 1);
    Mayday__Report *x = mdt_load_report(path);
    assert_non_null(x);
    mayday__report__free_unpacked(x, 0);
}

/* A crash during mayday_uninstall(): at most one report, and it decodes;
 * never a temp file in "/" or in the directory. */
void check_uninstall_race(const scen *s, const Mayday__Report *r,
                          const char *dir)
{
    (void)s;
    (void)r;
    static char paths[4][4096];
    int n = mdt_list_reports(dir, paths, 4);
    assert_true(n <= 1);
    if (n == 1) {
        Mayday__Report *x = mdt_load_report(paths[0]);
        assert_non_null(x);
        mayday__report__free_unpacked(x, 0);
    }
    DIR *d = opendir("/");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strstr(e->d_name, ".mayday"))
            fail_msg("a report file in /: %s", e->d_name);
    }
    if (d)
        closedir(d);
}
