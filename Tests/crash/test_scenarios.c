/*
 * test_scenarios.c - crash scenarios: run Tests/crash/crasher in a child,
 * let it crash, and check both the report (decoded here with protobuf-c,
 * independently of the library's reader) and how the child died.
 *
 * Each scenario runs $MAYDAY_REPEAT times (default 20); a run that exceeds
 * its deadline counts as a hang and fails the test.
 *
 * Context: test program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "mdt.h"

#define TIMEOUT_MS 15000

#include "scen.h"
#include "staller.h"

char *crasher;

static const Mayday__Thread *crashed(const Mayday__Report *r)
{
    assert_true(r->has_crashed_thread);
    assert_true(r->crashed_thread < r->n_threads);
    return r->threads[r->crashed_thread];
}

static void check_assert_msg(const scen *s, const Mayday__Report *r,
                             const char *path)
{
    (void)s;
    (void)path;
    assert_non_null(r->abort_message);
    assert_non_null(strstr(r->abort_message, "arithmetic still works"));
}

static void check_sender(const scen *s, const Mayday__Report *r,
                         const char *path)
{
    (void)s;
    (void)path;
    assert_non_null(r->signal);
    assert_true(r->signal->has_sender_pid);
    assert_int_equal(r->signal->sender_pid, r->process->pid);
}

static const Mayday__Thread *thread_named(const Mayday__Report *r,
                                          const char *name)
{
    for (size_t i = 0; i < r->n_threads; i++) {
        if (r->threads[i]->name && !strcmp(r->threads[i]->name, name))
            return r->threads[i];
    }
    return 0;
}

static void check_overflower(const scen *s, const Mayday__Report *r,
                             const char *path)
{
    (void)s;
    (void)path;
    const Mayday__Thread *t = crashed(r);
    assert_non_null(t->name);
    assert_string_equal(t->name, "overflower");
}

/* worker-0 .. worker-(n-1) listed, stopped, with every register and at
 * least min_frames frames. */
static void check_workers(const Mayday__Report *r, int n, size_t min_frames)
{
    assert_true(r->n_threads >= (size_t)n + 1);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", i);
        const Mayday__Thread *t = thread_named(r, name);
        if (!t)
            fail_msg("thread %s missing from the report", name);
        assert_int_equal(t->state, MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED);
        assert_true(t->n_frames >= min_frames);
        assert_int_equal(t->n_registers, r->n_register_names);
    }
}

static void check_many(const scen *s, const Mayday__Report *r,
                       const char *path)
{
    (void)s;
    (void)path;
    check_workers(r, 200, 1);
}

/* issue 15: 1000 threads parked 32 frames deep, all in the report at the
 * default (automatic) size cap. */
static void check_thousand(const scen *s, const Mayday__Report *r,
                           const char *path)
{
    (void)s;
    (void)path;
    assert_false(r->truncated);
    assert_false(r->threads_capped);
    check_workers(r, 1000, 33); /* park_at, 32 deep */
}

/* issue 15: threads created during the crash; the ones the stopper
 * found (some on a later pass) have registers, frames and stack memory
 * like the others (the memory map is read again for them). */
static void check_churn(const scen *s, const Mayday__Report *r,
                        const char *path)
{
    (void)s;
    (void)path;
    size_t churned = 0;
    for (size_t i = 0; i < r->n_threads; i++) {
        const Mayday__Thread *t = r->threads[i];
        if (t->state != MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED)
            continue;
        churned += t->name && !strncmp(t->name, "churn-", 6);
        if (t->n_frames < 1 || t->n_registers != r->n_register_names ||
            !t->stack || !t->stack->data.len)
            fail_msg("thread %zu (%s): %zu frames, %zu registers, %s stack",
                     i, t->name ? t->name : "?", t->n_frames, t->n_registers,
                     t->stack && t->stack->data.len ? "a" : "no");
    }
    if (churned < 1) {
        size_t listed = 0;
        for (size_t i = 0; i < r->n_threads; i++)
            listed += r->threads[i]->name &&
                      !strncmp(r->threads[i]->name, "churn-", 6);
        fail_msg("no stopped churn- thread: %zu threads, %zu churn- listed "
                 "(stop method %d)",
                 r->n_threads, listed, (int)r->header->stop_method);
    }
}

