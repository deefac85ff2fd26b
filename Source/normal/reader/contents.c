/*
 * contents.c - the reader's side of issue 11 (report contents):
 * validation of the new fields, memory lookups over the report's stacks
 * and windows (mayday_report_read_memory, mayday_report_stack), the
 * mapping an address lies in and a description of it for people ("inside
 * the guard page below thread 7's stack"), FP register layout, syscall
 * names.
 *
 * Context: normal (malloc, stdio). Hostile input: every length and address
 * is checked for overflow before use.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "normal/reader/reader.h"

#define MAX_FP_BYTES (1u << 20)

static int memory_ok(const Mayday__Memory *m)
{
    if (!m->has_address)
        return 0;
    if (m->has_data && m->data.len > UINT64_MAX - m->address)
        return 0;
    return 1;
}

static int fp_ok(const Mayday__FpState *f)
{
    if (f->has_data && f->data.len > MAX_FP_BYTES)
        return 0;
    if (f->n_xsave_offsets != f->n_xsave_sizes || f->n_xsave_offsets > 64)
        return 0;
    return 1;
}

int md_validate_contents(const Mayday__Report *r)
{
    for (size_t i = 0; i < r->n_threads; i++) {
        const Mayday__Thread *t = r->threads[i];
        if (t->stack && !memory_ok(t->stack))
            return MAYDAY_ECORRUPT;
        for (size_t k = 0; k < t->n_memory; k++)
            if (!memory_ok(t->memory[k]))
                return MAYDAY_ECORRUPT;
        if (t->fp && !fp_ok(t->fp))
            return MAYDAY_ECORRUPT;
        if (t->n_syscall_args > 6)
            return MAYDAY_ECORRUPT;
    }
    uint64_t prev_end = 0;
    for (size_t i = 0; i < r->n_mappings; i++) {
        const Mayday__Mapping *m = r->mappings[i];
        if (!m->has_start || m->size > UINT64_MAX - m->start)
            return MAYDAY_ECORRUPT;
        /* In address order, not overlapping: lookups bisect. */
        if (i && m->start < prev_end)
            return MAYDAY_ECORRUPT;
        prev_end = m->start + m->size;
    }
    for (size_t i = 0; i < r->n_attachments; i++) {
        const Mayday__Attachment *a = r->attachments[i];
        uint64_t len = a->has_data ? a->data.len : 0;
        if (a->offset > UINT64_MAX - len ||
            (a->has_size && a->offset + len > a->size))
            return MAYDAY_ECORRUPT;
    }
    return 0;
}

/* ------------------------------------------------------------ memory */

static int copy_from(const Mayday__Memory *m, uint64_t addr, uint8_t *out,
                     size_t len)
{
    if (!m || !m->has_data || addr < m->address)
        return 0;
    uint64_t off = addr - m->address;
    if (off > m->data.len || len > m->data.len - off)
        return 0;
    memcpy(out, m->data.data + off, len);
    return 1;
}

int mayday_report_read_memory(const mayday_report *report, uint64_t address,
                              void *out, size_t len)
{
    if (!report || (!out && len))
        return MAYDAY_EINVAL;
    const Mayday__Report *r = report->pb;
    uint8_t *o = out;
    /* Byte ranges may be spread over several regions: take each byte run
     * from whichever region holds it. */
    while (len > 0) {
        size_t best = 0;
        const Mayday__Memory *from = NULL;
        for (size_t i = 0; i < r->n_threads; i++) {
            const Mayday__Thread *t = r->threads[i];
            for (size_t k = 0; k <= t->n_memory; k++) {
                const Mayday__Memory *m =
                    k < t->n_memory ? t->memory[k] : t->stack;
                if (!m || !m->has_data || address < m->address ||
                    address - m->address >= m->data.len)
                    continue;
                size_t have = (size_t)(m->data.len - (address - m->address));
                if (have > best) {
                    best = have;
                    from = m;
                }
            }
        }
        if (!from)
            return MAYDAY_ENOTFOUND;
        size_t k = best < len ? best : len;
        copy_from(from, address, o, k);
        o += k;
        address += k;
        len -= k;
    }
    return 0;
}

