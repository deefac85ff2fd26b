/*
 * test_images.c - the image list (Source/crash/walk/images.c) against
 * independent sources: `readelf -n` for build-ids, /proc/self/maps for
 * load addresses and executable mappings, dlopen/dlclose for changes,
 * dladdr/&symbol for lookups.
 *
 * Context: test code (normal context).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash/walk/images.h"
#include "crash/walk/walk_internal.h"
#include "walk_util.h"

int rec_o2_fp(int n, void (*bottom)(void *), void *arg);

static int g_data_word = 7;

static void hex_of(const mds_image *img, char *out)
{
    for (uint32_t i = 0; i < img->build_id_len; i++)
        sprintf(out + 2 * i, "%02x", img->build_id[i]);
    out[2 * img->build_id_len] = 0;
}

/* The kernel maps a vDSO (qemu-user 7.2 gives aarch64 programs none):
 * from the auxiliary vector, not from the code under test. */
static int have_vdso(void) { return getauxval(AT_SYSINFO_EHDR) != 0; }

static mds_image_table *capture(void)
{
    mds_image_table *t = wt_table_new(512, 1 << 16);
    assert_int_equal(md_images_init(), 0);
    assert_int_equal(mds_images_capture(t), 0);
    assert_false(t->capped);
    return t;
}

static void test_main_vdso_libc(void **state)
{
    (void)state;
    mds_image_table *t = capture();
    char exe[PATH_MAX];
    assert_non_null(realpath("/proc/self/exe", exe));
    int mains = 0, vdsos = 0, main_idx = -1;
    for (size_t i = 0; i < t->count; i++) {
        mains += t->images[i].is_main;
        vdsos += t->images[i].is_vdso;
        if (t->images[i].is_main)
            main_idx = (int)i;
        assert_non_null(t->images[i].path);
        for (size_t j = 0; j < i; j++) /* no image listed twice */
            assert_true(t->images[j].start != t->images[i].start);
    }
    assert_int_equal(mains, 1);
    assert_int_equal(vdsos, have_vdso());
    assert_string_equal(t->images[main_idx].path, exe);
    /* The main image contains this function and this data word. */
    assert_int_equal(mds_images_find(t, (uintptr_t)&test_main_vdso_libc),
                     main_idx);
    assert_true(mds_images_is_exec(t, (uintptr_t)&test_main_vdso_libc));
    assert_int_equal(mds_images_find(t, (uintptr_t)&g_data_word), main_idx);
    assert_false(mds_images_is_exec(t, (uintptr_t)&g_data_word));
    /* Heap and stack are in no image. */
    void *heap = malloc(16);
    int local = 0;
    assert_int_equal(mds_images_find(t, (uintptr_t)heap), -1);
    assert_int_equal(mds_images_find(t, (uintptr_t)&local), -1);
    assert_int_equal(mds_images_find(t, 0), -1);
    free(heap);
    /* libc (dladdr of a libc function names its file) and the test lib. */
    Dl_info di;
    assert_true(dladdr((void *)&fopen, &di));
    int libc = wt_find_image_file(t, di.dli_fname);
    assert_true(libc >= 0);
    assert_int_equal(mds_images_find(t, (uintptr_t)&fopen), libc);
    assert_true(mds_images_is_exec(t, (uintptr_t)&fopen));
    assert_true(dladdr((void *)&rec_o2_fp, &di));
    int lib = wt_find_image_file(t, di.dli_fname);
    assert_true(lib >= 0);
    assert_int_equal(mds_images_find(t, (uintptr_t)&rec_o2_fp), lib);
    assert_int_equal(t->images[lib].load_bias, (uintptr_t)di.dli_fbase);
    wt_table_free(t);
}

static void check_build_id(const mds_image_table *t, int idx, const char *file)
{
    char want[256], got[2 * MDS_BUILD_ID_MAX + 1];
    assert_int_equal(wt_readelf_build_id(file, want, sizeof(want)), 0);
    assert_true(idx >= 0);
    hex_of(&t->images[idx], got);
    if (strcmp(want, got) != 0)
        fprintf(stderr, "%s: readelf %s, ours %s\n", file, want, got);
    assert_string_equal(want, got);
}

