/*
 * test_oracle.c - gdb as an independent oracle for mayday's stack walk.
 *
 * The crasher runs with core dumps on; after mayday writes its report it
 * re-raises, the kernel dumps core, and gdb reads the crashed thread's
 * frames from the core (`frame apply all -q p/x $pc`). mayday's frames for
 * the crashed thread must be the same addresses, in the same order, from
 * the interrupted pc outward.
 *
 * Skipped when cores do not land in the working directory
 * (/proc/sys/kernel/core_pattern is a pipe or an absolute path).
 *
 * Context: test program.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mdt.h"

static char *crasher;

static int cores_in_cwd(void)
{
    char pat[256] = "";
    FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");
    if (!f)
        return 0;
    if (!fgets(pat, sizeof pat, f))
        pat[0] = 0;
    fclose(f);
    return pat[0] && pat[0] != '|' && pat[0] != '/';
}

/* Runs the crasher in dir with unlimited cores; returns the wait status.
 * no_mayday: the same program without mayday installed. */
static int run_with_core_ex(const char *dir, const char *scenario,
                            int no_mayday)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) < 0)
            _exit(126);
        if (no_mayday)
            setenv("CRASHER_NO_MAYDAY", "1", 1);
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        setrlimit(RLIMIT_CORE, &rl);
        int fd = open("out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(crasher, crasher, "reports", scenario, (char *)0);
        _exit(127);
    }
    int st = 0;
    alarm(60);
    waitpid(pid, &st, 0);
    alarm(0);
    return st;
}

static int run_with_core(const char *dir, const char *scenario)
{
    return run_with_core_ex(dir, scenario, 0);
}

/* The frame pcs gdb sees in the core's crashed thread. Only gdb's real
 * frames count: it also shows inline frames (same pc as the frame that
 * contains them), the signal trampoline, and "tail call" frames that it
 * makes up from DWARF call-site records, whose pc is the instruction after
 * a jmp, not a return address (glibc's pthread_kill tail-calls
 * __pthread_kill_implementation: gdb shows a frame there that no stack
 * holds). */
static int gdb_pcs(const char *dir, uint64_t *pcs, int max)
{
    char script[4200];
    snprintf(script, sizeof script, "%s/frames.py", dir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs("import gdb\n"
          "gdb.execute('set backtrace past-main on')\n"
          "gdb.execute('set backtrace past-entry on')\n"
          "f = gdb.newest_frame()\n"
          "while f is not None:\n"
          "    print('PC 0x%x %d' % (f.pc(), "
          "1 if f.type() == gdb.NORMAL_FRAME else 0))\n"
          "    f = f.older()\n",
          f);
    fclose(f);
    char *cmd = 0;
    assert_true(asprintf(&cmd,
                         "cd '%s' && core=$(ls core* | head -n1) && "
                         "gdb -nx -batch -x frames.py '%s' \"$core\" "
                         "2>/dev/null",
                         dir, crasher) > 0);
    FILE *p = popen(cmd, "r");
    free(cmd);
    assert_non_null(p);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, p) && n < max) {
        unsigned long long v;
        int normal;
        if (sscanf(line, "PC 0x%llx %d", &v, &normal) == 2 && normal)
            pcs[n++] = v;
    }
    pclose(p);
    return n;
}

static void oracle(const char *scenario, int min_match)
{
    if (!cores_in_cwd())
        skip();
    if (getenv("MAYDAY_EMULATOR")) {
        /* The process that dies is qemu: the kernel's core is qemu's own
         * (x86_64, ~160 MB), qemu's guest core has no NT_FILE note and
         * gdb-multiarch 13 cannot place the PIE in it (frames are ??).
         * Under qemu the walk is checked against libunwind's local
         * unwinder instead (test_walk_unwind). */
        print_message("[ SKIPPED  ] gdb oracle: no usable core under "
                      "qemu-user\n");
        skip();
    }
    char *dir = mdt_mkdtemp("oracle");
    assert_non_null(dir);
    int st = run_with_core(dir, scenario);
    assert_true(WIFSIGNALED(st));
    if (!WCOREDUMP(st)) {
        mdt_rmtree(dir);
        free(dir);
        skip(); /* e.g. a container without core dumps */
    }
    char rdir[4096], path[4096];
    snprintf(rdir, sizeof rdir, "%s/reports", dir);
    assert_int_equal(mdt_count_reports(rdir, path, sizeof path), 1);
    Mayday__Report *r = mdt_load_report(path);
    assert_non_null(r);
    assert_true(r->has_crashed_thread);
    const Mayday__Thread *t = r->threads[r->crashed_thread];

    uint64_t pcs[1024];
    int n = gdb_pcs(dir, pcs, 1024);
    assert_true(n >= 3);
    /* gdb may show frames before the interrupted one (mayday's own
     * handler, when the signal was re-sent from inside it): start where
     * mayday's frame 0 is. */
    int start = -1;
    for (int i = 0; i < n && start < 0; i++) {
        if (pcs[i] == t->frames[0]->pc)
            start = i;
    }
    if (start < 0)
        fail_msg("%s: mayday's frame 0 pc 0x%llx not among gdb's %d frames",
                 scenario, (unsigned long long)t->frames[0]->pc, n);
    int k = 0;
    while (start + k < n && (size_t)k < t->n_frames &&
           pcs[start + k] == t->frames[k]->pc)
        k++;
    /* Every frame both show must agree; gdb and mayday may each stop at
     * a different outermost frame (_start). */
    int common = n - start < (int)t->n_frames ? n - start : (int)t->n_frames;
    if (k < common - 1 || k < min_match)
        fail_msg("%s: frames agree up to %d of %d (gdb %d from %d, mayday "
                 "%zu); first difference gdb 0x%llx mayday 0x%llx",
                 scenario, k, common, n, start, t->n_frames,
                 (unsigned long long)(start + k < n ? pcs[start + k] : 0),
                 (unsigned long long)((size_t)k < t->n_frames
                                          ? t->frames[k]->pc
                                          : 0));
    printf("%s: %d frames identical to gdb's\n", scenario, k);
    mayday__report__free_unpacked(r, 0);
    mdt_rmtree(dir);
    free(dir);
}

