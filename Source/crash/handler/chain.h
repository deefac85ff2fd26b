/*
 * chain.h - the handlers that were installed before mayday: reading and
 * restoring dispositions with raw syscalls, running a previous handler as
 * the kernel would have, and chain-first (the previous handler may fix a
 * fault before anything is reported).
 *
 * Context: async-signal-safe.
 */
#ifndef MDS_CHAIN_H
#define MDS_CHAIN_H

#include <signal.h>
#include <stdint.h>

static inline uint64_t mds_sigbit(int sig) { return 1ull << (sig - 1); }

int mds_is_handler(const struct sigaction *sa);
int mds_is_ignored(const struct sigaction *sa);
/* sig to SIG_DFL (raw rt_sigaction). */
void mds_set_default(int sig);
/* Every crash signal back to what was installed before mayday. */
void mds_restore_all(void);
/* Runs the previous handler of signal index i (see chain.c). */
void mds_call_prev(int i, int sig, siginfo_t *info, void *uc, int real_reset);
/* Chain-first applies to signal index i (configured, or SIGTRAP/SIGSYS
 * with a previous handler). */
int mds_chains_first(int i, int sig);
/* Lets the previous handler try first. Returns 1 if it handled the signal
 * (we return and write nothing), 0 if it is a crash. */
int mds_chain_first(int sig, siginfo_t *info, void *uc, uint32_t tid);

#endif
