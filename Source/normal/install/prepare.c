/*
 * prepare.c - altstacks for the threads that exist at install, without
 * interrupting them (the ptrace injection of Source/crash/stop/inject.c;
 * docs/thread-control.md). Threads created later get theirs from the
 * pthread_create hook (threadhook.c).
 *
 * Context: normal (install).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "crash/core/sys.h"
#include "crash/handler/procfs.h"
#include "crash/handler/state.h"
#include "normal/install/install.h"

md_prepare_stats md_prepare_last;

int md_prepare_existing_threads(void)
{
    md_prepare_last = (md_prepare_stats){0, 0, 0, 0};
    /* Under a seccomp filter clone or ptrace may kill the process; under
     * a debugger every thread is traced already; under valgrind a
     * CLONE_VM task corrupts its signal state. */
    mds_task_status st;
    if (mds_task_status_read((uint32_t)mds_getpid(), (uint32_t)mds_gettid(),
                             &st) == 0 &&
        (st.seccomp != 0 || st.tracer_pid > 0 || mds_g.no_clone_vm)) {
        md_prepare_last.ran = -1;
        return MAYDAY_EACCES; /* not here: not interrupting is the rule */
    }
    mds_stopset s;
    if (md_stopset_init(&s, mds_g.cfg.max_threads, mds_g.fd.proc) < 0)
        return MAYDAY_ENOMEM;
    mds_inject_io io = {0};
    io.xcap = 64 * 1024;
    io.xbuf = malloc(io.xcap);
    int r = MAYDAY_ENOMEM;
    if (io.xbuf) {
        s.self_tid = (uint32_t)mds_gettid();
        s.skip_tid = mds_g.exc_tid;
        int e = mds_inject_altstacks(&s, &io);
        r = e == -ENOSYS ? MAYDAY_ENOTSUP : e < 0 ? MAYDAY_ESYS : 0;
    }
    md_prepare_last.ran = r == 0;
    md_prepare_last.done = io.done;
    md_prepare_last.skipped = io.skipped;
    md_prepare_last.failed = io.failed;
    free(io.xbuf);
    md_stopset_free(&s);
    return r;
}
