//! The index as bytes: the snapshot the store keeps across a restart. Every offset is
//! checked on the way back in, so a damaged file is an error, never a panic.

use super::codec::{
    damaged, get_u32, get_u64, put_u32, put_u64, take, SnapshotError, Source, BODIES, FLAT_BLOCKS,
    TOTALS_SUMMED, VERSION, WITHOUT_BODIES,
};
use super::column::{Column, COLUMN_HEADER_BYTES};
use super::compliance::Scores;
use super::totals::Totals;
use super::{unpack, Index, Row, AGENCY, NONE, NO_YEAR, PLACES};
use crate::model::catalogue::{self, METRICS};
use crate::model::id::{IdBytes, ID_BYTES};

/// The snapshot format: magic, version, a fingerprint of the catalogue (columns follow its
/// order), the store's next sequence number, the arenas, rows, ids and columns, the scores,
/// the per-year totals, and a CRC-32 of everything before it.
const MAGIC: &[u8; 4] = b"NBIX";

/// A row on disk: its seq (u64), [`ROW_WORDS`] u32 fields (agency, four region levels,
/// division code, prev, before, findings, own, cross, source, source length, year,
/// template, publication date, body) and a byte of flags ([`LATEST`], [`RENDITION`]).
/// Before [`BODIES`], a row held no body: each was made again from its names at a load.
const ROW_WORDS: usize = 17;
/// The flag of a row counted for its body and year.
const LATEST: u8 = 1;
/// The flag of a row that is another rendition of the reading before it.
const RENDITION: u8 = 2;
/// The bytes of a row on disk in snapshot `version`.
fn row_bytes(version: u32) -> usize {
    let words = if version >= BODIES {
        ROW_WORDS
    } else {
        ROW_WORDS - 1
    };
    8 + 4 * words + 1
}
/// A row's compliance on disk: score (f64), coverage (u8), SimHash (u64), the row alike (u32).
const SCORE_BYTES: usize = 8 + 1 + 8 + 4;
/// A name on disk takes at least its u32 length.
const NAME_MIN_BYTES: usize = 4;
/// A finding code on disk: one packed u16.
const FINDING_BYTES: usize = 2;

/// Where [`Index::encode_to`] gathers bytes before writing them, keeping the checksum.
struct Sink<'w, W: std::io::Write> {
    out: Vec<u8>,
    w: &'w mut W,
    crc: crc32fast::Hasher,
}

impl<'w, W: std::io::Write> Sink<'w, W> {
    const SPILL: usize = 1 << 20;

    fn new(w: &'w mut W) -> Self {
        Sink {
            out: Vec::with_capacity(Self::SPILL + (1 << 16)),
            w,
            crc: crc32fast::Hasher::new(),
        }
    }

