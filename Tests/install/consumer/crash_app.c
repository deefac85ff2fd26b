/*
 * crash_app.c - a program built against an INSTALLED mayday by
 * Tests/install/test_install.sh in every supported link mode (libmayday.so;
 * libmayday.a with a dynamic glibc; libmayday.a with a static glibc), to
 * show each one crashes into a complete report.
 *
 *   crash_app DIR segv      a null write three calls below main
 *   crash_app DIR assert    a failed assert() there instead
 *
 * Before crashing it starts a thread named "worker" (through libmayday's
 * pthread_create hook, which a static link must still forward to glibc)
 * that waits, so the report must hold two threads.
 *
 * Context: an application (normal context) that crashes on purpose.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#undef NDEBUG
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mayday/mayday.h>

static volatile int *volatile g_null;
static pthread_barrier_t g_ready;

__attribute__((noinline)) void crash_level2(const char *how)
{
    if (!strcmp(how, "assert"))
        assert(strcmp(how, "assert") != 0 && "crash_app assert");
    *g_null = 1;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void crash_level1(const char *how)
{
    crash_level2(how);
    __asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "worker");
    pthread_barrier_wait(&g_ready);
    for (;;)
        pause();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: crash_app DIR segv|assert\n");
        return 2;
    }
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = argv[1];
    cfg.app_id = "crash_app";
    cfg.app_version = "1.0";
    int r = mayday_install(&cfg);
    if (r < 0) {
        fprintf(stderr, "crash_app: mayday_install: %s\n", mayday_strerror(r));
        return 3;
    }
    pthread_barrier_init(&g_ready, 0, 2);
    pthread_t t;
    if (pthread_create(&t, 0, worker, 0) != 0) {
        fprintf(stderr, "crash_app: pthread_create failed\n");
        return 4;
    }
    pthread_barrier_wait(&g_ready);
    crash_level1(argv[2]);
    return 5;
}