/* A thread that blocks every signal: ptrace stops it all the same (full
 * registers, walked stack); the signal fallback must leave it alone (its
 * signal would only be delivered later, as if sent by the application)
 * and list it with the reason. */
static void check_blocked(const scen *s, const Mayday__Report *r,
                          const char *path)
{
    (void)path;
    const Mayday__Thread *t = thread_named(r, "blocker");
    assert_non_null(t);
    if (s->mode && !strcmp(s->mode, "stop-signal")) {
        assert_int_equal(r->header->stop_method,
                         MAYDAY__STOP_METHOD__STOP_METHOD_SIGNAL);
        assert_int_equal(t->state,
                         MAYDAY__THREAD_STATE__THREAD_STATE_NOT_SUSPENDED);
        assert_int_equal(t->stop_failure,
                         MAYDAY__STOP_FAILURE__STOP_FAILURE_SIGNAL_BLOCKED);
        assert_non_null(t->note);
        assert_true(r->has_threads_not_suspended &&
                    r->threads_not_suspended >= 1);
        assert_true(t->n_frames >= 1); /* pc/sp from /proc */
        return;
    }
    assert_int_equal(r->header->stop_method,
                     MAYDAY__STOP_METHOD__STOP_METHOD_PTRACE);
    assert_int_equal(t->state, MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED);
    assert_int_equal(t->n_registers, r->n_register_names);
    assert_false(r->has_threads_not_suspended && r->threads_not_suspended);
    uint64_t off, size;
    assert_int_equal(mdt_symbol(crasher, "blocker", &off, &size), 0);
    const Mayday__Image *m = mdt_main_image(r);
    assert_true(mdt_frames_in(t, m->load_bias + off,
                              m->load_bias + off + size) >= 1);
}

static void check_size_cap(const scen *s, const Mayday__Report *r,
                           const char *path)
{
    (void)s;
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size <= 4096);
    assert_true(r->has_truncated && r->truncated);
    /* What comes first survives the cut. */
    assert_non_null(r->signal);
    assert_true(r->n_threads >= 1);
}

static void check_live(const scen *s, const Mayday__Report *r,
                       const char *path)
{
    (void)s;
    (void)path;
    assert_non_null(r->header);
    assert_true(r->header->has_live && r->header->live);
    assert_string_equal(r->header->reason, "checkpoint");
    assert_null(r->signal);
    assert_true(r->n_threads >= 4);
}

static void check_gp(const scen *s, const Mayday__Report *r, const char *path)
{
    (void)s;
    (void)path;
#if defined(__aarch64__)
    /* No general-protection fault on aarch64: the address (its top byte
     * ignored) is simply not mapped. qemu-user reports address 0 for an
     * address beyond the guest's address space (the cause is then "null
     * dereference"); the kernel reports the address. */
    assert_int_equal(r->signal->code, SEGV_MAPERR);
    assert_true(r->signal->has_address);
    if (!mdt_emulator()) {
        assert_true(r->signal->address != 0);
        assert_int_equal(r->cause, MAYDAY__CAUSE__CAUSE_BAD_ACCESS);
    }
#else
    assert_int_equal(r->signal->code, 128); /* SI_KERNEL */
    assert_false(r->signal->has_address);   /* the kernel gives none */
#endif
}

static void check_fork_child(const scen *s, const Mayday__Report *r,
                             const char *path)
{
    (void)s;
    (void)path;
    /* No exception thread in a forked child: written from the handler
     * at once, not after waiting for the missing thread. */
    assert_int_equal(r->header->handler, MAYDAY__HANDLER__HANDLER_SIGNAL);
    assert_true(r->header->handoff_ns < 1000000000ull);
    assert_false(r->has_handoff_timed_out && r->handoff_timed_out);
}

