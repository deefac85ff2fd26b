/*
 * crasher_shapes.c - crash scenarios in the shapes real programs have
 * (issue 9): a main thread that waits and exits with another status if
 * the wait ever returns, writers that must not write once the crash is
 * reported, a daemon whose signal thread sigwaits with every signal
 * blocked, applications that take or reset mayday's signal, and threads
 * that sleep while mayday installs or writes live reports and count every
 * early return.
 *
 * Exit statuses the tests look for: 4 = a wait returned (it must not),
 * 5 = a sleeper returned early, 0 = the run went as it should without a
 * crash. A crash must end the process with its signal.
 *
 * Context: test program.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crasher.h"

void side_path(char *out, size_t cap, const char *leaf)
{
    snprintf(out, cap, "%s/../%s", g_dir, leaf);
}

static void ms_sleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------- main waits, exits */

/* The main thread waits the way daemons do and leaves with status 4 if
 * the wait ever returns: only the crash may end this process. */
static void __attribute__((noreturn)) main_waits(const char *kind)
{
    if (!strcmp(kind, "pause")) {
        pause();
    } else if (!strcmp(kind, "sleep")) {
        sleep(100);
    } else if (!strcmp(kind, "nanosleep")) {
        struct timespec ts = {100, 0};
        nanosleep(&ts, 0);
    } else if (!strcmp(kind, "epoll")) {
        int ep = epoll_create1(0);
        struct epoll_event ev;
        epoll_wait(ep, &ev, 1, -1);
    }
    _exit(4);
}

static void *crash_later(void *arg)
{
    ms_sleep((int)(intptr_t)arg);
    crasher_null_write();
    return 0;
}

static void crash_in_thread(int after_ms)
{
    pthread_t t;
    if (pthread_create(&t, 0, crash_later, (void *)(intptr_t)after_ms))
        die("pthread_create");
}

static void *crash_at_barrier(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&g_barrier);
    crasher_null_write();
    return 0;
}

/* --------------------------------------------------------- writers */

static int g_rec_fd = -1;

/* Runs after the report is written, with the other threads stopped:
 * nothing may follow this line in the records file. */
static void mark_reported(int signo, const char *path, void *data)
{
    (void)signo;
    (void)path;
    (void)data;
    if (write(g_rec_fd, "REPORTED\n", 9) < 0)
        _exit(91);
}

static void *record_writer(void *arg)
{
    (void)arg;
    for (unsigned long n = 0;; n++) {
        char line[32];
        int k = snprintf(line, sizeof line, "r %lu\n", n);
        if (write(g_rec_fd, line, (size_t)k) < 0)
            _exit(92);
    }
    return 0;
}

static void open_records(void)
{
    char path[4200];
    side_path(path, sizeof path, "records");
    g_rec_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    if (g_rec_fd < 0)
        die("open records");
}

/* ------------------------------------------------- signal takeovers */

static void app_rt_handler(int sig)
{
    (void)sig;
    if (write(g_rec_fd, "H\n", 2) < 0)
        _exit(93);
}

/* The application takes every free real-time signal after install (as
 * some frameworks do), or resets them all to SIG_DFL. */
static void take_rt_signals(int reset)
{
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = reset ? SIG_DFL : app_rt_handler;
        sigaction(s, &sa, 0);
    }
}

/* ---------------------------------------------------------- daemons */

/* A daemon's signal thread: every signal blocked, sigwaitinfo on all of
 * them; any signal it gets means "shut down" (exit 0, no report). */
static void *signal_thread(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        siginfo_t si;
        int r = sigwaitinfo(&all, &si);
        if (r > 0) {
            printf("signal thread: got signal %d (code %d, from %d)\n", r,
                   si.si_code, si.si_pid);
            fflush(stdout);
            _exit(0);
        }
        if (errno != EINTR)
            _exit(6);
    }
    return 0;
}

/* ---------------------------------------------------------- sleepers */

