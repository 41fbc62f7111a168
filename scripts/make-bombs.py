#!/usr/bin/env python3
"""Writes the gzip bombs of the memory benchmark into a folder (the same four cases as
tests/e2e/bombs.rs): 4 GiB of blanks after one event in one member (declared), the same
with a trailer that lies (100 bytes), 64 members of 64 MiB, and one record that never ends.
Each is a few MB: one flushed deflate block of 1 MiB repeated."""
import os
import struct
import sys
import zlib

MIB = 1 << 20
EVENT = ('{"eventVersion":"1.08","eventTime":"2026-11-27T10:00:00Z","eventSource":"signin.amazonaws.com",'
         '"eventName":"ConsoleLogin","eventID":"%s","userIdentity":{"type":"IAMUser","userName":"mallory",'
         '"accountId":"111122223333"},"responseElements":{"ConsoleLogin":"Failure"},'
         '"additionalEventData":{"MFAUsed":"Yes"},"errorMessage":"Failed authentication"}')


def blocks(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)


def member(head: bytes, filler: bytes, copies: int, isize: int, crc: bool) -> bytes:
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
    out += blocks(head)
    fill = blocks(filler)
    out += fill * copies
    out += b"\x03\x00"
    c = 0
    if crc:
        c = zlib.crc32(head)
        for _ in range(copies):
            c = zlib.crc32(filler, c)
    out += struct.pack("<II", c, isize & 0xFFFFFFFF)
    return bytes(out)


def head(i: str) -> bytes:
    return ('{"Records":[' + EVENT % i + ',').encode()


def main() -> None:
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    sp = b" " * MIB
    with open(os.path.join(d, "single.json.gz"), "wb") as f:
        f.write(member(head("single"), sp, 4096, 0xFFFFFFFF, False))
    with open(os.path.join(d, "liar.json.gz"), "wb") as f:
        f.write(member(head("liar"), sp, 4096, 100, False))
    with open(os.path.join(d, "multi.json.gz"), "wb") as f:
        h = head("multi")
        f.write(member(h, sp, 64, len(h) + 64 * MIB, True))
        nxt = member(b"", sp, 64, 64 * MIB, True)
        for _ in range(63):
            f.write(nxt)
    with open(os.path.join(d, "record.json.gz"), "wb") as f:
        h = head("record") + b'{"eventTime":"2026-11-27T10:00:01Z","eventName":"X","pad":"'
        f.write(member(h, b"a" * MIB, 4096, 0xFFFFFFFF, False))


if __name__ == "__main__":
    main()
