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

    /// Bits written least significant first, as deflate packs them.
    #[derive(Default)]
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }

    impl Bits {
        fn put(&mut self, value: u64, count: u32) {
            self.acc |= value << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }

        /// A Huffman code, which deflate writes most significant bit first.
        fn code(&mut self, code: u64, len: u32) {
            let mut rev = 0;
            for i in 0..len {
                rev |= ((code >> i) & 1) << (len - 1 - i);
            }
            self.put(rev, len);
        }

        fn finish(mut self) -> Vec<u8> {
            if self.n > 0 {
                self.out.push(self.acc as u8);
            }
            self.out
        }
    }

    /// Raw deflate of `size` zero bytes in one dynamic block whose only codes are literal 0
    /// (2 bits), end of block (2 bits) and length 258 at distance 1 (1 + 1 bits): about a
    /// thousand to one, built without inflating anything.
    fn deflated_zeros(size: u64) -> Vec<u8> {
        let mut b = Bits::default();
        b.put(1, 1); // last block
        b.put(2, 2); // dynamic Huffman
        b.put(29, 5); // 286 literal/length codes
        b.put(0, 5); // 1 distance code
        b.put(14, 4); // 18 code length codes
                      // In the order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1: 18 -> 1 bit, 2 and 1 -> 2.
        for len in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
            b.put(len, 3);
        }
        // Code length codes: 18 = 0, 1 = 10, 2 = 11.
        let zeros = |b: &mut Bits, mut n: u64| {
            while n > 0 {
                let run = n.min(138);
                b.code(0, 1);
                b.put(run - 11, 7);
                n -= run;
            }
        };
        b.code(0b11, 2); // literal 0: length 2
        zeros(&mut b, 255);
        b.code(0b11, 2); // 256 (end of block): length 2
        zeros(&mut b, 28);
        b.code(0b10, 2); // 285 (length 258): length 1
        b.code(0b10, 2); // distance code 0 (distance 1): length 1
                         // Literal/length codes: 285 = 0, 0 = 10, 256 = 11; distance 0 = 0.
        b.code(0b10, 2);
        let mut left = size.saturating_sub(1);
        while left >= 258 {
            b.code(0, 1);
            b.code(0, 1);
            left -= 258;
        }
        for _ in 0..left {
            b.code(0b10, 2);
        }
        b.code(0b11, 2);
        b.finish()
    }

    /// A zip holding `other` (stored) and `name`, which inflates to `size` zero bytes and
    /// states `stated` bytes (its true size, or a lie). The bomb is built bit by bit, so the
    /// test never holds or inflates it; past 16 MiB its CRC is left 0, as no reader may get
    /// to its end.
    pub(in crate::extract) fn zero_bomb(
        other: &[(&str, &[u8])],
        name: &str,
        size: u64,
        stated: u32,
    ) -> Vec<u8> {
        let bomb = deflated_zeros(size);
        let mut entries: Vec<(&str, u16, u32, &[u8], u32)> = other
            .iter()
            .map(|(n, b)| (*n, 0u16, crc32fast::hash(b), *b, b.len() as u32))
            .collect();
        let crc = if size <= 16 << 20 {
            let mut h = crc32fast::Hasher::new();
            h.update(&vec![0u8; size as usize]);
            h.finalize()
        } else {
            0
        };
        entries.push((name, 8, crc, &bomb, stated));
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (n, method, crc, data, size) in &entries {
            let offset = out.len() as u32;
            let fixed = |v: &mut Vec<u8>| {
                v.extend(20u16.to_le_bytes()); // version needed
                v.extend(0u16.to_le_bytes()); // flags
                v.extend(method.to_le_bytes());
                v.extend([0u8; 4]); // time, date
                v.extend(crc.to_le_bytes());
                v.extend((data.len() as u32).to_le_bytes());
                v.extend(size.to_le_bytes());
                v.extend((n.len() as u16).to_le_bytes());
                v.extend(0u16.to_le_bytes()); // extra
            };
            out.extend(b"PK\x03\x04");
            fixed(&mut out);
            out.extend(n.as_bytes());
            out.extend(*data);
            central.extend(b"PK\x01\x02");
            central.extend(20u16.to_le_bytes()); // version made by
            fixed(&mut central);
            central.extend([0u8; 6]); // comment, disk, internal attributes
            central.extend(0u32.to_le_bytes()); // external attributes
            central.extend(offset.to_le_bytes());
            central.extend(n.as_bytes());
        }
        let start = out.len() as u32;
        out.extend(&central);
        out.extend(b"PK\x05\x06");
        out.extend([0u8; 4]);
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(start.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    #[test]
    fn the_hand_built_bomb_inflates_to_its_size() {
        let bytes = zero_bomb(&[("a.txt", b"hi")], "zeros", 100_000, 100_000);
        let mut zip = Zip::open(&bytes, "测试", &Limits::default()).unwrap();
        assert_eq!(zip.read("a.txt").unwrap().unwrap(), b"hi");
        let zeros = zip.read("zeros").unwrap().unwrap();
        assert_eq!(zeros.len(), 100_000);
        assert!(zeros.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_gibibyte_bomb_is_refused_quickly_whether_it_states_its_size_or_lies() {
        let started = std::time::Instant::now();
        let honest = zero_bomb(&[], "x.xml", 1 << 30, 1 << 30);
        assert!(honest.len() < 2 << 20, "{}", honest.len());
        let err = Zip::open(&honest, "测试", &Limits::default())
            .err()
            .unwrap();
        assert!(err.reason.contains("压缩"), "{}", err.reason);
        let liar = zero_bomb(&[], "x.xml", 1 << 30, 4096);
        let mut zip = Zip::open(&liar, "测试", &Limits::default()).unwrap();
        let err = zip.read("x.xml").err().unwrap();
        assert!(err.reason.contains("压缩炸弹"), "{}", err.reason);
        let mut zip = Zip::open(&liar, "测试", &Limits::default()).unwrap();
        assert!(zip.verify().is_err());
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
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
        let bytes = zero_bomb(&[], "x.xml", 8 << 20, 8 << 20);
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
