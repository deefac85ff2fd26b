#!/usr/bin/env python3
# parse_minidump.py - an independent structural reader of a minidump for
# Tests/export/test_ecosystem.c, written from the published layouts
# (Microsoft's minidumpapiset.h, Breakpad's minidump_format.h, Crashpad's
# minidump_extensions.h), not from mayday's writer. It checks that every
# directory entry, RVA and string lies inside the file, and prints a JSON
# summary of what the streams say:
#   {"errors": [...], "streams": [{"type", "size"}], "threads": [...],
#    "modules": [...], "exception": {...}, "system": {...}, "misc": {...},
#    "thread_names": {"tid": "name"}, "memory": [...], "cmdline": [...],
#    "status": "...", "maps": "...", "crashpad": {...}}
#
#   parse_minidump.py FILE.dmp
import json
import struct
import sys

data = open(sys.argv[1], "rb").read()
errors = []
out = {"errors": errors, "streams": []}


def need(off, size, what):
    if off < 0 or size < 0 or off + size > len(data):
        errors.append("%s out of bounds: rva %d size %d (file %d)" %
                      (what, off, size, len(data)))
        return False
    return True


def u16(o):
    return struct.unpack_from("<H", data, o)[0]


def u32(o):
    return struct.unpack_from("<I", data, o)[0]


def u64(o):
    return struct.unpack_from("<Q", data, o)[0]


def string16(rva):
    if not need(rva, 4, "MINIDUMP_STRING"):
        return None
    n = u32(rva)
    if not need(rva + 4, n + 2, "MINIDUMP_STRING body"):
        return None
    if data[rva + 4 + n:rva + 6 + n] != b"\0\0":
        errors.append("MINIDUMP_STRING at %d not NUL-terminated" % rva)
    return data[rva + 4:rva + 4 + n].decode("utf-16-le", "replace")


def string8(rva):
    if not need(rva, 4, "MinidumpUTF8String"):
        return None
    n = u32(rva)
    if not need(rva + 4, n + 1, "MinidumpUTF8String body"):
        return None
    return data[rva + 4:rva + 4 + n].decode("utf-8", "replace")


def uuid_text(b):
    # Crashpad's UUID: data1 u32, data2 u16, data3 u16 (little endian).
    d1, d2, d3 = struct.unpack_from("<IHH", b, 0)
    rest = b[8:16].hex()
    return "%08x-%04x-%04x-%s-%s" % (d1, d2, d3, rest[:4], rest[4:])


def thread_list(rva, size):
    n = u32(rva)
    if 4 + n * 48 != size:
        errors.append("thread list size %d for %d threads" % (size, n))
    threads = []
    for i in range(n):
        e = rva + 4 + i * 48
        if not need(e, 48, "MINIDUMP_THREAD"):
            break
        t = {"tid": u32(e), "stack_start": u64(e + 24),
             "stack_size": u32(e + 32), "stack_rva": u32(e + 36)}
        if t["stack_size"]:
            need(t["stack_rva"], t["stack_size"], "thread stack")
        csize, crva = u32(e + 40), u32(e + 44)
        if not need(crva, csize, "thread context"):
            pass
        elif csize == 1232:  # CONTEXT_AMD64
            t["ctx_flags"] = u32(crva + 0x30)
            t["rsp"] = t["sp"] = u64(crva + 0x78 + 8 * 4)
            t["rbp"] = u64(crva + 0x78 + 8 * 5)
            t["rip"] = t["pc"] = u64(crva + 0xF8)
            t["eflags"] = u32(crva + 0x44)
            t["cs"] = u16(crva + 0x38)
        elif csize == 912:  # CONTEXT_ARM64 (ARM64_NT_CONTEXT)
            t["ctx_flags"] = u32(crva)
            t["cpsr"] = u32(crva + 4)
            t["x0"] = u64(crva + 8)
            t["fp"] = u64(crva + 8 + 8 * 29)
            t["lr"] = u64(crva + 8 + 8 * 30)
            t["sp"] = u64(crva + 0x100)
            t["pc"] = u64(crva + 0x108)
            t["fpsr"] = u32(crva + 0x314)
        else:
            errors.append("thread %d context size %d" % (t["tid"], csize))
        threads.append(t)
    out["threads"] = threads


