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
//! scanner's OCR layer, marked as such.

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

    /// The pieces of one text code; `cursor` is where the previous code ended (a code
    /// without X or Y goes on from there).
    fn place(&self, code: &TextCode, cursor: &mut (f32, f32), drawn: &mut Drawn) {
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
        let mut x = code.x.unwrap_or(cursor.0);
        let mut y = code.y.unwrap_or(cursor.1);
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
        *cursor = (x, y);
    }
}

/// The characters of one content stream as pieces, in page millimetres.
fn pieces(xml: &[u8], name: &str) -> Result<Drawn, Unreadable> {
    let mut drawn = Drawn::default();
    let mut object: Option<TextObject> = None;
    let mut code: Option<TextCode> = None;
    let mut cursor = (0.0f32, 0.0f32);
    walk(xml, name, |event, _| {
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                b"TextObject" => {
                    object = TextObject::from(e);
                    cursor = (0.0, 0.0);
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
                        o.place(&c, &mut cursor, &mut drawn);
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
