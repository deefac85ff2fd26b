/*
 * crc32.h - CRC-32 (IEEE 802.3, as zlib's crc32()) for the report framing:
 * a slice-by-8 table loop, and the GF(2) algebra the writer needs to keep
 * a report's CRC up to date while it streams and patches it (so the CRC is
 * computed as the bytes are written, never read back from the file).
 *
 * Context: async-signal-safe (pure functions over caller memory, constant
 * tables). Also used by the next-launch reader.
 */
#ifndef MDS_CRC32_H
#define MDS_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Plain CRC-32; start with crc = 0, chain by passing the previous
 * result. */
uint32_t mds_crc32(uint32_t crc, const void *data, size_t n);

/* The linear part of the CRC: the register after n bytes, starting from
 * 0, with no final complement. For equal-length messages,
 * crc(A xor B) = crc(A) xor raw(B) when B is the change made to A. */
uint32_t mds_crc32_raw(const void *data, size_t n);

/* A raw value followed by n zero bytes (multiplication by x^(8n) modulo
 * the polynomial): how a change at some offset shows in the CRC of a
 * message that goes on n bytes further. */
uint32_t mds_crc32_shift(uint32_t raw, uint64_t n);

/* crc(B) from crc(A || B), crc(A) and the length of B (zlib's
 * crc32_combine, solved for its second part). */
uint32_t mds_crc32_suffix(uint32_t crc_ab, uint32_t crc_a, uint64_t len_b);

#endif
