#!/usr/bin/env python3
"""Writes a 320x240 RGB PNG (colour gradients) to the path given: a photo for tests and examples,
made with the standard library only."""
import struct
import sys
import zlib

w, h = 320, 240
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h, (x + y) % 256)) for y in range(h))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
with open(sys.argv[1], "wb") as out:
    out.write(png)