/* Each kind of wait, for 600 ms; an early return or EINTR counts. */
enum {
    K_NANOSLEEP,
    K_PAUSE,
    K_EPOLL,
    K_SIGWAIT,
    K_CONDWAIT,
    K_READ,
    K_POLL,
    K_SELECT,
    K_SLEEP,
    K_SEMTIMEDOP,
    K_RECV,
    K_ACCEPT,
    K_COUNT
};
static const char *kind_name[K_COUNT] = {
    "nanosleep", "pause", "epoll_wait", "sigtimedwait", "cond_timedwait",
    "read",      "poll",  "select",     "sleep",        "semtimedop",
    "recv",      "accept"};
static volatile int early[K_COUNT];
static int early_ms[K_COUNT], early_errno[K_COUNT]; /* the last one */
static int wake_pipe[2];
static volatile int release_pause;
#define SLEEP_MS 600

static void usr1(int sig) { (void)sig; }

static int one_wait(int k)
{
    int r = 0;
    switch (k) {
    case K_NANOSLEEP: {
        struct timespec ts = {0, SLEEP_MS * 1000000L};
        r = nanosleep(&ts, 0);
        break;
    }
    case K_PAUSE:
        r = pause();
        return release_pause ? 0 : 1;
    case K_EPOLL: {
        int ep = epoll_create1(0);
        struct epoll_event ev;
        r = epoll_wait(ep, &ev, 1, SLEEP_MS);
        close(ep);
        break;
    }
    case K_SIGWAIT: {
        sigset_t all, one;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, 0);
        sigemptyset(&one);
        sigaddset(&one, SIGUSR2);
        struct timespec ts = {0, SLEEP_MS * 1000000L};
        r = sigtimedwait(&one, 0, &ts);
        if (r < 0 && errno == EAGAIN)
            r = 0;
        break;
    }
    case K_CONDWAIT: {
        /* On the monotonic clock, as the time the caller measures: a
         * step of the wall clock must not look like an early return. */
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_t c;
        pthread_cond_init(&c, &ca);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += SLEEP_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&m);
        int e = pthread_cond_timedwait(&c, &m, &ts);
        pthread_mutex_unlock(&m);
        pthread_cond_destroy(&c);
        r = e == ETIMEDOUT ? 0 : -1;
        errno = e;
        break;
    }
    case K_READ: {
        char b;
        r = read(wake_pipe[0], &b, 1) == 1 && release_pause ? 0 : -1;
        return r != 0;
    }
    case K_POLL:
        r = poll(0, 0, SLEEP_MS);
        break;
    case K_SELECT: {
        struct timeval tv = {0, SLEEP_MS * 1000};
        r = select(0, 0, 0, 0, &tv);
        break;
    }
    case K_SLEEP:
        r = (int)usleep(SLEEP_MS * 1000);
        break;
    case K_SEMTIMEDOP: {
        /* A private semaphore at 0: the decrement waits out its time. */
        int id = semget(IPC_PRIVATE, 1, 0600);
        struct sembuf op = {0, -1, 0};
        struct timespec ts = {0, SLEEP_MS * 1000000L};
        r = id < 0 ? -1 : semtimedop(id, &op, 1, &ts);
        if (r < 0 && errno == EAGAIN)
            r = 0;
        if (id >= 0)
            semctl(id, 0, IPC_RMID);
        break;
    }
    case K_RECV:
    case K_ACCEPT: {
        /* Socket waits with SO_RCVTIMEO: the kernel ends these with EINTR
         * (not a restart) when they are interrupted (signal(7)). */
        struct timeval tv = {0, SLEEP_MS * 1000};
        int sv[2] = {-1, -1}, fd;
        if (k == K_RECV) {
            r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
            fd = sv[0];
        } else {
            fd = socket(AF_UNIX, SOCK_STREAM, 0);
            struct sockaddr_un a = {.sun_family = AF_UNIX};
            r = fd < 0 || bind(fd, (struct sockaddr *)&a,
                               sizeof(sa_family_t)) < 0 || /* autobind */
                        listen(fd, 1) < 0
                    ? -1
                    : 0;
        }
        if (r == 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv))
            r = -1;
        if (r == 0) {
            char b;
            r = k == K_RECV ? (int)recv(fd, &b, 1, 0) : accept(fd, 0, 0);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                r = 0;
        }
        if (sv[1] >= 0)
            close(sv[1]);
        if (fd >= 0)
            close(fd);
        break;
    }
    }
    return r < 0;
}

