/*
 * fixture_contents.c - adds the issue 11 fields to a fixture report (see
 * fixture.h, fx_opts.contents): stack memory for two threads, an XSAVE
 * area with known xmm0/ymm0 and AVX in use, an FXSAVE area, windows near
 * pointers, thread states, a small memory map (a thread stack with its
 * guard page below, a file mapping, the null-page fault below nothing),
 * a file and a memory attachment. Every value is this file's own
 * construction (FX_* in fixture.h), so tests compare against these.
 *
 * Context: tests only (normal context, malloc).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "crash/core/regs.h"
#include "fixture.h"

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        abort();
    return p;
}

uint8_t fx_stack_byte(uint64_t addr) { return (uint8_t)(addr * 7 + 3); }

static Mayday__Memory *memory(uint64_t addr, size_t len, const char *label)
{
    Mayday__Memory *m = xcalloc(1, sizeof(*m));
    mayday__memory__init(m);
    m->has_address = m->has_data = 1;
    m->address = addr;
    m->data.len = len;
    m->data.data = xcalloc(1, len);
    for (size_t i = 0; i < len; i++)
        m->data.data[i] = fx_stack_byte(addr + i);
    if (label) {
        m->n_labels = 1;
        m->labels = xcalloc(1, sizeof(char *));
        m->labels[0] = xstrdup(label);
    }
    return m;
}

static Mayday__Mapping *mapping(uint64_t start, uint64_t size, uint32_t flags,
                                const char *path)
{
    Mayday__Mapping *m = xcalloc(1, sizeof(*m));
    mayday__mapping__init(m);
    m->has_start = m->has_size = m->has_flags = 1;
    m->start = start;
    m->size = size;
    m->flags = flags;
    if (path) {
        m->path = xstrdup(path);
        m->has_inode = m->has_dev_major = m->has_dev_minor = m->has_offset = 1;
        m->inode = 4242;
        m->dev_major = 0xfe;
        m->dev_minor = 1;
        m->offset = 0x1000;
    }
    return m;
}

static Mayday__FpState *fp_state(int xsave)
{
    Mayday__FpState *f = xcalloc(1, sizeof(*f));
    mayday__fp_state__init(f);
    f->has_format = f->has_data = 1;
    f->format = xsave ? MAYDAY__FP_FORMAT__FP_FORMAT_XSAVE
                      : MAYDAY__FP_FORMAT__FP_FORMAT_FXSAVE;
    size_t len = xsave ? FX_XSAVE_AVX_OFF + 256 : 512;
    uint8_t *a = xcalloc(1, len);
    uint32_t mxcsr = FX_MXCSR;
    memcpy(a + 24, &mxcsr, 4);
    for (int i = 0; i < 16; i++)
        a[160 + i] = (uint8_t)(FX_XMM0_BYTE + i); /* xmm0 */
    if (xsave) {
        uint64_t bv = 7; /* x87, SSE, AVX */
        memcpy(a + 512, &bv, 8);
        for (int i = 0; i < 16; i++) /* ymm0's upper half */
            a[FX_XSAVE_AVX_OFF + i] = (uint8_t)(FX_YMM0_HI_BYTE + i);
        f->n_xsave_offsets = f->n_xsave_sizes = 3;
        f->xsave_offsets = xcalloc(3, sizeof(uint32_t));
        f->xsave_sizes = xcalloc(3, sizeof(uint32_t));
        f->xsave_offsets[2] = FX_XSAVE_AVX_OFF;
        f->xsave_sizes[2] = 256;
    }
    /* Trailing zeros are left out, as the writer does. */
    while (len > 0 && a[len - 1] == 0)
        len--;
    f->data.data = a;
    f->data.len = len;
    return f;
}

static Mayday__Attachment *attachment(int file)
{
    Mayday__Attachment *a = xcalloc(1, sizeof(*a));
    mayday__attachment__init(a);
    a->name = xstrdup(file ? "app.log" : "state");
    a->has_kind = a->has_size = a->has_offset = a->has_data = 1;
    a->kind = file ? MAYDAY__ATTACHMENT_KIND__ATTACHMENT_KIND_FILE
                   : MAYDAY__ATTACHMENT_KIND__ATTACHMENT_KIND_MEMORY;
    const char *text = file ? FX_ATTACH_TAIL : "\x01\x02\x03\xff binary";
    a->data.len = strlen(text);
    a->data.data = (uint8_t *)xstrdup(text);
    a->size = file ? 100000 : a->data.len;
    a->offset = a->size - a->data.len;
    if (file)
        a->path = xstrdup("/var/log/app.log");
    return a;
}

void fx_add_contents(Mayday__Report *r)
{
    Mayday__Thread *t0 = r->threads[0], *t1 = r->threads[1];
    /* Thread 0's sp is FX_STACK0_SP (see make_thread: registers). */
    t0->registers[MDS_REG_SP] = FX_STACK0_SP;
    t0->stack = memory(FX_STACK0_SP - 128, FX_STACK0_LEN, NULL);
    t0->has_stack_limit = 1;
    t0->stack_limit = MAYDAY__STACK_LIMIT__STACK_LIMIT_THREAD_CAP;
    t0->fp = fp_state(1);
    t0->n_memory = 2;
    t0->memory = xcalloc(2, sizeof(*t0->memory));
    t0->memory[0] = memory(FX_WINDOW0, 64, "rbx");
    t0->memory[1] = memory(FX_WINDOW0 + 64, 64, "rip"); /* adjacent */
    t1->stack = memory(FX_STACK1_ADDR, 256, NULL);
    t1->has_stack_limit = 1;
    t1->stack_limit = MAYDAY__STACK_LIMIT__STACK_LIMIT_BUDGET;
    t1->fp = fp_state(0);
    t1->has_syscall = 1;
    t1->syscall = SYS_futex;
    t1->n_syscall_args = 6;
    t1->syscall_args = xcalloc(6, sizeof(uint64_t));
    for (int i = 0; i < 6; i++)
        t1->syscall_args[i] = 0x100u + (uint64_t)i;
    r->threads[2]->proc_state = xstrdup("D");
    r->threads[2]->has_mayday_thread = r->threads[2]->mayday_thread = 1;

    r->n_mappings = 5;
    r->mappings = xcalloc(5, sizeof(*r->mappings));
    r->mappings[0] = mapping(FX_MAP_FILE, 0x4000, 5, "/usr/lib/libdemo.so");
    r->mappings[1] = mapping(FX_WINDOW0 & ~0xfffull, 0x1000, 6, NULL);
    r->mappings[2] = mapping(FX_GUARD, 0x1000, 0, NULL);
    r->mappings[3] = mapping(FX_GUARD + 0x1000, 0x100000, 6, NULL);
    r->mappings[4] = mapping(FX_STACK1_ADDR & ~0xfffull, 0x2000, 6, "[stack]");
    r->signal->address = FX_GUARD + 0x10; /* in thread 0's guard page */
    r->has_stack_budget_exhausted = r->stack_budget_exhausted = 1;

    r->n_attachments = 2;
    r->attachments = xcalloc(2, sizeof(*r->attachments));
    r->attachments[0] = attachment(1);
    r->attachments[1] = attachment(0);
}
