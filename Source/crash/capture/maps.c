/*
 * maps.c - the memory map at crash time: /proc/self/maps parsed into the
 * work area's table (used to clip stacks and windows to readable memory),
 * and written into the report as Report.mappings.
 *
 * Context: async-signal-safe. No malloc, stdio, locks or dynamic linker:
 * raw open/read/close into the table, path pool and read buffer mapped at
 * install. The file is read in MDS_MAPS_READBUF chunks; a line is at most
 * ~4.2 KB (PATH_MAX plus the fixed fields), so a cut line is carried over
 * to the next chunk.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "crash/capture/capture.h"
#include "crash/core/fmt.h"
#include "crash/core/sys.h"
#include "crash/handler/fields.h"
#include "crash/handler/procfs.h"
#include "crash/core/poison.h"

/* Digit values: 0-15 for hex digits, 16 for anything else. */
static const unsigned char digit[256] = {
    ['0'] = 0,  ['1'] = 1,  ['2'] = 2,  ['3'] = 3,  ['4'] = 4,  ['5'] = 5,
    ['6'] = 6,  ['7'] = 7,  ['8'] = 8,  ['9'] = 9,  ['a'] = 10, ['b'] = 11,
    ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15, ['A'] = 10, ['B'] = 11,
    ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15};

static int is_digit(unsigned char ch, int base)
{
    return (ch >= '0' && ch <= '9') ||
           (base == 16 && ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f'));
}

/* Parses a number in `base` (10 or 16) at *p (< end); advances *p. */
static int num(const char **p, const char *end, int base, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    while (s < end && *s == ' ')
        s++;
    const char *start = s;
    for (; s < end && is_digit((unsigned char)*s, base); s++)
        v = v * (uint64_t)base + digit[(unsigned char)*s];
    /* No overflow: at most 16 hex or 19 decimal digits. */
    if (s == start || s - start > (base == 16 ? 16 : 19))
        return -1;
    *out = v;
    *p = s;
    return 0;
}

static int expect(const char **p, const char *end, char ch)
{
    if (*p >= end || **p != ch)
        return -1;
    (*p)++;
    return 0;
}

/* "start-end perms offset major:minor inode   path" */
int mds_maps_parse_line(const char *line, size_t len, mds_mapping *m,
                        const char **path, size_t *path_len)
{
    const char *p = line, *end = line + len;
    uint64_t dmaj, dmin;
    if (num(&p, end, 16, &m->start) < 0 || expect(&p, end, '-') < 0 ||
        num(&p, end, 16, &m->end) < 0 || expect(&p, end, ' ') < 0)
        return -1;
    if (end - p < 4)
        return -1;
    m->flags = (p[0] == 'r' ? MDS_MAP_R : 0) | (p[1] == 'w' ? MDS_MAP_W : 0) |
               (p[2] == 'x' ? MDS_MAP_X : 0) |
               (p[3] == 's' ? MDS_MAP_SHARED : 0);
    p += 4;
    if (num(&p, end, 16, &m->offset) < 0 || num(&p, end, 16, &dmaj) < 0 ||
        expect(&p, end, ':') < 0 || num(&p, end, 16, &dmin) < 0 ||
        num(&p, end, 10, &m->inode) < 0)
        return -1;
    if (m->end < m->start)
        return -1;
    m->dev_major = (uint32_t)dmaj;
    m->dev_minor = (uint32_t)dmin;
    while (p < end && *p == ' ')
        p++;
    *path = p;
    *path_len = (size_t)(end - p);
    return 0;
}

/* Adds one parsed line: the path is pooled once for a run of mappings of
 * the same file. */
static void add(mds_capture *c, const mds_mapping *m, const char *path,
                size_t plen)
{
    if (c->nmaps >= c->maps_cap) {
        c->maps_capped = 1;
        return;
    }
    mds_mapping *e = &c->maps[c->nmaps];
    *e = *m;
    e->path_off = MDS_MAP_NOPATH;
    if (plen) {
        const mds_mapping *prev = c->nmaps ? &c->maps[c->nmaps - 1] : 0;
        if (prev && prev->path_off != MDS_MAP_NOPATH &&
            mds_strlen(c->paths + prev->path_off) == plen &&
            memcmp(c->paths + prev->path_off, path, plen) == 0) {
            e->path_off = prev->path_off;
        } else if (c->paths_used + plen + 1 <= c->paths_cap) {
            memcpy(c->paths + c->paths_used, path, plen);
            c->paths[c->paths_used + plen] = 0;
            e->path_off = c->paths_used;
            c->paths_used += (uint32_t)plen + 1;
        } else {
            c->maps_capped = 1; /* kept, without its path */
        }
    }
    c->nmaps++;
}

int mds_maps_capture(mds_capture *c)
{
    c->nmaps = 0;
    c->paths_used = 0;
    c->maps_ok = 0;
    c->maps_capped = 0;
    if (!c->maps || !c->readbuf)
        return -EINVAL;
    /* By its absolute path first: qemu-user emulates /proc/self/maps
     * (the guest's map) only when opened by that name; "maps" under a
     * directory descriptor is qemu's own host map there. Then under the
     * /proc/PID descriptor reserved at install (/proc not at /proc any
     * more: a chroot after install). A full descriptor table: the spares
     * (mds_open_reserved). */
    long fd = mds_open_reserved(AT_FDCWD, "/proc/self/maps",
                                O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        fd = mds_proc_open("maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return (int)fd;
    char *buf = c->readbuf;
    size_t have = 0;
    int eof = 0;
    while (!eof) {
        long r = mds_read((int)fd, buf + have, MDS_MAPS_READBUF - have);
        if (r == -EINTR)
            continue;
        if (r < 0) {
            mds_close((int)fd);
            return (int)r;
        }
        eof = r == 0;
        have += (size_t)r;
        size_t at = 0;
        while (at < have) {
            size_t nl = at;
            while (nl < have && buf[nl] != '\n')
                nl++;
            if (nl == have && !eof) {
                if (at == 0 && have == MDS_MAPS_READBUF)
                    at = have; /* no line is that long: drop it */
                break;         /* an incomplete line: read on */
            }
            mds_mapping m;
            const char *path;
            size_t plen;
            if (mds_maps_parse_line(buf + at, nl - at, &m, &path, &plen) == 0)
                add(c, &m, path, plen);
            at = nl + 1;
        }
        if (at > have)
            at = have;
        memmove(buf, buf + at, have - at);
        have -= at;
    }
    mds_close((int)fd);
    c->maps_ok = 1;
    return 0;
}

const mds_mapping *mds_maps_find(const mds_capture *c, uint64_t addr)
{
    if (!c || !c->maps_ok)
        return 0;
    uint32_t lo = 0, hi = c->nmaps;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const mds_mapping *m = &c->maps[mid];
        if (addr < m->start)
            hi = mid;
        else if (addr >= m->end)
            lo = mid + 1;
        else
            return m;
    }
    return 0;
}

const mds_mapping *mds_maps_next(const mds_capture *c, uint64_t addr)
{
    if (!c || !c->maps_ok)
        return 0;
    uint32_t lo = 0, hi = c->nmaps;
    while (lo < hi) { /* first start > addr */
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->maps[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nmaps ? &c->maps[lo] : 0;
}

void mds_put_mappings(mds_pb *pb, const mds_capture *c)
{
    if (!c || !c->maps_ok)
        return;
    for (uint32_t i = 0; i < c->nmaps; i++) {
        const mds_mapping *m = &c->maps[i];
        /* A mapping without its start and size would make the whole
         * report unreadable (the reader's lookups bisect them). */
        if (mds_pb_begin_min(pb, F_REPORT_MAPPINGS, 2 * MDS_PB_VARINT_MAX) ==
            0) {
            mds_pb_uint64(pb, F_MAPPING_START, m->start);
            mds_pb_uint64(pb, F_MAPPING_SIZE, m->end - m->start);
            mds_pb_uint64(pb, F_MAPPING_FLAGS, m->flags);
            if (m->offset)
                mds_pb_uint64(pb, F_MAPPING_OFFSET, m->offset);
            if (m->dev_major)
                mds_pb_uint64(pb, F_MAPPING_DEV_MAJOR, m->dev_major);
            if (m->dev_minor)
                mds_pb_uint64(pb, F_MAPPING_DEV_MINOR, m->dev_minor);
            if (m->inode)
                mds_pb_uint64(pb, F_MAPPING_INODE, m->inode);
            if (m->path_off != MDS_MAP_NOPATH)
                mds_pb_string(pb, F_MAPPING_PATH, c->paths + m->path_off);
        }
        mds_pb_end(pb);
    }
}
