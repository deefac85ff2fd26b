/*
 * contents.c - the exporters' use of the report contents of issue 11
 * (Thread.stack, Thread.fp, Thread.memory, Report.mappings,
 * Report.attachments): thread stack memory and the memory windows in the
 * minidump's thread and memory lists, the FXSAVE area in CONTEXT_AMD64 and
 * the FP/SIMD registers in CONTEXT_ARM64,
 * the MD_LINUX_MAPS stream, and the attachments as Sentry envelope items.
 *
 * Built only when Protobuf/mayday.proto has those fields
 * (sources.cmake); contents_v1.c stands in for it with the v1 schema.
 *
 * Context: normal (malloc).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normal/common/le.h"
#include "normal/export/export.h"
#include "normal/export/mdmp.h"

/* Copies m's bytes (8-aligned) and remembers the range; its RVA. */
static uint32_t put_memory(md_mdw *w, const Mayday__Memory *m, uint32_t *len)
{
    *len = 0;
    if (!m || !m->has_data || m->data.len == 0 || m->data.len > UINT32_MAX)
        return 0;
    md_buf_align(&w->b, 8);
    size_t at = md_buf_put(&w->b, m->data.data, m->data.len);
    *len = (uint32_t)m->data.len;
    md_mdw_remember(w, m->address, *len, (uint32_t)at);
    return (uint32_t)at;
}

uint32_t md_mdw_stack(md_mdw *w, const Mayday__Thread *t, uint64_t *start,
                      uint32_t *len)
{
    uint32_t rva = put_memory(w, t->stack, len);
    *start = rva ? t->stack->address : 0;
    /* The crashed thread's windows near pointers go into the memory list
     * only (they are not part of the stack). */
    for (size_t i = 0; i < t->n_memory; i++) {
        uint32_t n;
        put_memory(w, t->memory[i], &n);
    }
    return rva;
}

int md_mdw_put_fpu(md_mdw *w, const Mayday__Thread *t, size_t ctx)
{
    const Mayday__FpState *fp = t->fp;
    if (!fp || !fp->has_data || fp->data.len < 512 ||
        (fp->format != MAYDAY__FP_FORMAT__FP_FORMAT_FXSAVE &&
         fp->format != MAYDAY__FP_FORMAT__FP_FORMAT_XSAVE))
        return 0;
    /* Both formats start with the 512-byte FXSAVE area, which is
     * CONTEXT_AMD64's XMM_SAVE_AREA32; its MXCSR (offset 24) is also
     * the context's MxCsr. */
    memcpy(w->b.p + ctx + MDMP_CTX_AMD64_FXSAVE_OFF, fp->data.data, 512);
    const uint8_t *m = fp->data.data + 24;
    md_buf_set32(&w->b, ctx + MDMP_CTX_AMD64_MXCSR_OFF, md_le32(m));
    return 1;
}

int md_mdw_put_fpu_arm64(md_mdw *w, const Mayday__Thread *t, size_t ctx)
{
    const Mayday__FpState *fp = t->fp;
    /* struct user_fpsimd_state: vregs[32] (16 bytes each), fpsr, fpcr. */
    if (!fp || !fp->has_data || fp->data.len < 520 ||
        fp->format != MAYDAY__FP_FORMAT__FP_FORMAT_AARCH64_FPSIMD)
        return 0;
    memcpy(w->b.p + ctx + MDMP_CTX_ARM64_V_OFF, fp->data.data, 512);
    md_buf_set32(&w->b, ctx + MDMP_CTX_ARM64_FPSR_OFF,
                 md_le32(fp->data.data + 512));
    md_buf_set32(&w->b, ctx + MDMP_CTX_ARM64_FPCR_OFF,
                 md_le32(fp->data.data + 516));
    return 1;
}

/* MD_LINUX_MAPS: /proc/PID/maps rebuilt from Report.mappings. */
void md_mdw_maps(md_mdw *w)
{
    const Mayday__Report *r = w->r;
    if (r->n_mappings == 0)
        return;
    size_t at = w->b.len;
    for (size_t i = 0; i < r->n_mappings; i++) {
        const Mayday__Mapping *m = r->mappings[i];
        unsigned f = m->flags;
        int k = 0;
        char line[160];
        k = snprintf(line, sizeof(line),
                     "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64
                     " %02x:%02x %" PRIu64,
                     m->start, m->start + m->size, f & 4 ? 'r' : '-',
                     f & 2 ? 'w' : '-', f & 1 ? 'x' : '-', f & 8 ? 's' : 'p',
                     m->offset, m->dev_major, m->dev_minor, m->inode);
        md_buf_put(&w->b, line, k > 0 ? (size_t)k : 0);
        if (m->path && m->path[0]) {
            /* The kernel pads the path to column 73 (64-bit). */
            for (; k < 72; k++)
                md_buf_put(&w->b, " ", 1);
            md_buf_put(&w->b, " ", 1);
            md_buf_put(&w->b, m->path, strcspn(m->path, "\n"));
        }
        md_buf_put(&w->b, "\n", 1);
    }
    md_mdw_add_stream(w, MDMP_STREAM_LINUX_MAPS, at, w->b.len - at);
}

/* The report's own attachments (files and buffers the application
 * registered, issue 11): one envelope attachment each. */
void md_sentry_attachments(md_buf *b, const Mayday__Report *r)
{
    for (size_t i = 0; i < r->n_attachments; i++) {
        const Mayday__Attachment *a = r->attachments[i];
        if (!a->has_data)
            continue;
        const char *name = a->name && a->name[0] ? a->name : NULL;
        if (!name && a->path) {
            const char *s = strrchr(a->path, '/');
            name = s ? s + 1 : a->path;
        }
        md_sentry_item(b, "attachment", name ? name : "attachment",
                       "event.attachment", "application/octet-stream",
                       a->data.data, a->data.len);
    }
}
