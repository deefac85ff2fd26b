/*
 * minidump_linux.c - the memory list, Breakpad's Linux streams (cmdline, a
 * /proc status built from the recorded fields, maps when the report has
 * them) and Crashpad's info stream with the annotations as a simple string
 * dictionary. What comes from the report contents of issue 11 (stacks, FP
 * state, windows, maps) is in contents.c.
 *
 * The environment (Breakpad's MD_LINUX_ENVIRON) is never written: the
 * report does not hold it, by design.
 *
 * Context: normal (malloc). See docs/minidump.md.
 */
#include <stdlib.h>
#include <string.h>

#include "normal/export/export.h"
#include "normal/export/mdmp.h"

void md_mdw_remember(md_mdw *w, uint64_t start, uint32_t len, uint32_t rva)
{
    if (w->nmem == w->capmem) {
        size_t nc = w->capmem ? w->capmem * 2 : 32;
        md_mdw_mem *nv = realloc(w->mem, nc * sizeof(*nv));
        if (!nv) {
            w->b.oom = 1;
            return;
        }
        w->mem = nv;
        w->capmem = nc;
    }
    w->mem[w->nmem].start = start;
    w->mem[w->nmem].len = len;
    w->mem[w->nmem].rva = rva;
    w->nmem++;
}

void md_mdw_memory_list(md_mdw *w)
{
    md_buf_align(&w->b, 8);
    size_t at = md_buf_zero(&w->b, 4 + w->nmem * MDMP_MEMDESC_SIZE);
    md_buf_set32(&w->b, at, (uint32_t)w->nmem);
    for (size_t i = 0; i < w->nmem; i++) {
        size_t e = at + 4 + i * MDMP_MEMDESC_SIZE;
        md_buf_set64(&w->b, e, w->mem[i].start);
        md_buf_set32(&w->b, e + 8, w->mem[i].len);
        md_buf_set32(&w->b, e + 12, w->mem[i].rva);
    }
    md_mdw_add_stream(w, MDMP_STREAM_MEMORY_LIST, at,
                      4 + w->nmem * MDMP_MEMDESC_SIZE);
}

/* MD_LINUX_CMD_LINE: argv joined by NULs, as in /proc/PID/cmdline. */
static void cmdline(md_mdw *w)
{
    const Mayday__Process *p = w->r->process;
    if (!p || p->n_argv == 0)
        return;
    size_t at = w->b.len;
    for (size_t i = 0; i < p->n_argv; i++) {
        md_buf_str(&w->b, p->argv[i] ? p->argv[i] : "");
        md_buf_zero(&w->b, 1);
    }
    md_mdw_add_stream(w, MDMP_STREAM_LINUX_CMD_LINE, at, w->b.len - at);
}

/* MD_LINUX_PROC_STATUS: the lines of /proc/PID/status the report records
 * (Name, Pid, PPid, TracerPid), in the kernel's "Key:\tvalue" format. */
static void proc_status(md_mdw *w)
{
    const Mayday__Process *p = w->r->process;
    if (!p)
        return;
    size_t at = w->b.len;
    if (p->name) {
        /* A name with a newline would end the line early: cut it. */
        size_t n = strcspn(p->name, "\n");
        md_buf_str(&w->b, "Name:\t");
        md_buf_put(&w->b, p->name, n);
        md_buf_str(&w->b, "\n");
    }
    if (p->has_pid)
        md_buf_printf(&w->b, "Pid:\t%u\n", p->pid);
    if (p->has_ppid)
        md_buf_printf(&w->b, "PPid:\t%u\n", p->ppid);
    if (p->has_tracer_pid)
        md_buf_printf(&w->b, "TracerPid:\t%u\n", p->tracer_pid);
    if (w->b.len > at)
        md_mdw_add_stream(w, MDMP_STREAM_LINUX_PROC_STATUS, at, w->b.len - at);
}

void md_mdw_linux_streams(md_mdw *w)
{
    cmdline(w);
    proc_status(w);
    md_mdw_maps(w);
}

/* A UUID stored as Crashpad's struct (data1 u32, data2 u16, data3 u16 in
 * little endian, then 8 bytes), so that Crashpad-style readers print the
 * same string as mayday ("xxxxxxxx-xxxx-..."), from the 16 bytes in text
 * order. */
static void put_uuid(md_buf *b, size_t at, const uint8_t u[16])
{
    static const unsigned char order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                            8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++)
        b->p[at + (size_t)i] = u[order[i]];
}

/* MinidumpSimpleStringDictionary of the annotations; its location. */
static void annotations(md_mdw *w, uint32_t *rva, uint32_t *size)
{
    const Mayday__Report *r = w->r;
    size_t n = r->n_annotations;
    uint32_t *kv = calloc(2 * (n ? n : 1), sizeof(*kv));
    if (!kv) {
        w->b.oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        kv[2 * i] = md_mdw_string8(w, r->annotations[i]->key);
        kv[2 * i + 1] = md_mdw_string8(w, r->annotations[i]->value);
    }
    md_buf_align(&w->b, 4);
    size_t at = md_buf_zero(&w->b, 4 + n * 8);
    md_buf_set32(&w->b, at, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        md_buf_set32(&w->b, at + 4 + 8 * i, kv[2 * i]);
        md_buf_set32(&w->b, at + 8 + 8 * i, kv[2 * i + 1]);
    }
    free(kv);
    *rva = (uint32_t)at;
    *size = (uint32_t)(4 + n * 8);
}

void md_mdw_crashpad_info(md_mdw *w)
{
    uint32_t ann_rva = 0, ann_size = 0;
    annotations(w, &ann_rva, &ann_size);
    /* An empty MinidumpModuleCrashpadInfoList (no per-module data). */
    md_buf_align(&w->b, 4);
    size_t mods = md_buf_zero(&w->b, 4);
    size_t at = md_buf_zero(&w->b, MDMP_CRASHPAD_INFO_SIZE);
    if (w->b.oom)
        return;
    md_buf_set32(&w->b, at, MDMP_CRASHPAD_INFO_VERSION);
    const Mayday__Header *h = w->r->header;
    if (h && h->has_uuid && h->uuid.len == 16)
        put_uuid(&w->b, at + 4, h->uuid.data);
    if (w->o && w->o->client_id)
        put_uuid(&w->b, at + 20, w->o->client_id);
    md_buf_set32(&w->b, at + 36, ann_size);
    md_buf_set32(&w->b, at + 40, ann_rva);
    md_buf_set32(&w->b, at + 44, 4);
    md_buf_set32(&w->b, at + 48, (uint32_t)mods);
    md_mdw_add_stream(w, MDMP_STREAM_CRASHPAD_INFO, at,
                      MDMP_CRASHPAD_INFO_SIZE);
}