static void test_build_ids_vs_readelf(void **state)
{
    (void)state;
    mds_image_table *t = capture();
    Dl_info di;
    char exe[PATH_MAX]; /* resolved here: readelf has its own /proc/self */
    assert_non_null(realpath("/proc/self/exe", exe));
    for (size_t i = 0; i < t->count; i++) {
        if (t->images[i].is_main)
            check_build_id(t, (int)i, exe);
    }
    assert_true(dladdr((void *)&fopen, &di));
    check_build_id(t, wt_find_image_file(t, di.dli_fname), di.dli_fname);
    assert_true(dladdr((void *)&rec_o2_fp, &di));
    check_build_id(t, wt_find_image_file(t, di.dli_fname), di.dli_fname);

    if (!have_vdso()) {
        wt_table_free(t);
        return;
    }
    /* The vdso has no file: dump its mapping and ask readelf. */
    uintptr_t vs, ve;
    assert_int_equal(wt_maps_named("[vdso]", &vs, &ve), 0);
    char path[] = "/tmp/mayday-vdso-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, (void *)vs, ve - vs), (ssize_t)(ve - vs));
    close(fd);
    int vi = -1;
    for (size_t i = 0; i < t->count; i++) {
        if (t->images[i].is_vdso)
            vi = (int)i;
    }
    assert_true(vi >= 0);
    assert_int_equal(t->images[vi].start & ~(uintptr_t)4095, vs);
    assert_string_equal(t->images[vi].path, "[vdso]");
    assert_true(t->images[vi].eh_frame_hdr >= vs &&
                t->images[vi].eh_frame_hdr < ve);
    check_build_id(t, vi, path);
    unlink(path);
    wt_table_free(t);
}

/* Every file-backed mapping of /proc/self/maps against the table. */
static void test_bases_vs_maps(void **state)
{
    (void)state;
    mds_image_table *t = capture();
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[4400];
    int exec_maps = 0, checked_bases = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long s, e, off, ino;
        char perms[8], dev[16], path[4096] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %4095s", &s, &e, perms, &off,
                   dev, &ino, path) < 6 ||
            ino == 0 || path[0] != '/')
            continue;
        int idx = mds_images_find(t, s);
        if (perms[2] == 'x') {
            /* Every executable file mapping belongs to an image whose
             * PF_X segment covers it, and that image is the same file. */
            exec_maps++;
            assert_true(idx >= 0);
            assert_true(mds_images_is_exec(t, s));
            const mds_image *img = &t->images[idx];
            int covered = 0;
            for (uint32_t k = 0; k < img->nsegs; k++) {
                const mds_segment *sg = &img->segs[k];
                uintptr_t lo = sg->addr & ~(uintptr_t)4095;
                uintptr_t hi = (sg->addr + sg->size + 4095) & ~(uintptr_t)4095;
                if ((sg->flags & PF_X) && lo == s && hi == e)
                    covered = 1;
            }
            assert_true(covered);
            struct stat st;
            assert_int_equal(stat(t->images[idx].path, &st), 0);
            assert_int_equal(st.st_ino, ino);
        }
        if (off == 0 && idx >= 0 && t->images[idx].start == s) {
            /* The mapping of file offset 0 starts the image. */
            struct stat st;
            assert_int_equal(stat(t->images[idx].path, &st), 0);
            assert_int_equal(st.st_ino, ino);
            assert_int_equal(t->images[idx].segs[0].file_offset, 0);
            checked_bases++;
        }
    }
    fclose(f);
    /* Conversely, every image with a file starts at its offset-0 mapping
     * (lowest PT_LOAD, page-aligned, = the mapping start in maps). */
    for (size_t i = 0; i < t->count; i++) {
        const mds_image *img = &t->images[i];
        if (img->is_vdso)
            continue;
        assert_true(img->nsegs > 0);
        assert_int_equal(img->start & 4095, 0);
    }
    assert_true(exec_maps >= 4); /* exe, libc, ld.so, test libs */
    assert_true(checked_bases >= 4);
    wt_table_free(t);
}

static void test_dlopen_dlclose(void **state)
{
    (void)state;
    const char *mod = WALK_DLMOD_PATH;
    mds_image_table *t = capture();
    assert_int_equal(wt_find_image_file(t, mod), -1);
    void *h = dlopen(mod, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    void *sym = dlsym(h, "walk_dlmod_value");
    assert_non_null(sym);
    assert_int_equal(mds_images_capture(t), 0);
    int idx = wt_find_image_file(t, mod);
    assert_true(idx >= 0);
    assert_int_equal(mds_images_find(t, (uintptr_t)sym), idx);
    assert_true(mds_images_is_exec(t, (uintptr_t)sym));
    check_build_id(t, idx, mod);
    assert_true(t->images[idx].eh_frame_hdr != 0);
    size_t with = t->count;
    assert_int_equal(dlclose(h), 0);
    assert_int_equal(mds_images_capture(t), 0);
    assert_int_equal(wt_find_image_file(t, mod), -1);
    assert_int_equal(t->count, with - 1);
    assert_int_equal(mds_images_find(t, (uintptr_t)sym), -1);
    wt_table_free(t);
}

/* A note segment too big for the one-read path (images.c NOTES_LOCAL):
 * the build-id is still found, and agrees with readelf. */
static void test_big_note_segment(void **state)
{
    (void)state;
    const char *mod = WALK_BIGNOTE_PATH;
    void *h = dlopen(mod, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    mds_image_table *t = capture();
    int idx = wt_find_image_file(t, mod);
    assert_true(idx >= 0);
    check_build_id(t, idx, mod);
    /* The segment really is bigger than the local buffer (readelf). */
    char cmd[PATH_MAX + 32], line[512];
    snprintf(cmd, sizeof cmd, "readelf -lW '%s'", mod);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned long biggest = 0, off, va, pa, filesz;
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, " NOTE %lx %lx %lx %lx", &off, &va, &pa, &filesz) ==
                4 &&
            filesz > biggest)
            biggest = filesz;
    }
    pclose(p);
    assert_true(biggest > 512);
    wt_table_free(t);
    dlclose(h);
}

