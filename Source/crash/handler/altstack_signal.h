/*
 * altstack_signal.h - the reserved signal's handler that gives a thread
 * its altstack (altstack_signal.c), for md_prepare_by_signal.
 *
 * Context: the handler is async-signal-safe.
 */
#ifndef MDS_ALTSTACK_SIGNAL_H
#define MDS_ALTSTACK_SIGNAL_H

#include <signal.h>
#include <stdint.h>

/* Answers counted here (a futex word). */
extern volatile uint32_t mds_altstack_sig_acks;
void mds_altstack_sig_handler(int sig, siginfo_t *info, void *uc);

#endif
