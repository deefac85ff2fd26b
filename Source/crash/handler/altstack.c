/*
 * altstack.c - a guard-paged alternate signal stack for the calling
 * thread (see altstack.h).
 *
 * Context: async-signal-safe (mmap/mprotect/sigaltstack syscalls): called
 * at thread start by the pthread_create hook, by mayday_thread_prepare(),
 * and inside threads that existed at install (code injected by the ptrace
 * helper, Source/normal/install/prepare.c).
 */
#include "crash/handler/altstack.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "crash/core/arena.h"
#include "crash/core/sys.h"
#include "crash/core/poison.h"

size_t mds_altstack_size = 64 * 1024;

int mds_altstack_ensure(void *ucv, void **map_out, size_t *map_len_out)
{
    stack_t cur;
    if (map_out)
        *map_out = 0;
    if (mds_sigaltstack(0, &cur) < 0)
        return -EINVAL;
    if (!(cur.ss_flags & SS_DISABLE) && cur.ss_size >= mds_altstack_size)
        return 0; /* the thread has one already (ours or the app's) */
    if (cur.ss_flags & SS_ONSTACK)
        return -EBUSY; /* running on a small one: cannot replace it */
    size_t pg = mds_page_size();
    size_t len = mds_altstack_size + pg; /* guard page below */
    void *m;
    long r = mds_mmap(0, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, &m);
    if (r < 0)
        return (int)r;
    mds_mprotect(m, pg, PROT_NONE);
    stack_t ss = {
        .ss_sp = (char *)m + pg, .ss_flags = 0, .ss_size = mds_altstack_size};
    r = mds_sigaltstack(&ss, 0);
    if (r < 0) {
        mds_munmap(m, len);
        return (int)r;
    }
    if (ucv) {
        /* sigreturn restores the altstack from the frame: keep ours. */
        ucontext_t *uc = ucv;
        uc->uc_stack = ss;
    }
    if (map_out)
        *map_out = m;
    if (map_len_out)
        *map_len_out = len;
    return 0;
}