int mayday_report_stack(const mayday_report *report, uint32_t thread,
                        uint64_t *address, const uint8_t **data, size_t *size)
{
    if (!report || !address || !data || !size)
        return MAYDAY_EINVAL;
    const Mayday__Report *r = report->pb;
    if (thread >= r->n_threads)
        return MAYDAY_EINVAL;
    const Mayday__Memory *m = r->threads[thread]->stack;
    if (!m || !m->has_data || m->data.len == 0)
        return MAYDAY_ENOTFOUND;
    *address = m->address;
    *data = m->data.data;
    *size = m->data.len;
    return 0;
}

/* ------------------------------------------------------------ mappings */

int md_mapping_of(const Mayday__Report *r, uint64_t addr)
{
    size_t lo = 0, hi = r->n_mappings;
    /* Most register values that are not addresses (counts, flags) lie
     * below the first mapping: no bisection for them. */
    if (hi == 0 || addr < r->mappings[0]->start)
        return -1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const Mayday__Mapping *m = r->mappings[mid];
        if (addr < m->start)
            hi = mid;
        else if (addr - m->start >= m->size)
            lo = mid + 1;
        else
            return (int)mid;
    }
    return -1;
}

void md_mapping_perms(const Mayday__Mapping *m, char out[5])
{
    out[0] = m->flags & 4 ? 'r' : '-';
    out[1] = m->flags & 2 ? 'w' : '-';
    out[2] = m->flags & 1 ? 'x' : '-';
    out[3] = m->flags & 8 ? 's' : 'p';
    out[4] = 0;
}

/* The index of the stack pointer among the report's register names, or
 * -1. */
static int sp_register(const Mayday__Report *r)
{
    for (size_t k = 0; k < r->n_register_names; k++)
        if (r->register_names[k] && (!strcmp(r->register_names[k], "rsp") ||
                                     !strcmp(r->register_names[k], "sp")))
            return (int)k;
    return -1;
}

/* The thread whose stack pointer lies in mapping mi, or -1. Called for
 * every mapping of a report (hundreds, with 128 threads): the register
 * is looked up once, and each thread's sp compared with the mapping's
 * bounds (mappings do not overlap), not searched for. */
/* A thread's stack pointer: where its stack copy starts, else its sp
 * register, else its first frame's. 0 if none. */
static int thread_sp(const Mayday__Thread *t, int spk, uint64_t *sp)
{
    if (t->stack && t->stack->has_address) {
        *sp = t->stack->address;
        return 1;
    }
    if (spk >= 0 && (size_t)spk < t->n_registers) {
        *sp = t->registers[spk];
        return 1;
    }
    if (t->n_frames && t->frames[0]->has_sp) {
        *sp = t->frames[0]->sp;
        return 1;
    }
    return 0;
}

int md_stack_owner(const Mayday__Report *r, int mi)
{
    if (mi < 0 || !(r->mappings[mi]->flags & 4))
        return -1; /* a stack is readable */
    const Mayday__Mapping *m = r->mappings[mi];
    int spk = sp_register(r);
    for (size_t i = 0; i < r->n_threads; i++) {
        uint64_t sp;
        if (thread_sp(r->threads[i], spk, &sp) && sp >= m->start &&
            sp - m->start < m->size)
            return (int)i;
    }
    return -1;
}

/* The same answer as md_stack_owner for each mapping (the first thread
 * whose sp is in it), with one bisection per thread instead of a pass
 * over the threads per mapping. */
int *md_stack_owners(const Mayday__Report *r)
{
    int *o = malloc((r->n_mappings ? r->n_mappings : 1) * sizeof(*o));
    if (!o)
        return NULL;
    for (size_t i = 0; i < r->n_mappings; i++)
        o[i] = -1;
    int spk = sp_register(r);
    for (size_t i = 0; i < r->n_threads; i++) {
        uint64_t sp;
        if (!thread_sp(r->threads[i], spk, &sp))
            continue;
        int mi = md_mapping_of(r, sp);
        if (mi >= 0 && (r->mappings[mi]->flags & 4) && o[mi] < 0)
            o[mi] = (int)i;
    }
    return o;
}