static void null_write(void **state)
{
    (void)state;
    oracle("null-write", 3);
}

static void abort_(void **state)
{
    (void)state;
    oracle("abort", 3);
}

static void deep_worker(void **state)
{
    (void)state;
    oracle("deep-worker", 31);
}

/* The death's siginfo as the core holds it (NT_SIGINFO, gdb's
 * $_siginfo): signal, code, and the fault address for SIGSEGV. */
static void gdb_siginfo(const char *dir, int with_addr, char *out, size_t cap)
{
    char *cmd = 0;
    assert_true(
        asprintf(&cmd,
                 "cd '%s' && core=$(ls core* | head -n1) && "
                 "gdb -nx -batch -ex 'p $_siginfo.si_signo' "
                 "-ex 'p $_siginfo.si_code' %s '%s' \"$core\" 2>/dev/null | "
                 "grep '^\\$'",
                 dir,
                 with_addr ? "-ex 'p $_siginfo._sifields._sigfault.si_addr'"
                           : "",
                 crasher) > 0);
    FILE *p = popen(cmd, "r");
    free(cmd);
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    pclose(p);
}

/* Death signal, core dump and the death's siginfo are what the same
 * program has without mayday (issue 9, Required 1), shape by shape. */
static void same_death(const char *scenario, int signo)
{
    if (!cores_in_cwd() || getenv("MAYDAY_EMULATOR"))
        skip(); /* see oracle() */
    for (int rep = 0; rep < mdt_repeat(10); rep++) {
        char info[2][512];
        /* Without mayday first: where it dumps no core, skip. */
        for (int k = 0; k < 2; k++) {
            int without = !k;
            char *dir = mdt_mkdtemp("death");
            assert_non_null(dir);
            int st = run_with_core_ex(dir, scenario, without);
            if (!WIFSIGNALED(st))
                fail_msg("%s (%s mayday): status %#x", scenario,
                         without ? "without" : "with", st);
            assert_int_equal(WTERMSIG(st), signo);
            if (!WCOREDUMP(st)) {
                mdt_rmtree(dir);
                free(dir);
                if (without)
                    skip(); /* no core dumps here at all */
                fail_msg("%s: no core dump with mayday", scenario);
            }
            gdb_siginfo(dir, signo == SIGSEGV, info[without],
                        sizeof info[without]);
            mdt_rmtree(dir);
            free(dir);
        }
        if (!info[0][0] || strcmp(info[0], info[1]))
            fail_msg("%s: death siginfo with mayday:\n%swithout:\n%s",
                     scenario, info[0], info[1]);
        if (rep == 0)
            printf("%s: same death as without mayday:\n%s", scenario,
                   info[0]);
    }
}

/* The shapes same_death runs, one cmocka test each (its prestate). */
typedef struct death_case {
    const char *scenario;
    int signo;
} death_case;

static const death_case deaths[] = {
    {"null-write", SIGSEGV}, {"abort", SIGABRT},
    {"wait-pause", SIGSEGV}, {"wait-epoll", SIGSEGV},
    {"sigwait-daemon", SIGSEGV},
};

static void death(void **state)
{
    const death_case *d = *state;
    same_death(d->scenario, d->signo);
}

/* A test named after its scenario ("death_wait-pause"). */
#define DEATH(i, name) {"death_" name, death, 0, 0, (void *)&deaths[i]}

int main(void)
{
    crasher = mdt_build_path("Tests/crash/crasher");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_write),
        cmocka_unit_test(abort_),
        cmocka_unit_test(deep_worker),
        DEATH(0, "null-write"),
        DEATH(1, "abort"),
        DEATH(2, "wait-pause"),
        DEATH(3, "wait-epoll"),
        DEATH(4, "sigwait-daemon"),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
