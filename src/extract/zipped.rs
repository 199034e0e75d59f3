//! Zip archives (XLSX, OFD) opened within bounds. PURE.
//!
//! A zip states each entry's size, and a decompression bomb either states its true size (a
//! few kilobytes that inflate to gigabytes) or lies about it. [`Zip::open`] refuses the first
//! before a byte is inflated: the stated sizes together must fit [`Limits::max_unzipped`], and
//! no entry may shrink by more than [`MAX_RATIO`]. [`Zip::read`] and [`Zip::verify`] then
//! inflate an entry only up to its stated size and one byte more, so a liar is caught after
//! at most that much work.

use super::{Limits, Unreadable};
use std::io::{Cursor, Read};

/// The most an entry may shrink in the archive. Spreadsheet and page XML compresses 10 to 60
/// times; a run of zeros, the stuff of bombs, about a thousand.
const MAX_RATIO: u64 = 200;
/// Entries smaller than this may shrink as much as they like: the ratio of a tiny entry says
/// nothing, and the sum of the stated sizes bounds them anyway.
const RATIO_FROM: u64 = 1 << 20;

/// An archive whose stated sizes were checked.
pub(super) struct Zip<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    /// What the archive is, for the messages ("Excel 文件", "OFD 文件").
    what: &'static str,
    /// Bytes [`Zip::read`] may still inflate.
    budget: u64,
}

impl<'a> Zip<'a> {
    /// Opens `bytes` and checks every entry's stated size before anything is inflated.
    pub(super) fn open(
        bytes: &'a [u8],
        what: &'static str,
        limits: &Limits,
    ) -> Result<Zip<'a>, Unreadable> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| Unreadable::new(format!("{what}不是有效的 zip 压缩包：{e}")))?;
        let mut total: u64 = 0;
        for i in 0..archive.len() {
            let entry = archive
                .by_index_raw(i)
                .map_err(|e| Unreadable::new(format!("{what}的压缩包目录有误：{e}")))?;
            if entry.encrypted() {
                return Err(Unreadable::new(format!("{what}已加密，无法读取")));
            }
            let size = entry.size();
            total = total.saturating_add(size);
            if size > RATIO_FROM && size / MAX_RATIO > entry.compressed_size() {
                return Err(Unreadable::new(format!(
                    "{what}的 {} 声明解压后 {} MiB、压缩比超过 {MAX_RATIO} 倍（疑为压缩炸弹），已拒绝",
                    entry.name(),
                    size >> 20
                )));
            }
        }
        if total > limits.max_unzipped {
            return Err(Unreadable::new(format!(
                "{what}解压后共 {} MiB，超过 {} MiB 的上限（疑为压缩炸弹），已拒绝",
                total >> 20,
                limits.max_unzipped >> 20
            )));
        }
        Ok(Zip {
            archive,
            what,
            budget: limits.max_unzipped,
        })
    }

    /// The stored name of the entry `name`: the same name, else one that differs only in
    /// the case of ASCII letters (writers on Windows are loose about case).
    pub(super) fn find(&self, name: &str) -> Option<String> {
        if self.archive.index_for_name(name).is_some() {
            return Some(name.to_owned());
        }
        self.archive
            .file_names()
            .find(|n| n.eq_ignore_ascii_case(name))
            .map(str::to_owned)
    }

    /// The stored names ending in `suffix` (ASCII letters in any case).
    pub(super) fn names_ending_with(&self, suffix: &str) -> Vec<String> {
        self.archive
            .file_names()
            .filter(|n| n.to_ascii_lowercase().ends_with(suffix))
            .map(str::to_owned)
            .collect()
    }

    /// The entry named `name`, inflated; `None` when there is none. Inflates no more than the
    /// entry states (and one byte to catch a liar) and no more than what is left of the budget.
    pub(super) fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, Unreadable> {
        let what = self.what;
        let Some(index) = self.archive.index_for_name(name) else {
            return Ok(None);
        };
        let entry = self
            .archive
            .by_index(index)
            .map_err(|e| Unreadable::new(format!("{what}的 {name} 无法解压：{e}")))?;
        let stated = entry.size();
        if stated > self.budget {
            return Err(bomb(what, name));
        }
        let mut out = Vec::new();
        entry
            .take(stated + 1)
            .read_to_end(&mut out)
            .map_err(|e| Unreadable::new(format!("{what}的 {name} 无法解压：{e}")))?;
        if out.len() as u64 > stated {
            return Err(bomb(what, name));
        }
        self.budget -= out.len() as u64;
        Ok(Some(out))
    }

    /// Inflates every entry without keeping it, each up to its stated size and one byte
    /// more: after this, whoever reads the archive gets no more than the sizes it states,
    /// which [`Zip::open`] checked.
    pub(super) fn verify(&mut self) -> Result<(), Unreadable> {
        let what = self.what;
        for i in 0..self.archive.len() {
            let entry = self
                .archive
                .by_index(i)
                .map_err(|e| Unreadable::new(format!("{what}的压缩包条目无法解压：{e}")))?;
            let stated = entry.size();
            let name = entry.name().to_owned();
            let got = std::io::copy(&mut entry.take(stated + 1), &mut std::io::sink())
                .map_err(|e| Unreadable::new(format!("{what}的 {name} 无法解压：{e}")))?;
            if got > stated {
                return Err(bomb(what, &name));
            }
        }
        Ok(())
    }
}

fn bomb(what: &str, name: &str) -> Unreadable {
    Unreadable::new(format!(
        "{what}的 {name} 解压后超过其声明的大小或上限（疑为压缩炸弹），已拒绝"
    ))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::Write;

    /// A zip of `(name, bytes)` entries, deflated.
    pub(in crate::extract) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        for (name, bytes) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    /// A zip whose entry `name` inflates to `size` zero bytes, written in chunks so the test
    /// never holds the inflated entry.
    pub(in crate::extract) fn zero_bomb(other: &[(&str, &[u8])], name: &str, size: u64) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(9))
            .large_file(true);
        for (n, bytes) in other {
            zip.start_file(*n, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.start_file(name, options).unwrap();
        let chunk = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            zip.write_all(&chunk[..n]).unwrap();
            left -= n as u64;
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn stated_sizes_over_the_limit_are_refused_before_inflating() {
        let bytes = zip_of(&[("a.xml", &[b'x'; 4096]), ("b.xml", &[b'y'; 4096])]);
        let limits = Limits {
            max_unzipped: 6000,
            ..Limits::default()
        };
        let err = Zip::open(&bytes, "OFD 文件", &limits).err().unwrap();
        assert!(err.reason.contains("压缩炸弹"), "{}", err.reason);
        let mut ok = Zip::open(&bytes, "OFD 文件", &Limits::default()).unwrap();
        assert_eq!(ok.read("a.xml").unwrap().unwrap().len(), 4096);
        assert!(ok.read("missing.xml").unwrap().is_none());
        ok.verify().unwrap();
    }

    #[test]
    fn an_entry_that_shrinks_like_a_bomb_is_refused() {
        let bytes = zero_bomb(&[], "x.xml", 8 << 20);
        let err = Zip::open(&bytes, "Excel 文件", &Limits::default())
            .err()
            .unwrap();
        assert!(err.reason.contains("压缩比"), "{}", err.reason);
    }

    #[test]
    fn a_truncated_zip_is_unreadable() {
        let bytes = zip_of(&[("a.xml", b"<a/>")]);
        for cut in [4, 20, bytes.len() / 2, bytes.len() - 10] {
            assert!(Zip::open(&bytes[..cut], "OFD 文件", &Limits::default()).is_err());
        }
    }
}
