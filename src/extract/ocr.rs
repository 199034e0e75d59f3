//! OCR by the `tesseract` command (Simplified Chinese, `chi_sim`), for images and for the
//! scanned pages of PDFs (their images taken out by poppler's `pdfimages`, or the page rendered by `pdftoppm`). Built with the cargo feature
//! `ocr`; an I/O room: it runs programs and keeps a scratch directory while a PDF is read. The parser never sees it, only the words it gives
//! through [`super::Ocr`].
//!
//! Ruled tables are the hard part of a scan: tesseract reads a table's borders as digits
//! (a `|` beside 37 gives 137). So before recognition the page is made grey, every long dark
//! run (a ruling line: at least 1/25 of the page's shorter side, horizontal or vertical) is
//! painted white with a pixel either side, and the rest is made black and white. Measured on
//! `scanned-page-huaian-2024-p5.png` (200 dpi): without this, tesseract reads no figure row of
//! table 四 at all; with it, "72 64 178 37 3 13 4 8 1 26 12 1 1 6 20" (one cell, 351, lost
//! to a border), and at 1.5× or 2× scale worse than at 1×. Whatever OCR gives is still only a
//! reading: the parser states an OCR'd figure only when its table's rules confirm it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use image::{GrayImage, ImageReader, Luma};

use super::{Ocr, Word};

/// A pixel darker than this may be part of a ruling line.
const LINE_DARK: u8 = 200;
/// A dark run at least this fraction of the page's shorter side is a ruling line.
const LINE_FRACTION: u32 = 25;
/// After the lines are gone: darker than this is ink.
const INK: u8 = 150;
/// The resolution scanned PDF pages are rendered at (the scans tesseract reads best).
const RENDER_DPI: u32 = 200;
/// The largest image taken, in pixels a side and bytes decoded (a 60 cm page at 600 dpi).
const MAX_SIDE: u32 = 15_000;
const MAX_DECODED: u64 = 512 << 20;

/// The tesseract engine, as found on this machine.
#[derive(Debug, Clone)]
pub struct Tesseract {
    /// Per page, at most this long (tesseract takes ~3–10 s a page on one core).
    pub timeout: Duration,
}

impl Tesseract {
    /// Checks that `tesseract` runs and has the `chi_sim` language, and that `pdftoppm` runs.
    pub fn find() -> Result<Self, String> {
        let out = Command::new("tesseract")
            .arg("--list-langs")
            .output()
            .map_err(|e| format!("cannot run tesseract ({e}); install tesseract-ocr"))?;
        let langs = String::from_utf8_lossy(&out.stdout);
        if !langs.lines().any(|l| l.trim() == "chi_sim") {
            return Err("tesseract has no chi_sim language; install tesseract-ocr-chi-sim".into());
        }
        for program in ["pdftoppm", "pdfimages"] {
            Command::new(program)
                .arg("-v")
                .output()
                .map_err(|e| format!("cannot run {program} ({e}); install poppler-utils"))?;
        }
        Ok(Tesseract {
            timeout: Duration::from_secs(120),
        })
    }

    fn words(&self, png: &[u8]) -> Result<Vec<Word>, String> {
        let tsv = run(
            // One thread a page: the server already runs one parse per core.
            Command::new("tesseract")
                .env("OMP_THREAD_LIMIT", "1")
                .args(["stdin", "stdout", "-l", "chi_sim", "--psm", "6", "tsv"]),
            png,
            self.timeout,
        )?;
        Ok(parse_tsv(&String::from_utf8_lossy(&tsv)))
    }
}

impl Ocr for Tesseract {
    fn image(&self, bytes: &[u8]) -> Result<Vec<Word>, String> {
        let page = decode(bytes)?;
        self.words(&encode(&clean(page))?)
    }

    fn pdf_pages(&self, bytes: &[u8], pages: &[usize]) -> Result<Vec<Vec<Word>>, String> {
        let dir = Scratch::new()?;
        let pdf = dir.0.join("in.pdf");
        std::fs::write(&pdf, bytes).map_err(|e| format!("writing a scratch file: {e}"))?;
        pages
            .iter()
            .map(|&index| {
                let png = match self.scan_of(&dir, &pdf, index + 1)? {
                    Some(png) => png,
                    None => self.render(bytes, index + 1)?,
                };
                self.image(&png)
            })
            .collect()
    }
}

impl Tesseract {
    /// The largest image on page `n` (1-based) as the scanner stored it. A scan read at its own
    /// pixels reads better than a rendering of it: on the Huai'an page, pdftoppm at 200 dpi
    /// resamples 1,653 pixels to 1,654 and OCR then confirms 10 figures instead of 87.
    fn scan_of(&self, dir: &Scratch, pdf: &Path, n: usize) -> Result<Option<Vec<u8>>, String> {
        let page = n.to_string();
        let root = dir.0.join(format!("p{n}"));
        run(
            Command::new("pdfimages")
                .args(["-png", "-f", &page, "-l", &page])
                .arg(pdf)
                .arg(&root),
            &[],
            self.timeout,
        )?;
        let prefix = format!("p{n}-");
        let mut best: Option<(u64, PathBuf)> = None;
        for entry in std::fs::read_dir(&dir.0).map_err(|e| format!("scratch dir: {e}"))? {
            let entry = entry.map_err(|e| format!("scratch dir: {e}"))?;
            if !entry.file_name().to_string_lossy().starts_with(&prefix) {
                continue;
            }
            let size = entry.metadata().map_or(0, |m| m.len());
            if best.as_ref().is_none_or(|(s, _)| size > *s) {
                best = Some((size, entry.path()));
            }
        }
        best.map(|(_, path)| std::fs::read(path).map_err(|e| format!("scratch file: {e}")))
            .transpose()
    }

