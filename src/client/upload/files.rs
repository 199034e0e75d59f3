//! Which files an upload sends: the files named, and under the folders named every file that
//! may be a report and passes `--include` / `--exclude`. Each directory is read once, by its
//! canonical path, however many symbolic links lead to it (a link to an ancestor is a loop
//! that would otherwise be walked until the path grows too long). Reading the file system
//! only: no network here.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Why the files to upload could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// A path named on the command line does not exist or cannot be read.
    #[error("{path}: {error}")]
    Path {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// An `--include` or `--exclude` pattern is not a glob.
    #[error("--{option} {glob:?}: {error}")]
    Glob {
        option: &'static str,
        glob: String,
        #[source]
        error: globset::Error,
    },
}

/// A file found by [`walk`]: its path, and the folder named on the command line it was found
/// under (`None` for a file named itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub root: Option<PathBuf>,
}

impl Found {
    /// The path relative to the folder it was found under (the globs match this).
    pub fn relative(&self) -> &Path {
        self.root
            .as_deref()
            .and_then(|root| self.path.strip_prefix(root).ok())
            .unwrap_or(&self.path)
    }
}

/// Every file named in `roots`, and every file under the directories among them (walked
/// recursively, sorted per directory, each directory once by its canonical path). A root
/// that does not exist is an error; an unreadable folder below a root is skipped.
pub fn walk(roots: &[PathBuf]) -> Result<Vec<Found>, FilesError> {
    let mut out = Vec::new();
    let mut visited: HashSet<PathBuf> = HashSet::new();
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|error| FilesError::Path {
            path: root.clone(),
            error,
        })?;
        if !meta.is_dir() {
            if meta.is_file() {
                out.push(Found {
                    path: root.clone(),
                    root: None,
                });
            }
            continue;
        }
        let mut stack = vec![root.clone()];
        while let Some(path) = stack.pop() {
            if !path.is_dir() {
                if path.is_file() {
                    out.push(Found {
                        path,
                        root: Some(root.clone()),
                    });
                }
                continue;
            }
            let Ok(canonical) = std::fs::canonicalize(&path) else {
                continue;
            };
            if !visited.insert(canonical) {
                tracing::debug!(dir = %path.display(), "directory read already (a link to it)");
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&path) else {
                continue;
            };
            let mut entries: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
            entries.sort();
            stack.extend(entries.into_iter().rev());
        }
    }
    Ok(out)
}

/// `--include` and `--exclude`: globs matched against a file's path relative to the uploaded
/// folder (`*` crosses `/`, so `*.pdf` is every PDF at any depth; `drafts/**` a subfolder).
#[derive(Debug, Clone, Default)]
pub struct Select {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Select {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Select, FilesError> {
        Ok(Select {
            include: globs("include", include)?,
            exclude: globs("exclude", exclude)?,
        })
    }

    /// Whether a file found under a folder is sent: it matches an `--include` (when there
    /// are any) and no `--exclude`.
    pub fn selects(&self, relative: &Path) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(relative))
            && !self.exclude.as_ref().is_some_and(|g| g.is_match(relative))
    }
}

fn globs(option: &'static str, patterns: &[String]) -> Result<Option<GlobSet>, FilesError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for glob in patterns {
        set.add(Glob::new(glob).map_err(|error| FilesError::Glob {
            option,
            glob: glob.clone(),
            error,
        })?);
    }
    set.build().map(Some).map_err(|error| FilesError::Glob {
        option,
        glob: patterns.join(" "),
        error,
    })
}

/// Whether a file is hidden (`.DS_Store`, `.journal`): never sent from a folder.
fn hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// Every file named in `paths`, and under the directories among them every file that is not
/// hidden and that `select` selects. Which of them are documents is decided by their bytes
/// ([`judge`]) once they are read.
pub fn collect_files(paths: &[PathBuf], select: &Select) -> Result<Vec<Found>, FilesError> {
    Ok(walk(paths)?
        .into_iter()
        .filter(|f| f.root.is_none() || (!hidden(&f.path) && select.selects(f.relative())))
        .collect())
}

