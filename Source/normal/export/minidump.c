/*
 * minidump.c - a loaded mayday report as a minidump (MDMP) file: header,
 * stream directory and the streams docs/minidump.md lists (thread list with
 * CONTEXT_AMD64 or CONTEXT_ARM64 contexts, module list with the ELF build-id as a CodeView
 * record, exception, system info, misc info, thread names, Breakpad's
 * Linux streams, Crashpad's info stream with the annotations).
 *
 * Context: normal (malloc). Builds the whole file in memory; the report was
 * validated by the loader (every index checked), and every string is
 * converted defensively (invalid UTF-8 becomes U+FFFD).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normal/reader/reader.h"
#include "normal/export/export.h"
#include "normal/export/mdmp.h"

/* Room in the stream directory (more than the streams written). */
#define MDW_MAX_STREAMS 24

void md_mdw_add_stream(md_mdw *w, uint32_t type, size_t off, size_t size)
{
    if (w->nstreams >= MDW_MAX_STREAMS || size > UINT32_MAX ||
        off > UINT32_MAX) {
        w->b.oom = w->b.oom || size > UINT32_MAX || off > UINT32_MAX;
        return;
    }
    size_t e = w->dir_off + (size_t)w->nstreams * MDMP_DIRENT_SIZE;
    md_buf_set32(&w->b, e, type);
    md_buf_set32(&w->b, e + 4, (uint32_t)size);
    md_buf_set32(&w->b, e + 8, (uint32_t)off);
    w->nstreams++;
}

/* Decodes one UTF-8 sequence at s (n bytes left) into *cp; its length, or
 * 1 with U+FFFD for an invalid byte. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, v = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, v = c & 0x07;
    else
        len = 0, v = 0;
    if (len == 0 || n < len)
        goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            goto bad;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
        (len == 4 && (v < 0x10000 || v > 0x10ffff)))
        goto bad;
    *cp = v;
    return len;
bad:
    *cp = 0xfffd;
    return 1;
}

uint32_t md_mdw_string16(md_mdw *w, const char *s)
{
    if (!s)
        s = "";
    md_buf_align(&w->b, 4);
    size_t at = md_buf_zero(&w->b, 4);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), units = 0;
    while (n > 0) {
        uint32_t cp;
        size_t k = utf8_next(p, n, &cp);
        p += k;
        n -= k;
        unsigned char u[4];
        if (cp >= 0x10000) {
            uint32_t x = cp - 0x10000;
            uint16_t hi = (uint16_t)(0xd800 | (x >> 10));
            uint16_t lo = (uint16_t)(0xdc00 | (x & 0x3ff));
            u[0] = (unsigned char)hi, u[1] = (unsigned char)(hi >> 8);
            u[2] = (unsigned char)lo, u[3] = (unsigned char)(lo >> 8);
            md_buf_put(&w->b, u, 4);
            units += 2;
        } else {
            u[0] = (unsigned char)cp, u[1] = (unsigned char)(cp >> 8);
            md_buf_put(&w->b, u, 2);
            units += 1;
        }
    }
    md_buf_zero(&w->b, 2); /* the terminating NUL, not counted */
    md_buf_set32(&w->b, at, (uint32_t)(units * 2));
    return (uint32_t)at;
}

uint32_t md_mdw_string8(md_mdw *w, const char *s)
{
    if (!s)
        s = "";
    md_buf_align(&w->b, 4);
    size_t n = strlen(s);
    size_t at = md_buf_zero(&w->b, 4);
    md_buf_set32(&w->b, at, (uint32_t)n);
    md_buf_put(&w->b, s, n);
    md_buf_zero(&w->b, 1);
    return (uint32_t)at;
}

/* ------------------------------------------------------------- registers */

int md_report_reg(const Mayday__Report *r, const Mayday__Thread *t,
                  const char *name, uint64_t *v)
{
    if (t->n_registers == 0 || t->n_registers != r->n_register_names)
        return 0;
    for (size_t i = 0; i < r->n_register_names; i++) {
        if (r->register_names[i] && strcmp(r->register_names[i], name) == 0) {
            *v = t->registers[i];
            return 1;
        }
    }
    return 0;
}

/* 1 if the report has a register named `name`. */
static int has_reg_name(const Mayday__Report *r, const char *name)
{
    for (size_t i = 0; i < r->n_register_names; i++)
        if (r->register_names[i] && strcmp(r->register_names[i], name) == 0)
            return 1;
    return 0;
}

