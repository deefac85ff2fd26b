/*
 * walk_util.c - test helpers for Tests/walk (see walk_util.h).
 *
 * Context: test code (normal context); wt_handler runs as a signal
 * handler in the parked thread and only does async-signal-safe things
 * plus, when asked, libunwind's local unwinder (test reference only).
 */
#include "walk_util.h"
#include "local_unwind.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define CAPTURE_SIG SIGUSR1

static wt_parked *volatile g_target;

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void wt_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    wt_parked *p = g_target;
    if (!p)
        return;
    mds_regs_from_ucontext(&p->regs, ucv);
    if (p->want_local)
        p->nlocal = local_unwind_here(p->lpcs, p->lsps, WT_LOCAL_MAX);
    __atomic_store_n(&p->captured, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&p->release, __ATOMIC_ACQUIRE)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

void wt_block(wt_parked *p)
{
    char c;
    __atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
    while (read(p->pipefd[0], &c, 1) < 0 && errno == EINTR)
        ;
}

static void bottom(void *arg) { wt_block(arg); }

void *wt_thread_main(void *arg);
void *wt_thread_main(void *arg)
{
    wt_parked *p = arg;
    pthread_attr_t a;
    p->tid = (pid_t)syscall(SYS_gettid);
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *addr;
        size_t size;
        pthread_attr_getstack(&a, &addr, &size);
        p->stack_lo = (uintptr_t)addr;
        p->stack_hi = (uintptr_t)addr + size;
        pthread_attr_destroy(&a);
    }
    if (p->fn)
        p->fn(p->depth, bottom, p);
    else
        p->body(p);
    return NULL;
}

/* 1 once /proc/self/task/TID/stat says the thread sleeps. */
static int sleeping(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] == 'S';
}

static int start(wt_parked *p)
{
    static int installed;
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = wt_handler;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&sa.sa_mask);
        sigaction(CAPTURE_SIG, &sa, NULL);
        installed = 1;
    }
    if (pipe(p->pipefd) != 0)
        return -1;
    if (pthread_create(&p->th, NULL, wt_thread_main, p) != 0)
        return -1;
    for (int i = 0; i < 10000 && !(p->ready && p->tid && sleeping(p->tid)); i++)
        nap_ms(1);
    if (!p->ready)
        return -1;
    g_target = p;
    pthread_kill(p->th, CAPTURE_SIG);
    for (int i = 0; i < 10000 && !p->captured; i++)
        nap_ms(1);
    return p->captured ? 0 : -1;
}

int wt_park(wt_parked *p, wt_rec_fn fn, int depth, int want_local)
{
    memset(p, 0, sizeof(*p));
    p->fn = fn;
    p->depth = depth;
    p->want_local = want_local;
    return start(p);
}

int wt_park_body(wt_parked *p, void (*body)(wt_parked *))
{
    memset(p, 0, sizeof(*p));
    p->body = body;
    return start(p);
}

void wt_unpark(wt_parked *p)
{
    __atomic_store_n(&p->release, 1, __ATOMIC_RELEASE);
    if (write(p->pipefd[1], "x", 1) != 1)
        return;
    pthread_join(p->th, NULL);
    g_target = NULL;
    close(p->pipefd[0]);
    close(p->pipefd[1]);
}

int wt_fn_range(const void *addr, uintptr_t *lo, uintptr_t *hi)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym ||
        !info.dli_saddr || sym->st_size == 0)
        return -1;
    *lo = (uintptr_t)info.dli_saddr;
    *hi = *lo + sym->st_size;
    return 0;
}

int wt_count_in(const mds_frame *f, int n, uintptr_t lo, uintptr_t hi,
                int *first)
{
    int c = 0;
    if (first)
        *first = -1;
    for (int i = 0; i < n; i++) {
        if (f[i].pc >= lo && f[i].pc < hi) {
            if (c == 0 && first)
                *first = i;
            c++;
        }
    }
    return c;
}

int wt_readelf_build_id(const char *path, char *hex, size_t cap)
{
    char cmd[4200], line[512];
    snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    int found = -1;
    while (fgets(line, sizeof(line), f)) {
        char *b = strstr(line, "Build ID: ");
        if (b && found < 0) {
            b += 10;
            size_t n = strcspn(b, " \r\n");
            if (n < cap) {
                memcpy(hex, b, n);
                hex[n] = 0;
                found = 0;
            }
        }
    }
    pclose(f);
    return found;
}

int wt_maps_named(const char *name, uintptr_t *start, uintptr_t *end)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4200];
    int r = -1;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long s, e;
        char path[4096] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095s", &s, &e, path) >= 2 &&
            strcmp(path, name) == 0) {
            *start = s;
            *end = e;
            r = 0;
            break;
        }
    }
    if (f)
        fclose(f);
    return r;
}

mds_image_table *wt_table_new(size_t cap, size_t pool)
{
    mds_image_table *t = calloc(1, sizeof(*t));
    t->images = calloc(cap, sizeof(mds_image));
    t->cap = cap;
    t->pool = malloc(pool);
    t->pool_cap = pool;
    t->segs_cap = cap * MDS_SEGS_PER_IMAGE;
    t->segs = calloc(t->segs_cap, sizeof(mds_segment));
    return t;
}

void wt_table_free(mds_image_table *t)
{
    free(t->images);
    free(t->pool);
    free(t->segs);
    free(t);
}

int wt_find_image_file(const mds_image_table *t, const char *path)
{
    struct stat want, st;
    if (stat(path, &want) != 0)
        return -1;
    for (size_t i = 0; i < t->count; i++) {
        if (t->images[i].path[0] && stat(t->images[i].path, &st) == 0 &&
            st.st_dev == want.st_dev && st.st_ino == want.st_ino)
            return (int)i;
    }
    return -1;
}

int wt_libc_image(const mds_image_table *t)
{
    Dl_info di;
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    void *fn = libc ? dlsym(libc, "fopen") : NULL;
    if (!fn || !dladdr(fn, &di))
        return -1;
    return wt_find_image_file(t, di.dli_fname);
}

int wt_in_child(int (*fn)(void *), void *arg, unsigned timeout_s)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        alarm(timeout_s);
        int rc = fn(arg);
        fflush(NULL);
        _exit(rc);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return st;
}

void wt_print(const char *what, const mds_image_table *t, const mds_frame *f,
              int n)
{
    fprintf(stderr, "--- %s: %d frames\n", what, n);
    for (int i = 0; i < n; i++) {
        Dl_info info;
        const char *sym = "?";
        if (f[i].pc && dladdr((void *)(f[i].pc - (i > 0)), &info) &&
            info.dli_sname)
            sym = info.dli_sname;
        fprintf(stderr, "  #%-3d pc=%#lx sp=%#lx trust=%d img=%d %s %s\n", i,
                (unsigned long)f[i].pc, (unsigned long)f[i].sp, f[i].trust,
                f[i].image,
                f[i].image >= 0 && t ? t->images[f[i].image].path : "-", sym);
    }
}