/// Extensions of text files that may hold a report's text; text under another extension
/// (.json, .csv, .js, .css, .xml, a folder's README.md) found in a folder is not sent (named
/// on the command line, it is).
const TEXT_EXTENSIONS: &[&str] = &["txt", "text"];

/// How a file is sent, by its bytes: the content type to state (empty: the server decides),
/// or, for a file found in a folder that is no document nianbao reads, why it is skipped. A
/// page is a page whatever its name (.jsp, .aspx, none); a PDF, Word, Excel, OFD, RTF or
/// MHTML file, or an image, is known by its signature; other text goes when its name says
/// text or nothing. A file named on the command line is always sent.
pub fn judge(found: &Found, bytes: &[u8]) -> Result<&'static str, String> {
    use crate::extract::Kind;
    let ext = found
        .path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let named = found.root.is_none();
    if bytes.is_empty() {
        return Ok("");
    }
    let kind = crate::extract::detect(bytes, None);
    match kind {
        Kind::Text | Kind::Html => {}
        Kind::Docx | Kind::Xlsx if crate::extract::docx::office_kind(bytes).is_none() && !named => {
            return Err("a zip archive that holds no Word, Excel or OFD document".into())
        }
        kind => return Ok(kind.mime()),
    }
    let head = &bytes[..bytes.len().min(4096)];
    if looks_like_html(head) {
        return Ok(Kind::Html.mime());
    }
    let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    if !utf16 && memchr::memchr(0, head).is_some() {
        return if named {
            Ok("")
        } else {
            Err("a binary file of no kind nianbao reads".into())
        };
    }
    match ext.as_deref() {
        None => Ok(""),
        Some(e) if TEXT_EXTENSIONS.contains(&e) => Ok(Kind::Text.mime()),
        Some(e) => match Kind::from_extension(e) {
            Some(k @ (Kind::Text | Kind::Html)) => Ok(k.mime()),
            _ if named => Ok(""),
            _ => Err(format!(
                "text, but a .{e} file: not a page or a report's text"
            )),
        },
    }
}

