#!/usr/bin/env python3
"""Writes a 320x240 RGB PNG (colour gradients) to the path given: a photo for tests and examples,
made with the standard library only.

With --near-mean the gradients stay within 3 levels of BVLC's ImageNet mean colour, so that Caffe
preprocessing (minus that mean) gives inputs of a few units, as a model with random weights
expects: its softmax then does not saturate, and every one of its top 5 has a probability
above 0 to compare."""
import struct
import sys
import zlib

w, h = 320, 240
args = sys.argv[1:]
near_mean = "--near-mean" in args
path = [a for a in args if a != "--near-mean"][0]
if near_mean:
    mean_rgb = (123, 117, 104)
    pixel = lambda x, y: (mean_rgb[0] + x * 7 // w - 3, mean_rgb[1] + y * 7 // h - 3, mean_rgb[2] + (x + y) * 7 // (w + h) - 3)
else:
    pixel = lambda x, y: (x * 255 // w, y * 255 // h, (x + y) % 256)
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in pixel(x, y)) for y in range(h))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
with open(path, "wb") as out:
    out.write(png)