/* The report's architecture by its register names (the crash path writes
 * them, Source/crash/core/regs_*.c), else by uname's machine: 1 x86_64,
 * 2 aarch64, 0 another (no minidump context for it). */
static int report_arch(const Mayday__Report *r)
{
    if (has_reg_name(r, "rip"))
        return 1;
    if (has_reg_name(r, "pc") && has_reg_name(r, "x0"))
        return 2;
    if (r->n_register_names == 0 && r->system && r->system->machine) {
        if (strcmp(r->system->machine, "x86_64") == 0)
            return 1;
        if (strcmp(r->system->machine, "aarch64") == 0)
            return 2;
    }
    return 0;
}

/* Appends one CONTEXT_AMD64 for thread t; its location in *rva, *size. */
static void put_context_amd64(md_mdw *w, const Mayday__Thread *t, uint32_t *rva,
                              uint32_t *size)
{
    static const char *const gpr[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                      "rsi", "rdi", "r8",  "r9",  "r10", "r11",
                                      "r12", "r13", "r14", "r15"};
    md_buf_align(&w->b, 16);
    size_t c = md_buf_zero(&w->b, MDMP_CTX_AMD64_SIZE);
    uint32_t flags = MDMP_CTX_AMD64;
    uint64_t v;
    int have_int = 0;
    for (size_t i = 0; i < sizeof(gpr) / sizeof(gpr[0]); i++) {
        if (md_report_reg(w->r, t, gpr[i], &v)) {
            md_buf_set64(&w->b, c + MDMP_CTX_AMD64_RAX_OFF + 8 * i, v);
            have_int = 1;
        }
    }
    if (have_int)
        flags |= MDMP_CTX_AMD64_INTEGER;
    if (md_report_reg(w->r, t, "rip", &v)) {
        md_buf_set64(&w->b, c + MDMP_CTX_AMD64_RIP_OFF, v);
        flags |= MDMP_CTX_AMD64_CONTROL;
    } else if (t->n_frames > 0) {
        /* No register set (a thread that did not answer): pc and sp of
         * its first frame, which came from /proc. */
        md_buf_set64(&w->b, c + MDMP_CTX_AMD64_RIP_OFF, t->frames[0]->pc);
        md_buf_set64(&w->b, c + MDMP_CTX_AMD64_RAX_OFF + 8 * 4,
                     t->frames[0]->sp);
        flags |= MDMP_CTX_AMD64_CONTROL;
    }
    if (md_report_reg(w->r, t, "eflags", &v))
        md_buf_set32(&w->b, c + MDMP_CTX_AMD64_EFLAGS_OFF, (uint32_t)v);
    if (md_report_reg(w->r, t, "csgsfs", &v)) {
        /* The kernel's sigcontext: cs, gs, fs, ss as four u16. */
        size_t s = c + MDMP_CTX_AMD64_SEGCS_OFF;
        md_buf_set16(&w->b, s, (uint16_t)v);              /* cs */
        md_buf_set16(&w->b, s + 6, (uint16_t)(v >> 32));  /* fs */
        md_buf_set16(&w->b, s + 8, (uint16_t)(v >> 16));  /* gs */
        md_buf_set16(&w->b, s + 10, (uint16_t)(v >> 48)); /* ss */
        flags |= MDMP_CTX_AMD64_SEGMENTS;
    }
    if (md_mdw_put_fpu(w, t, c))
        flags |= MDMP_CTX_AMD64_FLOATING_POINT;
    md_buf_set32(&w->b, c + MDMP_CTX_AMD64_FLAGS_OFF, flags);
    *rva = (uint32_t)c;
    *size = MDMP_CTX_AMD64_SIZE;
}

