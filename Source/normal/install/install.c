/*
 * install.c - mayday_install(), mayday_uninstall(),
 * mayday_write_live_report().
 *
 * Context: normal. Everything the crash path will need is prepared here:
 * config copy, report directory, static facts, guard-paged work areas, the
 * walker, the exception thread, the signal handlers, and altstacks for the
 * threads that already exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include "crash/core/arena.h"
#include "crash/core/fmt.h"
#include "crash/core/saferead.h"
#include "crash/core/sys.h"
#include "crash/handler/handler.h"
#include "crash/handler/procfs.h"
#include "crash/handler/report.h"
#include "crash/handler/altstack.h"
#include "crash/handler/state.h"
#include "normal/common/config.h"
#include "normal/failure/failure.h"
#include "normal/install/capture_init.h"
#include "normal/install/install.h"

#define EXC_STACK (256 * 1024)

static const int crash_signals[MDS_NSIGNALS] = {
    SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};

static pthread_t exc_thread;
static void *exc_stack_map;
static size_t exc_stack_len;
static char live_reason[256];

static int errno_to_md(int e)
{
    switch (e) {
    case ENOENT: return MAYDAY_ENOENT;
    case EACCES: case EPERM: case EROFS: return MAYDAY_EACCES;
    case ENOTDIR: return MAYDAY_ENOTDIR;
    case ENOSPC: return MAYDAY_ENOSPC;
    case ENOMEM: return MAYDAY_ENOMEM;
    default: return MAYDAY_ESYS;
    }
}

/* mkdir -p with mode 0700 for what we create. */
static int make_dirs(const char *dir)
{
    char tmp[MDS_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
            return errno_to_md(errno);
        *p = '/';
    }
    if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
        return errno_to_md(errno);
    struct stat st;
    if (stat(tmp, &st) < 0)
        return errno_to_md(errno);
    if (!S_ISDIR(st.st_mode))
        return MAYDAY_ENOTDIR;
    if (access(tmp, W_OK | X_OK) < 0)
        return MAYDAY_EACCES;
    return 0;
}

static int work_init(mds_work *w)
{
    size_t n_img = MDS_MAX_IMAGES * sizeof(mds_image);
    size_t n_segs = MDS_MAX_IMAGES * MDS_SEGS_PER_IMAGE * sizeof(mds_segment);
    size_t n_frames = mds_g.cfg.max_frames * sizeof(mds_frame);
    size_t total = n_img + n_segs + MDS_IMAGE_POOL + n_frames + MDS_WRITE_BUF +
                   MDS_PATH_MAX + 5 * 64;
    int r = mds_arena_map(&w->arena, total);
    if (r < 0)
        return MAYDAY_ENOMEM;
    w->images.images = mds_arena_alloc(&w->arena, n_img, 64);
    w->images.cap = MDS_MAX_IMAGES;
    w->images.pool = mds_arena_alloc(&w->arena, MDS_IMAGE_POOL, 64);
    w->images.pool_cap = MDS_IMAGE_POOL;
    w->images.segs = mds_arena_alloc(&w->arena, n_segs, 64);
    w->images.segs_cap = MDS_MAX_IMAGES * MDS_SEGS_PER_IMAGE;
    w->frames = mds_arena_alloc(&w->arena, n_frames, 64);
    w->wbuf = mds_arena_alloc(&w->arena, MDS_WRITE_BUF, 64);
    w->scratch = mds_arena_alloc(&w->arena, MDS_PATH_MAX, 64);
    w->walker = md_walker_create();
    if (!w->walker)
        return MAYDAY_ENOMEM;
    if (md_stopset_init(&w->stop, mds_g.cfg.max_threads, mds_g.fd.proc) < 0)
        return MAYDAY_ENOMEM;
    return 0;
}

static void work_free(mds_work *w)
{
    if (w->walker)
        md_walker_destroy(w->walker);
    md_stopset_free(&w->stop);
    mds_arena_unmap(&w->arena);
    memset(w, 0, sizeof *w);
}

/* sig can really be sent to a thread: blocked, sent to ourselves, seen
 * pending, taken back. qemu-user accepts handlers for the top real-time
 * signals but cannot deliver them (tgkill fails with EINVAL). */
static int signal_deliverable(int sig)
{
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, sig);
    if (pthread_sigmask(SIG_BLOCK, &one, &old) != 0)
        return 0;
    int ok = 0;
    if (mds_tgkill(getpid(), (int)mds_gettid(), sig) == 0) {
        struct timespec zero = {0, 0};
        ok = sigtimedwait(&one, 0, &zero) == sig;
    }
    pthread_sigmask(SIG_SETMASK, &old, 0);
    return ok;
}

