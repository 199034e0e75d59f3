//! The uploader's sidecar manifest: for each file a scraper saved, the page's URL and its
//! publication date (发布日期), which the text itself may not print.
//!
//! Two forms, told by the file's extension (`.jsonl`, `.ndjson`, `.json`: JSON lines; any
//! other: CSV):
//!
//! ```text
//! path,url,published
//! 2023/朝阳区.html,https://www.bjchy.gov.cn/a.html,2024-01-15
//! ```
//!
//! ```text
//! {"path": "2023/朝阳区.html", "url": "https://www.bjchy.gov.cn/a.html", "published": "2024-01-15"}
//! ```
//!
//! A path is relative to the manifest's folder, or absolute. `url` and `published` may be
//! empty or left out; `published` is `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYY年M月D日`, a real
//! date, sent as `YYYY-MM-DD`. Anything else (an unknown column, a bad date, a path named
//! twice, a line that is not CSV or JSON) is an error naming the file and the line: the
//! upload stops before anything is sent. Reading only: no network here.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::parse::published::client_date;

/// The names of a manifest found in an uploaded folder (used for that folder and never
/// uploaded itself).
pub const MANIFEST_NAMES: [&str; 2] = ["nianbao-manifest.csv", "nianbao-manifest.jsonl"];

/// What a manifest says of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The page's URL ("" when not given).
    pub url: String,
    /// The publication date, `YYYY-MM-DD` ("" when not given).
    pub published: String,
}

/// Every file's entry, by the file's absolute, normalised path.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    entries: HashMap<PathBuf, (Entry, PathBuf, usize)>,
}

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest could not be read.
    #[error("manifest {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A line of the manifest is malformed.
    #[error("manifest {path}, line {line}: {why}")]
    Line {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

impl Manifest {
    /// The entry of `file`, if a manifest names it.
    pub fn get(&self, file: &Path) -> Option<&Entry> {
        self.entries.get(&absolute(file)).map(|(e, _, _)| e)
    }

    /// How many files the manifests name.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads the manifest at `path` into this one; a file named by an earlier manifest (or
    /// twice in this one) is an error.
    pub fn read(&mut self, path: &Path) -> Result<(), ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|error| ManifestError::Read {
            path: path.to_owned(),
            error,
        })?;
        let json = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["jsonl", "ndjson", "json"].contains(&e.to_ascii_lowercase().as_str())
        });
        let rows = if json {
            json_lines(&text)
        } else {
            csv_rows(&text)
        };
        let bad = |line: usize, why: String| ManifestError::Line {
            path: path.to_owned(),
            line,
            why,
        };
        let folder = path.parent().unwrap_or(Path::new("."));
        for row in rows {
            let Row {
                line,
                path: file,
                url,
                published,
            } = row.map_err(|(line, why)| bad(line, why))?;
            if file.trim().is_empty() {
                return Err(bad(line, "no path".into()));
            }
            let published = match published.trim() {
                "" => String::new(),
                p => client_date(p)
                    .ok_or_else(|| {
                        bad(
                            line,
                            format!("published {p:?} is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日)"),
                        )
                    })?
                    .iso(),
            };
            let key = absolute(&folder.join(file.trim()));
            let entry = Entry {
                url: url.trim().to_owned(),
                published,
            };
            if let Some((_, first, first_line)) = self.entries.get(&key) {
                return Err(bad(
                    line,
                    format!(
                        "{} is named already ({} line {first_line})",
                        file.trim(),
                        first.display()
                    ),
                ));
            }
            self.entries.insert(key, (entry, path.to_owned(), line));
        }
        Ok(())
    }
}

/// One line of a manifest, loose: checked by [`Manifest::read`].
struct Row {
    line: usize,
    path: String,
    url: String,
    published: String,
}

type RowResult = Result<Row, (usize, String)>;

/// `path` as an absolute path without `.` and `..` (the file need not exist; symlinks are
/// not resolved, so a file is found by the path the folder walk gives it).
fn absolute(path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// JSON lines: one object a line with `path` and optionally `url` and `published` (strings);
/// blank lines skipped.
fn json_lines(text: &str) -> Vec<RowResult> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        path: String,
        #[serde(default)]
        url: Option<String>,
        #[serde(default)]
        published: Option<String>,
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let line = i + 1;
            let row: Line = serde_json::from_str(l.trim_start_matches('\u{feff}'))
                .map_err(|e| (line, format!("not a JSON object with a path: {e}")))?;
            Ok(Row {
                line,
                path: row.path,
                url: row.url.unwrap_or_default(),
                published: row.published.unwrap_or_default(),
            })
        })
        .collect()
}

/// The columns a CSV manifest may have.
const COLUMNS: [&str; 3] = ["path", "url", "published"];