    fn spill_if_full(&mut self) -> std::io::Result<()> {
        if self.out.len() >= Self::SPILL {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.crc.update(&self.out);
        self.w.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Writes what is gathered, then the checksum of everything written.
    fn finish(mut self) -> std::io::Result<()> {
        self.spill()?;
        let crc = self.crc.finalize();
        self.w.write_all(&crc.to_le_bytes())
    }
}

impl Index {
    /// The whole index as bytes, stamped with the store's `next_seq`.
    pub fn encode(&self, next_seq: u64) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(next_seq, &mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// [`Index::encode`] written to `w` a megabyte at a time, so that a large index is
    /// never held twice in memory.
    pub fn encode_to(&self, next_seq: u64, w: &mut impl std::io::Write) -> std::io::Result<()> {
        self.encode_as(VERSION, next_seq, w)
    }

    /// [`Index::encode_to`] in snapshot `version` ([`VERSION`], or an older one that tests
    /// read back): rows hold their body from [`BODIES`] on.
    pub(super) fn encode_as(
        &self,
        version: u32,
        next_seq: u64,
        w: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let mut sink = Sink::new(w);
        let out = &mut sink.out;
        out.extend_from_slice(MAGIC);
        put_u32(out, version);
        put_u64(out, catalogue::fingerprint());
        put_u64(out, next_seq);
        put_u64(out, self.strings.len() as u64);
        for name in self.strings.names() {
            put_u32(&mut sink.out, name.len() as u32);
            sink.out.extend_from_slice(name.as_bytes());
            sink.spill_if_full()?;
        }
        put_u64(&mut sink.out, self.rows.len() as u64);
        // Each source's place in the sources laid end to end, as the rows give it.
        let mut sources = self.sources.walk();
        let mut source_at = 0u32;
        for (at, row) in self.rows.iter().enumerate() {
            let source_len = sources.next_source().len() as u32;
            let out = &mut sink.out;
            put_u64(out, row.seq);
            for place in &self.places {
                put_u32(out, place.name(at));
            }
            put_u32(out, row.code);
            for v in [
                row.prev,
                row.before,
                row.findings,
                u32::from(row.own),
                u32::from(row.cross),
            ] {
                put_u32(out, v);
            }
            for v in [
                source_at,
                source_len,
                row.year as u32,
                row.template as u32,
                row.published,
            ] {
                put_u32(out, v);
            }
            if version >= BODIES {
                put_u32(out, row.body);
            }
            out.push((u8::from(row.latest) * LATEST) | (u8::from(row.rendition) * RENDITION));
            sink.spill_if_full()?;
            // Sources hold at most u32::MAX bytes in all.
            source_at += source_len;
        }
        for id in &self.ids {
            sink.out.extend_from_slice(id);
            sink.spill_if_full()?;
        }
        put_u64(&mut sink.out, self.findings.len() as u64);
        for chunk in self.findings.chunks(1 << 16) {
            for f in chunk {
                sink.out.extend_from_slice(&f.to_le_bytes());
            }
            sink.spill_if_full()?;
        }
        put_u64(&mut sink.out, u64::from(source_at));
        let mut sources = self.sources.walk();
        for _ in 0..self.sources.len() {
            sink.out.extend_from_slice(sources.next_source().as_bytes());
            sink.spill_if_full()?;
        }
        put_u64(&mut sink.out, self.columns.len() as u64);
        for c in &self.columns {
            c.encode(&mut sink.out);
            sink.spill_if_full()?;
        }
        put_u64(&mut sink.out, self.scores.len() as u64);
        self.scores.encode(&mut sink.out);
        self.totals.encode(&mut sink.out);
        sink.finish()
    }

    /// Reads a snapshot written by [`Index::encode`]: the index and the `next_seq` it was
    /// stamped with. Every offset is checked, so a damaged file is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<(Index, u64), SnapshotError> {
        Index::read_from(bytes, bytes.len() as u64)
    }

    /// [`Index::decode`] of the `len` bytes `reader` gives, read a piece at a time: the
    /// snapshot is never held whole beside the index it becomes. The checksum at the end is
    /// checked after the rest; a snapshot that fails to decode is read to its end, and is
    /// reported as [`SnapshotError::Checksum`] when that does not match.
    pub fn read_from(reader: impl std::io::Read, len: u64) -> Result<(Index, u64), SnapshotError> {
        let mut src = Source::new(reader, len)?;
        let read = Index::read_parts(&mut src);
        let whole = src.finish();
        match (read, whole) {
            (_, Ok(false)) => Err(SnapshotError::Checksum),
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
            (Ok(index), Ok(true)) => Ok(index),
        }
    }

    fn read_parts<R: std::io::Read>(src: &mut Source<R>) -> Result<(Index, u64), SnapshotError> {
        /// Rows read at a time.
        const ROWS_AT_ONCE: usize = 1 << 12;
        if src.take(MAGIC.len())? != MAGIC {
            return Err(SnapshotError::NotASnapshot);
        }
        let version = src.u32()?;
        if ![VERSION, WITHOUT_BODIES, FLAT_BLOCKS, TOTALS_SUMMED].contains(&version) {
            return Err(SnapshotError::NotASnapshot);
        }
        if src.u64()? != catalogue::fingerprint() {
            return Err(SnapshotError::OtherCatalogue);
        }
        let next_seq = src.u64()?;
        let mut index = Index::new();
        for _ in 0..src.len(NAME_MIN_BYTES)? {
            let n = src.u32()? as usize;
            let name = std::str::from_utf8(src.take(n)?).map_err(damaged)?;
            if index.strings.intern(name) as usize != index.strings.len() - 1 {
                return Err(damaged(format!("string {name:?} twice")));
            }
        }
        let strings = index.strings.len() as u32;
        let row_bytes = row_bytes(version);
        let n = src.len(row_bytes)?;
        index.rows.reserve_exact(n);
        for place in &mut index.places {
            place.reserve_exact(n);
        }
        // Each row's source as (offset, length) in the sources read after the rows.
        let mut spans: Vec<(u32, u32)> = Vec::with_capacity(n);
        let mut at = 0u32;
        // Per level, the slot of each string id seen so far.
        let mut seen: [Vec<u32>; PLACES] = Default::default();
        while (at as usize) < n {
            let k = (n - at as usize).min(ROWS_AT_ONCE);
            let input = &mut src.take(k * row_bytes)?;
            for _ in 0..k {
                let (row, places, span) = read_row(input, at, n, strings, version >= BODIES)?;
                index.rows.push(row);
                spans.push(span);
                for ((column, place), seen) in index.places.iter_mut().zip(places).zip(&mut seen) {
                    column.push_seen(place, seen);
                }
                at += 1;
            }
        }
        index.ids.reserve_exact(n);
        while index.ids.len() < n {
            let k = (n - index.ids.len()).min(ROWS_AT_ONCE);
            let input = src.take(k * ID_BYTES)?;
            index.ids.extend(
                input
                    .chunks_exact(ID_BYTES)
                    .map(|id| IdBytes::try_from(id).expect("ID_BYTES bytes")),
            );
        }
        let findings = src.len(FINDING_BYTES)?;
        index.findings.reserve_exact(findings);
        while index.findings.len() < findings {
            let k = (findings - index.findings.len()).min(ROWS_AT_ONCE);
            for f in src.take(k * FINDING_BYTES)?.chunks_exact(FINDING_BYTES) {
                let f = u16::from_le_bytes([f[0], f[1]]);
                unpack(f).ok_or_else(|| damaged("unknown finding code"))?;
                index.findings.push(f);
            }
        }
        let len = src.len(1)?;
        let text = std::str::from_utf8(src.take(len)?).map_err(damaged)?;
        for (at, &(start, len)) in spans.iter().enumerate() {
            let (start, end) = (start as usize, start as usize + len as usize);
            if end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                return Err(damaged(format!("row {at} points outside its arenas")));
            }
            index.sources.push(&text[start..end]);
        }
        drop(spans);
        if src.len(COLUMN_HEADER_BYTES)? != METRICS.len() {
            return Err(damaged("column count differs from the catalogue"));
        }
        for c in &mut index.columns {
            *c = Column::read_from(src)?;
            if c.len() != n {
                return Err(damaged("a column's length differs from the row count"));
            }
        }
        if src.len(SCORE_BYTES)? != n {
            return Err(damaged("the scores' count differs from the row count"));
        }
        let years: Vec<i32> = index.rows.iter().map(|r| r.year).collect();
        index.scores = Scores::read(src, &years)?;
        let totals = match version {
            TOTALS_SUMMED => None,
            _ => Some(Totals::read(src)?),
        };
        if src.left() != 0 {
            return Err(damaged("bytes after the scores and totals"));
        }
        index.by_id.reserve(&index.ids, n);
        index.heads.reserve(&index.rows, n);
        index.years.reserve(n);
        index.latest.reserve(n);
        for at in 0..n as u32 {
            let row = index.rows[at as usize];
            let end = row.findings as usize + usize::from(row.own) + usize::from(row.cross);
            if end > index.findings.len() {
                return Err(damaged(format!("row {at} points outside its arenas")));
            }
            if !index.by_id.insert(&index.ids, index.ids[at as usize], at) {
                return Err(damaged(format!("row {at} repeats an id")));
            }
            index.years.push(row.year);
            index.latest.push(row.latest);
            let agency = index.places[AGENCY].name(at as usize);
            let bodied = row.year != NO_YEAR && !index.strings.name(agency).is_empty();
            if version < BODIES && bodied {
                let body = index.body_id(at);
                index.rows[at as usize].body = body;
            } else if bodied != (row.body != NONE) {
                return Err(damaged(format!(
                    "row {at} has a body against its agency and year"
                )));
            }
            if bodied {
                index.heads.set(&index.rows, at);
            }
            index.post_row(at);
        }
        index.totals = match totals {
            Some(totals) => totals,
            None => Totals::rebuild(&index.years, &index.latest, &index.columns),
        };
        Ok((index, next_seq))
    }
}

/// A row as a snapshot holds it: the row, its agency and region names, and its source's
/// offset and length among the sources laid end to end.
type ReadRow = (Row, [u32; PLACES], (u32, u32));

/// Row `at` of `n` from the front of `input`, its agency and region names (`strings`
/// names are interned), and where its source lies among the sources laid end to end. A
/// row holds its body when `bodied` (see [`BODIES`]); else its body is [`NONE`].
fn read_row(
    input: &mut &[u8],
    at: u32,
    n: usize,
    strings: u32,
    bodied: bool,
) -> Result<ReadRow, SnapshotError> {
    let seq = get_u64(input)?;
    let mut v = [0u32; ROW_WORDS];
    v[ROW_WORDS - 1] = NONE;
    let words = if bodied { ROW_WORDS } else { ROW_WORDS - 1 };
    for x in &mut v[..words] {
        *x = get_u32(input)?;
    }
    let flags = take(input, 1)?[0];
    let row = Row {
        seq,
        code: v[5],
        prev: v[6],
        body: v[16],
        before: v[7],
        findings: v[8],
        own: u16::try_from(v[9]).map_err(damaged)?,
        cross: u16::try_from(v[10]).map_err(damaged)?,
        year: v[13] as i32,
        template: v[14] as i32,
        published: v[15],
        latest: flags & LATEST != 0,
        rendition: flags & RENDITION != 0,
    };
    if flags & !(LATEST | RENDITION) != 0 {
        return Err(damaged(format!("row {at} has unknown flags {flags:#x}")));
    }
    if v[..6].iter().any(|&s| s >= strings)
        || (row.body != NONE && row.body >= strings)
        || (row.prev != NONE && row.prev >= at)
        || (row.before != NONE && row.before as usize >= n)
    {
        return Err(damaged(format!("row {at} points outside the index")));
    }
    Ok((row, [v[0], v[1], v[2], v[3], v[4]], (v[11], v[12])))
}
