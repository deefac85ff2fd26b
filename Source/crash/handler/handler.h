/*
 * handler.h - the crash signal handler and the exception thread.
 *
 * Context: mds_crash_handler is a signal handler (async-signal-safe, runs
 * on the crashed thread's altstack). mds_exc_main is the body of the
 * exception thread (a normal thread whose only work is crash-path work).
 */
#ifndef MDS_HANDLER_H
#define MDS_HANDLER_H

#include <signal.h>

void mds_crash_handler(int sig, siginfo_t *info, void *uc);
void *mds_exc_main(void *arg);

/* Index of sig in mds_g.signals, or -1. */
int mds_signal_index(int sig);

#endif