static void check_timed_out(const scen *s, const Mayday__Report *r,
                            const char *path)
{
    (void)s;
    (void)path;
    assert_true(r->has_handoff_timed_out && r->handoff_timed_out);
    assert_int_equal(r->header->handler, MAYDAY__HANDLER__HANDLER_SIGNAL);
    assert_int_equal(r->n_threads, 1);
    assert_true(r->threads[0]->crashed);
}

static int gp_scenario(const scen *s) { return s->check == check_gp; }

static int qemu_aarch64(void)
{
#if defined(__aarch64__)
    return mdt_emulator() != NULL;
#else
    return 0;
#endif
}

static void check_common(const scen *s, const Mayday__Report *r)
{
    assert_non_null(r->header);
    assert_true(r->header->has_uuid && r->header->uuid.len == 16);
    assert_non_null(r->process);
    assert_non_null(r->app);
    assert_string_equal(r->app->id, "crasher");
    assert_true(r->n_images >= 3);
    assert_non_null(mdt_main_image(r));
    assert_true(r->n_register_names > 0);
    int found = 0;
    for (size_t i = 0; i < r->n_annotations; i++) {
        const char *k = r->annotations[i]->key, *v = r->annotations[i]->value;
        if (k && !strcmp(k, "scenario") && v) {
            assert_string_equal(v, s->name);
            found = 1;
        }
        /* A report cut at its size limit may end inside an annotation. */
        if (!k || !v)
            assert_true(r->has_truncated && r->truncated);
    }
    assert_true(found || (r->has_truncated && r->truncated));
    if (s->sig) {
        assert_non_null(r->signal);
        assert_int_equal(r->signal->number, s->sig);
        const Mayday__Thread *t = crashed(r);
        assert_true(t->crashed);
        assert_true(t->n_frames >= 1);
        assert_int_equal(t->n_registers, r->n_register_names);
    }
    /* No ptrace under qemu-user: the stopper's attempt must fail cleanly
     * and the signal fallback stop the threads (or nothing was to stop). */
    if (mdt_emulator() && r->header->has_stop_method &&
        r->header->stop_method != MAYDAY__STOP_METHOD__STOP_METHOD_NONE)
        assert_int_equal(r->header->stop_method,
                         MAYDAY__STOP_METHOD__STOP_METHOD_SIGNAL);
    if (s->cause >= 0 && !(gp_scenario(s) && qemu_aarch64()))
        assert_int_equal(r->cause, s->cause); /* (check_gp says why) */
    if (s->func) {
        uint64_t off, size;
        assert_int_equal(mdt_symbol(crasher, s->func, &off, &size), 0);
        const Mayday__Image *m = mdt_main_image(r);
        uint64_t lo = m->load_bias + off;
        int n = mdt_frames_in(crashed(r), lo, lo + size);
        if (n < s->min_func)
            fail_msg("%s: %d frames in %s, want >= %d", s->name, n, s->func,
                     s->min_func);
    }
}

typedef struct outcome {
    int hung, signal_ok, reports, decodes;
} outcome;

/* Two processes that keep both cores busy, for the racy scenarios: the
 * crashing process then competes for the CPU with them. */
static void start_burners(pid_t *pids)
{
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            alarm(30); /* never outlive the test */
            for (volatile unsigned long x = 0;; x++)
                ;
        }
    }
}

static void stop_burners(pid_t *pids)
{
    for (int i = 0; i < 2; i++) {
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], 0, 0);
        }
    }
}

/* A FUSE file system that never answers the creation of a report file
 * (Tests/crash/blockfs.py, Debian's python3-fusepy) mounted on dir. */