static void *sleeper_kind(void *arg)
{
    int k = (int)(intptr_t)arg;
    pthread_barrier_wait(&g_barrier);
    uint64_t t0 = now_ms();
    errno = 0;
    int bad = one_wait(k);
    int e = bad ? errno : 0;
    uint64_t took = now_ms() - t0;
    /* A timed wait that returned well before its time returned early. */
    if (k != K_PAUSE && k != K_READ && took < SLEEP_MS - 50)
        bad = 1;
    if (bad) {
        early[k]++;
        early_ms[k] = (int)took;
        early_errno[k] = e;
    }
    return 0;
}

static pthread_t sleepers[K_COUNT];

static void start_kind_sleepers(void)
{
    signal(SIGUSR1, usr1);
    if (pipe(wake_pipe) < 0)
        die("pipe");
    pthread_barrier_init(&g_barrier, 0, K_COUNT + 1);
    for (int k = 0; k < K_COUNT; k++) {
        if (pthread_create(&sleepers[k], 0, sleeper_kind, (void *)(intptr_t)k))
            die("pthread_create");
    }
    pthread_barrier_wait(&g_barrier);
    ms_sleep(50); /* let them enter their waits */
}

/* Wakes the waits without a timeout, joins, and returns 0 or 5. */
static int finish_kind_sleepers(void)
{
    ms_sleep(SLEEP_MS + 100);
    release_pause = 1;
    pthread_kill(sleepers[K_PAUSE], SIGUSR1);
    if (write(wake_pipe[1], "x", 1) != 1)
        die("write");
    int bad = 0;
    for (int k = 0; k < K_COUNT; k++) {
        pthread_join(sleepers[k], 0);
        if (early[k])
            printf("early return: %s (after %d ms of %d, error %s)\n",
                   kind_name[k], early_ms[k], SLEEP_MS,
                   early_errno[k] ? strerror(early_errno[k]) : "none");
        bad += early[k];
    }
    return bad ? 5 : 0;
}

/* ------------------------------------------------ live report stress */

static volatile int stress_early, stress_stop;

static void *restartable_sleeper(void *arg)
{
    (void)arg;
    while (!stress_stop) {
        struct timespec ts = {0, 20 * 1000000L};
        uint64_t t0 = now_ms();
        if (nanosleep(&ts, 0) < 0 || now_ms() - t0 < 15)
            stress_early++;
        struct pollfd p = {wake_pipe[0], POLLIN, 0};
        t0 = now_ms();
        if (poll(&p, 1, 20) < 0 || now_ms() - t0 < 15)
            stress_early++;
    }
    return 0;
}

static void *live_loop(void *arg)
{
    int n = (int)(intptr_t)arg;
    for (int i = 0; i < n && !stress_stop; i++) {
        int r = mayday_write_live_report("stress");
        if (r == MAYDAY_EBUSY)
            break; /* a crash is being reported */
        if (r < 0)
            _exit(7);
    }
    return 0;
}

/* ------------------------------------------------------------ entry */

/* issue 15: threads created while the report is written. Each new one
 * parks; the spawner stops after CHURN_MAX (or when it is stopped). */
#define CHURN_MAX 200 /* 200 KiB of stack memory: below the default budget */
static int churn_count;

static void *churned(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "churn-%d", (int)(intptr_t)arg);
    pthread_setname_np(pthread_self(), name);
    /* Counted once named: a thread not yet run still has the process's
     * name, and the check looks for "churn-". */
    __atomic_add_fetch(&churn_count, 1, __ATOMIC_RELEASE);
    for (;;)
        pause();
    return 0;
}

static void *spawner(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "spawner");
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    for (int i = 0; i < CHURN_MAX; i++) {
        pthread_t t;
        if (pthread_create(&t, &a, churned, (void *)(intptr_t)i) != 0)
            break;
    }
    for (;;)
        pause();
    return 0;
}