static int owner_of(const Mayday__Report *r, const int *owners, int mi)
{
    if (mi < 0)
        return -1;
    return owners ? owners[mi] : md_stack_owner(r, mi);
}

/* snprintf(buf, n, "%s", s) without the format machinery. */
static void copy_str(char *buf, size_t n, const char *s)
{
    if (!n)
        return;
    size_t k = strlen(s);
    if (k >= n)
        k = n - 1;
    memcpy(buf, s, k);
    buf[k] = 0;
}

/* What a mapping is, in a few words: "[stack] of thread 0", "guard page
 * below thread 3's stack", a file's basename, "anonymous". */
void md_mapping_role(const Mayday__Report *r, int mi, char *buf, size_t n)
{
    md_mapping_role_ex(r, NULL, mi, buf, n);
}

void md_mapping_role_ex(const Mayday__Report *r, const int *owners, int mi,
                        char *buf, size_t n)
{
    const Mayday__Mapping *m = r->mappings[mi];
    int owner = owner_of(r, owners, mi);
    const char *path = m->path && m->path[0] ? m->path : NULL;
    if (owner >= 0) {
        snprintf(buf, n, "stack of thread %d", owner);
        return;
    }
    if (!(m->flags & 7) && mi + 1 < (int)r->n_mappings &&
        r->mappings[mi + 1]->start == m->start + m->size) {
        int above = owner_of(r, owners, mi + 1);
        if (above >= 0) {
            snprintf(buf, n, "guard page below thread %d's stack", above);
            return;
        }
    }
    if (!(m->flags & 7)) {
        copy_str(buf, n, path ? path : "no access (guard or reserve)");
        return;
    }
    copy_str(buf, n, path ? path : "anonymous");
}

void md_describe_address(const Mayday__Report *r, uint64_t addr, char *buf,
                         size_t n)
{
    char role[256];
    int mi = md_mapping_of(r, addr);
    if (r->n_mappings == 0) {
        snprintf(buf, n, "%s",
                 addr < 4096 ? "in the null page"
                             : "(no memory map in the report)");
        return;
    }
    if (mi >= 0) {
        const Mayday__Mapping *m = r->mappings[mi];
        char perms[5];
        md_mapping_perms(m, perms);
        md_mapping_role(r, mi, role, sizeof(role));
        if (!strncmp(role, "guard page", 10))
            snprintf(buf, n, "inside the %s (%s)", role, perms);
        else
            snprintf(buf, n, "in %s (%s) +0x%" PRIx64, role, perms,
                     addr - m->start);
        return;
    }
    if (addr < 4096) {
        snprintf(buf, n, "not mapped (the null page)");
        return;
    }
    /* Unmapped: say what it is close to (e.g. just below a stack). */
    size_t above = 0;
    while (above < r->n_mappings && r->mappings[above]->start <= addr)
        above++;
    if (above < r->n_mappings &&
        r->mappings[above]->start - addr <= 1024 * 1024) {
        md_mapping_role(r, (int)above, role, sizeof(role));
        snprintf(buf, n, "not mapped, 0x%" PRIx64 " bytes below %s",
                 r->mappings[above]->start - addr, role);
        return;
    }
    snprintf(buf, n, "not mapped");
}

/* ------------------------------------------------------------ FP state */

/* Component i of an XSAVE area if it is in use (XSTATE_BV) and inside the
 * area with at least `need` bytes; NULL otherwise. */
static const uint8_t *component(const md_fp_view *v, const Mayday__FpState *f,
                                size_t i, uint32_t need)
{
    if (i >= f->n_xsave_offsets || i >= 64 || !(v->xstate_bv & (1ull << i)) ||
        f->xsave_sizes[i] < need)
        return NULL;
    uint64_t end = (uint64_t)f->xsave_offsets[i] + need;
    return end <= v->len ? v->area + f->xsave_offsets[i] : NULL;
}

