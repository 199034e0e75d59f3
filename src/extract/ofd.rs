//! OFD (GB/T 33190, China's fixed-layout format) to text by glyph positions. PURE.
//!
//! An OFD is a zip: `OFD.xml` names each document's root (`DocBody/DocRoot`, e.g.
//! `Doc_0/Document.xml`), which lists the pages in order (`Pages/Page@BaseLoc`, relative to
//! the document's folder, or to the package when it starts with `/`) and the template pages
//! they draw on. A page's content holds layers of `TextObject`s: a `Boundary` (x y w h, in
//! millimetres, y downwards), a font `Size`, an optional `CTM`, and `TextCode`s whose `X`/`Y`
//! place the first character's baseline in the object and whose `DeltaX`/`DeltaY` step to
//! each next one (`g N d` repeats `d` N times). Every character becomes a [`Piece`] and
//! [`layout`] makes lines of tab-separated cells, as for a PDF's glyphs.
//!
//! Entries are read within [`Limits::max_unzipped`] ([`zipped`](super::zipped)); pages
//! beyond [`Limits::max_pages`] refuse the file; characters stop at [`Limits::max_glyphs`]
//! with a note. A page whose content is missing or broken is left unread with a note; a path
//! that climbs out of the package is no path. Text drawn unfilled over an image is a
//! scanner's OCR layer, marked as such; an OFD of images and no text is a scan, which is
//! [`Unreadable`] (its images are not sent to OCR).

use super::layout::{self, Piece};
use super::zipped::Zip;
use super::{Limits, Note, Unreadable};
use crate::model::finding::Code;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashMap;
use std::io::Cursor;

/// What one OFD gave.
#[derive(Debug, Default)]
pub struct OfdText {
    /// The text of each page read, in document order.
    pub page_texts: Vec<String>,
    /// Some page's text is a scanner's OCR layer (unfilled text over an image).
    pub ocr_layer: bool,
    pub notes: Vec<Note>,
}

/// Elements nested deeper than this are a hostile file, not a page.
const MAX_DEPTH: usize = 256;

/// Whether `bytes` are a zip holding `OFD.xml` at its root.
pub fn is_ofd(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(Cursor::new(bytes))
        .map(|a| a.file_names().any(|n| n.eq_ignore_ascii_case("OFD.xml")))
        .unwrap_or(false)
}

