/*
 * export.h - internals of the exporters (Source/normal/export/): the
 * minidump builder's state and stream helpers, the Sentry event and
 * envelope builders (JSON through the reader's writer, normal/reader/jsonw.h).
 *
 * Context: normal (malloc, stdio). Never called on the crash path.
 */
#ifndef MD_EXPORT_H
#define MD_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "mayday.pb-c.h"
#include "mayday/mayday.h"
#include "normal/export/buf.h"

/* A memory range copied into the minidump (stacks, windows). */
typedef struct md_mdw_mem {
    uint64_t start;
    uint32_t len, rva;
} md_mdw_mem;

/* The minidump being built (minidump.c, minidump_linux.c). */
typedef struct md_mdw {
    md_buf b;
    const Mayday__Report *r;
    const mayday_export_options *o;
    uint32_t dir_off, nstreams;
    uint32_t crashed_ctx; /* RVA of the crashed thread's context */
    int arm64;            /* CONTEXT_ARM64 contexts, else CONTEXT_AMD64 */
    uint32_t ctx_size;    /* the size of each context */
    md_mdw_mem *mem;      /* ranges for the memory list */
    size_t nmem, capmem;
} md_mdw;

/* Builds a minidump of rep into *out (malloc'ed; md_buf_free). 0,
 * MAYDAY_ENOTSUP (neither an x86_64 nor an aarch64 report), MAYDAY_ENOMEM. */
int md_minidump_build(const mayday_report *rep,
                      const mayday_export_options *opt, md_buf *out);

/* minidump.c: stream directory and strings. */
void md_mdw_add_stream(md_mdw *w, uint32_t type, size_t off, size_t size);
/* MINIDUMP_STRING (UTF-16LE, byte length first); its RVA. */
uint32_t md_mdw_string16(md_mdw *w, const char *s);
/* Crashpad's MinidumpUTF8String (length first, NUL-terminated); its RVA. */
uint32_t md_mdw_string8(md_mdw *w, const char *s);
/* The value of register `name` of thread t; 1 if present. */
int md_report_reg(const Mayday__Report *r, const Mayday__Thread *t,
                  const char *name, uint64_t *v);

/* minidump_linux.c */
/* Remembers a copied range for the memory list. */
void md_mdw_remember(md_mdw *w, uint64_t start, uint32_t len, uint32_t rva);
/* contents.c (issue 11's fields) or contents_v1.c: */
/* Copies thread t's stack memory (if the report has it); its RVA, and
 * start/length in *start, *len (0 when there is none). */
uint32_t md_mdw_stack(md_mdw *w, const Mayday__Thread *t, uint64_t *start,
                      uint32_t *len);
/* Fills the FXSAVE area of the CONTEXT_AMD64 at ctx from the thread's FP
 * state; 1 if it had one. */
int md_mdw_put_fpu(md_mdw *w, const Mayday__Thread *t, size_t ctx);
/* Fills V0..V31, Fpsr and Fpcr of the CONTEXT_ARM64 at ctx from the
 * thread's FP/SIMD state; 1 if it had one. */
int md_mdw_put_fpu_arm64(md_mdw *w, const Mayday__Thread *t, size_t ctx);
/* MD_LINUX_MAPS from Report.mappings. */
void md_mdw_maps(md_mdw *w);
void md_mdw_memory_list(md_mdw *w);
void md_mdw_linux_streams(md_mdw *w);
void md_mdw_crashpad_info(md_mdw *w);

/* ---- Sentry (sentry.c, envelope.c) */
/* Sentry's debug_id of an ELF build-id: the first 16 bytes (zero padded)
 * as a little-endian GUID, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
void md_sentry_debug_id(const uint8_t *id, size_t len, char out[37]);
/* The report's UUID as 32 hex digits (Sentry's event_id); "" if none. */
void md_sentry_event_id(const Mayday__Report *r, char out[33]);
/* The event JSON. with_threads 0: no exception stack, threads or images
 * (when a minidump is attached instead). */
int md_sentry_event(const mayday_report *rep, const mayday_export_options *opt,
                    int with_threads, md_buf *out);
/* One envelope item: header line (type, length, filename,
 * attachment_type, content_type) and payload (envelope.c). */
void md_sentry_item(md_buf *b, const char *type, const char *filename,
                    const char *attachment_type, const char *content_type,
                    const void *data, size_t len);
/* The report's attachments as envelope items (contents.c). */
void md_sentry_attachments(md_buf *b, const Mayday__Report *r);
int md_sentry_envelope(const mayday_report *rep,
                       const mayday_export_options *opt, md_buf *out);

#endif