/* Appends one CONTEXT_ARM64 for thread t; its location in *rva, *size. */
static void put_context_arm64(md_mdw *w, const Mayday__Thread *t, uint32_t *rva,
                              uint32_t *size)
{
    md_buf_align(&w->b, 16);
    size_t c = md_buf_zero(&w->b, MDMP_CTX_ARM64_SIZE);
    uint32_t flags = MDMP_CTX_ARM64;
    uint64_t v;
    int have_int = 0, have_ctl = 0;
    for (int i = 0; i <= 28; i++) {
        char name[8];
        snprintf(name, sizeof(name), "x%d", i);
        if (md_report_reg(w->r, t, name, &v)) {
            md_buf_set64(&w->b, c + MDMP_CTX_ARM64_X0_OFF + 8 * (size_t)i, v);
            have_int = 1;
        }
    }
    if (have_int)
        flags |= MDMP_CTX_ARM64_INTEGER;
    /* Fp (x29) and Lr (x30) belong to CONTROL in this context. */
    static const struct {
        const char *name;
        size_t off;
    } ctl[] = {{"fp", MDMP_CTX_ARM64_X0_OFF + 8 * 29},
               {"lr", MDMP_CTX_ARM64_X0_OFF + 8 * 30},
               {"sp", MDMP_CTX_ARM64_SP_OFF},
               {"pc", MDMP_CTX_ARM64_PC_OFF}};
    for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
        if (md_report_reg(w->r, t, ctl[i].name, &v)) {
            md_buf_set64(&w->b, c + ctl[i].off, v);
            have_ctl = 1;
        }
    }
    if (md_report_reg(w->r, t, "pstate", &v))
        md_buf_set32(&w->b, c + MDMP_CTX_ARM64_CPSR_OFF, (uint32_t)v);
    if (!have_ctl && t->n_frames > 0) {
        /* No register set (a thread that did not answer): pc and sp of
         * its first frame, which came from /proc. */
        md_buf_set64(&w->b, c + MDMP_CTX_ARM64_PC_OFF, t->frames[0]->pc);
        md_buf_set64(&w->b, c + MDMP_CTX_ARM64_SP_OFF, t->frames[0]->sp);
        have_ctl = 1;
    }
    if (have_ctl)
        flags |= MDMP_CTX_ARM64_CONTROL;
    if (md_mdw_put_fpu_arm64(w, t, c))
        flags |= MDMP_CTX_ARM64_FLOATING_POINT;
    md_buf_set32(&w->b, c + MDMP_CTX_ARM64_FLAGS_OFF, flags);
    *rva = (uint32_t)c;
    *size = MDMP_CTX_ARM64_SIZE;
}

/* ------------------------------------------------------------- streams */

static void thread_list(md_mdw *w)
{
    const Mayday__Report *r = w->r;
    size_t n = r->n_threads;
    uint32_t *ctx = calloc(n ? n : 1, sizeof(*ctx));
    if (!ctx) {
        w->b.oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t size;
        if (w->arm64)
            put_context_arm64(w, r->threads[i], &ctx[i], &size);
        else
            put_context_amd64(w, r->threads[i], &ctx[i], &size);
        if (r->has_crashed_thread && r->crashed_thread == i)
            w->crashed_ctx = ctx[i];
    }
    md_buf_align(&w->b, 8);
    size_t at = md_buf_zero(&w->b, 4 + n * MDMP_THREAD_SIZE);
    md_buf_set32(&w->b, at, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        size_t e = at + 4 + i * MDMP_THREAD_SIZE;
        const Mayday__Thread *t = r->threads[i];
        md_buf_set32(&w->b, e, t->tid);
        uint64_t start = 0;
        uint32_t len = 0, rva = md_mdw_stack(w, t, &start, &len);
        md_buf_set64(&w->b, e + 24, start);
        md_buf_set32(&w->b, e + 32, len);
        md_buf_set32(&w->b, e + 36, rva);
        md_buf_set32(&w->b, e + 40, w->ctx_size);
        md_buf_set32(&w->b, e + 44, ctx[i]);
    }
    free(ctx);
    md_mdw_add_stream(w, MDMP_STREAM_THREAD_LIST, at, 4 + n * MDMP_THREAD_SIZE);
}