/// The text of an OFD, page by page.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<OfdText, Unreadable> {
    let mut zip = Zip::open(bytes, "OFD 文件", limits)?;
    let entry = read_xml(&mut zip, "OFD.xml")?
        .ok_or_else(|| Unreadable::new("OFD 文件缺少 OFD.xml，不是有效的 OFD 文件"))?;
    let roots = doc_roots(&entry)?;
    if roots.is_empty() {
        return Err(Unreadable::new(
            "OFD 文件的 OFD.xml 没有指明文档（DocRoot），无法读取",
        ));
    }
    let mut docs = Vec::new();
    for root in roots {
        let path = resolve("", &root).ok_or_else(|| bad_path(&root))?;
        let xml = read_xml(&mut zip, &path)?
            .ok_or_else(|| Unreadable::new(format!("OFD 文件缺少文档 {path}")))?;
        let folder = path.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned();
        docs.push(document(&xml, &folder, &path)?);
    }
    let pages: usize = docs.iter().map(|d| d.pages.len()).sum();
    if pages > limits.max_pages {
        return Err(Unreadable::new(format!(
            "OFD 有 {pages} 页，超过每份文件 {} 页的上限",
            limits.max_pages
        )));
    }
    let mut out = OfdText::default();
    let mut images = 0;
    let mut budget = limits.max_glyphs;
    let mut missing = Vec::new();
    let mut number = 0;
    'docs: for doc in &docs {
        let mut templates: HashMap<String, Drawn> = HashMap::new();
        for page in &doc.pages {
            number += 1;
            let xml = match page {
                Some(loc) => read_xml(&mut zip, loc)?.map(|xml| (loc, xml)),
                None => None,
            };
            let Some((loc, xml)) = xml else {
                missing.push(number);
                out.page_texts.push(String::new());
                continue;
            };
            let mut drawn = Drawn::default();
            for id in template_ids(&xml, loc) {
                if !templates.contains_key(&id) {
                    let loaded = match doc.templates.get(&id) {
                        Some(t) => match read_xml(&mut zip, t)? {
                            Some(txml) => pieces(&txml, t).unwrap_or_default(),
                            None => Drawn::default(),
                        },
                        None => Drawn::default(),
                    };
                    templates.insert(id.clone(), loaded);
                }
                if let Some(t) = templates.get(&id) {
                    drawn.extend(t);
                }
            }
            match pieces(&xml, loc) {
                Ok(page) => drawn.extend(&page),
                Err(_) => missing.push(number),
            }
            if drawn.pieces.len() > budget {
                drawn.pieces.truncate(budget);
                budget = 0;
            } else {
                budget -= drawn.pieces.len();
            }
            images += drawn.images;
            if drawn.images > 0 && drawn.unfilled * 2 > drawn.pieces.len() {
                out.ocr_layer = true;
            }
            let mut text = String::new();
            layout::page_text(drawn.pieces, &mut text);
            out.page_texts.push(text);
            if budget == 0 {
                out.notes.push(Note {
                    code: Code::RowMissing,
                    message: format!(
                        "OFD 的字符超过每份文件 {} 个的上限，第 {number} 页之后未读",
                        limits.max_glyphs
                    ),
                });
                break 'docs;
            }
        }
    }
    if images > 0 && out.page_texts.iter().all(|t| t.trim().is_empty()) {
        return Err(Unreadable::new(
            "OFD 文件只有扫描图像、没有文字层，无法读取（OFD 中的图像暂不做 OCR）：请上传有文字的版本",
        ));
    }
    if !missing.is_empty() {
        missing.sort_unstable();
        missing.dedup();
        let list: Vec<String> = missing.iter().map(usize::to_string).collect();
        out.notes.push(Note {
            code: Code::RowMissing,
            message: format!("OFD 第 {} 页的内容缺失或无法读取，未读", list.join("、")),
        });
    }
    Ok(out)
}

fn bad_path(loc: &str) -> Unreadable {
    Unreadable::new(format!("OFD 文件中的路径 {loc} 指向文件包之外，已拒绝"))
}

/// An entry that must be XML, by its path in the package (ASCII case aside).
fn read_xml(zip: &mut Zip<'_>, path: &str) -> Result<Option<Vec<u8>>, Unreadable> {
    match zip.find(path) {
        Some(name) => zip.read(&name),
        None => Ok(None),
    }
}

/// `loc` resolved against the folder `base` (`/`-separated, no leading slash); a `loc` that
/// starts with `/` is from the package root. `None` when it climbs out of the package.
fn resolve(base: &str, loc: &str) -> Option<String> {
    let loc = loc.trim().replace('\\', "/");
    let mut parts: Vec<&str> = Vec::new();
    if !loc.starts_with('/') {
        parts.extend(base.split('/').filter(|s| !s.is_empty()));
    }
    for seg in loc.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn xml_error(name: &str, reader: &Reader<&[u8]>, e: impl std::fmt::Display) -> Unreadable {
    Unreadable::new(format!(
        "OFD 文件的 {name} XML 有误（第 {} 字节）：{e}",
        reader.buffer_position()
    ))
}

/// Reads `xml` event by event, handing each to `f` with the depth of the element; refuses
/// nesting deeper than [`MAX_DEPTH`].
fn walk(
    xml: &[u8],
    name: &str,
    mut f: impl FnMut(&Event<'_>, usize) -> Result<(), Unreadable>,
) -> Result<(), Unreadable> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(name, &reader, e))?;
        match &event {
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(xml_error(name, &reader, "元素嵌套过深"));
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
        f(&event, depth)?;
        buf.clear();
    }
    Ok(())
}

