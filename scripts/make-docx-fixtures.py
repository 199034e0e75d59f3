#!/usr/bin/env python3
"""Builds DOCX test fixtures: the official blank 2021 template filled with real reports' figures.

What it does. It reads the State Council's blank 2021 annual-report template as Word
(`../shared/corpus/files/blank-template-2021.docx`: tables 二, 三 and 四 as real <w:tbl> tables
with gridSpan/vMerge merges and no numbers) and, for each source report listed in SOURCES below,
writes

  tests/corpus/files/<name>.docx           the template with every numeric cell the source's
                                           expected file gives filled in (one <w:r><w:t>N</w:t></w:r>
                                           in the cell's existing paragraph; merges and properties
                                           kept), and the title 格式模板 replaced by
                                           "<agency><year>年政府信息公开工作年度报告";
  tests/corpus/files/expected/<name>.json  its expected reading, in the schema of
                                           tests/corpus/expected/ (file "files/<name>.docx").

Each cell is mapped to its catalogue path (shared/domain.md) by the row and column labels printed
in the template, never by position: the script exits non-zero naming the cell if a label is not
one it knows, if a table cannot be identified, or if a table does not yield exactly the
catalogue's cells. The template already carries the section headings 一、总体情况 …
六、其他需要报告的事项 before the matching tables; the script checks that each appears exactly
once (and inserts one only if a template lacks it). Cells the source does not give stay empty
and are listed under `absent`. Facts outside the tables (section 一 and 六 narrative figures)
are not written into the document and so are dropped from the expected file. `issues` is empty
unless the placed figures break an arithmetic rule, in which case the source's table issues are
copied.

Inputs. The template comes from ../shared/corpus/files/; the figures come from hand-checked
expected files of real reports in 2021 format (tests/corpus/expected/ and
tests/corpus/real/expected/), see SOURCES.

Rerun (from the repository root, Python 3 standard library only; output is deterministic):

    python3 scripts/make-docx-fixtures.py
"""
import html
import json
import os
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN = os.path.dirname(HERE)
TEMPLATE = os.path.normpath(os.path.join(MAIN, "..", "shared", "corpus", "files",
                                         "blank-template-2021.docx"))
OUT_DIR = os.path.join(MAIN, "tests", "corpus", "files")

# (output name, source expected file relative to the repository root)
SOURCES = [
    ("huaian-city-2024", "tests/corpus/expected/huaian-city-2024-layout.json"),
    ("beijing-chaoyang-district-2022", "tests/corpus/expected/beijing-chaoyang-district-2022.json"),
    ("fujian-pingtan-experimental-zone-2023",
     "tests/corpus/real/expected/fujian-pingtan-experimental-zone-2023.json"),
]

TITLE_PLACEHOLDER = "政府信息公开工作年度报告格式模板"
HEADINGS = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况",
            "六、其他需要报告的事项"]
HEADING_BEFORE_TABLE = {"二": HEADINGS[1], "三": HEADINGS[2], "四": HEADINGS[3]}

# ---- the catalogue (shared/domain.md), keyed by the labels as printed in the template ----------

COLUMNS = ["natural_person", "commercial_enterprise", "research_institution",
           "social_welfare_org", "legal_service_org", "other_org", "total"]

T2_ROWS = {("规章",): "regulations", ("行政规范性文件",): "normative_documents",
           ("行政许可",): "licensing", ("行政处罚",): "penalty", ("行政强制",): "enforcement",
           ("行政事业性收费",): "fees"}
T2_COLS = {"本年制发件数": "issued", "本年废止件数": "repealed", "现行有效件数": "in_force",
           "本年处理决定数量": "decisions", "本年收费金额（单位：万元）": "amount_wan_yuan"}
T2_CELLS = {"regulations": ["issued", "repealed", "in_force"],
            "normative_documents": ["issued", "repealed", "in_force"],
            "licensing": ["decisions"], "penalty": ["decisions"], "enforcement": ["decisions"],
            "fees": ["amount_wan_yuan"]}