/// Whether the start of a text file is an HTML page's.
fn looks_like_html(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<meta ",
        "<table",
    ]
    .iter()
    .any(|tag| text.contains(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path, files: &[Found]) -> Vec<String> {
        files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(dir)
                    .unwrap_or(&f.path)
                    .display()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn collects_files_recursively_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        for f in [
            "a.txt",
            "b/x.html",
            "b/c/y.txt",
            "b/r.PDF",
            "b/r.docx",
            "b/s.jpg",
            "b/12345",
            "b/notes.json",
            "b/.DS_Store",
            "b/show.jsp",
            "b/t20210127_1.aspx",
            "b/view.php",
        ] {
            std::fs::write(dir.path().join(f), f).unwrap();
        }
        let mut roots = vec![dir.path().to_owned()];
        roots.push(dir.path().join("b/notes.json")); // named on its own: sent
        let files = collect_files(&roots, &Select::default()).unwrap();
        assert_eq!(
            names(dir.path(), &files),
            [
                "a.txt",
                "b/12345",
                "b/c/y.txt",
                "b/notes.json",
                "b/r.PDF",
                "b/r.docx",
                "b/s.jpg",
                "b/show.jsp",
                "b/t20210127_1.aspx",
                "b/view.php",
                "b/x.html",
                "b/notes.json"
            ]
        );
    }

    /// Files go by their bytes: a page under any name, documents by their signature, text
    /// under a text name or none; the rest found in a folder is skipped with the reason.
    #[test]
    fn files_are_judged_by_their_bytes() {
        let dir = Path::new("/d");
        let in_folder = |name: &str| Found {
            path: dir.join(name),
            root: Some(dir.to_owned()),
        };
        let page = "<!DOCTYPE html><html><body>报告</body></html>".as_bytes();
        let text = "北京市朝阳区2022年政府信息公开工作年度报告".as_bytes();
        for (name, bytes, want) in [
            ("show.jsp", page, Ok("text/html")),
            ("12345", page, Ok("text/html")),
            ("page.txt", page, Ok("text/html")),
            (
                "report.pdf.download",
                &b"%PDF-1.4\n"[..],
                Ok("application/pdf"),
            ),
            ("no-name", b"%PDF-1.7\n", Ok("application/pdf")),
            ("r.rtf", br"{\rtf1\ansi}", Ok("application/rtf")),
            ("r.txt", text, Ok("text/plain")),
            ("r", text, Ok("")),
            ("empty.txt", b"", Ok("")),
        ] {
            assert_eq!(
                judge(&in_folder(name), bytes).map_err(|_| ()),
                want.map_err(|_: ()| ()),
                "{name}"
            );
        }
        for (name, bytes, why) in [
            ("notes.json", &b"{\"a\": 1}"[..], ".json"),
            ("data.csv", b"a,b\n1,2\n", ".csv"),
            ("README.md", b"# corpus\n", ".md"),
            ("lib.so", b"\x7fELF\x02\x01\x01\0\0\0", "binary"),
            ("a.zip", b"PK\x03\x04\0\0\0\0", "zip"),
        ] {
            let err = judge(&in_folder(name), bytes).unwrap_err();
            assert!(err.contains(why), "{name}: {err}");
        }
        let named = Found {
            path: dir.join("notes.json"),
            root: None,
        };
        assert_eq!(judge(&named, b"{}"), Ok(""));
    }

    #[test]
    fn a_path_that_does_not_exist_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nonexistent");
        let err = collect_files(std::slice::from_ref(&missing), &Select::default()).unwrap_err();
        assert!(
            err.to_string().starts_with(&missing.display().to_string()),
            "{err}"
        );
    }

    /// Regression: a link to an ancestor was followed until the path grew too long (~40
    /// levels), sending each file forty times.
    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/r.txt"), "r").unwrap();
        std::os::unix::fs::symlink("../..", dir.path().join("a/b/up")).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("same")).unwrap();
        let files = collect_files(&[dir.path().to_owned()], &Select::default()).unwrap();
        assert_eq!(names(dir.path(), &files), ["a/b/r.txt"]);
    }

    #[test]
    fn globs_select_by_the_path_under_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("2023/drafts")).unwrap();
        for f in ["a.txt", "b.pdf", "2023/c.pdf", "2023/drafts/d.pdf"] {
            std::fs::write(dir.path().join(f), f).unwrap();
        }
        let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for (include, exclude, want) in [
            (
                &[][..],
                &[][..],
                &["2023/c.pdf", "2023/drafts/d.pdf", "a.txt", "b.pdf"][..],
            ),
            (
                &["*.pdf"],
                &[],
                &["2023/c.pdf", "2023/drafts/d.pdf", "b.pdf"],
            ),
            (&["2023/**"], &["**/drafts/**"], &["2023/c.pdf"]),
            (&[], &["*.pdf"], &["a.txt"]),
            (
                &["*.txt", "2023/*.pdf"],
                &[],
                &["2023/c.pdf", "2023/drafts/d.pdf", "a.txt"],
            ),
        ] {
            let select = Select::new(&strings(include), &strings(exclude)).unwrap();
            let files = collect_files(&[dir.path().to_owned()], &select).unwrap();
            assert_eq!(names(dir.path(), &files), want, "{include:?} {exclude:?}");
        }
        let err = Select::new(&strings(&["a[b"]), &[]).unwrap_err();
        assert!(err.to_string().starts_with("--include \"a[b\""), "{err}");
    }
}
