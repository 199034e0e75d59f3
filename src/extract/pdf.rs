//! PDF to text by glyph positions. PURE: the bytes in, text out.
//!
//! hayro-interpret runs each page's content stream and hands every glyph with its transform
//! (it maps fonts without a ToUnicode table through their predefined CMaps, the iText
//! pattern of Chinese government PDFs). The glyphs become [`Piece`]s and [`layout`] makes
//! lines of tab-separated cells, so a table comes out row by row with its cells in column
//! order, whatever order the producer drew them in.
//!
//! A page whose text is drawn invisibly over an image is a scanner's OCR layer: its text is
//! read, and the document is marked as OCR so that only figures its tables' rules confirm
//! are stated. A page with an image and no text at all is a scan with no layer.

use super::layout::{self, Piece};
use super::{Limits, Note, Unreadable};
use crate::model::finding::Code;
use hayro_interpret::font::GlyphRun;
use hayro_interpret::hayro_syntax::{LoadPdfError, Pdf};
use hayro_interpret::kurbo::{Affine, BezPath, Point, Rect};
use hayro_interpret::{
    interpret_page, BlendMode, ClipPath, Context, Device, DrawMode, DrawProps, Image,
    ImageDrawProps, InterpreterCache, InterpreterSettings, SoftMask,
};

/// What one PDF gave.
#[derive(Debug, Default)]
pub struct PdfText {
    /// The text of each page read (a scanned page's is empty).
    pub page_texts: Vec<String>,
    /// The text is a scanner's invisible OCR layer (on at least one page).
    pub ocr_layer: bool,
    /// Pages (0-based) whose text is such a layer over a page image.
    pub layer_pages: Vec<usize>,
    /// Pages (0-based) that hold an image and no text: scans without a text layer.
    pub scanned_pages: Vec<usize>,
    pub pages: usize,
    pub notes: Vec<Note>,
}

/// Collects the glyphs of one page.
struct Glyphs {
    pieces: Vec<Piece>,
    /// Glyphs drawn in invisible mode (render mode 3).
    invisible: usize,
    /// Glyphs without a Unicode value.
    unmapped: usize,
    images: usize,
    /// Glyphs the page may still take before the document's budget is spent.
    budget: usize,
}

impl Device<'_> for Glyphs {
    fn draw_path(&mut self, _: &BezPath, _: DrawProps<'_>, _: &DrawMode) {}
    fn push_clip_path(&mut self, _: &ClipPath) {}
    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'_>>, _: BlendMode) {}
    fn draw_glyph_run(&mut self, run: &GlyphRun<'_, '_>, props: DrawProps<'_>, mode: &DrawMode) {
        let first = self.pieces.len();
        for g in run.glyphs() {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let t = props.transform * g.transform();
            let [a, b, c, d, _, _] = t.as_coeffs();
            // Glyph space is 1/1000 em; an upright glyph has no shear or rotation.
            let size = (d.abs() * 1000.0) as f32;
            if b.abs() > 1e-6 || c.abs() > 1e-6 || a <= 0.0 || d == 0.0 {
                continue;
            }
            let origin = t * Point::ZERO;
            let text = match g.as_unicode() {
                Some(hayro_interpret::hayro_cmap::BfString::Char(ch)) => ch.to_string(),
                Some(hayro_interpret::hayro_cmap::BfString::String(s)) => s,
                None => {
                    self.unmapped += 1;
                    // Never a digit: an unreadable glyph must not make a number.
                    String::from('\u{FFFD}')
                }
            };
            if matches!(mode, DrawMode::Invisible) {
                self.invisible += 1;
            }
            self.pieces.push(Piece {
                text,
                x0: origin.x as f32,
                x1: origin.x as f32,
                y: origin.y as f32,
                size,
            });
        }
        advances(&mut self.pieces[first..]);
    }
    fn draw_image(&mut self, _: Image<'_, '_>, _: ImageDrawProps<'_>) {
        self.images += 1;
    }
    fn pop_clip(&mut self) {}
    fn pop_transparency_group(&mut self) {}
}