int crasher_shapes(const char *s)
{
    if (!strncmp(s, "wait-", 5)) {
        install(0, 0, 0);
        crash_in_thread(30);
        main_waits(s + 5);
    }
    if (!strcmp(s, "crashers-8-pause")) {
        install(0, 0, 0);
        pthread_barrier_init(&g_barrier, 0, 8);
        for (int i = 0; i < 8; i++) {
            pthread_t t;
            pthread_create(&t, 0, crash_at_barrier, 0);
        }
        main_waits("pause");
    }
    if (!strcmp(s, "writer")) {
        install(0, mark_reported, 0);
        open_records();
        for (int i = 0; i < 2; i++) {
            pthread_t t;
            pthread_create(&t, 0, record_writer, 0);
        }
        crash_in_thread(20);
        main_waits("pause");
    }
    if (!strcmp(s, "sigwait-daemon")) {
        install(0, 0, 0);
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, 0); /* inherited by threads */
        pthread_t t;
        pthread_create(&t, 0, signal_thread, 0);
        crash_in_thread(30);
        pthread_join(t, 0);
        _exit(4);
    }
    if (!strcmp(s, "rt-taken") || !strcmp(s, "rt-reset")) {
        install(0, 0, 0);
        open_records();
        take_rt_signals(!strcmp(s, "rt-reset"));
        start_sleepers(3);
        crash_in_thread(10);
        main_waits("pause");
    }
    if (!strcmp(s, "install-sleepers")) {
        start_kind_sleepers();
        install(0, 0, 0);
        return finish_kind_sleepers();
    }
    if (!strcmp(s, "live-sleepers")) {
        install(0, 0, 0);
        start_kind_sleepers();
        if (mayday_write_live_report("sleepers") < 0)
            return 7;
        return finish_kind_sleepers();
    }
    if (!strcmp(s, "live-stress")) {
        install(0, 0, 0);
        if (pipe(wake_pipe) < 0)
            die("pipe");
        pthread_t t[4], l;
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], 0, restartable_sleeper, 0);
        ms_sleep(10);
        pthread_create(&l, 0, live_loop, (void *)(intptr_t)10);
        pthread_join(l, 0);
        ms_sleep(30);
        if (stress_early) {
            printf("early returns: %d\n", stress_early);
            return 5;
        }
        crasher_null_write();
    }
    if (!strcmp(s, "live-vs-crash") || !strcmp(s, "live-vs-crash-long")) {
        /* _long: 400 live reports back to back, so that the crashed
         * thread, waiting for the slot, sees it freed many times while
         * the loop would take it again at once (a lost report before
         * the fix: about 1 run in 600 with 40). */
        install(0, 0, 0);
        pthread_t l;
        int n = !strcmp(s, "live-vs-crash") ? 40 : 400;
        pthread_create(&l, 0, live_loop, (void *)(intptr_t)n);
        crash_in_thread(15);
        main_waits("pause");
    }
    if (!strcmp(s, "thousand-threads")) {
        /* Every thread in the report at the default size cap (issue 15:
         * the automatic cap grows with the threads). */
        install(0, 0, 0);
        /* 32 frames deep (as bench_crash's workers): about 1.6 KB each
         * with the default contents, more than 1 MiB in all. */
        start_sleepers_deep(1000, 32);
        crasher_null_write();
    }
    if (!strcmp(s, "thread-churn")) {
        /* A spawner creates threads all through the crash: the helper
         * finds some on a later pass, while the report is being written;
         * they must come with stacks like the others. */
        install(0, 0, 0);
        pthread_t t;
        pthread_create(&t, 0, spawner, 0);
        /* Crash once it is well under way (two burners may delay it). */
        for (int i = 0;
             i < 2000 && __atomic_load_n(&churn_count, __ATOMIC_ACQUIRE) < 20;
             i++)
            ms_sleep(1);
        crasher_null_write();
    }
    return crasher_states(s);
}