    /// Page `n` (1-based) rendered at [`RENDER_DPI`], for pages that draw no image.
    fn render(&self, pdf: &[u8], n: usize) -> Result<Vec<u8>, String> {
        let page = n.to_string();
        let dpi = RENDER_DPI.to_string();
        run(
            Command::new("pdftoppm")
                .args(["-r", &dpi, "-f", &page, "-l", &page, "-png", "-q", "-"]),
            pdf,
            self.timeout,
        )
    }
}

/// A private scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self, String> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nianbao-ocr-{}-{n}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| format!("scratch dir {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `cmd` with `input` on stdin; its stdout, or why not. Killed after `timeout`.
fn run(cmd: &mut Command, input: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    /// Tesseract's TSV of a page and a scan's images stay far below this.
    const MAX_OUTPUT: usize = 1 << 30;
    let name = cmd.get_program().to_string_lossy().into_owned();
    let ran = super::isolate::run(cmd, input, timeout, MAX_OUTPUT)
        .map_err(|e| format!("cannot run {name}: {e}"))?;
    if ran.timed_out {
        return Err(format!("{name} took longer than {} s", timeout.as_secs()));
    }
    if !ran.status.success() {
        let err = String::from_utf8_lossy(&ran.stderr);
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!("{name} failed ({}): {first}", ran.status));
    }
    Ok(ran.stdout)
}

/// An image file (PNG or JPEG) as grey pixels, within the size limits.
fn decode(bytes: &[u8]) -> Result<GrayImage, String> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("image: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| format!("image: {e}"))?;
    Ok(img.into_luma8())
}

fn encode(img: &GrayImage) -> Result<Vec<u8>, String> {
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| format!("image: {e}"))?;
    Ok(png)
}

/// The page with its ruling lines painted out, in black and white.
fn clean(mut img: GrayImage) -> GrayImage {
    let (w, h) = img.dimensions();
    let min_run = (w.min(h) / LINE_FRACTION).max(2);
    let dark = |img: &GrayImage, x: u32, y: u32| img.get_pixel(x, y).0[0] < LINE_DARK;
    let mut erase = vec![false; (w as usize) * (h as usize)];
    let mut mark = |x: u32, y: u32| erase[(y as usize) * (w as usize) + x as usize] = true;
    for y in 0..h {
        let mut x = 0;
        while x < w {
            let start = x;
            while x < w && dark(&img, x, y) {
                x += 1;
            }
            if x - start >= min_run {
                for yy in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                    (start..x).for_each(|xx| mark(xx, yy));
                }
            }
            x += 1;
        }
    }
    for x in 0..w {
        let mut y = 0;
        while y < h {
            let start = y;
            while y < h && dark(&img, x, y) {
                y += 1;
            }
            if y - start >= min_run {
                for xx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    (start..y).for_each(|yy| mark(xx, yy));
                }
            }
            y += 1;
        }
    }
    for (i, px) in img.pixels_mut().enumerate() {
        let ink = !erase[i] && px.0[0] < INK;
        *px = Luma([if ink { 0 } else { 255 }]);
    }
    img
}

/// The words (level 5 rows) of tesseract's TSV output.
fn parse_tsv(tsv: &str) -> Vec<Word> {
    tsv.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 12 || f[0] != "5" {
                return None;
            }
            let text = f[11].trim();
            if text.is_empty() {
                return None;
            }
            let num = |i: usize| f[i].parse::<f32>().ok();
            Some(Word {
                text: text.to_string(),
                left: num(6)?,
                top: num(7)?,
                width: num(8)?,
                height: num(9)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_keep_their_boxes() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   4\t1\t1\t1\t1\t0\t10\t20\t300\t30\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t20\t40\t30\t95.1\t行政复议\n\
                   5\t1\t1\t1\t1\t2\t60\t22\t20\t28\t90.0\t72\n\
                   5\t1\t1\t1\t1\t3\t90\t22\t20\t28\t10.0\t \n";
        let words = parse_tsv(tsv);
        assert_eq!(words.len(), 2);
        assert_eq!(words[1].text, "72");
        assert_eq!((words[1].left, words[1].top), (60.0, 22.0));
    }

    #[test]
    fn ruling_lines_are_painted_out_and_ink_kept() {
        let mut img = GrayImage::from_pixel(100, 100, Luma([255]));
        for x in 0..100 {
            img.put_pixel(x, 50, Luma([0])); // a table border
        }
        img.put_pixel(10, 10, Luma([40])); // a dot of ink
        let out = clean(img);
        assert_eq!(out.get_pixel(30, 50).0[0], 255);
        assert_eq!(out.get_pixel(30, 51).0[0], 255);
        assert_eq!(out.get_pixel(10, 10).0[0], 0);
    }
}