static void test_limits(void **state)
{
    (void)state;
    mds_image_table *full = capture();
    /* Too small a table: capped, never overrun (canary after cap). */
    mds_image_table *t = wt_table_new(4, 1 << 16);
    t->cap = 3;
    memset(&t->images[3], 0xab, sizeof(mds_image));
    assert_int_equal(mds_images_capture(t), 0);
    assert_int_equal(t->count, 3);
    assert_true(t->capped);
    const unsigned char *c = (const unsigned char *)&t->images[3];
    for (size_t i = 0; i < sizeof(mds_image); i++)
        assert_int_equal(c[i], 0xab);
    wt_table_free(t);
    /* Tiny string pool: images still listed, paths "" but never NULL. */
    t = wt_table_new(512, 16);
    assert_int_equal(mds_images_capture(t), 0);
    assert_int_equal(t->count, full->count);
    assert_true(t->pool_used <= 16);
    for (size_t i = 0; i < t->count; i++)
        assert_non_null(t->images[i].path);
    wt_table_free(t);
    wt_table_free(full);
}

/* A dlopen in flight (r_state RT_ADD) is seen as such: simulated with a
 * copy of r_debug whose state says so, pointing at the real chain. */
static void test_inconsistent_state(void **state)
{
    (void)state;
    mds_image_table *full = capture();
    assert_false(full->inconsistent);
    struct r_debug fake = *(struct r_debug *)mds_images_g.r_debug;
    fake.r_state = RT_ADD;
    fake.r_version = 1;
    uintptr_t saved = mds_images_g.r_debug;
    mds_images_g.r_debug = (uintptr_t)&fake;
    mds_image_table *t = wt_table_new(512, 1 << 16);
    assert_int_equal(mds_images_capture(t), 0);
    mds_images_g.r_debug = saved;
    assert_true(t->inconsistent);
    assert_int_equal(t->count, full->count);
    /* A broken chain (unreadable r_map) still gives main and vdso. */
    fake.r_state = RT_CONSISTENT;
    fake.r_map = (struct link_map *)(uintptr_t)16;
    mds_images_g.r_debug = (uintptr_t)&fake;
    assert_int_equal(mds_images_capture(t), 0);
    mds_images_g.r_debug = saved;
    assert_int_equal(t->count, 1 + (size_t)have_vdso());
    assert_true(t->images[0].is_main);
    assert_true(!have_vdso() || t->images[1].is_vdso);
    wt_table_free(t);
    wt_table_free(full);
}

/* The executable's _r_debug may be a copy-relocated snapshot: the one we
 * use must be the live one ld.so updates (r_map = the real chain head). */
static void test_live_r_debug(void **state)
{
    (void)state;
    assert_int_equal(md_images_init(), 0);
    assert_false(mds_images_g.r_debug_stale);
    struct link_map *head = NULL;
    /* dlinfo of the main program's handle gives ld.so's own link_map. */
    void *self = dlopen(NULL, RTLD_NOW);
    assert_non_null(self);
    assert_int_equal(dlinfo(self, RTLD_DI_LINKMAP, &head), 0);
    struct r_debug *rd = (struct r_debug *)mds_images_g.r_debug;
    assert_ptr_equal(rd->r_map, head);
    dlclose(self);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_vdso_libc),
        cmocka_unit_test(test_build_ids_vs_readelf),
        cmocka_unit_test(test_bases_vs_maps),
        cmocka_unit_test(test_dlopen_dlclose),
        cmocka_unit_test(test_big_note_segment),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_inconsistent_state),
        cmocka_unit_test(test_live_r_debug),
    };
    if (getenv("WALK_TEST_FILTER")) /* e.g. WALK_TEST_FILTER=test_cap */
        cmocka_set_test_filter(getenv("WALK_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