R = "三、本年度办理结果"
W3 = "（三）不予公开"
U4 = "（四）无法提供"
N5 = "（五）不予处理"
O6 = "（六）其他处理"
T3_ROWS = {
    ("一、本年新收政府信息公开申请数量",): "new_received",
    ("二、上年结转政府信息公开申请数量",): "carried_over",
    (R, "（一）予以公开"): "disclosed",
    (R, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"): "partially_disclosed",
    (R, W3, "1.属于国家秘密"): "withheld.state_secret",
    (R, W3, "2.其他法律行政法规禁止公开"): "withheld.prohibited_by_law",
    (R, W3, "3.危及“三安全一稳定”"): "withheld.security_stability",
    (R, W3, "4.保护第三方合法权益"): "withheld.third_party_rights",
    (R, W3, "5.属于三类内部事务信息"): "withheld.internal_affairs",
    (R, W3, "6.属于四类过程性信息"): "withheld.process_information",
    (R, W3, "7.属于行政执法案卷"): "withheld.enforcement_case_file",
    (R, W3, "8.属于行政查询事项"): "withheld.administrative_query",
    (R, U4, "1.本机关不掌握相关政府信息"): "unavailable.not_held",
    (R, U4, "2.没有现成信息需要另行制作"): "unavailable.needs_creation",
    (R, U4, "3.补正后申请内容仍不明确"): "unavailable.unclear_after_correction",
    (R, N5, "1.信访举报投诉类申请"): "not_processed.complaint_petition",
    (R, N5, "2.重复申请"): "not_processed.repeated_application",
    (R, N5, "3.要求提供公开出版物"): "not_processed.publication_request",
    (R, N5, "4.无正当理由大量反复申请"): "not_processed.mass_repetitive",
    (R, N5, "5.要求行政机关确认或重新出具已获取信息"): "not_processed.reconfirmation",
    (R, O6, "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"):
        "other_handling.overdue_correction",
    (R, O6, "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"):
        "other_handling.unpaid_fee",
    (R, O6, "3.其他"): "other_handling.other",
    (R, "（七）总计"): "closed_total",
    ("四、结转下年度继续办理",): "carried_forward",
}
ORG = "法人或其他组织"
T3_COLS = {
    ("申请人情况", "自然人"): "natural_person",
    ("申请人情况", ORG, "商业企业"): "commercial_enterprise",
    ("申请人情况", ORG, "科研机构"): "research_institution",
    ("申请人情况", ORG, "社会公益组织"): "social_welfare_org",
    ("申请人情况", ORG, "法律服务机构"): "legal_service_org",
    ("申请人情况", ORG, "其他"): "other_org",
    ("申请人情况", "总计"): "total",
}
DISPOSITION = {"结果维持": "upheld", "结果纠正": "corrected", "其他结果": "other",
               "尚未审结": "pending", "总计": "total"}
T4_GROUPS = {("行政复议",): "review", ("行政诉讼", "未经复议直接起诉"): "litigation_direct",
             ("行政诉讼", "复议后起诉"): "litigation_after_review"}

OUTCOME_ROWS = [v for v in T3_ROWS.values()][2:-2]
TABLE_PREFIXES = ("proactive.", "applications.", "review.", "litigation_direct.",
                  "litigation_after_review.")


def catalogue_cells(kind):
    if kind == "二":
        return {f"proactive.{r}.{c}" for r, cs in T2_CELLS.items() for c in cs}
    if kind == "三":
        return {f"applications.{r}.{c}" for r in T3_ROWS.values() for c in COLUMNS}
    return {f"{g}.{d}" for g in T4_GROUPS.values() for d in DISPOSITION.values()}


def die(msg):
    print(f"make-docx-fixtures: error: {msg}", file=sys.stderr)
    sys.exit(1)


# ---- minimal WordprocessingML navigation on the raw string (keeps every byte we don't edit) --------

def elements(xml, name, start=0, end=None):
    """Spans (start, end) of the outermost w:<name> elements within xml[start:end]."""
    end = len(xml) if end is None else end
    pat = re.compile(r"<w:%s(?=[\s/>])[^>]*?(/?)>|</w:%s>" % (name, name))
    out, depth, s = [], 0, None
    for m in pat.finditer(xml, start, end):
        if m.group(0).startswith("</"):
            depth -= 1
            if depth == 0:
                out.append((s, m.end()))
        elif m.group(1) == "/":
            if depth == 0:
                out.append((m.start(), m.end()))
        else:
            if depth == 0:
                s = m.start()
            depth += 1
    if depth != 0:
        die(f"unbalanced <w:{name}> in document.xml")
    return out


def text_of(fragment):
    """Visible text of a fragment (w:t only; w:br and paragraph ends are dropped)."""
    return "".join(html.unescape(t) for t in re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", fragment))


def norm(s):
    return re.sub(r"\s+", "", s.replace("\u3000", " "))


class Cell:
    def __init__(self, xml, span, col):
        self.span, self.col = span, col
        frag = xml[span[0]:span[1]]
        self.frag = frag
        m = re.search(r"<w:tcPr>.*?</w:tcPr>", frag, re.S)
        pr = m.group(0) if m else ""
        g = re.search(r'<w:gridSpan w:val="(\d+)"', pr)
        self.width = int(g.group(1)) if g else 1
        v = re.search(r'<w:vMerge(?: w:val="(\w+)")?\s*/>', pr)
        self.vmerge = None if not v else (v.group(1) or "continue")
        if self.vmerge not in (None, "restart", "continue"):
            die(f"unexpected vMerge value {self.vmerge!r}")
        # paragraphs joined without separator: 商业|企业 -> 商业企业
        self.text = norm("".join(text_of(frag[a:b]) for a, b in elements(frag, "p")))
        self.blank = self.text == ""

    def covers(self, c):
        return self.col <= c < self.col + self.width


def read_table(xml, span, ti):
    a, b = span
    if re.search(r"<w:tbl[\s>]", xml[a + 1:b]):
        die(f"table {ti}: nested table not supported")
    ngrid = len(re.findall(r"<w:gridCol\b", xml[a:b]))
    rows = []
    for ri, (ra, rb) in enumerate(elements(xml, "tr", a, b)):
        row_xml = xml[ra:rb]
        if re.search(r"<w:grid(Before|After)\b", row_xml):
            die(f"table {ti} row {ri}: gridBefore/gridAfter not supported")
        cells, col = [], 0
        for ca, cb in elements(xml, "tc", ra, rb):
            c = Cell(xml, (ca, cb), col)
            col += c.width
            cells.append(c)
        if col != ngrid:
            die(f"table {ti} row {ri}: cells span {col} grid columns, tblGrid has {ngrid}")
        rows.append(cells)
    # a vMerge continuation shows the text of the cell it continues
    for ri, cells in enumerate(rows):
        for c in cells:
            c.shown = c.text
            if c.vmerge == "continue":
                above = [u for u in rows[ri - 1] if u.col == c.col] if ri else []
                if not above or above[0].width != c.width:
                    die(f"table {ti} row {ri}: vMerge continue with no matching cell above")
                c.shown = above[0].shown
    return rows


def is_value(c):
    return c.blank and c.vmerge != "continue"


def dedupe(parts):
    out = []
    for p in parts:
        if p and (not out or out[-1] != p):
            out.append(p)
    return tuple(out)


def column_label(rows, ri, c):
    """Header cells above grid column c: the nearest block of rows without value cells."""
    r = ri - 1
    while r >= 0 and any(is_value(x) for x in rows[r]):
        r -= 1
    block = []
    while r >= 0 and not any(is_value(x) for x in rows[r]):
        block.insert(0, next(x for x in rows[r] if x.covers(c)).shown)
        r -= 1
    return dedupe(block)


def identify(rows, ti):
    header = {c.shown for row in rows for c in row if not c.blank}
    kinds = []
    if "信息内容" in header:
        kinds.append("二")
    if "申请人情况" in header:
        kinds.append("三")
    if "行政复议" in header and "行政诉讼" in header:
        kinds.append("四")
    if len(kinds) != 1:
        die(f"table {ti}: cannot tell which table it is (labels: {sorted(header)[:8]} ...)")
    return kinds[0]


def path_of(kind, row_label, col_label, where):
    if kind == "二":
        r = T2_ROWS.get(row_label)
        if r is None:
            die(f"{where}: unknown table-二 row label {row_label!r}")
        if not col_label or not col_label[0].startswith("第二十条第"):
            die(f"{where}: unknown table-二 column header {col_label!r}")
        c = T2_COLS.get(col_label[-1])
        if c is None:
            die(f"{where}: unknown table-二 column label {col_label[-1]!r}")
        if c not in T2_CELLS[r]:
            die(f"{where}: column {col_label[-1]!r} is not a catalogue cell of row {row_label[0]!r}")
        return f"proactive.{r}.{c}"
    if kind == "三":
        r = T3_ROWS.get(row_label)
        if r is None:
            die(f"{where}: unknown table-三 row label {' / '.join(row_label)!r}")
        c = T3_COLS.get(col_label)
        if c is None:
            die(f"{where}: unknown table-三 column label {' / '.join(col_label)!r}")
        return f"applications.{r}.{c}"
    if row_label:
        die(f"{where}: table 四 has an unexpected row label {row_label!r}")
    g = T4_GROUPS.get(col_label[:-1])
    d = DISPOSITION.get(col_label[-1]) if col_label else None
    if g is None or d is None:
        die(f"{where}: unknown table-四 column label {' / '.join(col_label)!r}")
    return f"{g}.{d}"


def map_tables(xml):
    """[(kind, table span, {path: cell})] for the template's tables, checked against the catalogue."""
    out = []
    for ti, span in enumerate(elements(xml, "tbl")):
        rows = read_table(xml, span, ti)
        kind = identify(rows, ti)
        cells = {}
        for ri, row in enumerate(rows):
            if not any(is_value(c) for c in row):
                continue
            row_label = dedupe(c.shown for c in row if not is_value(c))
            for c in row:
                if not is_value(c):
                    continue
                where = f"table {kind} (#{ti}) row {ri} grid column {c.col}"
                p = path_of(kind, row_label, column_label(rows, ri, c.col), where)
                if p in cells:
                    die(f"{where}: {p} mapped twice")
                cells[p] = c
        want = catalogue_cells(kind)
        if set(cells) != want:
            die(f"table {kind}: cells {sorted(set(cells) ^ want)} differ from the catalogue")
        out.append((kind, span, cells))
    kinds = [k for k, _, _ in out]
    if kinds != ["二", "三", "四"]:
        die(f"expected tables 二, 三, 四 in that order, found {kinds}")
    return out


# ---- editing ----------------------------------------------------------------------------------

def fmt(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        die(f"not a number: {v!r}")
    return str(v) if isinstance(v, int) else repr(v)


def fill_cell(frag, value):
    """The cell with `value` as the text of its (first) paragraph; whitespace-only runs
    (the template pads some blank cells with U+3000) are replaced, their formatting reused."""
    paras = elements(frag, "p")
    if not paras:
        die("value cell without a paragraph")
    pa, pb = paras[0]
    p = frag[pa:pb]
    rpr = ""
    for ra, rb in reversed(elements(p, "r")):
        run = p[ra:rb]
        if norm(text_of(run)) != "" or re.search(r"<w:(br|tab|drawing|pict|object)\b", run):
            die("value cell already has content")
        m = re.search(r"<w:rPr>.*?</w:rPr>", run, re.S)
        rpr = rpr or (m.group(0) if m else "")
        p = p[:ra] + p[rb:]
    if not rpr:
        m = re.search(r"<w:pPr>.*?(<w:rPr>.*?</w:rPr>).*?</w:pPr>", p, re.S)
        rpr = m.group(1) if m else ""
    run = f"<w:r>{rpr}<w:t>{html.escape(fmt(value), quote=False)}</w:t></w:r>"
    if p.endswith("/>"):  # <w:p .../>
        p = p[:-2] + ">" + run + "</w:p>"
    else:
        p = p[: -len("</w:p>")] + run + "</w:p>"
    return frag[:pa] + p + frag[pb:]


def body_paragraphs(xml, tables):
    """Top-level paragraphs (outside tables): [(span, text)]."""
    inside = lambda a: any(s <= a < e for _, (s, e), _ in tables)
    return [((a, b), text_of(xml[a:b]).strip()) for a, b in elements(xml, "p") if not inside(a)]


def heading_paragraph(text, like):
    m = re.search(r"<w:pPr>.*?</w:pPr>", like, re.S)
    r = re.search(r"<w:r>(<w:rPr>.*?</w:rPr>)", like, re.S)
    return (f"<w:p>{m.group(0) if m else ''}<w:r>{r.group(1) if r else ''}"
            f"<w:t>{html.escape(text, quote=False)}</w:t></w:r></w:p>")


def build(template_xml, src, name):
    xml = template_xml
    tables = map_tables(xml)
    facts = src["facts"]
    edits = []  # (start, end, replacement)
    placed, empty = {}, []
    for kind, _, cells in tables:
        for path, cell in sorted(cells.items()):
            if path in facts:
                edits.append((cell.span[0], cell.span[1], fill_cell(cell.frag, facts[path])))
                placed[path] = facts[path]
            else:
                empty.append(path)
    unplaced = [k for k in facts if k.startswith(TABLE_PREFIXES) and k not in placed]
    if unplaced:
        print(f"  {name}: warning: no template cell for {unplaced}; left out", file=sys.stderr)

    # title and headings
    paras = body_paragraphs(xml, tables)
    title = [s for s, t in paras if t == TITLE_PLACEHOLDER]
    if len(title) != 1:
        die(f"title paragraph {TITLE_PLACEHOLDER!r} found {len(title)} times")
    a, b = title[0]
    p = xml[a:b]
    new_title = f"{src['agency_contains']}{src['year']}年政府信息公开工作年度报告"
    p = p.replace(f"<w:t>{TITLE_PLACEHOLDER}</w:t>", f"<w:t>{html.escape(new_title)}</w:t>", 1)
    if text_of(p) != new_title:
        die("title placeholder is split across runs")
    edits.append((a, b, p))
    for h in HEADINGS:
        n = sum(1 for _, t in paras if norm(t) == norm(h))
        if n > 1:
            die(f"heading {h!r} appears {n} times in the template")
    like = next((xml[s:e] for (s, e), t in paras if norm(t) == norm(HEADINGS[0])), "")
    for kind, (ta, _), _ in tables:
        h = HEADING_BEFORE_TABLE[kind]
        before = [t for (s, _), t in paras if s < ta and t]
        if not before or norm(before[-1]) != norm(h):
            if any(norm(t) == norm(h) for _, t in paras):
                die(f"heading {h!r} is not the last text before table {kind}")
            edits.append((ta, ta, heading_paragraph(h, like)))
    for s, e, rep in sorted(edits, key=lambda x: x[0], reverse=True):
        xml = xml[:s] + rep + xml[e:]
    return xml, placed, sorted(empty), new_title


def rule_failures(f):
    out = []
    g = f.get
    rows = [f"applications.{r}" for r in T3_ROWS.values()]
    for r in rows:
        v = [g(f"{r}.{c}") for c in COLUMNS]
        if None not in v and sum(v[:6]) != v[6]:
            out.append(f"row total {r}")
    for c in COLUMNS:
        parts = [g(f"applications.{r}.{c}") for r in OUTCOME_ROWS]
        closed = g(f"applications.closed_total.{c}")
        if None not in parts and closed is not None and sum(parts) != closed:
            out.append(f"closed total {c}")
        a, b, x, y = (g(f"applications.{k}.{c}") for k in
                      ["new_received", "carried_over", "closed_total", "carried_forward"])
        if None not in (a, b, x, y) and a + b != x + y:
            out.append(f"balance {c}")
    for grp in T4_GROUPS.values():
        v = [g(f"{grp}.{k}") for k in ["upheld", "corrected", "other", "pending", "total"]]
        if None not in v and sum(v[:4]) != v[4]:
            out.append(f"{grp} total")
    return out


def main():
    if len(sys.argv) > 1:
        print(__doc__)
        return 0 if sys.argv[1] in ("-h", "--help") else 2
    with zipfile.ZipFile(TEMPLATE) as z:
        infos = z.infolist()
        blobs = {i.filename: z.read(i.filename) for i in infos}
    template_xml = blobs["word/document.xml"].decode("utf-8")
    os.makedirs(os.path.join(OUT_DIR, "expected"), exist_ok=True)
    for name, rel in SOURCES:
        src_path = os.path.join(MAIN, rel)
        with open(src_path, encoding="utf-8") as fh:
            src = json.load(fh)
        if str(src.get("template")) != "2021":
            die(f"{rel}: not a 2021-format report")
        xml, placed, empty, title = build(template_xml, src, name)

        out_docx = os.path.join(OUT_DIR, f"{name}.docx")
        with zipfile.ZipFile(out_docx, "w", zipfile.ZIP_DEFLATED) as z:
            for i in infos:
                data = xml.encode("utf-8") if i.filename == "word/document.xml" else blobs[i.filename]
                zi = zipfile.ZipInfo(i.filename, date_time=i.date_time)
                zi.compress_type = zipfile.ZIP_STORED if i.filename.endswith("/") else zipfile.ZIP_DEFLATED
                zi.external_attr = i.external_attr
                z.writestr(zi, data)

        fails = rule_failures(placed)
        issues = [x for x in src.get("issues", [])
                  if (x.get("path_prefix", "") + ".").startswith(TABLE_PREFIXES)] if fails else []
        doc = {
            "file": f"files/{name}.docx",
            "agency_contains": src["agency_contains"],
            "year": src["year"],
            "template": src["template"],
            "facts": placed,
            "optional": {},
            "absent": empty,
            "issues": issues,
            "note": (f"generated by scripts/make-docx-fixtures.py: the official blank 2021 template "
                     f"(shared/corpus/files/blank-template-2021.docx) filled with the table figures of "
                     f"{rel}; title {title}; cells listed in absent are left blank in the document"),
        }
        out_json = os.path.join(OUT_DIR, "expected", f"{name}.json")
        with open(out_json, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.write("\n")
        print(f"{os.path.relpath(out_docx, MAIN)}: {len(placed)} figures from {rel}"
              f"{f', {len(empty)} cells blank' if empty else ''}"
              f"{f', rules broken: {fails}' if fails else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
