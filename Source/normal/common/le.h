/*
 * le.h - little-endian integers in byte buffers (report headers, the
 * last-crash record, FP areas), whatever the host's byte order.
 *
 * Context: normal (pure functions).
 */
#ifndef MD_LE_H
#define MD_LE_H

#include <stdint.h>

static inline uint32_t md_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t md_le64(const unsigned char *p)
{
    return (uint64_t)md_le32(p) | (uint64_t)md_le32(p + 4) << 32;
}

#endif
