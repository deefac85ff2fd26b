/*
 * mdmp.h - the minidump (MDMP) constants and structure sizes the exporter
 * writes: Microsoft's MINIDUMP_* layouts (minidumpapiset.h), Breakpad's
 * Linux extension streams and ELF CodeView record, Crashpad's info stream.
 * docs/minidump.md describes each stream as mayday fills it.
 *
 * Everything is little endian and 4-byte packed; offsets below are the
 * byte offsets inside each structure.
 *
 * Context: constants only (normal-context exporter).
 */
#ifndef MD_EXPORT_MDMP_H
#define MD_EXPORT_MDMP_H

#define MDMP_SIGNATURE 0x504d444du /* "MDMP" */
#define MDMP_VERSION 0x0000a793u   /* MINIDUMP_VERSION (42899) */
#define MDMP_HEADER_SIZE 32
#define MDMP_DIRENT_SIZE 12

/* Stream types (MINIDUMP_STREAM_TYPE). */
#define MDMP_STREAM_THREAD_LIST 3
#define MDMP_STREAM_MODULE_LIST 4
#define MDMP_STREAM_MEMORY_LIST 5
#define MDMP_STREAM_EXCEPTION 6
#define MDMP_STREAM_SYSTEM_INFO 7
#define MDMP_STREAM_MISC_INFO 15
#define MDMP_STREAM_THREAD_NAMES 24
/* Breakpad's Linux streams (google_breakpad/common/minidump_format.h). */
#define MDMP_STREAM_LINUX_CPU_INFO 0x47670003u
#define MDMP_STREAM_LINUX_PROC_STATUS 0x47670004u
#define MDMP_STREAM_LINUX_LSB_RELEASE 0x47670005u
#define MDMP_STREAM_LINUX_CMD_LINE 0x47670006u
#define MDMP_STREAM_LINUX_ENVIRON 0x47670007u /* never written */
#define MDMP_STREAM_LINUX_AUXV 0x47670008u
#define MDMP_STREAM_LINUX_MAPS 0x47670009u
/* Crashpad's MinidumpCrashpadInfo ("CP" << 16 | 1). */
#define MDMP_STREAM_CRASHPAD_INFO 0x43500001u

/* MINIDUMP_THREAD: 48 bytes. */
#define MDMP_THREAD_SIZE 48
/* MINIDUMP_MODULE: 108 bytes; CvRecord at 76, MiscRecord at 84. */
#define MDMP_MODULE_SIZE 108
#define MDMP_MODULE_CV_OFFSET 76
/* MINIDUMP_MEMORY_DESCRIPTOR: 16 bytes. */
#define MDMP_MEMDESC_SIZE 16
/* MINIDUMP_EXCEPTION_STREAM: 168 bytes. */
#define MDMP_EXCEPTION_STREAM_SIZE 168
/* MINIDUMP_SYSTEM_INFO: 56 bytes. */
#define MDMP_SYSTEM_INFO_SIZE 56
#define MDMP_ARCH_AMD64 9
#define MDMP_ARCH_ARM64 12
#define MDMP_OS_LINUX 0x8201u /* Breakpad's MD_OS_LINUX */
/* MINIDUMP_MISC_INFO (the first, 24-byte version). */
#define MDMP_MISC_INFO_SIZE 24
#define MDMP_MISC1_PROCESS_ID 0x1u
#define MDMP_MISC1_PROCESS_TIMES 0x2u
/* MINIDUMP_THREAD_NAME: ThreadId (4) + RVA64 of the name (8). */
#define MDMP_THREAD_NAME_SIZE 12

/* CONTEXT_AMD64: 1232 bytes. */
#define MDMP_CTX_AMD64_SIZE 1232
#define MDMP_CTX_AMD64_FLAGS_OFF 0x30
#define MDMP_CTX_AMD64_MXCSR_OFF 0x34
#define MDMP_CTX_AMD64_SEGCS_OFF 0x38 /* then ds, es, fs, gs, ss (u16) */
#define MDMP_CTX_AMD64_EFLAGS_OFF 0x44
#define MDMP_CTX_AMD64_RAX_OFF 0x78 /* rax rcx rdx rbx rsp rbp rsi rdi r8.. */
#define MDMP_CTX_AMD64_RIP_OFF 0xf8
#define MDMP_CTX_AMD64_FXSAVE_OFF 0x100 /* XMM_SAVE_AREA32, 512 bytes */
#define MDMP_CTX_AMD64 0x00100000u
#define MDMP_CTX_AMD64_CONTROL (MDMP_CTX_AMD64 | 0x1u)
#define MDMP_CTX_AMD64_INTEGER (MDMP_CTX_AMD64 | 0x2u)
#define MDMP_CTX_AMD64_SEGMENTS (MDMP_CTX_AMD64 | 0x4u)
#define MDMP_CTX_AMD64_FLOATING_POINT (MDMP_CTX_AMD64 | 0x8u)

/* CONTEXT_ARM64 (Microsoft's ARM64_NT_CONTEXT, Breakpad's
 * MDRawContextARM64, what Crashpad writes): 912 bytes. lldb reads X0..X30,
 * Sp and Pc at the same offsets in Breakpad's older ARM64 layout, so both
 * kinds of reader unwind from it. CONTROL covers Fp, Lr, Sp, Pc, Cpsr;
 * INTEGER X0..X28. */
#define MDMP_CTX_ARM64_SIZE 912
#define MDMP_CTX_ARM64_FLAGS_OFF 0x0
#define MDMP_CTX_ARM64_CPSR_OFF 0x4
#define MDMP_CTX_ARM64_X0_OFF 0x8 /* X0..X28, Fp (X29), Lr (X30) */
#define MDMP_CTX_ARM64_SP_OFF 0x100
#define MDMP_CTX_ARM64_PC_OFF 0x108
#define MDMP_CTX_ARM64_V_OFF 0x110 /* V0..V31, 16 bytes each */
#define MDMP_CTX_ARM64_FPCR_OFF 0x310
#define MDMP_CTX_ARM64_FPSR_OFF 0x314
#define MDMP_CTX_ARM64 0x00400000u
#define MDMP_CTX_ARM64_CONTROL (MDMP_CTX_ARM64 | 0x1u)
#define MDMP_CTX_ARM64_INTEGER (MDMP_CTX_ARM64 | 0x2u)
#define MDMP_CTX_ARM64_FLOATING_POINT (MDMP_CTX_ARM64 | 0x4u)

/* CodeView record for ELF (Breakpad MDCVInfoELF, Crashpad
 * CodeViewRecordBuildID): "BpEL" then the build-id bytes. */
#define MDMP_CV_SIGNATURE_ELF 0x4270454cu

/* MinidumpCrashpadInfo version 1: version, report_id (16), client_id (16),
 * simple_annotations (location), module_list (location) = 52 bytes. */
#define MDMP_CRASHPAD_INFO_SIZE 52
#define MDMP_CRASHPAD_INFO_VERSION 1

#endif