static pid_t mount_blockfs(const char *dir)
{
    if (access("/dev/fuse", R_OK | W_OK) != 0)
        fail_msg("hung-fs: no /dev/fuse on this machine");
    mkdir(dir, 0700);
    const char *src = getenv("MAYDAY_SOURCE_DIR");
    char script[4200];
    snprintf(script, sizeof script, "%s/Tests/crash/blockfs.py",
             src ? src : ".");
    pid_t pid = fork();
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", script, dir, (char *)0);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        struct statfs fs;
        if (statfs(dir, &fs) == 0 && fs.f_type == 0x65735546 /* FUSE */)
            return pid;
        if (waitpid(pid, 0, WNOHANG) == pid)
            break;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    fail_msg("hung-fs: blockfs.py did not mount %s", dir);
    return 0;
}

/* mdt_unjam for hung-fs: killing the FUSE server aborts its connection,
 * which ends every request it holds (ENOTCONN). */
static pid_t blockfs_pid;
static void kill_blockfs(void)
{
    if (blockfs_pid > 0)
        kill(blockfs_pid, SIGKILL);
}

static void unmount_blockfs(const char *dir, pid_t pid)
{
    umount2(dir, MNT_DETACH);
    kill(pid, SIGKILL);
    waitpid(pid, 0, 0);
}

/* Runs the scenario once; fills o (and writes it to out_fd if >= 0).
 * If verify, then checks the report with cmocka assertions (which end the
 * current test, or the process, on failure). */