def module_list(rva, size):
    n = u32(rva)
    if 4 + n * 108 != size:
        errors.append("module list size %d for %d modules" % (size, n))
    mods = []
    for i in range(n):
        e = rva + 4 + i * 108
        if not need(e, 108, "MINIDUMP_MODULE"):
            break
        m = {"base": u64(e), "size": u32(e + 8),
             "name": string16(u32(e + 20))}
        cvs, cvr = u32(e + 76), u32(e + 80)
        if cvs and need(cvr, cvs, "CodeView record"):
            m["cv_signature"] = data[cvr:cvr + 4].decode("latin-1")
            m["build_id"] = data[cvr + 4:cvr + cvs].hex()
        mods.append(m)
    out["modules"] = mods


def exception(rva, size):
    if size < 168:
        errors.append("exception stream size %d" % size)
        return
    out["exception"] = {"tid": u32(rva), "code": u32(rva + 8),
                        "flags": u32(rva + 12), "address": u64(rva + 24),
                        "nparams": u32(rva + 32)}
    csize, crva = u32(rva + 160), u32(rva + 164)
    need(crva, csize, "exception context")
    out["exception"]["ctx_rva"] = crva


def system_info(rva, size):
    out["system"] = {"arch": u16(rva), "ncpu": data[rva + 6],
                     "major": u32(rva + 8), "minor": u32(rva + 12),
                     "build": u32(rva + 16), "platform": u32(rva + 20),
                     "csd": string16(u32(rva + 24))}


def misc_info(rva, size):
    out["misc"] = {"size_of_info": u32(rva), "flags": u32(rva + 4),
                   "pid": u32(rva + 8), "create_time": u32(rva + 12)}


def thread_names(rva, size):
    n = u32(rva)
    names = {}
    for i in range(n):
        e = rva + 4 + i * 12
        if not need(e, 12, "MINIDUMP_THREAD_NAME"):
            break
        names[str(u32(e))] = string16(u64(e + 4))
    out["thread_names"] = names


def memory_list(rva, size):
    n = u32(rva)
    mem = []
    for i in range(n):
        e = rva + 4 + i * 16
        if not need(e, 16, "MINIDUMP_MEMORY_DESCRIPTOR"):
            break
        d = {"start": u64(e), "size": u32(e + 8)}
        need(u32(e + 12), d["size"], "memory range")
        mem.append(d)
    out["memory"] = mem


def crashpad(rva, size):
    cp = {"version": u32(rva), "report_id": uuid_text(data[rva + 4:rva + 20]),
          "client_id": uuid_text(data[rva + 20:rva + 36])}
    asize, arva = u32(rva + 36), u32(rva + 40)
    ann = {}
    if asize and need(arva, asize, "simple string dictionary"):
        for i in range(u32(arva)):
            e = arva + 4 + i * 8
            if need(e, 8, "dictionary entry"):
                ann[string8(u32(e))] = string8(u32(e + 4))
    cp["annotations"] = ann
    msize, mrva = u32(rva + 44), u32(rva + 48)
    if msize:
        need(mrva, msize, "module crashpad info list")
    out["crashpad"] = cp


def text(rva, size):
    return data[rva:rva + size].decode("utf-8", "replace")


if data[:4] != b"MDMP" or len(data) < 32:
    errors.append("no MDMP header")
else:
    if u32(4) & 0xFFFF != 0xA793:
        errors.append("version %#x" % u32(4))
    nstreams, dirrva = u32(8), u32(12)
    need(dirrva, nstreams * 12, "stream directory")
    for i in range(nstreams):
        e = dirrva + i * 12
        typ, size, rva = u32(e), u32(e + 4), u32(e + 8)
        out["streams"].append({"type": typ, "size": size})
        if not need(rva, size, "stream %#x" % typ):
            continue
        handler = {
            3: thread_list, 4: module_list, 5: memory_list, 6: exception,
            7: system_info, 15: misc_info, 24: thread_names,
            0x43500001: crashpad,
        }.get(typ)
        if handler:
            handler(rva, size)
        elif typ == 0x47670006:
            out["cmdline"] = [a.decode("utf-8", "replace")
                              for a in data[rva:rva + size].split(b"\0")[:-1]]
        elif typ == 0x47670004:
            out["status"] = text(rva, size)
        elif typ == 0x47670009:
            out["maps"] = text(rva, size)
        elif typ == 0x47670007:
            errors.append("environment stream present")
print(json.dumps(out))
