//! Saved web pages (MHTML: .mht, .mhtml) to the HTML of their page. PURE.
//!
//! An MHTML file is a MIME message, `multipart/related` with the page and its images as
//! parts (RFC 2557). The page is the part the message's `start` parameter names by
//! Content-ID, else the one at the message's (Snapshot-)Content-Location, else the first
//! `text/html` part. Its Content-Transfer-Encoding (quoted-printable, base64) is undone;
//! its charset goes with it to the HTML reader, which the caller runs.

use super::Unreadable;
use base64::Engine;

/// A MIME entity's headers: names lower-cased, folded lines unfolded.
struct Headers(Vec<(String, String)>);

impl Headers {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The media type of Content-Type, lower-cased.
    fn mime(&self) -> String {
        self.get("content-type")
            .and_then(|ct| ct.split(';').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// A parameter of Content-Type, unquoted.
    fn param(&self, name: &str) -> Option<String> {
        let ct = self.get("content-type")?;
        ct.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            if !k.trim().eq_ignore_ascii_case(name) {
                return None;
            }
            Some(v.trim().trim_matches('"').to_owned())
        })
    }
}

/// The headers at the start of `bytes` and where the body begins.
fn headers(bytes: &[u8]) -> (Headers, usize) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let line = String::from_utf8_lossy(&bytes[at..end]);
        let line = line.trim_end_matches('\r');
        at = (end + 1).min(bytes.len());
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            if out.len() < 256 {
                out.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
    }
    (Headers(out), at)
}

/// The parts of a multipart body with `boundary`.
fn parts<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let mut starts: Vec<(usize, usize)> = Vec::new();
    for i in finder.find_iter(body) {
        // A delimiter stands at the start of a line.
        if i == 0 || body[i - 1] == b'\n' {
            starts.push((i, i + delimiter.len()));
        }
    }
    let mut out = Vec::new();
    for (k, &(_, after)) in starts.iter().enumerate() {
        if body[after..].starts_with(b"--") {
            break;
        }
        // The rest of the delimiter line, then the part up to the line break before the next.
        let from = memchr::memchr(b'\n', &body[after..]).map_or(body.len(), |j| after + j + 1);
        let to = starts.get(k + 1).map_or(body.len(), |&(next, _)| next);
        let mut part = &body[from.min(to)..to];
        part = part.strip_suffix(b"\n").unwrap_or(part);
        part = part.strip_suffix(b"\r").unwrap_or(part);
        out.push(part);
    }
    out
}

fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = body
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (hex, body.get(i + 1), body.get(i + 2)) {
            (Some(v), _, _) => {
                out.push(v);
                i += 3;
            }
            // A soft line break (trailing spaces before it are allowed).
            (None, Some(b'\r'), Some(b'\n')) => i += 3,
            (None, Some(b'\n'), _) => i += 2,
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn base64(body: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let clean: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    engine
        .decode(&clean)
        .map_err(|e| Unreadable::new(format!("MHTML 文件中网页部分的 base64 编码有误：{e}")))
}

/// The body of a part, its transfer encoding undone.
fn decoded(headers: &Headers, body: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let cte = headers
        .get("content-transfer-encoding")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match cte.as_str() {
        "quoted-printable" => Ok(quoted_printable(body)),
        "base64" => base64(body),
        _ => Ok(body.to_vec()),
    }
}

fn strip_angles(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

/// The page of an MHTML file: its HTML bytes and the charset its part declares.
pub fn page(bytes: &[u8]) -> Result<(Vec<u8>, Option<String>), Unreadable> {
    let (top, body_at) = headers(bytes);
    let body = bytes.get(body_at..).unwrap_or(&[]);
    let mime = top.mime();
    if mime == "text/html" {
        return Ok((decoded(&top, body)?, top.param("charset")));
    }
    if !mime.starts_with("multipart/") {
        return Err(Unreadable::new(
            "MHTML 文件的 Content-Type 不是 multipart/related，找不到网页部分",
        ));
    }
    let boundary = top
        .param("boundary")
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            Unreadable::new("MHTML 文件的 Content-Type 没有 boundary，无法分出各部分")
        })?;
    let parts: Vec<(Headers, &[u8])> = parts(body, &boundary)
        .into_iter()
        .map(|p| {
            let (h, at) = headers(p);
            (h, p.get(at..).unwrap_or(&[]))
        })
        .collect();
    let start = top.param("start");
    let location = top
        .get("snapshot-content-location")
        .or_else(|| top.get("content-location"));
    let by_start = start.as_deref().and_then(|s| {
        parts.iter().find(|(h, _)| {
            h.get("content-id")
                .is_some_and(|id| strip_angles(id) == strip_angles(s))
        })
    });
    let by_location = || {
        location.and_then(|l| {
            parts.iter().find(|(h, _)| {
                h.mime() == "text/html" && h.get("content-location").is_some_and(|c| c == l)
            })
        })
    };
    let first_html = || parts.iter().find(|(h, _)| h.mime() == "text/html");
    let (headers, body) = by_start
        .or_else(by_location)
        .or_else(first_html)
        .ok_or_else(|| Unreadable::new("MHTML 文件中没有 text/html 网页部分"))?;
    Ok((decoded(headers, body)?, headers.param("charset")))
}