/// The text inside the elements whose local name is `tag`, in order.
fn texts_of(xml: &[u8], name: &str, tag: &[u8]) -> Result<Vec<String>, Unreadable> {
    let mut out = Vec::new();
    let mut inside = false;
    walk(xml, name, |event, _| {
        match event {
            Event::Start(e) if e.local_name().as_ref() == tag => {
                inside = true;
                out.push(String::new());
            }
            Event::End(e) if e.local_name().as_ref() == tag => inside = false,
            Event::Text(t) if inside => {
                if let (Some(last), Ok(text)) = (out.last_mut(), t.decode()) {
                    last.push_str(&text);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(out)
}

/// The DocRoot of each DocBody of OFD.xml.
fn doc_roots(xml: &[u8]) -> Result<Vec<String>, Unreadable> {
    let roots = texts_of(xml, "OFD.xml", b"DocRoot")?;
    Ok(roots
        .into_iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect())
}

/// One document: its pages' content paths (`None` for a page without one) and its template
/// pages by ID.
struct Doc {
    pages: Vec<Option<String>>,
    templates: HashMap<String, String>,
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

fn document(xml: &[u8], folder: &str, name: &str) -> Result<Doc, Unreadable> {
    let mut doc = Doc {
        pages: Vec::new(),
        templates: HashMap::new(),
    };
    walk(xml, name, |event, _| {
        if let Event::Start(e) | Event::Empty(e) = event {
            match e.local_name().as_ref() {
                b"Page" => {
                    let loc = attr(e, b"BaseLoc").and_then(|l| resolve(folder, &l));
                    doc.pages.push(loc);
                }
                b"TemplatePage" => {
                    if let (Some(id), Some(loc)) = (
                        attr(e, b"ID"),
                        attr(e, b"BaseLoc").and_then(|l| resolve(folder, &l)),
                    ) {
                        doc.templates.insert(id.trim().to_owned(), loc);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    })?;
    Ok(doc)
}

/// The template IDs a page draws on, in order (none when its XML is broken: the page's
/// own reading then says so).
fn template_ids(xml: &[u8], name: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let scan = walk(xml, name, |event, _| {
        if let Event::Start(e) | Event::Empty(e) = event {
            if e.local_name().as_ref() == b"Template" {
                ids.extend(attr(e, b"TemplateID").map(|id| id.trim().to_owned()));
            }
        }
        Ok(())
    });
    if scan.is_err() {
        ids.clear();
    }
    ids
}

/// What one content stream (a page or a template page) draws.
#[derive(Default)]
struct Drawn {
    pieces: Vec<Piece>,
    /// Characters drawn without fill (`Fill="false"`): invisible text.
    unfilled: usize,
    images: usize,
}

impl Drawn {
    fn extend(&mut self, other: &Drawn) {
        self.pieces.extend(other.pieces.iter().cloned());
        self.unfilled += other.unfilled;
        self.images += other.images;
    }
}

/// A text object being read.
struct TextObject {
    /// Boundary origin.
    x: f32,
    y: f32,
    size: f32,
    /// CTM a b c d e f.
    ctm: [f32; 6],
    filled: bool,
}

/// A text code being read.
struct TextCode {
    x: Option<f32>,
    y: Option<f32>,
    delta_x: Option<String>,
    delta_y: Option<String>,
    text: String,
}

/// Numbers separated by blanks (or commas); `None` if any is not a finite number.
fn numbers(s: &str) -> Option<Vec<f32>> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f32>().ok().filter(|v| v.is_finite()))
        .collect()
}

/// The first `need` steps of a DeltaX/DeltaY list: numbers, with `g N d` standing for `d`
/// N times. Fewer when the list is shorter; `None` when it is not such a list.
fn deltas(s: &str, need: usize) -> Option<Vec<f32>> {
    let mut out = Vec::with_capacity(need.min(4096));
    let mut tokens = s.split_whitespace();
    while out.len() < need {
        let Some(t) = tokens.next() else { break };
        if t == "g" {
            let count: usize = tokens.next()?.parse().ok()?;
            let value: f32 = tokens
                .next()?
                .parse()
                .ok()
                .filter(|v: &f32| v.is_finite())?;
            let take = count.min(need - out.len());
            out.extend(std::iter::repeat_n(value, take));
        } else {
            out.push(t.parse().ok().filter(|v: &f32| v.is_finite())?);
        }
    }
    Some(out)
}

/// A character's advance when the list gives none: half an em for ASCII, an em for the rest.
fn estimate(c: char, size: f32) -> f32 {
    if c.is_ascii() {
        size * 0.5
    } else {
        size
    }
}

impl TextObject {
    fn from(e: &BytesStart<'_>) -> Option<TextObject> {
        let b = numbers(&attr(e, b"Boundary")?)?;
        let size = attr(e, b"Size")
            .and_then(|s| s.trim().parse::<f32>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)?;
        let ctm = match attr(e, b"CTM") {
            Some(c) => {
                let v = numbers(&c)?;
                <[f32; 6]>::try_from(v.as_slice()).ok()?
            }
            None => [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        };
        Some(TextObject {
            x: *b.first()?,
            y: *b.get(1)?,
            size,
            ctm,
            filled: attr(e, b"Fill").is_none_or(|f| f.trim() != "false"),
        })
    }

    /// The pieces of one text code; `last` is the previous code's X and Y, which a code
    /// without X or Y takes (GB/T 33190 table 46).
    fn place(&self, code: &TextCode, last: &mut (f32, f32), drawn: &mut Drawn) {
        let [a, b, c, d, e, f] = self.ctm;
        // Upright text only, as for a PDF's glyphs: a rotated or mirrored object is not a
        // table's cell.
        if b.abs() > 1e-4 || c.abs() > 1e-4 || a <= 0.0 || d <= 0.0 {
            return;
        }
        let chars: Vec<char> = code.text.chars().collect();
        let steps = chars.len().saturating_sub(1);
        let dx = code
            .delta_x
            .as_deref()
            .map_or(Some(Vec::new()), |s| deltas(s, steps));
        let dy = code
            .delta_y
            .as_deref()
            .map_or(Some(Vec::new()), |s| deltas(s, steps));
        let (Some(dx), Some(dy)) = (dx, dy) else {
            return;
        };
        let (x_start, y_start) = (code.x.unwrap_or(last.0), code.y.unwrap_or(last.1));
        *last = (x_start, y_start);
        let (mut x, mut y) = (x_start, y_start);
        let size = self.size * d;
        for (i, &ch) in chars.iter().enumerate() {
            let guess = estimate(ch, self.size);
            let step = dx.get(i).copied();
            // The glyph's width: its step to the next character when that is within an em
            // (letter-spaced text steps wider than its glyphs).
            let width = match step {
                Some(s) if s > 0.0 && s <= guess * 1.1 => s,
                _ => guess,
            };
            let x0 = self.x + a * x + e;
            drawn.pieces.push(Piece {
                text: ch.to_string(),
                x0,
                x1: x0 + a * width,
                y: self.y + d * y + f,
                size,
            });
            if !self.filled {
                drawn.unfilled += 1;
            }
            x += step.unwrap_or(guess);
            y += dy.get(i).copied().unwrap_or(0.0);
        }
    }
}

/// The characters of one content stream as pieces, in page millimetres.
fn pieces(xml: &[u8], name: &str) -> Result<Drawn, Unreadable> {
    let mut drawn = Drawn::default();
    let mut object: Option<TextObject> = None;
    let mut code: Option<TextCode> = None;
    let mut last = (0.0f32, 0.0f32);
    walk(xml, name, |event, _| {
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"TextObject" => {
                    object = TextObject::from(e);
                    last = (0.0, 0.0);
                }
                b"TextCode" if object.is_some() => {
                    let num = |k: &[u8]| attr(e, k).and_then(|v| v.trim().parse::<f32>().ok());
                    code = Some(TextCode {
                        x: num(b"X"),
                        y: num(b"Y"),
                        delta_x: attr(e, b"DeltaX"),
                        delta_y: attr(e, b"DeltaY"),
                        text: String::new(),
                    });
                    if matches!(event, Event::Empty(_)) {
                        code = None;
                    }
                }
                b"ImageObject" => drawn.images += 1,
                _ => {}
            },
            Event::Text(t) => {
                if let Some(code) = code.as_mut() {
                    let text = t
                        .decode()
                        .map_err(|e| Unreadable::new(format!("OFD 文件的文字编码有误：{e}")))?;
                    code.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(code) = code.as_mut() {
                    code.text.push_str(&String::from_utf8_lossy(t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(code) = code.as_mut() {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => match &**r {
                            b"amp" => Some('&'),
                            b"lt" => Some('<'),
                            b"gt" => Some('>'),
                            b"quot" => Some('"'),
                            b"apos" => Some('\''),
                            _ => None,
                        },
                    };
                    code.text.extend(c);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"TextCode" => {
                    if let (Some(o), Some(c)) = (object.as_ref(), code.take()) {
                        o.place(&c, &mut last, &mut drawn);
                    }
                }
                b"TextObject" => object = None,
                _ => {}
            },
            _ => {}
        }
        Ok(())
    })?;
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::zipped::tests::{zero_bomb, zip_of};

    const OFD_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.2" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>x</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;

    fn document(pages: &[&str]) -> String {
        let pages: String = pages
            .iter()
            .enumerate()
            .map(|(i, loc)| format!(r#"<ofd:Page ID="{}" BaseLoc="{loc}"/>"#, i + 10))
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData><ofd:MaxUnitID>99</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea><ofd:TemplatePage ID="5" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData><ofd:Pages>{pages}</ofd:Pages></ofd:Document>"#
        )
    }

    fn page(objects: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="1">{objects}</ofd:Layer></ofd:Content></ofd:Page>"#
        )
    }

    fn text(id: u32, boundary: &str, size: f32, code: &str) -> String {
        format!(
            r#"<ofd:TextObject ID="{id}" Boundary="{boundary}" Font="3" Size="{size}"><ofd:FillColor Value="0 0 0"/>{code}</ofd:TextObject>"#
        )
    }

    fn ofd(entries: &[(&str, String)]) -> Vec<u8> {
        let mut all: Vec<(&str, &[u8])> = vec![("OFD.xml", OFD_XML.as_bytes())];
        all.extend(entries.iter().map(|(n, s)| (*n, s.as_bytes())));
        zip_of(&all)
    }

    fn read(bytes: &[u8]) -> OfdText {
        extract(bytes, &Limits::default()).unwrap()
    }

    #[test]
    fn two_text_objects_in_one_row_are_two_tab_separated_cells() {
        let row = text(
            1,
            "20 50 30 6",
            4.2333,
            r#"<ofd:TextCode X="0" Y="4.5" DeltaX="4.2333 4.2333 4.2333">行政复议</ofd:TextCode>"#,
        ) + &text(
            2,
            "120 50.4 10 6",
            4.2333,
            r#"<ofd:TextCode X="1" Y="4.5" DeltaX="2.1167">72</ofd:TextCode>"#,
        ) + &text(
            3,
            "20 60 30 6",
            4.2333,
            r#"<ofd:TextCode X="0" Y="4.5">总计</ofd:TextCode>"#,
        );
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&["Pages/Page_0/Content.xml"]),
            ),
            ("Doc_0/Pages/Page_0/Content.xml", page(&row)),
        ]);
        assert!(is_ofd(&bytes));
        assert_eq!(super::super::detect(&bytes, None), super::super::Kind::Ofd);
        let got = read(&bytes);
        assert_eq!(got.page_texts, ["行政复议\t72\n总计\n"]);
        assert!(got.notes.is_empty() && !got.ocr_layer);
    }

    #[test]
    fn delta_x_repeats_with_g_and_a_code_without_x_takes_the_last_x() {
        assert_eq!(
            deltas("g 3 2.5 1 g 2 -1", 10),
            Some(vec![2.5, 2.5, 2.5, 1.0, -1.0, -1.0])
        );
        assert_eq!(deltas("g 1000000000000 1", 3), Some(vec![1.0; 3]));
        assert_eq!(deltas("1 x 2", 3), None);
        assert_eq!(deltas("g 2", 3), None);
        assert_eq!(deltas("NaN", 3), None);
        // "3050" set as g-repeated digits, then a second code on the next line that takes
        // the first's X; a second object far to the right is another cell.
        let objects = text(
            1,
            "10 10 80 6",
            4.0,
            r#"<ofd:TextCode X="0" Y="4" DeltaX="g 3 2">3050</ofd:TextCode><ofd:TextCode Y="12" DeltaX="4">合计</ofd:TextCode>"#,
        ) + &text(
            2,
            "60 10 20 6",
            4.0,
            r#"<ofd:TextCode X="0" Y="4" DeltaX="g 2 2">103</ofd:TextCode>"#,
        );
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&["Pages/Page_0/Content.xml"]),
            ),
            ("Doc_0/Pages/Page_0/Content.xml", page(&objects)),
        ]);
        assert_eq!(read(&bytes).page_texts, ["3050\t103\n合计\n"]);
    }

    #[test]
    fn ctm_scales_a_text_object_and_rotated_text_is_left_out() {
        let objects = r#"<ofd:TextObject ID="1" Boundary="10 10 80 10" Size="2" CTM="2 0 0 2 0 0"><ofd:TextCode X="0" Y="2" DeltaX="2">申请</ofd:TextCode></ofd:TextObject><ofd:TextObject ID="2" Boundary="50 10 80 10" Size="4" CTM="0 1 -1 0 0 0"><ofd:TextCode X="0" Y="4">旋转</ofd:TextCode></ofd:TextObject>"#;
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&["Pages/Page_0/Content.xml"]),
            ),
            ("Doc_0/Pages/Page_0/Content.xml", page(objects)),
        ]);
        let got = read(&bytes);
        assert_eq!(got.page_texts, ["申请\n"]);
    }

    #[test]
    fn pages_come_in_document_order_with_templates_and_absolute_paths() {
        let tpl = page(&text(
            1,
            "10 280 50 6",
            4.0,
            r#"<ofd:TextCode X="0" Y="4">页脚</ofd:TextCode>"#,
        ));
        let p = |t: &str| {
            page(&text(
                2,
                "10 20 50 6",
                4.0,
                &format!(r#"<ofd:TextCode X="0" Y="4">{t}</ofd:TextCode>"#),
            ))
            .replace(
                "<ofd:Content>",
                r#"<ofd:Template TemplateID="5" ZOrder="Background"/><ofd:Content>"#,
            )
        };
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&[
                    "Pages/Page_1/Content.xml",
                    "/Doc_0/Pages/Page_0/Content.xml",
                ]),
            ),
            ("Doc_0/Pages/Page_0/Content.xml", p("第二")),
            ("Doc_0/Pages/Page_1/Content.xml", p("第一")),
            ("Doc_0/Tpls/Tpl_0/Content.xml", tpl),
        ]);
        assert_eq!(read(&bytes).page_texts, ["第一\n页脚\n", "第二\n页脚\n"]);
    }

    #[test]
    fn missing_escaping_and_broken_pages_are_left_unread_with_a_note() {
        let good = page(&text(
            1,
            "10 10 50 6",
            4.0,
            r#"<ofd:TextCode X="0" Y="4">正文</ofd:TextCode>"#,
        ));
        let deep = page(&format!(
            "{}{}",
            "<a>".repeat(10_000),
            "</a>".repeat(10_000)
        ));
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&[
                    "Pages/Page_0/Content.xml",
                    "../../../etc/passwd",
                    "Pages/Missing/Content.xml",
                    "Pages/Deep/Content.xml",
                    "Pages/Bad/Content.xml",
                ]),
            ),
            ("Doc_0/Pages/Page_0/Content.xml", good),
            ("Doc_0/Pages/Deep/Content.xml", deep),
            (
                "Doc_0/Pages/Bad/Content.xml",
                "<ofd:Page><a></b>".to_owned(),
            ),
        ]);
        let got = read(&bytes);
        assert_eq!(got.page_texts, ["正文\n", "", "", "", ""]);
        assert_eq!(got.notes.len(), 1);
        assert!(
            got.notes[0].message.contains("2、3、4、5"),
            "{:?}",
            got.notes
        );
    }

    #[test]
    fn hostile_attribute_values_are_skipped_not_panicked_on() {
        let huge = "9".repeat(100_000);
        let objects = [
            text(1, "x y z w", 4.0, r#"<ofd:TextCode X="0" Y="4">甲</ofd:TextCode>"#),
            text(2, &huge, 4.0, r#"<ofd:TextCode X="0" Y="4">乙</ofd:TextCode>"#),
            text(3, "1 1 1 1", f32::NAN, r#"<ofd:TextCode X="0" Y="4">丙</ofd:TextCode>"#),
            text(4, "1 1 1 1", 4.0, &format!(r#"<ofd:TextCode X="{huge}" Y="4" DeltaX="g {huge} 1">丁</ofd:TextCode>"#)),
            text(5, "1 40 1 1", 4.0, r#"<ofd:TextCode X="0" Y="4" DeltaX="g 99999999999999999999999 1">戊己</ofd:TextCode>"#),
            r#"<ofd:TextCode X="0" Y="4">庚</ofd:TextCode>"#.to_owned(),
        ]
        .concat();
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&["Pages/Page_0/Content.xml"]),
            ),
            ("Doc_0/Pages/Page_0/Content.xml", page(&objects)),
        ]);
        let got = read(&bytes);
        assert!(!got.page_texts[0].contains('甲') && !got.page_texts[0].contains('庚'));
        assert!(!got.page_texts[0].contains('戊'), "{:?}", got.page_texts);
    }

    #[test]
    fn hostile_packages_are_unreadable() {
        let limits = Limits::default();
        let no_root = zip_of(&[("OFD.xml", b"<ofd:OFD><ofd:DocBody/></ofd:OFD>")]);
        assert!(extract(&no_root, &limits)
            .unwrap_err()
            .reason
            .contains("DocRoot"));
        let outside = zip_of(&[(
            "OFD.xml",
            b"<ofd:OFD><ofd:DocBody><ofd:DocRoot>../x/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )]);
        assert!(extract(&outside, &limits)
            .unwrap_err()
            .reason
            .contains("之外"));
        let missing_doc = ofd(&[]);
        assert!(extract(&missing_doc, &limits)
            .unwrap_err()
            .reason
            .contains("缺少"));
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        let deep = zip_of(&[("OFD.xml", deep.as_bytes())]);
        assert!(extract(&deep, &limits).unwrap_err().reason.contains("嵌套"));
        let not_ofd = zip_of(&[("a.txt", b"x")]);
        assert!(!is_ofd(&not_ofd));
        assert!(extract(&not_ofd, &limits).is_err());
        let good = ofd(&[(
            "Doc_0/Document.xml",
            document(&["Pages/Page_0/Content.xml"]),
        )]);
        for cut in [3, good.len() / 2, good.len() - 5] {
            assert!(extract(&good[..cut], &limits).is_err());
        }
        let many: Vec<String> = (0..20)
            .map(|i| format!("Pages/Page_{i}/Content.xml"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let bytes = ofd(&[("Doc_0/Document.xml", document(&many))]);
        let few = Limits {
            max_pages: 10,
            ..Limits::default()
        };
        assert!(extract(&bytes, &few).unwrap_err().reason.contains("页"));
    }

    #[test]
    fn an_ofd_whose_page_inflates_to_a_gibibyte_is_refused_quickly() {
        let started = std::time::Instant::now();
        let doc = document(&["Pages/Page_0/Content.xml"]);
        let others: Vec<(&str, &[u8])> = vec![
            ("OFD.xml", OFD_XML.as_bytes()),
            ("Doc_0/Document.xml", doc.as_bytes()),
        ];
        for stated in [1u32 << 30, 1000] {
            let bytes = zero_bomb(&others, "Doc_0/Pages/Page_0/Content.xml", 1 << 30, stated);
            assert!(is_ofd(&bytes));
            let err = extract(&bytes, &Limits::default()).unwrap_err();
            assert!(err.reason.contains("压缩"), "{}", err.reason);
        }
        assert!(started.elapsed().as_secs() < 20);
    }

    #[test]
    fn characters_stop_at_the_budget_with_a_note() {
        let line = |y: u32| {
            text(
                y,
                &format!("10 {y} 80 6"),
                4.0,
                r#"<ofd:TextCode X="0" Y="4">一二三四五</ofd:TextCode>"#,
            )
        };
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&["Pages/Page_0/Content.xml", "Pages/Page_0/Content.xml"]),
            ),
            (
                "Doc_0/Pages/Page_0/Content.xml",
                page(&(line(10) + &line(20))),
            ),
        ]);
        let limits = Limits {
            max_glyphs: 7,
            ..Limits::default()
        };
        let got = extract(&bytes, &limits).unwrap();
        assert_eq!(got.page_texts, ["一二三四五\n一二\n"]);
        assert!(got.notes[0].message.contains("上限"), "{:?}", got.notes);
    }

    #[test]
    fn unfilled_text_over_an_image_is_an_ocr_layer() {
        let objects = r#"<ofd:ImageObject ID="1" Boundary="0 0 210 297" ResourceID="7"/><ofd:TextObject ID="2" Boundary="10 10 50 6" Size="4" Fill="false"><ofd:TextCode X="0" Y="4">扫描</ofd:TextCode></ofd:TextObject>"#;
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&["Pages/Page_0/Content.xml"]),
            ),
            ("Doc_0/Pages/Page_0/Content.xml", page(objects)),
        ]);
        let got = read(&bytes);
        assert!(got.ocr_layer);
        assert_eq!(got.page_texts, ["扫描\n"]);
    }

    #[test]
    fn an_ofd_of_images_only_is_a_scan_and_unreadable() {
        let objects = r#"<ofd:ImageObject ID="1" CTM="210 0 0 297 0 0" Boundary="0 0 210 297" ResourceID="7"/>"#;
        let bytes = ofd(&[
            (
                "Doc_0/Document.xml",
                document(&["Pages/Page_0/Content.xml"]),
            ),
            ("Doc_0/Pages/Page_0/Content.xml", page(objects)),
        ]);
        let err = extract(&bytes, &Limits::default()).unwrap_err();
        assert!(err.reason.contains("扫描"), "{}", err.reason);
    }

    #[test]
    fn paths_resolve_within_the_package() {
        assert_eq!(
            resolve("Doc_0", "Pages/P/Content.xml").as_deref(),
            Some("Doc_0/Pages/P/Content.xml")
        );
        assert_eq!(
            resolve("Doc_0", "/Doc_1/a.xml").as_deref(),
            Some("Doc_1/a.xml")
        );
        assert_eq!(
            resolve("Doc_0", "..\\Doc_1\\.\\a.xml").as_deref(),
            Some("Doc_1/a.xml")
        );
        assert_eq!(resolve("Doc_0", "../../a.xml"), None);
        assert_eq!(resolve("", ""), None);
    }
}