static int pick_suspend_signal(void)
{
    /* A real-time signal nobody handles, from the top: glibc and most
     * runtimes take them from SIGRTMIN up. */
    for (int s = SIGRTMAX; s > SIGRTMIN + 2; s--) {
        struct sigaction sa;
        if (sigaction(s, 0, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
            sa.sa_handler == SIG_DFL && signal_deliverable(s))
            return s;
    }
    return -1;
}

static int start_exception_thread(void)
{
    size_t pg = mds_page_size();
    exc_stack_len = EXC_STACK + pg;
    exc_stack_map = mmap(0, exc_stack_len, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (exc_stack_map == MAP_FAILED)
        return MAYDAY_ENOMEM;
    mprotect(exc_stack_map, pg, PROT_NONE); /* guard below the stack */
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstack(&a, (char *)exc_stack_map + pg, EXC_STACK);
    /* The thread inherits this mask: it must never run app signal
     * handlers nor the suspend handler; crash signals stay open so a bug
     * in it is still caught. */
    sigset_t all, old;
    sigfillset(&all);
    for (int i = 0; i < MDS_NSIGNALS; i++)
        sigdelset(&all, crash_signals[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = md_real_pthread_create(&exc_thread, &a, mds_exc_main, 0);
    pthread_sigmask(SIG_SETMASK, &old, 0);
    pthread_attr_destroy(&a);
    if (r != 0) {
        munmap(exc_stack_map, exc_stack_len);
        exc_stack_map = 0;
        return MAYDAY_ESYS;
    }
    pthread_setname_np(exc_thread, "mayday-exc");
    uint64_t deadline = mds_now_ns() + 2000000000ull;
    while (!__atomic_load_n(&mds_g.exc_tid, __ATOMIC_ACQUIRE) &&
           mds_now_ns() < deadline)
        mds_futex_wait(&mds_g.exc_tid, 0, 10000000ull);
    return mds_g.exc_tid ? 0 : MAYDAY_ETIMEDOUT;
}

static void stop_exception_thread(void)
{
    if (!exc_stack_map)
        return;
    /* A forked child has no exception thread (only the forking thread
     * was copied): nothing to join. */
    if (mds_g.exc_pid == (uint32_t)getpid()) {
        __atomic_store_n(&mds_g.exc_stop, 1, __ATOMIC_RELEASE);
        __atomic_fetch_add(&mds_g.req_seq, 1, __ATOMIC_ACQ_REL);
        mds_futex_wake(&mds_g.req_seq, 1);
        pthread_join(exc_thread, 0);
    }
    munmap(exc_stack_map, exc_stack_len);
    exc_stack_map = 0;
    mds_g.exc_stop = 0;
}

static void teardown(void)
{
    stop_exception_thread();
    for (int i = 0; i < MDS_NSIGNALS; i++) {
        if (mds_g.signals[i])
            sigaction(mds_g.signals[i], &mds_g.prev[i], 0);
    }
    if (mds_g.suspend_signo > 0)
        sigaction(mds_g.suspend_signo, &mds_g.prev_suspend, 0);
    md_capture_uninstall(); /* issue 11 */
    work_free(&mds_g.work_exc);
    work_free(&mds_g.work_sig);
    md_fds_close();
    md_saferead_fini();
    memset(&mds_g, 0, sizeof mds_g);
    mds_g.fd.dir = mds_g.fd.proc = mds_g.fd.marker = -1;
    mds_g.fd.spare[0] = mds_g.fd.spare[1] = -1;
}

/* The child side of fork(): a process of its own, with only the forking
 * thread. It has no exception thread (reports are written from the
 * handler), its /proc descriptors must name it, and nothing its parent
 * had in flight is its business. */
static void atfork_child(void)
{
    if (!__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE))
        return;
    mds_g.pid = (uint32_t)getpid();
    md_fds_after_fork();
    mds_work *ws[] = {&mds_g.work_exc, &mds_g.work_sig};
    for (int i = 0; i < 2; i++) {
        mds_stopset *st = &ws[i]->stop;
        if (st->task_fd >= 0)
            close(st->task_fd);
        st->task_fd = openat(mds_g.fd.proc, "task",
                             O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        st->task_fd_pid = mds_g.pid;
        st->held = 0;
        st->hlive = 0;
        ws[i]->busy = 0;
    }
    mds_g.exc_tid = 0;
    mds_g.sig_set = 0;
    uint32_t self = (uint32_t)mds_gettid();
    if (mds_g.crash_owner != self && mds_g.crash_owner != UINT32_MAX)
        mds_g.crash_owner = 0;
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void atfork_register(void) { pthread_atfork(0, 0, atfork_child); }

/* Whether Yama restricts ptrace (the crash path then names its helper
 * with PR_SET_PTRACER). */
static void detect_yama(void)
{
    char buf[8] = {0};
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    if (f) {
        if (fgets(buf, sizeof buf, f))
            mds_ptrace_yama = atoi(buf) > 0;
        fclose(f);
    }
}

static volatile uint32_t install_busy;

int mayday_install(const mayday_config *user_cfg)
{
    uint32_t zero = 0;
    if (!__atomic_compare_exchange_n(&install_busy, &zero, 1, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return MAYDAY_EBUSY;
    int r = MAYDAY_EALREADY;
    if (mds_g.installed)
        goto out;
    mayday_config cfg;
    if ((r = md_config_copy(&cfg, user_cfg)) < 0 ||
        (r = md_config_validate(&cfg)) < 0)
        goto out;
    if ((r = make_dirs(cfg.report_dir)) < 0)
        goto out;

    memset(&mds_g, 0, sizeof mds_g);
    mds_g.cfg = cfg;
    mds_g.pid = (uint32_t)getpid();
    if (!realpath(cfg.report_dir, mds_g.info.report_dir)) {
        r = errno_to_md(errno);
        goto out;
    }
    if ((r = md_fds_open(mds_g.info.report_dir)) < 0)
        goto out;
    mds_g.cfg.report_dir = mds_g.info.report_dir;
    snprintf(mds_g.info.app_id, sizeof mds_g.info.app_id, "%s",
             cfg.app_id ? cfg.app_id : "");
    snprintf(mds_g.info.app_version, sizeof mds_g.info.app_version, "%s",
             cfg.app_version ? cfg.app_version : "");
    mds_g.cfg.app_id = mds_g.info.app_id;
    mds_g.cfg.app_version = mds_g.info.app_version;
    md_prune_reports(mds_g.info.report_dir, cfg.max_reports);
    md_collect_static_info();
    mds_page_size();

    long ss = sysconf(_SC_SIGSTKSZ);
    size_t want = ss > 65536 ? (size_t)ss : 65536;
    size_t pg = mds_page_size();
    mds_altstack_size = (want + pg - 1) & ~(pg - 1);

    /* The safe read's method, by self-test, before anything reads. */
    md_saferead_init(0);
    if ((r = md_images_init()) < 0)
        goto fail;
    if ((r = work_init(&mds_g.work_exc)) < 0 ||
        (r = work_init(&mds_g.work_sig)) < 0 ||
        (r = md_capture_install()) < 0) /* issue 11 */
        goto fail;
    /* Warm the image reader once so the crash path finds nothing lazy. */
    mds_images_capture(&mds_g.work_exc.images);
    md_prebind(); /* and no PLT slot it goes through is bound lazily */
    detect_yama();
    /* valgrind preloads its vgpreload_*.so into every client. */
    const char *pre = getenv("LD_PRELOAD");
    mds_g.no_clone_vm = pre && strstr(pre, "vgpreload_") != 0;
    md_sigmask_warm();
    pthread_once(&atfork_once, atfork_register);

    mds_g.suspend_signo = pick_suspend_signal();
    if (mds_g.suspend_signo < 0) {
        r = MAYDAY_EBUSY;
        goto fail;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = mds_suspend_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int i = 0; i < MDS_NSIGNALS; i++)
        sigdelset(&sa.sa_mask, crash_signals[i]);
    sigaction(mds_g.suspend_signo, &sa, &mds_g.prev_suspend);
    /* Kept raw: the crash path puts it back if the application takes
     * the signal over after install (stop_signal.c). */
    mds_rt_sigaction(mds_g.suspend_signo, 0, &mds_g.suspend_kact);

    mayday_thread_prepare();
    if (cfg.handler_mode != MAYDAY_HANDLER_SIGNAL &&
        (r = start_exception_thread()) < 0)
        goto fail;

    /* Crash handlers: on the altstack; every other signal blocked while
     * they run, but not the crash signals themselves, so that a fault in
     * mayday re-enters it (and is handled as a recursive crash) instead
     * of the kernel killing the process on the spot. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = mds_crash_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigfillset(&sa.sa_mask);
    for (int i = 0; i < MDS_NSIGNALS; i++)
        sigdelset(&sa.sa_mask, crash_signals[i]);
    /* Installed before the handlers: a handler that runs finds the state
     * complete (a crash seeing installed == 0 means uninstall). */
    for (int i = 0; i < MDS_NSIGNALS; i++)
        mds_g.signals[i] = crash_signals[i];
    __atomic_store_n(&mds_g.installed, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < MDS_NSIGNALS; i++)
        sigaction(crash_signals[i], &sa, &mds_g.prev[i]);
    if (!(cfg.flags & MAYDAY_FLAG_NO_EXISTING_THREADS) &&
        md_prepare_existing_threads() == MAYDAY_ENOSYS_ARCH)
        /* No ptrace injection for this architecture (aarch64): a signal
         * to each thread instead, which interrupts some of their waits
         * (docs/platforms.md). Never on x86_64. */
        md_prepare_by_signal();
    r = 0;
    goto out;
fail:
    teardown();
out:
    __atomic_store_n(&install_busy, 0, __ATOMIC_RELEASE);
    return r;
}

int mayday_uninstall(void)
{
    uint32_t zero = 0;
    if (!__atomic_compare_exchange_n(&install_busy, &zero, 1, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return MAYDAY_EBUSY;
    int r = MAYDAY_ENOTINSTALLED;
    md_watchdog_shutdown(); /* issue 12: it writes live reports */
    if (mds_g.installed) {
        /* Hold the crash slot while tearing down, so that no crash handler
         * or live report uses what we unmap. */
        uint32_t free_ = 0;
        if (!__atomic_compare_exchange_n(&mds_g.crash_owner, &free_,
                                         UINT32_MAX, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&install_busy, 0, __ATOMIC_RELEASE);
            return MAYDAY_EBUSY;
        }
        __atomic_store_n(&mds_g.installed, 0, __ATOMIC_RELEASE);
        teardown(); /* zeroes mds_g, crash_owner included */
        r = 0;
    }
    __atomic_store_n(&install_busy, 0, __ATOMIC_RELEASE);
    return r;
}

/* 1 if a crashed thread waits for the crash slot (handler.c). */
static int md_crash_waiting(void)
{
    for (uint32_t i = 0; i < MDS_WAITING_MAX; i++) {
        uint32_t st =
            __atomic_load_n(&mds_g.waiting[i].state, __ATOMIC_ACQUIRE);
        if (st == MDS_SLOT_CRASHED || st == MDS_SLOT_WRITING)
            return 1;
    }
    return 0;
}

int mayday_write_live_report(const char *reason)
{
    return md_write_live_report_ex(reason, 0, 0);
}

int md_write_live_report_ex(const char *reason, char *path, size_t cap)
{
    if (path && cap)
        path[0] = 0;
    if (!__atomic_load_n(&mds_g.installed, __ATOMIC_ACQUIRE))
        return MAYDAY_ENOTINSTALLED;
    uint32_t tid = (uint32_t)mds_gettid(), zero = 0;
    /* A crashed thread waiting for the slot comes first: a loop of live
     * reports must not take the slot again and again before it (its
     * report would be lost when it gives up waiting). */
    if (md_crash_waiting())
        return MAYDAY_EBUSY;
    if (!__atomic_compare_exchange_n(&mds_g.crash_owner, &zero, tid, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return MAYDAY_EBUSY;
    /* getcontext fills only some registers (not rax, r10, r11, eflags,
     * ...): zero the rest rather than write stack garbage into the
     * report (valgrind: uninitialised bytes written). */
    ucontext_t uc;
    memset(&uc, 0, sizeof uc);
    getcontext(&uc);
    mds_request *req = &mds_g.req;
    memset(&req->info, 0, sizeof req->info);
    req->signo = 0;
    mds_regs_from_ucontext(&req->regs, &uc);
    req->tid = tid;
    req->name_ok = mds_self_name(req->name, sizeof req->name) >= 0;
    req->fault_ns = 0;
    req->live = 1;
    snprintf(live_reason, sizeof live_reason, "%s", reason ? reason : "");
    req->reason = live_reason;
    req->handler = 3; /* mayday.Handler.HANDLER_LIVE */
    req->tracer = -1;
    req->seccomp = 0;
    mds_task_status st;
    if (mds_task_status_read((uint32_t)mds_getpid(), tid, &st) == 0) {
        req->tracer = st.tracer_pid;
        req->seccomp = (int)st.seccomp;
    }
    int r = mds_report_run(&mds_g.work_sig, req, tid, MDS_RUN_SUSPEND, 0);
    /* The process lives on: every thread runs again (interrupted waits
     * restart, see docs/thread-control.md). */
    mds_stop_release(&mds_g.work_sig.stop);
    if (r == 0 && path && cap)
        snprintf(path, cap, "%s", mds_g.work_sig.path);
    __atomic_store_n(&mds_g.crash_owner, 0, __ATOMIC_RELEASE);
    mds_futex_wake(&mds_g.crash_owner, 0x7fffffff);
    return r;
}
