/*
 * fixture.c - builds realistic mayday.Report messages of the calling
 * process and frames them like the crash-time writer (see fixture.h).
 *
 * Context: tests only (normal context).
 */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "crash/core/framing.h"
#include "crash/core/regs.h"
#include <zlib.h>
#include "fixture.h"

const char fx_tricky_abort[] =
    "assert \"x != NULL\" failed\n\tat \\path\x01\x1f end \xff\xfe bad "
    "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa5 \xed\xa0\x80 \x7f";
const char fx_tricky_key[] = "key \"quoted\"\n";
const char fx_tricky_value[] = "value with \\ and \xc3\x28 and \x1b[31m";

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

/* ---------------------------------------------------------------- images */

typedef struct img_vec {
    Mayday__Image **v;
    size_t n, cap;
} img_vec;

static void read_build_id(struct dl_phdr_info *info, Mayday__Image *m)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p =
            (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t off = 0;
        while (off + sizeof(ElfW(Nhdr)) <= ph->p_memsz) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(p + off);
            size_t name_sz = (nh->n_namesz + 3) & ~3u;
            size_t desc_sz = (nh->n_descsz + 3) & ~3u;
            const unsigned char *name = p + off + sizeof(*nh);
            const unsigned char *desc = name + name_sz;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                memcmp(name, "GNU", 4) == 0) {
                m->has_build_id = 1;
                m->build_id.len = nh->n_descsz;
                m->build_id.data = xcalloc(1, nh->n_descsz);
                memcpy(m->build_id.data, desc, nh->n_descsz);
                return;
            }
            off += sizeof(*nh) + name_sz + desc_sz;
        }
    }
}

static int add_image(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    img_vec *iv = data;
    Mayday__Image *m = xcalloc(1, sizeof(*m));
    mayday__image__init(m);
    int first = iv->n == 0;
    if (first) {
        char buf[4096];
        ssize_t k = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        buf[k > 0 ? k : 0] = '\0';
        m->path = xstrdup(buf);
        m->has_main_program = m->main_program = 1;
    } else if (info->dlpi_name && info->dlpi_name[0]) {
        m->path = xstrdup(info->dlpi_name);
        if (strstr(info->dlpi_name, "linux-vdso"))
            m->has_vdso = m->vdso = 1;
    } else {
        m->has_vdso = m->vdso = 1; /* the unnamed one is the vdso */
    }
    m->has_load_bias = 1;
    m->load_bias = info->dlpi_addr;
    uint64_t lo = UINT64_MAX, hi = 0;
    size_t nload = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        nload += info->dlpi_phdr[i].p_type == PT_LOAD;
    m->segments = xcalloc(nload, sizeof(*m->segments));
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        Mayday__Segment *s = xcalloc(1, sizeof(*s));
        mayday__segment__init(s);
        s->has_address = s->has_size = s->has_flags = s->has_file_offset = 1;
        s->address = a;
        s->size = ph->p_memsz;
        s->flags = ph->p_flags;
        s->file_offset = ph->p_offset;
        m->segments[m->n_segments++] = s;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    m->has_address = m->has_size = 1;
    m->address = lo;
    m->size = hi - lo;
    read_build_id(info, m);
    if (iv->n == iv->cap) {
        iv->cap = iv->cap ? 2 * iv->cap : 16;
        iv->v = realloc(iv->v, iv->cap * sizeof(*iv->v));
        if (!iv->v)
            abort();
    }
    iv->v[iv->n++] = m;
    return 0;
}

