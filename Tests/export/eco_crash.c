/*
 * eco_crash.c - a program that installs mayday and crashes for real, for
 * the ecosystem tests (minidump through lldb, Sentry export through
 * sentry-cli and Spotlight): a worker thread parked 30 frames deep in
 * park_level(), a second worker blocked in a pipe read (through
 * libeco_short.so, whose build-id is 8 bytes long), and the main thread
 * writing through NULL in crash_now() called from main_work().
 *
 *   eco_crash REPORT_DIR
 *
 * Built with -O0 -g and frame pointers. Context: test helper program.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mayday/mayday.h>

#define PARK_DEPTH 30

static volatile int *volatile g_null;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_parked;
static int g_pipe[2];

static __attribute__((noinline)) void park_here(void)
{
    pthread_mutex_lock(&g_lock);
    g_parked++;
    pthread_cond_broadcast(&g_cond);
    for (;;)
        pthread_cond_wait(&g_cond, &g_lock);
}

/* Recursion to PARK_DEPTH frames, then park. */
static __attribute__((noinline)) int park_level(int n)
{
    volatile int keep = n;
    if (n < PARK_DEPTH)
        return park_level(n + 1) + keep;
    park_here();
    return keep;
}

static void *parked_worker(void *arg)
{
    (void)arg;
    return (void *)(long)park_level(1);
}

int eco_short_read(int fd, char *c); /* eco_short.c, a short build-id */

static void *reader_worker(void *arg)
{
    (void)arg;
    char c;
    pthread_mutex_lock(&g_lock);
    g_parked++;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    return (void *)(long)eco_short_read(g_pipe[0], &c);
}

static __attribute__((noinline)) void crash_now(void) { *g_null = 7; }

static __attribute__((noinline)) void main_work(void)
{
    crash_now();
    g_null = NULL; /* not a tail call */
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    mayday_config cfg;
    mayday_config_init(&cfg);
    cfg.report_dir = argv[1];
    cfg.app_id = "eco_crash";
    cfg.app_version = "2.5.1";
#ifdef MAYDAY_DEFAULT_STACK_BYTES
    /* With the stack memory of issue 11: room for the whole parked stack
     * (30+ frames), so that lldb can unwind it from the minidump. */
    cfg.stack_bytes = 64 * 1024;
    cfg.crashed_stack_bytes = 64 * 1024;
#endif
    int rc = mayday_install(&cfg);
    if (rc < 0) {
        fprintf(stderr, "mayday_install: %s\n", mayday_strerror(rc));
        return 3;
    }
    if (pipe(g_pipe) != 0)
        return 4;
    pthread_t a, b;
    pthread_create(&a, NULL, parked_worker, NULL);
    pthread_setname_np(a, "parked-30");
    pthread_create(&b, NULL, reader_worker, NULL);
    pthread_setname_np(b, "pipe-reader");
    pthread_mutex_lock(&g_lock);
    while (g_parked < 2)
        pthread_cond_wait(&g_cond, &g_lock);
    pthread_mutex_unlock(&g_lock);
    mayday_annotate("phase", "crashing");
    mayday_annotate("tag.shard", "eu-7");
    mayday_annotate("environment", "staging");
    mayday_breadcrumb("workers started");
    main_work();
    return 0;
}
