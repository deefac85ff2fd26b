/*
 * config.h - internal config defaults, limits and validation.
 *
 * Context: normal.
 */
#ifndef MD_CONFIG_H
#define MD_CONFIG_H

#include <stddef.h>

#include "mayday/mayday.h"

#define MD_DEFAULT_MAX_REPORTS 16
#define MD_DEFAULT_REPLY_TIMEOUT_MS 5000
#define MD_DEFAULT_SUSPEND_TIMEOUT_MS 200
#define MD_DEFAULT_MAX_FRAMES 512
#define MD_DEFAULT_MAX_THREADS 4096
#define MD_MAX_DIR_LEN 3000
#define MD_MAX_ID_LEN 255
#define MD_KNOWN_FLAGS                                                         \
    (MAYDAY_FLAG_NO_THREAD_HOOK | MAYDAY_FLAG_CHAIN_FIRST | \
     MAYDAY_FLAG_NO_FSYNC | MAYDAY_FLAG_NO_EXISTING_THREADS | \
     MAYDAY_FLAG_NO_SIGMASK_HOOK)

/* Copies a caller's config (of any size it was compiled with) into a full
 * current-size struct with defaults for the fields it lacks. */
int md_config_copy(mayday_config *dst, const mayday_config *src);
/* 0, or MAYDAY_EINVAL for nonsense values. */
int md_config_validate(const mayday_config *cfg);
/* Issue 11 fields (capture_config.c): defaults, and 0 or MAYDAY_EINVAL. */
void md_capture_config_init(mayday_config *cfg);
int md_capture_config_validate(const mayday_config *cfg);

/* --- issue 12: 1 if sig may be mayday_config.fatal_signal (a crash
 * signal); 1 if cfg's fatal/hang fields make sense. */
int md_fatal_signal_ok(int sig);
int md_failure_config_ok(const mayday_config *cfg);

#endif