int fx_image_of(const Mayday__Report *r, uint64_t addr)
{
    for (size_t i = 0; i < r->n_images; i++) {
        const Mayday__Image *m = r->images[i];
        for (size_t s = 0; s < m->n_segments; s++) {
            const Mayday__Segment *g = m->segments[s];
            if (addr >= g->address && addr < g->address + g->size)
                return (int)i;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------- threads */

static Mayday__Frame *make_frame(const Mayday__Report *r, uint64_t pc,
                                 uint64_t sp, int trust)
{
    Mayday__Frame *f = xcalloc(1, sizeof(*f));
    mayday__frame__init(f);
    f->has_pc = f->has_sp = f->has_trust = 1;
    f->pc = pc;
    f->sp = sp;
    f->trust = trust;
    int im = fx_image_of(r, pc);
    if (im >= 0) {
        f->has_image = 1;
        f->image = (uint32_t)im;
    }
    return f;
}

static Mayday__Thread *make_thread(Mayday__Report *r, uint32_t tid,
                                   const char *name, const uint64_t *pcs,
                                   size_t n, int first_trust, int regs)
{
    Mayday__Thread *t = xcalloc(1, sizeof(*t));
    mayday__thread__init(t);
    t->has_tid = 1;
    t->tid = tid;
    t->name = xstrdup(name);
    t->frames = xcalloc(n, sizeof(*t->frames));
    uint64_t sp = 0x7ffc12340000ull + tid * 0x1000;
    for (size_t i = 0; i < n; i++)
        t->frames[t->n_frames++] =
            make_frame(r, pcs[i], sp + 0x40 * i,
                       i == 0 ? first_trust : MAYDAY__TRUST__TRUST_CFI);
    if (regs) {
        t->n_registers = MDS_NREGS;
        t->registers = xcalloc(MDS_NREGS, sizeof(uint64_t));
        for (size_t i = 0; i < MDS_NREGS; i++)
            t->registers[i] = 0x1111111111111111ull * (i % 15 + 1) + i;
        t->registers[MDS_REG_PC] = n ? pcs[0] : 0;
        t->registers[MDS_REG_SP] = sp;
    }
    t->has_state = 1;
    t->state = MAYDAY__THREAD_STATE__THREAD_STATE_SUSPENDED;
    return t;
}

static __attribute__((noinline)) uint64_t caller_pc(void)
{
    return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

/* ---------------------------------------------------------------- report */

Mayday__Report *fx_build(const fx_opts *o)
{
    fx_opts def = {0};
    if (!o)
        o = &def;
    Mayday__Report *r = xcalloc(1, sizeof(*r));
    mayday__report__init(r);

    img_vec iv = {0};
    dl_iterate_phdr(add_image, &iv);
    r->images = iv.v;
    r->n_images = iv.n;

    Mayday__Header *h = xcalloc(1, sizeof(*h));
    mayday__header__init(h);
    h->has_uuid = 1;
    h->uuid.len = 16;
    h->uuid.data = xcalloc(1, 16);
    for (int i = 0; i < 16; i++)
        h->uuid.data[i] = (uint8_t)(0x10 * i + 0x0f - i);
    h->has_time_unix_ns = 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->time_unix_ns =
        o->time_ns ? o->time_ns : (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    h->reporter_version = xstrdup("0.1.0");
    h->has_live = 1;
    h->live = 0;
    h->has_handler = 1;
    h->handler = MAYDAY__HANDLER__HANDLER_EXCEPTION_THREAD;
    h->has_handoff_ns = 1;
    h->handoff_ns = 12345;
    r->header = h;

    struct utsname u;
    uname(&u);
    Mayday__System *s = xcalloc(1, sizeof(*s));
    mayday__system__init(s);
    s->os = xstrdup(u.sysname);
    s->release = xstrdup(u.release);
    s->version = xstrdup(u.version);
    s->machine = xstrdup(u.machine);
    s->hostname = xstrdup(u.nodename);
    s->libc = xstrdup("glibc 2.36");
    s->boot_id = xstrdup("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
    s->has_uptime_ms = s->has_cpu_count = s->has_memory_total_bytes =
        s->has_page_size = 1;
    s->uptime_ms = 987654321;
    s->cpu_count = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
    s->memory_total_bytes = 8ull << 30;
    s->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    r->system = s;

    Mayday__Process *p = xcalloc(1, sizeof(*p));
    mayday__process__init(p);
    p->has_pid = p->has_ppid = p->has_uid = p->has_euid = p->has_gid = 1;
    p->pid = (uint32_t)getpid();
    p->ppid = (uint32_t)getppid();
    p->uid = getuid();
    p->euid = geteuid();
    p->gid = getgid();
    p->name = xstrdup("reader_test");
    p->path = xstrdup(r->images[0]->path);
    p->n_argv = 3;
    p->argv = xcalloc(3, sizeof(char *));
    p->argv[0] = xstrdup(p->path);
    p->argv[1] = xstrdup("--config");
    p->argv[2] = xstrdup(o->tricky_strings ? "a \"b\"\n" : "/etc/demo.conf");
    p->has_start_time_unix_ns = 1;
    p->start_time_unix_ns = h->time_unix_ns - 5000000000ll;
    p->cwd = xstrdup("/tmp");
    p->has_tracer_pid = 1;
    r->process = p;

    Mayday__App *a = xcalloc(1, sizeof(*a));
    mayday__app__init(a);
    a->id = xstrdup("com.example.demo");
    a->version = xstrdup("1.2.3");
    r->app = a;

    Mayday__Signal *sg = xcalloc(1, sizeof(*sg));
    mayday__signal__init(sg);
    sg->has_number = sg->has_code = sg->has_address = sg->has_errno_value = 1;
    sg->number = SIGSEGV;
    sg->name = xstrdup("SIGSEGV");
    sg->code = 1;
    sg->code_name = xstrdup("SEGV_MAPERR");
    sg->address = 0x10;
    r->signal = sg;
    r->has_cause = 1;
    r->cause = MAYDAY__CAUSE__CAUSE_NULL_DEREFERENCE;
    r->abort_message = xstrdup(o->tricky_strings ? fx_tricky_abort
                                                 : "demo: config.c:42: oops");

    r->n_register_names = MDS_NREGS;
    r->register_names = xcalloc(MDS_NREGS, sizeof(char *));
    for (size_t i = 0; i < MDS_NREGS; i++)
        r->register_names[i] = xstrdup(mds_reg_names[i]);

    /* Crashed thread: the given pcs, or return addresses in this program
     * and a libc function. */
    uint64_t defpcs[4] = {
        (uint64_t)(uintptr_t)fx_build + 16,
        caller_pc(),
        (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "fprintf") + 4,
        (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "qsort") + 8,
    };
    const uint64_t *pcs = o->pcs ? o->pcs : defpcs;
    size_t npcs = o->pcs ? o->npcs : 4;
    int t0 = o->first_trust ? o->first_trust : MAYDAY__TRUST__TRUST_CONTEXT;
    uint64_t other[3] = {
        (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "nanosleep") + 1,
        (uint64_t)(uintptr_t)fx_image_of + 7, 0x10, /* in no image */
    };
    r->n_threads = 3;
    r->threads = xcalloc(3, sizeof(*r->threads));
    uint32_t tid = (uint32_t)syscall(SYS_gettid);
    r->threads[0] = make_thread(r, tid, "reader_test", pcs, npcs, t0, 1);
    r->threads[0]->has_crashed = r->threads[0]->crashed = 1;
    r->threads[0]->state = MAYDAY__THREAD_STATE__THREAD_STATE_CRASHED;
    r->threads[1] =
        make_thread(r, tid + 1, o->tricky_strings ? "w\xffrk\ter" : "worker",
                    other, 3, MAYDAY__TRUST__TRUST_CONTEXT, 1);
    r->threads[1]->frames[2]->trust = MAYDAY__TRUST__TRUST_SCAN;
    r->threads[2] = make_thread(r, tid + 2, "stuck", other, 1,
                                MAYDAY__TRUST__TRUST_CONTEXT, 0);
    r->threads[2]->state = MAYDAY__THREAD_STATE__THREAD_STATE_NOT_SUSPENDED;
    r->threads[2]->note = xstrdup("did not answer the suspend signal");
    r->has_crashed_thread = 1;
    r->crashed_thread = 0;

    r->n_annotations = 2;
    r->annotations = xcalloc(2, sizeof(*r->annotations));
    for (int i = 0; i < 2; i++) {
        Mayday__Annotation *an = xcalloc(1, sizeof(*an));
        mayday__annotation__init(an);
        r->annotations[i] = an;
    }
    r->annotations[0]->key = xstrdup("user");
    r->annotations[0]->value = xstrdup("alice");
    r->annotations[1]->key =
        xstrdup(o->tricky_strings ? fx_tricky_key : "level");
    r->annotations[1]->value =
        xstrdup(o->tricky_strings ? fx_tricky_value : "3");

    r->n_breadcrumbs = 3;
    r->breadcrumbs = xcalloc(3, sizeof(*r->breadcrumbs));
    for (int i = 0; i < 3; i++) {
        Mayday__Breadcrumb *b = xcalloc(1, sizeof(*b));
        mayday__breadcrumb__init(b);
        b->has_time_unix_ns = 1;
        b->time_unix_ns = h->time_unix_ns - (3 - i) * 1000000ll;
        char msg[64];
        snprintf(msg, sizeof(msg), "step %d done", i + 1);
        b->message = xstrdup(msg);
        r->breadcrumbs[i] = b;
    }

    if (o->tricky_strings) { /* the optional signal fields too */
        sg->has_sender_pid = sg->has_sender_uid = sg->has_syscall = 1;
        sg->sender_pid = 4242;
        sg->sender_uid = 1000;
        sg->syscall = 59;
        sg->errno_value = -7;
    }
    if (o->live) {
        mayday__signal__free_unpacked(r->signal, NULL);
        r->signal = NULL;
        r->has_cause = 0;
        r->has_crashed_thread = 0;
        r->threads[0]->crashed = 0;
        r->threads[0]->state = MAYDAY__THREAD_STATE__THREAD_STATE_CURRENT;
        h->live = 1;
        h->reason = xstrdup("user asked for it");
        h->handler = MAYDAY__HANDLER__HANDLER_LIVE;
    }
    if (o->contents)
        fx_add_contents(r);
    if (o->incomplete) {
        r->has_truncated = r->truncated = 1;
        r->has_threads_not_suspended = 1;
        r->threads_not_suspended = 1;
        r->has_threads_capped = r->threads_capped = 1;
        r->has_images_inconsistent = r->images_inconsistent = 1;
        r->has_recursive_crash = r->recursive_crash = 1;
        r->has_frames_capped = r->frames_capped = 1;
    } else {
        /* Present but false/zero: still complete. */
        r->has_truncated = 1;
        r->has_threads_not_suspended = 1;
    }
    return r;
}

void fx_free(Mayday__Report *r)
{
    if (r)
        mayday__report__free_unpacked(r, NULL);
}

unsigned char *fx_frame(const Mayday__Report *r, size_t *len)
{
    size_t n = mayday__report__get_packed_size(r);
    unsigned char *buf = xcalloc(1, MDS_FILE_HEADER_LEN + n);
    mayday__report__pack(r, buf + MDS_FILE_HEADER_LEN);
    /* zlib, independent of the library's own mds_crc32. */
    uint32_t crc = (uint32_t)crc32(0L, buf + MDS_FILE_HEADER_LEN, (uInt)n);
    memcpy(buf, MDS_FILE_MAGIC, MDS_FILE_MAGIC_LEN);
    buf[6] = MDS_FILE_VERSION;
    buf[7] = 0;
    for (int i = 0; i < 4; i++) {
        buf[8 + i] = (unsigned char)(n >> (8 * i));
        buf[12 + i] = (unsigned char)(crc >> (8 * i));
    }
    *len = MDS_FILE_HEADER_LEN + n;
    return buf;
}

int fx_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k <= 0) {
            close(fd);
            return -1;
        }
        p += k;
        len -= (size_t)k;
    }
    return close(fd);
}

int fx_write_report(const Mayday__Report *r, const char *path)
{
    size_t len;
    unsigned char *b = fx_frame(r, &len);
    int rc = fx_write_file(path, b, len);
    free(b);
    return rc;
}
