#!/usr/bin/env python3
"""Builds tests/corpus/files/huaian-city-2024.ofd: the real Huai'an 2024 PDF's glyphs as an OFD.

Why. No real OFD of an annual report could be found in public repositories, and no OFD writer
runs here, so the OFD fixture is made from a real report's PDF: every character the PDF draws is
written, where the PDF draws it, into an OFD laid out as GB/T 33190 describes (the structure real
writers such as Suwell's and the tax office's produce, seen in public OFDs):

  OFD.xml                          DocBody: DocInfo, DocRoot Doc_0/Document.xml
  Doc_0/Document.xml               CommonData (MaxUnitID, PageArea/PhysicalBox in mm, PublicRes)
                                   and Pages/Page@BaseLoc Pages/Page_N/Content.xml
  Doc_0/PublicRes.xml              the fonts (name and family, no embedded font file)
  Doc_0/Pages/Page_N/Content.xml   one Layer of TextObjects

A TextObject is a run of characters the PDF draws one after another in one font and size on one
baseline with no gap wider than half an em: its Boundary (x y w h, mm, y downwards) encloses the
run, Size is the font size in mm, and one TextCode gives the first character's baseline (X, Y,
relative to the Boundary) and the step to each next character (DeltaX, with `g N d` for N equal
steps, as real writers compress them). Table cells, far apart, come out as separate objects.

What it reads. ../shared/corpus/files/huaian-city-2024.pdf through pdfplumber (pdfminer.six), which
gives each character's text, font, size and text matrix (whose translation is the baseline origin).

It also writes tests/corpus/files/expected/huaian-city-2024-ofd.json: the hand-checked expected
reading of the same PDF (expected/huaian-city-2024-pdf.json), whose every fact the OFD prints
since it carries every character of the PDF, with `file` pointing at the OFD.

Rerun from the repository root (pdfplumber is not in the standard library):

    python3 -m venv /tmp/ofd-venv && /tmp/ofd-venv/bin/pip install pdfplumber==0.11.11
    /tmp/ofd-venv/bin/python scripts/make-ofd-fixture.py

The output is deterministic (fixed zip timestamps, fixed DocID).
"""
import json
import os
import re
import sys
import zipfile
from xml.sax.saxutils import escape, quoteattr

import pdfplumber

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PDF = os.path.join(ROOT, "../shared/corpus/files/huaian-city-2024.pdf")
OUT = os.path.join(ROOT, "tests/corpus/files/huaian-city-2024.ofd")
EXPECTED_IN = os.path.join(ROOT, "tests/corpus/files/expected/huaian-city-2024-pdf.json")
EXPECTED_OUT = os.path.join(ROOT, "tests/corpus/files/expected/huaian-city-2024-ofd.json")
TITLE = "淮安市人民政府2024年政府信息公开工作年度报告"
NS = "http://www.ofdspec.org/2016"
MM = 25.4 / 72.0
STAMP = (2025, 2, 25, 10, 3, 24)


def mm(v):
    """Points to millimetres, as OFD writers print them (4 decimals, no trailing zeros)."""
    s = "%.4f" % (v * MM)
    s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def deltas(steps):
    """DeltaX with runs of equal steps as `g N d`."""
    out = []
    i = 0
    while i < len(steps):
        j = i
        while j + 1 < len(steps) and steps[j + 1] == steps[i]:
            j += 1
        n = j - i + 1
        if n >= 3:
            out.append("g %d %s" % (n, steps[i]))
        else:
            out.extend([steps[i]] * n)
        i = j + 1
    return " ".join(out)


def runs(chars):
    """Characters in drawing order grouped into runs of one font, size and baseline."""
    run = []
    for c in chars:
        if not c.get("upright", True) or not c["text"] or not c["text"].strip():
            # A blank ends nothing: the next character's position tells where it is.
            continue
        if run:
            p = run[-1]
            same = (
                c["fontname"] == p["fontname"]
                and abs(c["size"] - p["size"]) < 0.01
                and abs(c["baseline"] - p["baseline"]) < 0.01
                and c["x0"] >= p["x0"]
                and c["x0"] - p["x1"] < 0.5 * c["size"]
            )
            if not same:
                yield run
                run = []
        run.append(c)
    if run:
        yield run


