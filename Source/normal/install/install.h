/*
 * install.h - internal interface of Source/normal/install/.
 *
 * Context: normal.
 */
#ifndef MD_INSTALL_H
#define MD_INSTALL_H

#include <errno.h>
#include <pthread.h>

/* The real pthread_create, bypassing our interposer. */
int md_real_pthread_create(pthread_t *t, const pthread_attr_t *a,
                           void *(*fn)(void *), void *arg);
/* Deletes the oldest reports in dir beyond keep, and stale temp files. */
int md_prune_reports(const char *dir, unsigned keep);
/* Fills mds_g.info (uname, libc, boot id, ...). */
void md_collect_static_info(void);

#endif