/// CSV with a header naming its columns (`path` and at least one of `url` and `published`,
/// in any order); fields may be quoted (`"a, b"`, `""` for a quote); blank lines skipped.
fn csv_rows(text: &str) -> Vec<RowResult> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Vec::new();
    };
    let header = match csv_fields(header.trim_start_matches('\u{feff}')) {
        Ok(h) => h,
        Err(why) => return vec![Err((header_line, why))],
    };
    let mut at = [None; 3];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(c) if at[c].is_none() => at[c] = Some(i),
            Some(_) => return vec![Err((header_line, format!("column {name} twice")))],
            None => {
                return vec![Err((
                    header_line,
                    format!("unknown column {name:?}: the header is path,url,published"),
                ))]
            }
        }
    }
    let [Some(path_at), url_at, published_at] = at else {
        return vec![Err((
            header_line,
            "no path column: the header is path,url,published".into(),
        ))];
    };
    lines
        .map(|(line, l)| {
            let fields = csv_fields(l).map_err(|why| (line, why))?;
            if fields.len() != header.len() {
                return Err((
                    line,
                    format!("{} fields, the header has {}", fields.len(), header.len()),
                ));
            }
            let field = |at: Option<usize>| at.map(|i| fields[i].clone()).unwrap_or_default();
            Ok(Row {
                line,
                path: fields[path_at].clone(),
                url: field(url_at),
                published: field(published_at),
            })
        })
        .collect()
}

/// The fields of one CSV line.
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed".into()),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => {}
                Some(c) => return Err(format!("{c:?} after a quoted field")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => return Err("a quote inside an unquoted field".into()),
                    Some(c) => field.push(c),
                }
            }
        }
        fields.push(field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &str) -> (tempfile::TempDir, Result<Manifest, ManifestError>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let mut m = Manifest::default();
        let r = m.read(&path).map(|_| m);
        (dir, r)
    }

    #[test]
    fn csv_and_json_lines_name_files_by_their_folder() {
        let (dir, m) = read(
            "nianbao-manifest.csv",
            "\u{feff}path,url,published\n\
             a.txt,http://x/a.htm,2024-01-15\n\
             \n\
             sub/../b.txt,\"http://x/b?p=1,2\",2024/2/1\n\
             c.txt,,\n",
        );
        let m = m.unwrap();
        assert_eq!(m.len(), 3);
        let e = |f: &str| m.get(&dir.path().join(f)).cloned();
        assert_eq!(
            e("a.txt"),
            Some(Entry {
                url: "http://x/a.htm".into(),
                published: "2024-01-15".into()
            })
        );
        assert_eq!(e("./b.txt").unwrap().url, "http://x/b?p=1,2");
        assert_eq!(e("b.txt").unwrap().published, "2024-02-01");
        assert_eq!(e("c.txt"), Some(Entry::default()));
        assert_eq!(e("d.txt"), None);

        let abs = dir
            .path()
            .join("abs.txt")
            .display()
            .to_string()
            .replace('\\', "/");
        let (dir, m) = read(
            "nianbao-manifest.jsonl",
            &format!(
                "{{\"path\": \"a.txt\", \"published\": \"2024年1月5日\"}}\n\n{{\"path\": {abs:?}, \"url\": \"u\"}}\n"
            ),
        );
        let m = m.unwrap();
        assert_eq!(
            m.get(&dir.path().join("a.txt")).unwrap().published,
            "2024-01-05"
        );
        assert_eq!(m.get(Path::new(&abs)).unwrap().url, "u");
    }

    #[test]
    fn a_malformed_manifest_names_its_line() {
        for (name, text, line, says) in [
            (
                "m.csv",
                "path,url,publised\na.txt,u,2024-01-15\n",
                1,
                "unknown column",
            ),
            (
                "m.csv",
                "url,published\nu,2024-01-15\n",
                1,
                "no path column",
            ),
            (
                "m.csv",
                "path,url,published\na.txt,u,2024-01-15\nb.txt,u,2024-02-30\n",
                3,
                "not a date",
            ),
            ("m.csv", "path,url,published\na.txt,u\n", 2, "2 fields"),
            (
                "m.csv",
                "path,url,published\n\"a.txt,u,2024-01-15\n",
                2,
                "not closed",
            ),
            (
                "m.csv",
                "path,url,published\na.txt,u,\n./a.txt,v,\n",
                3,
                "named already",
            ),
            ("m.csv", "path,url,published\n,u,\n", 2, "no path"),
            (
                "m.jsonl",
                "{\"path\": \"a.txt\"}\n{\"path\": \"b.txt\", \"date\": \"x\"}\n",
                2,
                "not a JSON object",
            ),
            (
                "m.jsonl",
                "{\"path\": \"a.txt\"}\nnot json\n",
                2,
                "not a JSON object",
            ),
        ] {
            let (_dir, m) = read(name, text);
            match m {
                Err(ManifestError::Line { line: l, why, .. }) => {
                    assert_eq!(l, line, "{text}: {why}");
                    assert!(why.contains(says), "{text}: {why}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
