/*
 * capture_init.h - install-time side of issue 11 (report contents):
 * capture memory for the work areas, and the attachment registry.
 *
 * Context: normal.
 */
#ifndef MD_CAPTURE_INIT_H
#define MD_CAPTURE_INIT_H

#include <stdint.h>

/* Maps the capture memory of both work areas and the crashed thread's FP
 * buffer, opens mds_g.cfg.attach_files. Called by mayday_install() after
 * the work areas exist (mds_g.cfg filled). 0 or a MAYDAY_E* code. */
int md_capture_install(void);
/* Releases all of it, and the attachments registered from the config. */
void md_capture_uninstall(void);

/* attach_api.c */
int md_attach_config_files(const char *const *paths, uint32_t max_bytes);
void md_attach_release_config(void);

#endif
