"""Just enough PDF reading to find the words on WeasyPrint's pages (no PDF library is installed): the
content streams' glyph codes, mapped to text through each font's ToUnicode table."""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"(\d+) 0 obj\s*<<(.*?)>>\s*stream\r?\n(.*?)\r?\nendstream", re.S)


def _streams(data: bytes) -> dict[int, tuple[bytes, bytes]]:
    out: dict[int, tuple[bytes, bytes]] = {}
    for m in _STREAM.finditer(data):
        head, raw = m.group(2), m.group(3)
        if b"FlateDecode" in head:
            try:
                raw = zlib.decompress(raw)
            except zlib.error:
                continue
        out[int(m.group(1))] = (head, raw)
    return out


def _cmap(raw: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", raw, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", raw, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                table[code] = chr(start + i)
    return table


def pdf_text(data: bytes) -> str:
    """Text of every content stream, decoded with each embedded font's map in turn (one line per font)."""
    streams = _streams(data)
    maps = [_cmap(raw) for _head, raw in streams.values() if b"begincmap" in raw]
    hexes: list[bytes] = []
    for _head, raw in streams.values():
        if b"Tf" in raw and (b"Tj" in raw or b"TJ" in raw):
            hexes += re.findall(rb"<([0-9A-Fa-f]+)>", raw)
    lines = []
    for table in maps:
        chars = []
        for h in hexes:
            for i in range(0, len(h) - 3, 4):
                chars.append(table.get(int(h[i : i + 4], 16), ""))
        lines.append("".join(chars))
    return "\n".join(lines)


def pdf_fonts(data: bytes) -> set[str]:
    """Names of the embedded fonts (subset prefix removed), also from compressed object streams."""
    names: set[bytes] = set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", data))
    for _head, raw in _streams(data).values():
        names |= set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", raw))
    return {n.decode().split("+", 1)[-1] for n in names}