static void module_list(md_mdw *w)
{
    const Mayday__Report *r = w->r;
    size_t n = r->n_images;
    uint32_t *name = calloc(n ? n : 1, sizeof(*name));
    uint32_t *cv = calloc(n ? n : 1, sizeof(*cv));
    if (!name || !cv) {
        free(name);
        free(cv);
        w->b.oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const Mayday__Image *m = r->images[i];
        const char *path = m->path && m->path[0] ? m->path
                           : m->vdso             ? "linux-gate.so"
                                                 : "";
        name[i] = md_mdw_string16(w, path);
        if (m->has_build_id && m->build_id.len > 0) {
            md_buf_align(&w->b, 4);
            size_t at = md_buf_zero(&w->b, 4);
            md_buf_set32(&w->b, at, MDMP_CV_SIGNATURE_ELF);
            md_buf_put(&w->b, m->build_id.data, m->build_id.len);
            cv[i] = (uint32_t)at;
        }
    }
    md_buf_align(&w->b, 8);
    size_t at = md_buf_zero(&w->b, 4 + n * MDMP_MODULE_SIZE);
    md_buf_set32(&w->b, at, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const Mayday__Image *m = r->images[i];
        size_t e = at + 4 + i * MDMP_MODULE_SIZE;
        md_buf_set64(&w->b, e, m->address);
        md_buf_set32(&w->b, e + 8,
                     m->size > UINT32_MAX ? UINT32_MAX : (uint32_t)m->size);
        md_buf_set32(&w->b, e + 20, name[i]);
        md_buf_set32(&w->b, e + 24, 0xfeef04bdu); /* VS_FIXEDFILEINFO sig */
        md_buf_set32(&w->b, e + 28, 0x00010000u); /* its struct version */
        if (cv[i]) {
            md_buf_set32(&w->b, e + MDMP_MODULE_CV_OFFSET,
                         4 + (uint32_t)m->build_id.len);
            md_buf_set32(&w->b, e + MDMP_MODULE_CV_OFFSET + 4, cv[i]);
        }
    }
    free(name);
    free(cv);
    md_mdw_add_stream(w, MDMP_STREAM_MODULE_LIST, at, 4 + n * MDMP_MODULE_SIZE);
}

static void exception_stream(md_mdw *w)
{
    const Mayday__Report *r = w->r;
    if (!r->signal || !r->has_crashed_thread)
        return;
    const Mayday__Signal *s = r->signal;
    md_buf_align(&w->b, 8);
    size_t at = md_buf_zero(&w->b, MDMP_EXCEPTION_STREAM_SIZE);
    md_buf_set32(&w->b, at, r->threads[r->crashed_thread]->tid);
    /* MINIDUMP_EXCEPTION at +8; Breakpad/Crashpad on Linux: code = the
     * signal number, flags = si_code, address = si_addr. */
    md_buf_set32(&w->b, at + 8, s->number);
    md_buf_set32(&w->b, at + 12, (uint32_t)s->code);
    md_buf_set64(&w->b, at + 24, s->address);
    if (s->has_syscall) { /* SIGSYS: the system call number */
        md_buf_set32(&w->b, at + 32, 1);
        md_buf_set64(&w->b, at + 40, (uint64_t)(int64_t)s->syscall);
    }
    md_buf_set32(&w->b, at + 160, w->ctx_size);
    md_buf_set32(&w->b, at + 164, w->crashed_ctx);
    md_mdw_add_stream(w, MDMP_STREAM_EXCEPTION, at, MDMP_EXCEPTION_STREAM_SIZE);
}

/* "6.1.0-18-amd64" -> 6, 1, 0. */
static void kernel_version(const char *rel, uint32_t v[3])
{
    v[0] = v[1] = v[2] = 0;
    for (int i = 0; rel && i < 3; i++) {
        char *end;
        unsigned long x = strtoul(rel, &end, 10);
        if (end == rel)
            break;
        v[i] = (uint32_t)x;
        rel = *end == '.' ? end + 1 : NULL;
    }
}

static void system_info(md_mdw *w)
{
    const Mayday__System *s = w->r->system;
    uint32_t csd = 0, ver[3] = {0, 0, 0};
    if (s) {
        char text[1024];
        snprintf(text, sizeof(text), "%s %s %s %s", s->os ? s->os : "Linux",
                 s->release ? s->release : "", s->version ? s->version : "",
                 s->machine ? s->machine : "");
        csd = md_mdw_string16(w, text);
        kernel_version(s->release, ver);
    }
    md_buf_align(&w->b, 8);
    size_t at = md_buf_zero(&w->b, MDMP_SYSTEM_INFO_SIZE);
    md_buf_set16(&w->b, at, w->arm64 ? MDMP_ARCH_ARM64 : MDMP_ARCH_AMD64);
    uint32_t ncpu = s && s->has_cpu_count ? s->cpu_count : 0;
    w->b.p[at + 6] = (unsigned char)(ncpu > 255 ? 255 : ncpu);
    md_buf_set32(&w->b, at + 8, ver[0]);
    md_buf_set32(&w->b, at + 12, ver[1]);
    md_buf_set32(&w->b, at + 16, ver[2]);
    md_buf_set32(&w->b, at + 20, MDMP_OS_LINUX);
    md_buf_set32(&w->b, at + 24, csd);
    md_mdw_add_stream(w, MDMP_STREAM_SYSTEM_INFO, at, MDMP_SYSTEM_INFO_SIZE);
}