def main():
    pdf = pdfplumber.open(PDF)
    fonts = {}
    unit = [0]

    def next_id():
        unit[0] += 1
        return unit[0]

    pages = []
    for page in pdf.pages:
        height = float(page.height)
        chars = []
        for c in page.chars:
            c = dict(c)
            # The text matrix's translation is the character's origin on its baseline.
            c["baseline"] = height - float(c["matrix"][5])
            chars.append(c)
        objects = []
        for run in runs(chars):
            font = re.sub(r"^[A-Z]{6}\+", "", run[0]["fontname"])
            if font not in fonts:
                fonts[font] = None
            size = run[0]["size"]
            left = min(c["x0"] for c in run)
            right = max(c["x1"] for c in run)
            top = min(c["top"] for c in run)
            bottom = max(c["bottom"] for c in run)
            base = run[0]["baseline"]
            steps = [mm(b["x0"] - a["x0"]) for a, b in zip(run, run[1:])]
            text = "".join(c["text"] for c in run)
            objects.append((font, size, left, top, right - left, bottom - top, run[0]["x0"] - left, base - top, steps, text))
        pages.append((float(page.width), height, objects))

    font_ids = {}
    for name in fonts:
        font_ids[name] = next_id()
    page_xml = []
    for width, height, objects in pages:
        layer = next_id()
        body = []
        for font, size, x, y, w, h, tx, ty, steps, text in objects:
            attrs = 'ID="%d" Boundary="%s %s %s %s" Font="%d" Size="%s"' % (
                next_id(), mm(x), mm(y), mm(w), mm(h), font_ids[font], mm(size))
            code = '<ofd:TextCode X="%s" Y="%s"' % (mm(tx), mm(ty))
            if steps:
                code += ' DeltaX="%s"' % deltas(steps)
            code += ">%s</ofd:TextCode>" % escape(text)
            body.append('<ofd:TextObject %s><ofd:FillColor Value="0 0 0"/>%s</ofd:TextObject>' % (attrs, code))
        page_xml.append(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ofd:Page xmlns:ofd="%s"><ofd:Area><ofd:PhysicalBox>0 0 %s %s</ofd:PhysicalBox></ofd:Area>'
            '<ofd:Content><ofd:Layer ID="%d">%s</ofd:Layer></ofd:Content></ofd:Page>\n'
            % (NS, mm(width), mm(height), layer, "".join(body)))
    page_ids = [next_id() for _ in pages]

    ofd_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ofd:OFD xmlns:ofd="%s" Version="1.2" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
        '<ofd:DocID>6e1f0a9c2b7d4f0e9a51c3d8b2e47f10</ofd:DocID><ofd:Title>%s</ofd:Title>'
        '<ofd:CreationDate>2025-02-25</ofd:CreationDate><ofd:Creator>nianbao scripts/make-ofd-fixture.py</ofd:Creator>'
        '<ofd:CreatorVersion>1.0</ofd:CreatorVersion></ofd:DocInfo>'
        '<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>\n' % (NS, escape(TITLE)))
    first_w, first_h, _ = pages[0]
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ofd:Document xmlns:ofd="%s"><ofd:CommonData><ofd:MaxUnitID>%d</ofd:MaxUnitID>'
        '<ofd:PageArea><ofd:PhysicalBox>0 0 %s %s</ofd:PhysicalBox></ofd:PageArea>'
        '<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData><ofd:Pages>%s</ofd:Pages></ofd:Document>\n'
        % (NS, unit[0], mm(first_w), mm(first_h),
           "".join('<ofd:Page ID="%d" BaseLoc="Pages/Page_%d/Content.xml"/>' % (pid, i) for i, pid in enumerate(page_ids))))
    public_res = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ofd:Res xmlns:ofd="%s" BaseLoc="Res"><ofd:Fonts>%s</ofd:Fonts></ofd:Res>\n'
        % (NS, "".join('<ofd:Font ID="%d" FontName=%s FamilyName=%s/>' % (fid, quoteattr(name), quoteattr(name.split("-")[0]))
                       for name, fid in font_ids.items())))

    entries = [("OFD.xml", ofd_xml), ("Doc_0/Document.xml", document), ("Doc_0/PublicRes.xml", public_res)]
    entries += [("Doc_0/Pages/Page_%d/Content.xml" % i, xml) for i, xml in enumerate(page_xml)]
    with zipfile.ZipFile(OUT, "w") as z:
        for name, text in entries:
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))

    exp = json.load(open(EXPECTED_IN, encoding="utf-8"))
    exp["file"] = "files/huaian-city-2024.ofd"
    exp["note"] = (
        "generated by scripts/make-ofd-fixture.py: every character of files/huaian-city-2024.pdf "
        "(a real report) written where the PDF draws it into a GB/T 33190 OFD; facts as "
        "expected/huaian-city-2024-pdf.json")
    with open(EXPECTED_OUT, "w", encoding="utf-8") as f:
        json.dump(exp, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %s (%d pages, %d characters)" % (OUT, len(pages), sum(len(o[-1]) for p in pages for o in p[2])))


if __name__ == "__main__":
    sys.exit(main())
