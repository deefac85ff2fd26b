/*
 * crasher_states.c - crash scenarios in hard process states (issue 10):
 * no free descriptor, RLIMIT_FSIZE below the report, a full file system,
 * fork and vfork children, the main thread gone, a "let it crash"
 * chained handler, the report directory replaced or renamed.
 *
 * Context: test program.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crasher.h"

static int rand_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int)(ts.tv_nsec / 1000 % 400);
}

static void *crash_after(void *arg)
{
    usleep((useconds_t)(intptr_t)arg);
    crasher_null_write();
    return 0;
}

/* Dies the way the child died. */
static void __attribute__((noreturn)) die_like(int st)
{
    if (WIFSIGNALED(st)) {
        signal(WTERMSIG(st), SIG_DFL);
        raise(WTERMSIG(st));
    }
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 99);
}

static void let_it_crash(int sig)
{
    signal(sig, SIG_DFL); /* the common "give up" idiom: re-executing
                             the instruction ends the process */
}

/* A tmpfs of 192 KiB in a private mount namespace as the report
 * directory; a child fills it and crashes; the parent leaves what the
 * directory held (and the marker) beside it for the test, then dies as
 * the child died. */
static int full_disk(void)
{
    mkdir(g_dir, 0700);
    if (unshare(CLONE_NEWNS) < 0 ||
        /* The type is ignored for MS_PRIVATE; valgrind checks it anyway. */
        mount("none", "/", "none", MS_REC | MS_PRIVATE, 0) < 0 ||
        mount("tmpfs", g_dir, "tmpfs", 0, "size=192k,mode=0700") < 0)
        die("tmpfs (needs root)");
    pid_t pid = fork();
    if (pid == 0) {
        install(0, 0, 0);
        start_sleepers(20);
        char path[4200];
        snprintf(path, sizeof path, "%s/filler", g_dir);
        int fd = open(path, O_WRONLY | O_CREAT, 0600);
        static char block[4096];
        while (fd >= 0 && write(fd, block, sizeof block) > 0)
            ;
        crasher_null_write();
        _exit(3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "ls -a '%s' > '%s/../listing' && cp '%s/last-crash.marker' "
             "'%s/../marker'",
             g_dir, g_dir, g_dir, g_dir);
    if (system(cmd) != 0)
        die("listing");
    die_like(st);
}

int crasher_states(const char *s)
{
    if (!strcmp(s, "no-fd")) {
        install(0, 0, 0);
        start_sleepers(3);
        while (open("/dev/null", O_RDONLY) >= 0)
            ;
        if (errno != EMFILE)
            die("open");
        crasher_null_write();
    }
    if (!strcmp(s, "rlimit-fsize")) {
        install(0, 0, 0);
        start_sleepers(40);
        struct rlimit rl = {3000, RLIM_INFINITY};
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            die("setrlimit");
        crasher_null_write();
    }
    if (!strcmp(s, "full-disk"))
        return full_disk();
    if (!strcmp(s, "fork-uninstall")) {
        install(0, 0, 0);
        pid_t pid = fork();
        if (pid == 0) {
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            int r = mayday_uninstall();
            clock_gettime(CLOCK_MONOTONIC, &b);
            double ms =
                (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
            printf("child uninstall: %d in %.3f ms\n", r, ms);
            _exit(r == 0 && ms < 1000 ? 0 : 7);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 8;
        crasher_null_write(); /* the parent still reports */
    }
    if (!strcmp(s, "vfork-crash")) {
        install(0, 0, 0);
        pid_t pid = vfork();
        if (pid == 0)
            crasher_null_write(); /* the child, before any exec */
        int st = 0;
        waitpid(pid, &st, 0);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
            return 8;
        crasher_null_write(); /* then the parent */
    }
    if (!strcmp(s, "main-exited")) {
        install(0, 0, 0);
        pthread_t t;
        pthread_create(&t, 0, crash_after, (void *)(intptr_t)50000);
        pthread_exit(0);
    }
    if (!strcmp(s, "chain-dfl")) {
        signal(SIGSEGV, let_it_crash);
        install(MAYDAY_FLAG_CHAIN_FIRST, 0, 0);
        crasher_null_write();
    }
    if (!strcmp(s, "hung-fs")) {
        /* The report directory is a FUSE mount (blockfs.py) whose daemon
         * a process of ours jams first: after that every request of this
         * process waits in the kernel, in a wait only SIGKILL ends. */
        install(0, 0, 0);
        pid_t jam = fork();
        if (jam == 0) {
            char path[4200];
            snprintf(path, sizeof path, "%s/jam.tmp", g_dir);
            open(path, O_WRONLY | O_CREAT, 0600); /* never returns */
            _exit(0);
        }
        /* Crash only once the daemon holds the jam's request (it then
         * creates DIR.jammed): were the report's creation the request it
         * took, not even SIGKILL would end this process. */
        char jammed[4200];
        snprintf(jammed, sizeof jammed, "%s.jammed", g_dir);
        for (int i = 0; i < 2000 && access(jammed, F_OK) != 0; i++)
            usleep(5000);
        start_sleepers(3);
        crasher_null_write();
    }
    if (!strcmp(s, "uninstall-race")) {
        /* A thread crashes while the main thread uninstalls: no hang, the
         * process dies of SIGSEGV, a report or none, and no temp file
         * anywhere (zeroed state would have put one in "/"). */
        install(0, 0, 0);
        pthread_t t;
        pthread_create(&t, 0, crash_after, (void *)(intptr_t)(rand_us()));
        usleep(200);
        mayday_uninstall();
        pthread_join(t, 0);
        return 3;
    }
    if (!strcmp(s, "dir-replaced") || !strcmp(s, "dir-renamed")) {
        install(0, 0, 0);
        char moved[4200];
        snprintf(moved, sizeof moved, "%s.moved", g_dir);
        if (rename(g_dir, moved) < 0)
            die("rename");
        if (!strcmp(s, "dir-replaced") && mkdir(g_dir, 0700) < 0)
            die("mkdir");
        crasher_null_write();
    }
    return -1;
}