static void run_once(const scen *s, int rep, outcome *o, int verify,
                     int out_fd)
{
    memset(o, 0, sizeof *o);
    /* Kept in statics until the next run: a failed check leaves this
     * function by longjmp, and that must not show up as a leak. */
    static char *dir, *rdir, *out;
    free(dir);
    free(rdir);
    free(out);
    rdir = out = 0;
    dir = mdt_mkdtemp("scen");
    assert_non_null(dir);
    assert_true(asprintf(&rdir, "%s/reports", dir) > 0);
    assert_true(asprintf(&out, "%s/out.txt", dir) > 0);
    char *argv[16] = {crasher, rdir, (char *)s->name, 0};
    int via_gdb = s->mode && !strcmp(s->mode, "gdb");
    int as_pid1 = s->mode && !strcmp(s->mode, "pid1");
    if (via_gdb) {
        /* gdb stops at the fault; `continue` delivers it to mayday, which
         * must see the tracer and report from the handler. */
        char *g[] = {"/usr/bin/gdb", "-nx", "-batch", "-ex", "run",
                     "-ex", "continue", "-ex", "continue", "--args",
                     crasher, rdir, (char *)s->name, 0};
        memcpy(argv, g, sizeof g);
    } else if (as_pid1) {
        char *u[] = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc",
                     crasher, rdir, (char *)s->name, 0};
        memcpy(argv, u, sizeof u);
    }
    char modebuf[64], stopbuf[64];
    int hung_fs = s->mode && !strncmp(s->mode, "hung-fs", 7);
    snprintf(modebuf, sizeof modebuf, "CRASHER_MODE=%s",
             s->mode && (!strcmp(s->mode, "thread") ||
                         !strcmp(s->mode, "signal"))
                 ? s->mode
             : s->mode && !strcmp(s->mode, "hung-fs-signal") ? "signal"
                                                             : "auto");
    snprintf(stopbuf, sizeof stopbuf, "CRASHER_STOP=%s",
             s->mode && !strncmp(s->mode, "stop-", 5) ? s->mode + 5 : "auto");
    char *env[] = {modebuf, stopbuf, hung_fs ? "CRASHER_REPLY_MS=400" : 0, 0};
    pid_t burners[2] = {0, 0}, fuse = 0;
    if (s->mode && !strcmp(s->mode, "burn"))
        start_burners(burners);
    int stall = s->mode && !strcmp(s->mode, "stall-helper");
    pid_t staller = stall ? mdt_staller_start() : 0;
    if (staller < 0)
        fail_msg("stall-helper: the staller could not start");
    if (hung_fs) {
        fuse = mount_blockfs(rdir);
        blockfs_pid = fuse;
        mdt_unjam = kill_blockfs;
    }
    uint64_t t0 = mdt_now_ms();
    int st = mdt_run(argv, env, TIMEOUT_MS, &o->hung, out);
    uint64_t took = mdt_now_ms() - t0;
    mdt_unjam = 0;
    stop_burners(burners);
    if (stall && !mdt_staller_stop(staller) && verify)
        fail_msg("%s: run %d: the staller did not catch the helper", s->name,
                 rep);
    if (hung_fs) {
        unmount_blockfs(rdir, fuse);
        /* reply_timeout_ms + the documented 1 s, with room for a busy
         * machine: a hang is what this scenario must never be. */
        if (verify && took > 5000)
            fail_msg("%s: run %d took %llu ms", s->name, rep,
                     (unsigned long long)took);
    }
    if (via_gdb) {
        o->signal_ok = 1; /* gdb's own status says nothing */
    } else if (as_pid1) {
        /* PID 1 ignores a re-sent default signal: mayday must end it with
         * exit(128+sig); unshare passes that on. */
        o->signal_ok = (WIFEXITED(st) && WEXITSTATUS(st) == 128 + s->sig) ||
                       (WIFSIGNALED(st) && WTERMSIG(st) == s->sig);
    } else if (s->mode && !strcmp(s->mode, "hung-fs-signal")) {
        /* The fallback writer is stuck in a wait only SIGKILL ends: the
         * I/O deadline's second timer. */
        o->signal_ok = WIFSIGNALED(st) && (WTERMSIG(st) == s->sig ||
                                           WTERMSIG(st) == SIGKILL);
    } else if (s->sig) {
        o->signal_ok = WIFSIGNALED(st) && WTERMSIG(st) == s->sig;
    } else {
        o->signal_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    char path[4096];
    o->reports = mdt_count_reports(rdir, path, sizeof path);
    static Mayday__Report *r; /* as dir: freed by the next run */
    if (r)
        mayday__report__free_unpacked(r, 0);
    r = o->reports == 1 && s->reports >= 0 ? mdt_load_report(path) : 0;
    o->decodes = r != 0 || s->reports < 0;
    if (s->reports < 0)
        o->reports = -1; /* counted by the check */
    if (out_fd >= 0 && write(out_fd, o, sizeof *o) != (ssize_t)sizeof *o)
        fail_msg("pipe");
    if (verify) {
        if (o->hung)
            fail_msg("%s: run %d hung (killed after %d ms)", s->name, rep,
                     TIMEOUT_MS);
        if (!o->signal_ok)
            fail_msg("%s: run %d: status 0x%x, want %s %d (see %s)", s->name,
                     rep, st, s->sig ? "signal" : "exit", s->sig, out);
        if (o->reports != s->reports)
            fail_msg("%s: run %d: %d reports, want %d", s->name, rep,
                     o->reports, s->reports);
        if (o->reports == 1 && !r)
            fail_msg("%s: run %d: report does not decode", s->name, rep);
        if (s->reports < 0)
            s->check(s, 0, rdir);
    }
    if (verify && r) {
        check_common(s, r);
        if (via_gdb) {
            assert_int_equal(r->header->handler,
                             MAYDAY__HANDLER__HANDLER_SIGNAL);
            assert_true(r->process->has_tracer_pid &&
                        r->process->tracer_pid > 0);
        } else if (s->sig && !as_pid1 && s->check != check_fork_child &&
                   s->check != check_timed_out) {
            assert_int_equal(r->header->handler,
                             s->mode && !strcmp(s->mode, "signal")
                                 ? MAYDAY__HANDLER__HANDLER_SIGNAL
                                 : MAYDAY__HANDLER__HANDLER_EXCEPTION_THREAD);
        }
        if (s->check)
            s->check(s, r, path);
    }
    if (r)
        mayday__report__free_unpacked(r, 0);
    r = 0;
    mdt_rmtree(dir);
    free(dir);
    free(rdir);
    free(out);
    dir = rdir = out = 0;
}