static void misc_info(md_mdw *w)
{
    const Mayday__Process *p = w->r->process;
    if (!p || !p->has_pid)
        return;
    md_buf_align(&w->b, 8);
    size_t at = md_buf_zero(&w->b, MDMP_MISC_INFO_SIZE);
    uint32_t flags = MDMP_MISC1_PROCESS_ID;
    md_buf_set32(&w->b, at, MDMP_MISC_INFO_SIZE);
    md_buf_set32(&w->b, at + 8, p->pid);
    if (p->has_start_time_unix_ns && p->start_time_unix_ns > 0) {
        flags |= MDMP_MISC1_PROCESS_TIMES;
        md_buf_set32(&w->b, at + 12,
                     (uint32_t)(p->start_time_unix_ns / 1000000000));
    }
    md_buf_set32(&w->b, at + 4, flags);
    md_mdw_add_stream(w, MDMP_STREAM_MISC_INFO, at, MDMP_MISC_INFO_SIZE);
}

static void thread_names(md_mdw *w)
{
    const Mayday__Report *r = w->r;
    size_t n = 0;
    for (size_t i = 0; i < r->n_threads; i++)
        n += r->threads[i]->name != NULL;
    if (n == 0)
        return;
    uint32_t *rva = calloc(r->n_threads, sizeof(*rva));
    if (!rva) {
        w->b.oom = 1;
        return;
    }
    for (size_t i = 0; i < r->n_threads; i++)
        if (r->threads[i]->name)
            rva[i] = md_mdw_string16(w, r->threads[i]->name);
    md_buf_align(&w->b, 4);
    size_t at = md_buf_zero(&w->b, 4 + n * MDMP_THREAD_NAME_SIZE), k = 0;
    md_buf_set32(&w->b, at, (uint32_t)n);
    for (size_t i = 0; i < r->n_threads; i++) {
        if (!r->threads[i]->name)
            continue;
        size_t e = at + 4 + k++ * MDMP_THREAD_NAME_SIZE;
        md_buf_set32(&w->b, e, r->threads[i]->tid);
        md_buf_set64(&w->b, e + 4, rva[i]);
    }
    free(rva);
    md_mdw_add_stream(w, MDMP_STREAM_THREAD_NAMES, at,
                      4 + n * MDMP_THREAD_NAME_SIZE);
}

/* ------------------------------------------------------------- the file */

int md_minidump_build(const mayday_report *rep,
                      const mayday_export_options *opt, md_buf *out)
{
    const Mayday__Report *r = md_report_pb(rep);
    int arch = r ? report_arch(r) : 0;
    if (arch == 0)
        return MAYDAY_ENOTSUP;
    md_mdw w;
    memset(&w, 0, sizeof(w));
    w.arm64 = arch == 2;
    w.ctx_size = w.arm64 ? MDMP_CTX_ARM64_SIZE : MDMP_CTX_AMD64_SIZE;
    w.r = r;
    w.o = opt;
    md_buf_zero(&w.b, MDMP_HEADER_SIZE);
    w.dir_off = (uint32_t)md_buf_zero(&w.b, MDW_MAX_STREAMS * MDMP_DIRENT_SIZE);
    thread_list(&w);
    module_list(&w);
    exception_stream(&w);
    system_info(&w);
    misc_info(&w);
    thread_names(&w);
    md_mdw_memory_list(&w);
    md_mdw_linux_streams(&w);
    md_mdw_crashpad_info(&w);
    if (w.b.oom) {
        md_buf_free(&w.b);
        return MAYDAY_ENOMEM;
    }
    md_buf_set32(&w.b, 0, MDMP_SIGNATURE);
    md_buf_set32(&w.b, 4, MDMP_VERSION);
    md_buf_set32(&w.b, 8, w.nstreams);
    md_buf_set32(&w.b, 12, w.dir_off);
    int64_t t = r->header ? r->header->time_unix_ns : 0;
    md_buf_set32(&w.b, 20, t > 0 ? (uint32_t)(t / 1000000000) : 0);
    free(w.mem);
    *out = w.b;
    return 0;
}
