/*
 * threadhook.c - an alternate signal stack for every thread.
 *
 * Context: normal (runs in pthread_create's caller and at the start and
 * end of each new thread).
 *
 * libmayday defines pthread_create and forwards to the real one (found
 * with dlvsym/dlsym(RTLD_NEXT)). The wrapper starts the user's routine on
 * a trampoline that first maps a guard-paged altstack and frees it on
 * every exit path (return, pthread_exit and cancellation run the cleanup
 * handler). Without an altstack a stack overflow cannot be reported: the
 * kernel has no stack to run the handler on. Not covered: threads made by
 * raw clone(), glibc-internal threads, and threads of a process that
 * dlopen'ed libmayday after they started; mayday_thread_prepare() serves
 * those, and install signals every thread that exists at that moment.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crash/handler/state.h"
#include "crash/handler/altstack.h"
#include "normal/install/install.h"

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *,
                         void *(*)(void *), void *);
static create_fn real_create;

/* glibc's implementation behind pthread_create. In libc.a (a fully static
 * link) it is a global, strong symbol of pthread_create.o, and
 * pthread_create itself only a weak alias: ours wins the link and this
 * name reaches the real one, provided the object is linked in: the static
 * link flags (-Wl,-u,__pthread_create, from pkg-config and CMake;
 * docs/linking.md) make sure. libc.so does not export it: there the weak
 * reference stays 0 and dlsym(RTLD_NEXT) finds the real one. */
extern int __pthread_create_2_1(pthread_t *, const pthread_attr_t *,
                                void *(*)(void *), void *)
    __attribute__((weak));

/* A static link without glibc's pthread_create.o: every thread creation
 * of the program fails. Say why, once, rather than fail silently. */
static void no_real_create(void)
{
    static const char msg[] =
        "mayday: pthread_create: glibc's implementation is not linked in; "
        "a static link with libmayday.a needs "
        "-Wl,-u,__pthread_create (pkg-config --static --libs "
        "mayday-static gives it; see mayday's docs/linking.md)\n";
    static volatile int said;
    if (!__atomic_exchange_n(&said, 1, __ATOMIC_ACQ_REL) &&
        write(2, msg, sizeof msg - 1) < 0)
        return;
}

int md_real_pthread_create(pthread_t *t, const pthread_attr_t *a,
                           void *(*fn)(void *), void *arg)
{
    create_fn f = __atomic_load_n(&real_create, __ATOMIC_ACQUIRE);
    if (!f && __pthread_create_2_1)
        f = __pthread_create_2_1;
    if (!f) {
        /* glibc 2.34 moved pthread_create into libc with a new version;
         * ask for the default one first. */
        f = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
        if (!f)
            f = (create_fn)dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.34");
        if (!f)
            f = (create_fn)dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.2.5");
        if (!f) {
            no_real_create();
            return EAGAIN;
        }
        __atomic_store_n(&real_create, f, __ATOMIC_RELEASE);
    }
    return f(t, a, fn, arg);
}

struct tramp {
    void *(*fn)(void *);
    void *arg;
};

struct altstack {
    void *map;
    size_t len;
};

static void free_altstack(void *p)
{
    struct altstack *as = p;
    if (!as->map)
        return;
    stack_t off = {.ss_flags = SS_DISABLE};
    /* Fails (EPERM) when the thread is running on it, e.g. pthread_exit
     * from a signal handler: then keep the mapping (a leak, not a
     * use-after-unmap). */
    if (sigaltstack(&off, 0) == 0)
        munmap(as->map, as->len);
    as->map = 0;
}

static void *tramp_start(void *p)
{
    struct tramp t = *(struct tramp *)p;
    free(p);
    struct altstack as = {0, 0};
    mds_altstack_ensure(0, &as.map, &as.len);
    void *ret;
    pthread_cleanup_push(free_altstack, &as);
    ret = t.fn(t.arg);
    pthread_cleanup_pop(1);
    return ret;
}

__attribute__((visibility("default"))) int
pthread_create(pthread_t *thread, const pthread_attr_t *attr,
               void *(*start)(void *), void *arg)
{
    if (!__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE) ||
        (mds_g.cfg.flags & MAYDAY_FLAG_NO_THREAD_HOOK))
        return md_real_pthread_create(thread, attr, start, arg);
    struct tramp *t = malloc(sizeof *t);
    if (!t)
        return md_real_pthread_create(thread, attr, start, arg);
    t->fn = start;
    t->arg = arg;
    int r = md_real_pthread_create(thread, attr, tramp_start, t);
    if (r != 0)
        free(t);
    return r;
}

/* mayday_thread_prepare(): the altstack is freed by a key destructor when
 * the thread exits. */
static pthread_key_t prep_key;
static pthread_once_t prep_once = PTHREAD_ONCE_INIT;

static void prep_destroy(void *p)
{
    free_altstack(p);
    free(p);
}

static void prep_init(void) { pthread_key_create(&prep_key, prep_destroy); }

int mayday_thread_prepare(void)
{
    if (!mds_altstack_size)
        return MAYDAY_ENOTINSTALLED;
    pthread_once(&prep_once, prep_init);
    if (pthread_getspecific(prep_key))
        return 0;
    struct altstack *as = calloc(1, sizeof *as);
    if (!as)
        return MAYDAY_ENOMEM;
    int r = mds_altstack_ensure(0, &as->map, &as->len);
    if (r < 0) {
        free(as);
        return r == -ENOMEM ? MAYDAY_ENOMEM : MAYDAY_ESYS;
    }
    if (!as->map) {
        free(as); /* it had a big enough one already */
        return 0;
    }
    pthread_setspecific(prep_key, as);
    return 0;
}
