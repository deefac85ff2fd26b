/*
 * failure.h - internal interface of Source/normal/failure/ (issue 12):
 * declared fatal errors and the hang watchdog.
 *
 * Context: normal.
 */
#ifndef MD_FAILURE_H
#define MD_FAILURE_H

#include <stdint.h>

/* Stops the watchdog thread (joins it) and forgets every watch. Called by
 * mayday_uninstall() before it tears anything down. */
void md_watchdog_shutdown(void);

/* Wake-ups of the watchdog thread since it started (bench/). */
uint64_t md_watchdog_wakeups(void);
/* Kernel thread id of the watchdog thread, 0 if not running (bench/). */
uint32_t md_watchdog_tid(void);

#endif
