/*
 * altstack_signal.c - the signal handler that gives a thread existing at
 * install its altstack when the ptrace injection (Source/crash/stop/
 * inject.c) cannot: on aarch64 (not written there yet), under qemu-user
 * (no ptrace), under a seccomp filter. Sent by md_prepare_by_signal
 * (Source/normal/install/prepare_signal.c). The cost of this way: a
 * thread blocked in pause, epoll_wait, nanosleep... sees EINTR (or
 * restarts, with SA_RESTART) once, at install.
 *
 * Context: async-signal-safe (a signal handler in any thread). You may not
 * malloc, use stdio, take a lock or enter the dynamic linker.
 */
#include "crash/handler/altstack_signal.h"
#include "crash/handler/altstack.h"

#include "crash/core/sys.h"
#include "crash/core/poison.h"

volatile uint32_t mds_altstack_sig_acks;

void mds_altstack_sig_handler(int sig, siginfo_t *info, void *uc)
{
    (void)sig;
    (void)info;
    mds_altstack_ensure(uc, 0, 0); /* also into uc: sigreturn keeps it */
    __atomic_fetch_add(&mds_altstack_sig_acks, 1, __ATOMIC_ACQ_REL);
    mds_futex_wake(&mds_altstack_sig_acks, 1);
}
