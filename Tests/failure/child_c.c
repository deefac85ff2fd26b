/*
 * child_c.c - the C child of test_fatal and test_hang: installs mayday and
 * fails in the way named on its command line (mayday_fatal, glibc checks,
 * __builtin_trap, hangs under the watchdog).
 *
 *   child_c DIR SCENARIO        env CHILD_MODE=auto|thread|signal
 *
 * Facts the tests compare with the report come from the kernel and libc,
 * not from mayday: "TID=<tid>" (gettid of the thread that fails or goes
 * silent); the hang callback prints "EVENT <kind> watch=<id> tid=<tid>
 * silent_ms=<n>" lines.
 *
 * Context: a test program (normal code that fails on purpose).
 */
#undef NDEBUG
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mayday/mayday.h"

void child_fortify_overflow(const char *src); /* child_fortify.c */
void child_smash_stack(size_t n);             /* child_ssp.c */

static const char *g_dir;
static volatile int g_recovered;
static volatile int g_stop;

static void say_tid(void)
{
    printf("TID=%ld\n", (long)syscall(SYS_gettid));
    fflush(stdout);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void on_hang(const mayday_hang_event *ev, void *data)
{
    (void)data;
    char b[256];
    int n = snprintf(b, sizeof b, "EVENT %s watch=%d tid=%u silent_ms=%llu%s\n",
                     ev->kind == MAYDAY_HANG_EVENT_HANG ? "hang" : "recovered",
                     ev->watch, ev->tid, (unsigned long long)ev->silent_ms,
                     ev->report_path ? " report" : "");
    if (write(1, b, (size_t)n) < 0)
        _exit(96);
    if (ev->kind == MAYDAY_HANG_EVENT_RECOVERED)
        g_recovered = 1;
}

static void install(int fatal_signal, uint32_t hang_action, int hang_signal)
{
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = g_dir;
    cfg.app_id = "child_c";
    cfg.fatal_signal = fatal_signal;
    cfg.hang_action = hang_action;
    cfg.hang_signal = hang_signal;
    cfg.on_hang = on_hang;
    const char *mode = getenv("CHILD_MODE");
    if (mode && !strcmp(mode, "thread"))
        cfg.handler_mode = MAYDAY_HANDLER_THREAD;
    else if (mode && !strcmp(mode, "signal"))
        cfg.handler_mode = MAYDAY_HANDLER_SIGNAL;
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "child_c: mayday_install: %s\n", mayday_strerror(r));
        _exit(91);
    }
}

/* Functions the tests look for in the report's frames (nm -S). */
__attribute__((noinline)) void child_fatal_caller(const char *how)
{
    say_tid();
    if (!strcmp(how, "fatalf"))
        mayday_fatalf("code %d at %s", 42, "step seven");
    if (!strcmp(how, "fatalf-long")) {
        char big[3000];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = 0;
        mayday_fatalf("long: %s", big);
    }
    mayday_fatal("disk on fire");
}

__attribute__((noinline)) void child_trap(void)
{
    say_tid();
    __builtin_trap();
}

static void bad_free(void)
{
    char *volatile p = malloc(32);
    volatile size_t off = 8;
    free(p + off);
}

/* ------------------------------------------------------------- hangs */

static void *beater(void *arg)
{
    long deadline = (long)(intptr_t)arg;
    int w = mayday_heartbeat_start("beater", (uint32_t)deadline);
    if (w < 0)
        _exit(92);
    while (!g_stop) {
        mayday_heartbeat(w);
        sleep_ms(deadline / 50 > 0 ? deadline / 50 : 1);
    }
    mayday_heartbeat_stop(w);
    return 0;
}

/* The silent thread sleeps here (the report's first thread). */
__attribute__((noinline)) void child_silent(long ms)
{
    sleep_ms(ms);
    __asm__ volatile("" ::: "memory");
}

static int hang(const char *s)
{
    int end = !strncmp(s, "hang-end", 8);
    int blocked = strstr(s, "blocked") != 0;
    install(0, end ? MAYDAY_HANG_END : MAYDAY_HANG_CONTINUE,
            strstr(s, "term") ? SIGTERM : 0);
    pthread_t bt;
    pthread_create(&bt, 0, beater, (void *)(intptr_t)2000);
    say_tid();
    int w = mayday_heartbeat_start("main-loop", 300);
    if (w < 0)
        return 92;
    for (int i = 0; i < 20; i++) {
        mayday_heartbeat(w);
        sleep_ms(10);
    }
    if (blocked) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, 0);
    }
    child_silent(1200);
    if (end)
        return 3; /* should have been ended */
    mayday_heartbeat(w);
    for (int i = 0; i < 300 && !g_recovered; i++)
        sleep_ms(10);
    g_stop = 1;
    pthread_join(bt, 0);
    mayday_heartbeat_stop(w);
    /* Stops the watchdog, frees what install mapped (LSan in the
     * sanitizer stage looks at a normal exit). */
    if (mayday_uninstall() != 0)
        return 5;
    return g_recovered ? 0 : 4;
}

static int beating(void)
{
    install(0, MAYDAY_HANG_END, 0); /* a false alarm would kill us */
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], 0, beater, (void *)(intptr_t)(1000 + 500 * i));
    /* Watches that come and go. */
    for (int i = 0; i < 100; i++) {
        int w = mayday_heartbeat_start("churn", 1000);
        if (w < 0)
            return 92;
        mayday_heartbeat(w);
        sleep_ms(5);
        mayday_heartbeat(w);
        mayday_heartbeat_stop(w);
        sleep_ms(5);
    }
    g_stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], 0);
    return mayday_uninstall() == 0 ? 0 : 5;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    g_dir = argv[1];
    const char *s = argv[2];
    if (!strncmp(s, "hang", 4))
        return hang(s);
    if (!strcmp(s, "beating"))
        return beating();
    if (!strcmp(s, "fatal-uninstalled"))
        child_fatal_caller("fatal");
    install(!strcmp(s, "fatal-signal") ? SIGSEGV : 0, 0, 0);
    if (!strncmp(s, "fatal", 5))
        child_fatal_caller(s);
    if (!strcmp(s, "fortify-strcpy"))
        child_fortify_overflow("0123456789abcdef0123456789abcdef");
    if (!strcmp(s, "stack-protector"))
        child_smash_stack(64);
    if (!strcmp(s, "trap"))
        child_trap();
    if (!strcmp(s, "malloc-check"))
        bad_free();
    if (!strcmp(s, "assert"))
        assert(1 + 1 == 3);
    if (!strcmp(s, "abort"))
        abort();
    fprintf(stderr, "child_c: unknown scenario or it did not fail: %s\n", s);
    return 3;
}