/// Whether `head` begins a MIME message holding a web page (an MHTML file).
pub fn looks_like_mhtml(head: &[u8]) -> bool {
    let head = &head[..head.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    let mime_version = lower.starts_with(b"mime-version:")
        || memchr::memmem::find(&lower, b"\nmime-version:").is_some();
    mime_version && memchr::memmem::find(&lower, b"multipart/related").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{self, ContentHint};

    fn text(mhtml: &[u8]) -> String {
        let (html, charset) = page(mhtml).unwrap();
        decode::decode(&html, charset.as_deref(), ContentHint::Html).text
    }

    #[test]
    fn a_quoted_printable_gbk_page_reads() {
        // 申请 in GBK is C9 EA C7 EB; a soft line break splits the row.
        let m = b"MIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n\ttype=\"text/html\";\r\n\tboundary=\"----=_NextPart_01\"\r\n\r\nThis is a multi-part message.\r\n\r\n------=_NextPart_01\r\nContent-Location: file:///C:/a.htm\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=\"gb2312\"\r\n\r\n<html><body><table><tr><td>=C9=EA=C7=EB</td><td>1=\r\n2</td></tr></table></body></html>\r\n\r\n------=_NextPart_01\r\nContent-Location: file:///C:/a.files/x.png\r\nContent-Transfer-Encoding: base64\r\nContent-Type: image/png\r\n\r\niVBORw0KGgo=\r\n\r\n------=_NextPart_01--\r\n";
        assert!(looks_like_mhtml(m));
        assert!(text(m).contains("申请\t12"), "{:?}", text(m));
    }

    #[test]
    fn the_start_part_wins_and_base64_is_undone() {
        let page_b64 = base64::engine::general_purpose::STANDARD.encode("<p>主页</p>");
        let m = format!(
            "MIME-Version: 1.0\nContent-Type: multipart/related; boundary=b1; start=\"<main@x>\"\n\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>别的</p>\n--b1\nContent-Type: text/html; charset=utf-8\nContent-ID: <main@x>\nContent-Transfer-Encoding: base64\n\n{page_b64}\n--b1--\n"
        );
        assert_eq!(text(m.as_bytes()).trim(), "主页");
    }

    #[test]
    fn messages_without_a_page_are_unreadable() {
        assert!(page(b"MIME-Version: 1.0\nContent-Type: multipart/related\n\n").is_err());
        assert!(page(b"MIME-Version: 1.0\nContent-Type: multipart/related; boundary=z\n\n--z\nContent-Type: image/png\n\nxx\n--z--").is_err());
        assert!(page(b"").is_err());
        assert!(!looks_like_mhtml(b"<html>MIME-Version: 1.0</html>"));
    }
}