static void run_scenario(void **state)
{
    const scen *s = *state;
    const char *why = scen_not_here(s);
    if (why) {
        print_message("[ SKIPPED  ] %s: %s\n", s->name, why);
        skip();
    }
    int reps = mdt_repeat(20);
    /* A race that lost a report about once in 60 runs (the live-report
     * loop retaking the slot): 5 times the runs, about 4 s. */
    if (!strcmp(s->name, "live-vs-crash-long"))
        reps *= 5;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int rep = 0; rep < reps; rep++) {
        outcome o;
        run_once(s, rep, &o, 1, -1);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Wall time per scenario: a slow CI run says where the time went. */
    print_message("[   TIME   ] %s%s%s: %d run(s) in %.1f s\n", s->name,
                  s->mode ? "/" : "", s->mode ? s->mode : "", reps,
                  (double)(t1.tv_sec - t0.tv_sec) +
                      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

#define C(x) MAYDAY__CAUSE__CAUSE_##x
static const scen scenarios[] = {
    {"null-read", SIGSEGV, 1, C(NULL_DEREFERENCE), "main", 1, 0, 0},
    {"null-write", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"null-write", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "signal", 0},
    {"null-write", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "thread", 0},
    {"null-call", SIGSEGV, 1, C(CALL_THROUGH_NULL), "main", 1, 0, 0},
    {"bus", SIGBUS, 1, C(BUS_ERROR), 0, 0, 0, 0},
    {"ill", SIGILL, 1, C(ILLEGAL_INSTRUCTION), "main", 1, 0, 0},
    {"fpe", SIGFPE, 1, C(DIVIDE_BY_ZERO), "main", 1, 0, 0},
    {"abort", SIGABRT, 1, C(ABORT), "main", 1, 0, 0},
    {"assert", SIGABRT, 1, C(ASSERT), "main", 1, 0, check_assert_msg},
    {"trap", SIGTRAP, 1, C(BREAKPOINT), "main", 1, 0, 0},
    {"sys", SIGSYS, 1, C(BAD_SYSCALL), 0, 0, 0, 0},
    {"kill-segv", SIGSEGV, 1, C(SENT_BY_PROCESS), 0, 0, 0, check_sender},
    {"overflow-main", SIGSEGV, 1, C(STACK_OVERFLOW), "crasher_recurse", 20, 0, 0},
    {"overflow-thread-before", SIGSEGV, 1, C(STACK_OVERFLOW), "crasher_recurse", 20, 0, check_overflower},
    {"overflow-thread-after", SIGSEGV, 1, C(STACK_OVERFLOW), "crasher_recurse", 20, 0, check_overflower},
    {"malloc-held", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"dl-iterate", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"getname-bad", SIGSEGV, 1, -1, 0, 0, 0, 0},
    {"threads-2", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"threads-8", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"callback-crash", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"many-threads", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_depth", 31, 0, check_many},
    {"thousand-threads", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_thousand},
    {"thousand-threads", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "stall-helper", check_stalled},
    {"thread-churn", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_churn},
    {"thread-churn", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "burn", check_churn},
    {"blocked-suspend", SIGSEGV, 1, C(NULL_DEREFERENCE), 0, 0, 0, check_blocked},
    {"blocked-suspend", SIGSEGV, 1, C(NULL_DEREFERENCE), 0, 0, "stop-signal", check_blocked},
    {"dir-deleted", SIGSEGV, 0, -1, 0, 0, 0, 0},
    {"dir-readonly", SIGSEGV, 0, -1, 0, 0, 0, 0},
    {"size-cap", SIGSEGV, 1, C(NULL_DEREFERENCE), 0, 0, 0, check_size_cap},
    {"live", 0, 1, -1, 0, 0, 0, check_live},
    {"chain-first-handled", 0, 0, -1, 0, 0, 0, 0},
    {"chain-last-handled", 0, 1, -1, 0, 0, 0, 0},
    {"chain-first-unhandled", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"runtime-after-handled", 0, 0, -1, 0, 0, 0, 0},
    {"runtime-after-unhandled", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"deep-worker", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_depth", 31, 0, 0},
    {"gp-fault", SIGSEGV, 1, C(BAD_ACCESS), "crasher_gp_fault", 1, 0, check_gp},
    {"chain-first-gp", SIGSEGV, 1, C(BAD_ACCESS), "crasher_gp_fault", 1, 0, check_gp},
    {"sys-emulated", 0, 0, -1, 0, 0, 0, 0},
    {"ignored-trap", 0, 0, -1, 0, 0, 0, 0},
    {"callback-abort", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"fork-child", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_fork_child},
    {"handoff-timeout", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_timed_out},
    {"null-write", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "gdb", 0},
    {"overflow-thread-after", SIGSEGV, 1, C(STACK_OVERFLOW), "crasher_recurse", 20, "gdb", check_overflower},
    /* Issue 9: the shapes real programs have. */
    {"wait-pause", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_all_stopped},
    {"wait-sleep", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_all_stopped},
    {"wait-nanosleep", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_all_stopped},
    {"wait-epoll", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_all_stopped},
    {"wait-pause", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "burn", check_all_stopped},
    {"wait-epoll", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "burn", check_all_stopped},
    {"wait-pause", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "stop-signal", check_all_stopped},
    {"wait-nanosleep", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "signal", check_all_stopped},
    {"crashers-8-pause", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"crashers-8-pause", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "burn", 0},
    {"writer", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_writer},
    {"writer", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "burn", check_writer},
    {"writer", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "stop-signal", check_writer},
    {"sigwait-daemon", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_all_stopped},
    {"sigwait-daemon", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "stop-signal", 0},
    {"rt-taken", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_rt},
    {"rt-taken", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "stop-signal", check_rt},
    {"rt-reset", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_rt},
    {"rt-reset", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "stop-signal", check_rt},
    {"install-sleepers", 0, 0, -1, 0, 0, 0, 0},
    {"install-sleepers", 0, 0, -1, 0, 0, "burn", 0},
    {"live-sleepers", 0, 1, -1, 0, 0, 0, check_live_sleepers},
    {"live-sleepers", 0, 1, -1, 0, 0, "burn", check_live_sleepers},
    {"live-stress", SIGSEGV, -1, -1, 0, 0, 0, check_one_crash},
    {"many-threads", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_depth", 31, "gdb", check_many_gdb},
    /* Issue 10: process states. */
    {"no-fd", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_all_stopped},
    {"rlimit-fsize", SIGSEGV, 1, C(NULL_DEREFERENCE), 0, 0, 0, check_rlimit},
    {"rlimit-fsize", SIGSEGV, 1, C(NULL_DEREFERENCE), 0, 0, "signal", check_rlimit},
    {"full-disk", SIGSEGV, -1, -1, 0, 0, 0, check_full_disk},
    {"fork-uninstall", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"vfork-crash", SIGSEGV, -1, -1, 0, 0, 0, check_vfork},
    {"main-exited", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, check_main_exited},
    {"chain-dfl", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"live-vs-crash", SIGSEGV, -1, -1, 0, 0, 0, check_one_crash},
    {"live-vs-crash-long", SIGSEGV, -1, -1, 0, 0, 0, check_one_crash},
    {"dir-replaced", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, 0, 0},
    {"dir-renamed", SIGSEGV, -1, -1, 0, 0, 0, check_dir_renamed},
    {"hung-fs", SIGSEGV, 0, -1, 0, 0, "hung-fs", 0},
    {"hung-fs", SIGSEGV, 0, -1, 0, 0, "hung-fs-signal", 0},
    {"uninstall-race", SIGSEGV, -1, -1, 0, 0, 0, check_uninstall_race},
    {"abort", SIGABRT, 1, C(ABORT), "main", 1, "pid1", 0},
    {"null-write", SIGSEGV, 1, C(NULL_DEREFERENCE), "crasher_null_write", 1, "pid1", 0},
};

/* --matrix: every scenario `reps` times, a table of outcomes instead of
 * stopping at the first failure. Each run happens in a child that first
 * sends back the raw outcome (hang, signal, reports, decode) and then
 * checks the report with the scenario's assertions: a failed assertion
 * ends that child only, and counts in the "checks" column. */
static int matrix(int reps, const char *label)
{
    size_t n = sizeof scenarios / sizeof scenarios[0];
    int bad_total = 0;
    printf("crash matrix (%s): %d runs per scenario\n", label, reps);
    printf("(reports: written in all runs, want runs x expected; decode: "
           "reports that decode; signal: runs that ended as expected)\n");
    printf("%-26s %-7s %5s %8s %8s %8s %6s %6s\n", "scenario", "mode",
           "runs", "reports", "decode", "signal", "hangs", "checks");
    for (size_t i = 0; i < n; i++) {
        const scen *s = &scenarios[i];
        int rep_ok = 0, dec = 0, sig = 0, hangs = 0, checks = 0;
        if (scen_not_here(s)) {
            printf("%-26s %-7s  skipped: %s\n", s->name,
                   s->mode ? s->mode : "auto", scen_not_here(s));
            fflush(stdout);
            continue;
        }
        for (int rep = 0; rep < reps; rep++) {
            int fds[2];
            if (pipe(fds) < 0)
                return 2;
            pid_t pid = fork();
            if (pid == 0) {
                outcome o2;
                close(fds[0]);
                run_once(s, rep, &o2, 1, fds[1]);
                _exit(0);
            }
            close(fds[1]);
            outcome o;
            memset(&o, 0, sizeof o);
            if (read(fds[0], &o, sizeof o) != (ssize_t)sizeof o)
                o.hung = 1; /* the runner itself died: count it against */
            close(fds[0]);
            int st = 0;
            waitpid(pid, &st, 0);
            rep_ok += o.reports;
            dec += o.reports == 1 && o.decodes;
            sig += o.signal_ok;
            hangs += o.hung;
            checks += WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        int want_dec = s->reports == 1 ? reps : 0;
        if (s->reports < 0)
            want_dec = dec; /* counted by the scenario's own check */
        int bad = rep_ok != reps * s->reports || dec != want_dec || sig != reps ||
                  hangs != 0 || checks != reps;
        bad_total += bad;
        printf("%-26s %-7s %5d %8d %8d %8d %6d %6d%s\n", s->name,
               s->mode ? s->mode : "auto", reps, rep_ok, dec, sig, hangs,
               checks, bad ? "  MISS" : "");
        fflush(stdout);
    }
    printf("%s: %d scenario(s) with misses\n", label, bad_total);
    return bad_total ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *c = getenv("MAYDAY_CRASHER");
    crasher = c ? strdup(c) : mdt_build_path("Tests/crash/crasher");
    if (argc > 1 && !strcmp(argv[1], "--matrix")) {
        int reps = mdt_repeat(20);
        if (argc > 2 && !strcmp(argv[2], "--quick"))
            reps = 5;
        return matrix(reps, c && strstr(c, "shared") ? "shared library"
                                                     : "static library");
    }
    const char *only = argc > 1 ? argv[1] : getenv("MAYDAY_SCENARIO");
    size_t n = sizeof scenarios / sizeof scenarios[0];
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    char (*names)[96] = calloc(n, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (only && strcmp(only, scenarios[i].name) != 0)
            continue;
        snprintf(names[k], sizeof names[k], "%s%s%s", scenarios[i].name,
                 scenarios[i].mode ? "/" : "",
                 scenarios[i].mode ? scenarios[i].mode : "");
        tests[k].name = names[k];
        tests[k].test_func = run_scenario;
        tests[k].initial_state = (void *)&scenarios[i];
        k++;
    }
    return _cmocka_run_group_tests("crash_scenarios", tests, k, 0, 0);
}