int md_fp_layout(const Mayday__FpState *f, md_fp_view *v)
{
    memset(v, 0, sizeof(*v));
    if (!f->has_format || (f->format != MAYDAY__FP_FORMAT__FP_FORMAT_FXSAVE &&
                           f->format != MAYDAY__FP_FORMAT__FP_FORMAT_XSAVE))
        return -1;
    /* Trailing zeros were left out by the writer: pad to the full area. */
    size_t full = f->format == MAYDAY__FP_FORMAT__FP_FORMAT_XSAVE ? 576 : 512;
    for (size_t i = 0; i < f->n_xsave_offsets; i++) {
        uint64_t end = (uint64_t)f->xsave_offsets[i] + f->xsave_sizes[i];
        if (f->xsave_sizes[i] && end > full && end <= MAX_FP_BYTES)
            full = (size_t)end;
    }
    size_t have = f->has_data ? f->data.len : 0;
    if (have > full)
        full = have;
    v->area = calloc(1, full);
    if (!v->area)
        return -1;
    if (have)
        memcpy(v->area, f->data.data, have);
    v->len = full;
    if (f->format == MAYDAY__FP_FORMAT__FP_FORMAT_XSAVE) {
        memcpy(&v->xstate_bv, v->area + 512, 8);
        v->avx = component(v, f, 2, 256);
        v->opmask = component(v, f, 5, 64);
        v->zmm_hi256 = component(v, f, 6, 512);
        v->hi16_zmm = component(v, f, 7, 1024);
    } else {
        v->xstate_bv = 3; /* x87 and SSE */
    }
    return 0;
}

void md_fp_view_free(md_fp_view *v)
{
    free(v->area);
    memset(v, 0, sizeof(*v));
}

/* ------------------------------------------------------------ syscalls */

typedef struct sysname {
    int nr;
    const char *name;
} sysname;

#define S(x)                                                                   \
    {                                                                          \
        SYS_##x, #x                                                            \
    }
/* The calls threads are usually blocked in, numbered for the machine this
 * reader was built for (<sys/syscall.h>); used only for reports of the
 * same architecture. */
static const sysname sysnames[] = {
#if defined(__x86_64__)
    S(read),
    S(write),
    S(poll),
    S(select),
    S(pause),
    S(nanosleep),
    S(accept),
    S(recvfrom),
    S(recvmsg),
    S(sendto),
    S(sendmsg),
    S(wait4),
    S(msgrcv),
    S(semop),
    S(flock),
    S(fsync),
    S(epoll_wait),
    S(rt_sigsuspend),
    S(rt_sigtimedwait),
    S(sigaltstack),
    S(open),
    S(connect),
#endif
    S(openat),
    S(close),
    S(ioctl),
    S(readv),
    S(writev),
    S(pread64),
    S(pwrite64),
    S(futex),
    S(clock_nanosleep),
    S(epoll_pwait),
    S(ppoll),
    S(pselect6),
    S(accept4),
    S(waitid),
    S(io_getevents),
    S(recvmmsg),
    S(sendmmsg),
    S(sched_yield),
    S(mmap),
    S(munmap),
    S(exit_group),
    S(tgkill),
    S(getpid),
    S(gettid),
    S(clone),
    S(execve),
    S(fdatasync),
    S(semtimedop),
    S(mq_timedreceive),
    S(splice),
    S(copy_file_range),
    S(io_uring_enter),
    S(getrandom),
    S(rt_sigprocmask),
    S(kill),
    S(lseek),
};
#undef S

const char *md_syscall_name(const Mayday__Report *r, int64_t nr)
{
    static struct utsname u;
    static int have_uname;
    if (!have_uname)
        have_uname = uname(&u) == 0 ? 1 : -1;
    if (have_uname < 0 || !r->system || !r->system->machine ||
        strcmp(r->system->machine, u.machine) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(sysnames) / sizeof(sysnames[0]); i++)
        if (sysnames[i].nr == nr)
            return sysnames[i].name;
    return NULL;
}
