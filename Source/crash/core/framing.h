/*
 * framing.h - the .mayday file framing shared by the crash-time writer and
 * the next-launch reader (docs/report-format.md).
 *
 *   offset size  field
 *   0      6     magic "MAYDAY"
 *   6      1     format version (1)
 *   7      1     flags (0; reserved)
 *   8      4     length of the protobuf message, little endian
 *   12     4     CRC-32 (IEEE) of the message bytes, little endian
 *   16     len   one mayday.Report protobuf message
 *
 * The file is complete only if its size is exactly 16 + len and the CRC
 * matches: a report cut short at any byte, or with a flipped bit, is
 * recognised as corrupt. Reports are written to "<name>.mayday.tmp" and
 * renamed to "<name>.mayday" once complete, so readers ignore *.tmp.
 *
 * Context: constants only.
 */
#ifndef MDS_FRAMING_H
#define MDS_FRAMING_H

#define MDS_FILE_MAGIC "MAYDAY"
#define MDS_FILE_MAGIC_LEN 6
#define MDS_FILE_VERSION 1
#define MDS_FILE_HEADER_LEN 16
#define MDS_FILE_SUFFIX ".mayday"
#define MDS_FILE_TMP_SUFFIX ".mayday.tmp"

#endif