/// Sets each glyph's right edge: the next glyph of the same run on the same baseline, when
/// it lies within an em (the glyph's advance: the font's own widths, full-width digits
/// included); otherwise the advance of the glyph before it in the run when of the same
/// width class, else half an em for ASCII and a whole em for the rest.
fn advances(run: &mut [Piece]) {
    let mut last: Option<(bool, f32)> = None;
    for i in 0..run.len() {
        let half = run[i].text.is_ascii();
        let size = run[i].size;
        let measured = run.get(i + 1).and_then(|next| {
            let dx = next.x0 - run[i].x0;
            let same_line = (next.y - run[i].y).abs() < 0.1 * size;
            (same_line && dx > 0.0 && dx <= 1.1 * size).then_some(dx)
        });
        let width = match (measured, last) {
            (Some(w), _) => w,
            (None, Some((class, w))) if class == half => w,
            _ if half => size * 0.5,
            _ => size,
        };
        if measured.is_some() {
            last = Some((half, width));
        }
        run[i].x1 = run[i].x0 + width;
    }
}

/// Whether the file ends as every complete PDF does: `%%EOF` among its last bytes (after
/// trailing blanks and NULs some servers pad with).
fn ends_like_pdf(bytes: &[u8]) -> bool {
    const TAIL: usize = 1024;
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\r' | b'\n' | b'\t' | 0))
        .map_or(0, |i| i + 1);
    let tail = &bytes[end.saturating_sub(TAIL)..end];
    memchr::memmem::rfind(tail, b"%%EOF").is_some()
}

/// The text of a PDF, page by page.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<PdfText, Unreadable> {
    if !ends_like_pdf(bytes) {
        // hayro repairs a cut file and reads what it can, and a stream cut in the middle
        // reads as garbage glyphs; a download that stopped early is better fetched again.
        return Err(Unreadable::new(
            "PDF 文件不完整（结尾没有 %%EOF），可能是下载中断：请重新下载后上传",
        ));
    }
    let pdf = Pdf::new(bytes.to_vec()).map_err(|e| match e {
        LoadPdfError::Decryption(_) => Unreadable::new("PDF 已加密，无法读取其内容"),
        LoadPdfError::Invalid => Unreadable::new("PDF 文件已损坏或不是有效的 PDF"),
    })?;
    let pages = pdf.pages();
    if pages.len() > limits.max_pages {
        return Err(Unreadable::new(format!(
            "PDF 有 {} 页，超过每份文件 {} 页的上限",
            pages.len(),
            limits.max_pages
        )));
    }
    let cache = InterpreterCache::new();
    let mut out = PdfText {
        pages: pages.len(),
        ..PdfText::default()
    };
    let mut budget = limits.max_glyphs;
    let mut unmapped = 0;
    let mut glyphs_total = 0;
    for (index, page) in pages.iter().enumerate() {
        let initial = Affine::new(page.initial_transform(true).as_coeffs());
        let (w, h) = page.render_dimensions();
        let mut ctx = Context::new(
            initial,
            Rect::new(0.0, 0.0, f64::from(w), f64::from(h)),
            &cache,
            pdf.xref(),
            InterpreterSettings::default(),
        );
        let mut device = Glyphs {
            pieces: Vec::new(),
            invisible: 0,
            unmapped: 0,
            images: 0,
            budget,
        };
        interpret_page(page, &mut ctx, &mut device);
        budget = device.budget;
        unmapped += device.unmapped;
        glyphs_total += device.pieces.len();
        if device.pieces.is_empty() && device.images > 0 {
            out.scanned_pages.push(index);
        }
        if device.invisible * 2 > device.pieces.len() && device.images > 0 {
            out.ocr_layer = true;
            out.layer_pages.push(index);
        }
        let mut text = String::new();
        layout::page_text(device.pieces, &mut text);
        out.page_texts.push(text);
        if budget == 0 {
            out.notes.push(Note {
                code: Code::RowMissing,
                message: format!(
                    "PDF 的字符超过每份文件 {} 个的上限，第 {} 页之后未读",
                    limits.max_glyphs,
                    index + 1
                ),
            });
            break;
        }
    }
    if unmapped > 0 {
        out.notes.push(Note {
            code: Code::EncodingErrors,
            message: format!(
                "PDF 中有 {unmapped} 个字符（共 {glyphs_total} 个）的字体没有 Unicode 映射，无法识别，已替换为 �"
            ),
        });
    }
    Ok(out)
}
