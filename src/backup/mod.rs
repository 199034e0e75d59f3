//! The backup directory on disk: record files, and the manifest that vouches for them.
//!
//! ```text
//! DIR/MANIFEST.json                 written last (temporary name, fsync, rename, fsync DIR):
//!                                   a backup is complete once it is there
//! DIR/records-G-NNNNNN.nbk          the records in seq order, in files of about SEGMENT_BYTES
//! ```
//!
//! A record file is `NBBACKUP`, the format version (u32 little-endian), then one frame per
//! record: its length (u32 LE), the CRC-32 of its bytes (u32 LE), and its bytes (a
//! `BackupRecord` protobuf). Records are written as they arrive, so memory stays flat
//! whatever the backup's size.
//!
//! The manifest (JSON) holds the format and version, the stamp, the record count, the
//! catalogue and server version it came from, and for each file its name, size, record count
//! and SHA-256; and the SHA-256 of all that, so a damaged manifest is told from a good one.
//! A reader checks every one of these ([`verify`]) before a restore writes anything: a
//! truncated file, a flipped byte (the frame's CRC names the record, the file's SHA-256
//! catches the rest), a missing or extra record, a record out of seq order or at or above the
//! stamp, a document that does not hash to its id.
//!
//! `G` is the backup's generation in DIR: a backup that replaces another (`--overwrite`)
//! writes new files beside the old ones, and the old ones go only once the new manifest is in
//! place, so DIR always holds one complete backup.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::pb::BackupRecord;
use crate::store::backup::{check_record, MAX_RECORD_BYTES};

/// The manifest's name; its name while written.
pub const MANIFEST: &str = "MANIFEST.json";
const MANIFEST_TMP: &str = "MANIFEST.json.tmp";

/// What the manifest's `format` says, and the first bytes of every record file.
const FORMAT: &str = "nianbao-backup";
const MAGIC: &[u8; 8] = b"NBBACKUP";

/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

/// A record file is closed for the next once it holds this many bytes: a size any file
/// system and copy tool handles (a million reports make about 16 files).
pub const SEGMENT_BYTES: u64 = 1 << 30;

/// A frame's length and CRC-32.
const FRAME_HEADER: usize = 8;

/// Writes go through a buffer of this size.
const IO_BUFFER: usize = 1 << 20;

/// What the manifest vouches for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always "nianbao-backup".
    pub format: String,
    pub version: u32,
    /// The backup holds exactly the reports stored below this seq.
    pub stamp: u64,
    pub records: u64,
    /// The catalogue fingerprint and version of the server the backup came from.
    pub catalogue: String,
    pub server_version: String,
    /// When the backup finished, in seconds since 1970.
    pub created_unix_secs: u64,
    pub files: Vec<FileEntry>,
}

/// One record file, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub records: u64,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
}

/// The manifest file: the manifest and the SHA-256 of its compact JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    manifest: Manifest,
    sha256: String,
}

/// Why a backup directory is not a good backup.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// No manifest: not a backup, or one that never finished.
    #[error("no {MANIFEST}: not a backup, or a backup that did not finish")]
    NoManifest,
    /// Something in the backup is not what the manifest says; `why` says what and where.
    #[error("{why}")]
    Damaged { why: String },
    /// A record too large for a backup file (the server sends none: see
    /// [`MAX_RECORD_BYTES`]).
    #[error(
        "a record of {bytes} bytes; a backup carries records of {MAX_RECORD_BYTES} bytes at most"
    )]
    RecordTooLarge { bytes: usize },
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

fn damaged(why: impl Into<String>) -> FormatError {
    FormatError::Damaged { why: why.into() }
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> FormatError + '_ {
    move |error| FormatError::Io {
        path: path.to_owned(),
        error,
    }
}

impl Manifest {
    /// A manifest for `files`, stamped `stamp`.
    pub fn new(
        stamp: u64,
        catalogue: String,
        server_version: String,
        files: Vec<FileEntry>,
    ) -> Manifest {
        Manifest {
            format: FORMAT.to_owned(),
            version: VERSION,
            stamp,
            records: files.iter().map(|f| f.records).sum(),
            catalogue,
            server_version,
            created_unix_secs: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            files,
        }
    }

    /// The SHA-256 of the manifest's compact JSON, hex.
    fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("a manifest always serialises");
        hex::encode(Sha256::digest(json))
    }
}

/// Writes the manifest to a temporary name, syncs it, renames it into place and syncs the
/// directory: from then on the backup is complete.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), FormatError> {
    let file = ManifestFile {
        sha256: manifest.digest(),
        manifest: manifest.clone(),
    };
    let mut json = serde_json::to_vec_pretty(&file).expect("a manifest always serialises");
    json.push(b'\n');
    let tmp = dir.join(MANIFEST_TMP);
    let out = File::create(&tmp).map_err(io_at(&tmp))?;
    (&out).write_all(&json).map_err(io_at(&tmp))?;
    out.sync_all().map_err(io_at(&tmp))?;
    drop(out);
    std::fs::rename(&tmp, dir.join(MANIFEST)).map_err(io_at(dir))?;
    sync_dir(dir)
}

/// Reads and checks the manifest of the backup in `dir`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, FormatError> {
    let path = dir.join(MANIFEST);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FormatError::NoManifest),
        Err(e) => return Err(io_at(&path)(e)),
    };
    let file: ManifestFile = serde_json::from_slice(&bytes)
        .map_err(|e| damaged(format!("{MANIFEST} does not read: {e}")))?;
    if file.manifest.digest() != file.sha256 {
        return Err(damaged(format!(
            "{MANIFEST}: its checksum does not match its contents"
        )));
    }
    let manifest = file.manifest;
    if manifest.format != FORMAT {
        return Err(damaged(format!(
            "{MANIFEST}: format {:?}, not {FORMAT:?}",
            manifest.format
        )));
    }
    if manifest.version != VERSION {
        return Err(damaged(format!(
            "{MANIFEST}: format version {}; this nianbao reads version {VERSION}",
            manifest.version
        )));
    }
    // A restore reads only the files a backup writes, in the backup's own directory.
    if let Some(file) = manifest
        .files
        .iter()
        .find(|f| generation_of(&f.name).is_none())
    {
        return Err(damaged(format!(
            "{MANIFEST}: names {:?}, which is not a record file",
            file.name
        )));
    }
    if manifest.records != manifest.files.iter().map(|f| f.records).sum::<u64>() {
        return Err(damaged(format!(
            "{MANIFEST}: {} records in all, but its files add up to another count",
            manifest.records
        )));
    }
    Ok(manifest)
}

/// The name of record file `segment` of generation `generation`.
fn record_file_name(generation: u64, segment: u64) -> String {
    format!("records-{generation}-{segment:06}.nbk")
}

/// The generation of a record file's name; `None` for other names.
fn generation_of(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("records-")?.strip_suffix(".nbk")?;
    let (generation, segment) = rest.split_once('-')?;
    segment.parse::<u64>().ok()?;
    generation.parse().ok()
}

/// True for the names a backup writes in its directory.
pub fn is_backup_file(name: &str) -> bool {
    name == MANIFEST || name == MANIFEST_TMP || generation_of(name).is_some()
}

/// The generation a new backup in `dir` takes: one above every record file there.
pub fn next_generation(dir: &Path) -> Result<u64, FormatError> {
    let mut next = 1;
    for entry in std::fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        if let Some(generation) = generation_of(&entry.file_name().to_string_lossy()) {
            next = next.max(generation + 1);
        }
    }
    Ok(next)
}

/// Removes the backup files in `dir` the manifest does not name (an older generation, a
/// manifest never put in place), then syncs the directory.
pub fn remove_stale(dir: &Path, manifest: &Manifest) -> Result<(), FormatError> {
    for entry in std::fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let named = name == MANIFEST || manifest.files.iter().any(|f| f.name == name);
        if is_backup_file(&name) && !named {
            std::fs::remove_file(entry.path()).map_err(io_at(&entry.path()))?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), FormatError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))
}

/// A writer that hashes and counts what goes through it.
struct Hashing<W> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The record file being written.
struct Segment {
    name: String,
    path: PathBuf,
    out: BufWriter<Hashing<File>>,
    records: u64,
}

impl Segment {
    fn create(dir: &Path, name: String) -> Result<Segment, FormatError> {
        let path = dir.join(&name);
        let file = File::create_new(&path).map_err(io_at(&path))?;
        let mut out = BufWriter::with_capacity(
            IO_BUFFER,
            Hashing {
                inner: file,
                sha: Sha256::new(),
                bytes: 0,
            },
        );
        out.write_all(MAGIC)
            .and_then(|()| out.write_all(&VERSION.to_le_bytes()))
            .map_err(io_at(&path))?;
        Ok(Segment {
            name,
            path,
            out,
            records: 0,
        })
    }

    fn write(&mut self, payload: &[u8]) -> Result<(), FormatError> {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|&len| len as usize <= MAX_RECORD_BYTES)
            .ok_or(FormatError::RecordTooLarge {
                bytes: payload.len(),
            })?;
        let crc = crc32fast::hash(payload);
        self.out
            .write_all(&len.to_le_bytes())
            .and_then(|()| self.out.write_all(&crc.to_le_bytes()))
            .and_then(|()| self.out.write_all(payload))
            .map_err(io_at(&self.path))?;
        self.records += 1;
        Ok(())
    }

    fn bytes(&self) -> u64 {
        self.out.get_ref().bytes + self.out.buffer().len() as u64
    }

    /// Flushes and syncs the file; its entry for the manifest.
    fn close(self) -> Result<FileEntry, FormatError> {
        let Segment {
            name,
            path,
            out,
            records,
        } = self;
        let hashing = out.into_inner().map_err(|e| io_at(&path)(e.into_error()))?;
        hashing.inner.sync_all().map_err(io_at(&path))?;
        Ok(FileEntry {
            name,
            bytes: hashing.bytes,
            records,
            sha256: hex::encode(hashing.sha.finalize()),
        })
    }
}

/// Writes records as they come into files of generation `generation` in `dir`.
pub struct RecordWriter {
    dir: PathBuf,
    generation: u64,
    segment_bytes: u64,
    current: Option<Segment>,
    done: Vec<FileEntry>,
}

impl RecordWriter {
    /// A writer opening a new file whenever the current one holds `segment_bytes`.
    pub fn new(dir: &Path, generation: u64, segment_bytes: u64) -> RecordWriter {
        RecordWriter {
            dir: dir.to_owned(),
            generation,
            segment_bytes,
            current: None,
            done: Vec::new(),
        }
    }

    /// Appends `record` to the current file (opening the next one first when it is full).
    pub fn write(&mut self, record: &BackupRecord) -> Result<(), FormatError> {
        if self
            .current
            .as_ref()
            .is_some_and(|s| s.bytes() >= self.segment_bytes)
        {
            self.close_current()?;
        }
        let segment = match &mut self.current {
            Some(segment) => segment,
            None => {
                let name = record_file_name(self.generation, self.done.len() as u64 + 1);
                self.current.insert(Segment::create(&self.dir, name)?)
            }
        };
        segment.write(&record.encode_to_vec())
    }

    fn close_current(&mut self) -> Result<(), FormatError> {
        if let Some(segment) = self.current.take() {
            self.done.push(segment.close()?);
        }
        Ok(())
    }

    /// Closes (and syncs) the last file; the entries of every file, for the manifest. A
    /// backup of no records has no file.
    pub fn finish(mut self) -> Result<Vec<FileEntry>, FormatError> {
        self.close_current()?;
        Ok(self.done)
    }
}

/// A reader that hashes and counts what comes through it.
struct Tally<R> {
    inner: R,
    sha: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Reads the records of one file, frame by frame, checking each frame's CRC.
struct FileReader {
    name: String,
    path: PathBuf,
    input: BufReader<Tally<File>>,
    /// Records read so far.
    read: u64,
}

impl FileReader {
    fn open(dir: &Path, entry: &FileEntry) -> Result<FileReader, FormatError> {
        let path = dir.join(&entry.name);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(damaged(format!(
                    "{}: missing (the manifest names it)",
                    entry.name
                )))
            }
            Err(e) => return Err(io_at(&path)(e)),
        };
        let size = file.metadata().map_err(io_at(&path))?.len();
        if size != entry.bytes {
            return Err(damaged(format!(
                "{}: {size} bytes, the manifest says {}: the file is truncated or damaged",
                entry.name, entry.bytes
            )));
        }
        let mut reader = FileReader {
            name: entry.name.clone(),
            path,
            input: BufReader::with_capacity(
                IO_BUFFER,
                Tally {
                    inner: file,
                    sha: Sha256::new(),
                    bytes: 0,
                },
            ),
            read: 0,
        };
        reader.check_head()?;
        Ok(reader)
    }

    fn check_head(&mut self) -> Result<(), FormatError> {
        let mut head = [0u8; MAGIC.len() + 4];
        self.fill(&mut head, "the file's header")?;
        if &head[..MAGIC.len()] != MAGIC {
            return Err(damaged(format!(
                "{}: not a nianbao backup record file (its first bytes are damaged)",
                self.name
            )));
        }
        let version = u32::from_le_bytes(head[MAGIC.len()..].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(damaged(format!(
                "{}: format version {version}, not {VERSION}",
                self.name
            )));
        }
        Ok(())
    }

    /// Fills `buf`, or says that the file ends inside `what`.
    fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<(), FormatError> {
        match self.input.read_exact(buf) {
            Ok(()) => Ok(()),
            // The file's size is the manifest's (checked at open): a frame that runs past
            // its end has a damaged length.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(damaged(format!(
                "{}: {what} runs past the end of the file: the file is damaged",
                self.name
            ))),
            Err(e) => Err(io_at(&self.path)(e)),
        }
    }

    /// True when the file has no more bytes.
    fn at_end(&mut self) -> Result<bool, FormatError> {
        use std::io::BufRead;
        Ok(self.input.fill_buf().map_err(io_at(&self.path))?.is_empty())
    }

    /// The next record, or `None` at the end of the file.
    fn next_record(&mut self) -> Result<Option<BackupRecord>, FormatError> {
        if self.at_end()? {
            return Ok(None);
        }
        let at = self.read + 1;
        let mut head = [0u8; FRAME_HEADER];
        self.fill(&mut head, &format!("record {at}'s frame"))?;
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        if len > MAX_RECORD_BYTES {
            return Err(damaged(format!(
                "{}: record {at} claims {len} bytes, more than any record: the file is damaged",
                self.name
            )));
        }
        let mut payload = vec![0u8; len];
        self.fill(&mut payload, &format!("record {at}"))?;
        if crc32fast::hash(&payload) != crc {
            return Err(damaged(format!(
                "{}: record {at}: checksum mismatch: the file is damaged",
                self.name
            )));
        }
        let record = BackupRecord::decode(payload.as_slice())
            .map_err(|e| damaged(format!("{}: record {at} does not decode: {e}", self.name)))?;
        self.read = at;
        Ok(Some(record))
    }

    /// At the end of the file: its record count and SHA-256 against the manifest.
    fn check_end(self, entry: &FileEntry) -> Result<(), FormatError> {
        if self.read != entry.records {
            return Err(damaged(format!(
                "{}: {} records, the manifest says {}",
                self.name, self.read, entry.records
            )));
        }
        let tally = self.input.into_inner();
        if hex::encode(tally.sha.finalize()) != entry.sha256 {
            return Err(damaged(format!(
                "{}: its SHA-256 is not the manifest's: the file is damaged",
                self.name
            )));
        }
        Ok(())
    }
}

/// Every record of the backup in `dir`, in order across its files, each frame checked; a
/// file's record count and SHA-256 are checked when its last record has been read.
pub struct Records<'m> {
    dir: PathBuf,
    manifest: &'m Manifest,
    /// The file being read (its index in the manifest).
    file: Option<(usize, FileReader)>,
    next_file: usize,
}

impl<'m> Records<'m> {
    pub fn new(dir: &Path, manifest: &'m Manifest) -> Records<'m> {
        Records {
            dir: dir.to_owned(),
            manifest,
            file: None,
            next_file: 0,
        }
    }

    fn next_record(&mut self) -> Result<Option<BackupRecord>, FormatError> {
        loop {
            let (i, reader) = match &mut self.file {
                Some(open) => open,
                None => {
                    let Some(entry) = self.manifest.files.get(self.next_file) else {
                        return Ok(None);
                    };
                    let reader = FileReader::open(&self.dir, entry)?;
                    self.next_file += 1;
                    self.file.insert((self.next_file - 1, reader))
                }
            };
            if let Some(record) = reader.next_record()? {
                return Ok(Some(record));
            }
            let i = *i;
            let (_, reader) = self.file.take().expect("open above");
            reader.check_end(&self.manifest.files[i])?;
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<BackupRecord, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Reads the whole backup in `dir` and checks it against its manifest: every file's size,
/// frames, record count and SHA-256, the seqs (increasing, below the stamp) and every record
/// ([`check_record`]: a document that hashes to its id, with its report). Writes nothing.
pub fn verify(dir: &Path, manifest: &Manifest) -> Result<(), FormatError> {
    let mut last_seq = None;
    for record in Records::new(dir, manifest) {
        let record = record?;
        check_seq(manifest.stamp, last_seq, &record)?;
        last_seq = Some(record.seq);
        check_record(&record).map_err(|e| damaged(e.to_string()))?;
    }
    Ok(())
}

/// A record's seq: above the one before, below the stamp.
pub fn check_seq(stamp: u64, last: Option<u64>, record: &BackupRecord) -> Result<(), FormatError> {
    if record.seq >= stamp {
        return Err(damaged(format!(
            "record seq {} is not below the stamp {stamp}",
            record.seq
        )));
    }
    if let Some(last) = last.filter(|&last| record.seq <= last) {
        return Err(damaged(format!(
            "record seq {} comes after seq {last}: the records are out of order",
            record.seq
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::{Report, StoredDocument};

    /// A record whose document is `text` and whose id is its SHA-256.
    fn record(seq: u64, text: &str) -> BackupRecord {
        BackupRecord {
            seq,
            id: hex::decode(crate::model::id::report_id(text.as_bytes())).unwrap(),
            document: Some(StoredDocument {
                content_zstd: zstd::encode_all(text.as_bytes(), 3).unwrap(),
                content_len: text.len() as u64,
                source: format!("{seq}.txt"),
                seq,
                ..Default::default()
            }),
            report: Some(Report {
                agency: format!("agency {seq}"),
                ..Default::default()
            }),
            basis_zstd: Vec::new(),
            basis_prefix: 0,
        }
    }

    /// A backup of `n` records in `dir`, in files of about `segment_bytes`.
    fn write_backup(dir: &Path, n: u64, segment_bytes: u64) -> Manifest {
        let mut writer = RecordWriter::new(dir, next_generation(dir).unwrap(), segment_bytes);
        for seq in 1..=n {
            writer
                .write(&record(seq, &format!("document {seq} {}", "x".repeat(200))))
                .unwrap();
        }
        let manifest = Manifest::new(n + 1, "c".into(), "v".into(), writer.finish().unwrap());
        write_manifest(dir, &manifest).unwrap();
        manifest
    }

    fn only_file(dir: &Path) -> PathBuf {
        let manifest = read_manifest(dir).unwrap();
        assert_eq!(manifest.files.len(), 1);
        dir.join(&manifest.files[0].name)
    }

    #[test]
    fn a_backup_reads_back_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_backup(dir.path(), 40, 500);
        assert!(written.files.len() > 3, "{:?}", written.files);
        let manifest = read_manifest(dir.path()).unwrap();
        assert_eq!(manifest, written);
        assert_eq!(manifest.records, 40);
        verify(dir.path(), &manifest).unwrap();
        let seqs: Vec<u64> = Records::new(dir.path(), &manifest)
            .map(|r| r.unwrap().seq)
            .collect();
        assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_store_makes_a_backup_of_no_files() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_backup(dir.path(), 0, SEGMENT_BYTES);
        assert!(manifest.files.is_empty());
        verify(dir.path(), &read_manifest(dir.path()).unwrap()).unwrap();
    }

    /// The error `verify` (after `read_manifest`) gives for the backup in `dir`.
    fn refusal(dir: &Path) -> String {
        match read_manifest(dir).and_then(|m| verify(dir, &m)) {
            Ok(()) => panic!("a damaged backup passed"),
            Err(e) => e.to_string(),
        }
    }

    /// Something done to a record file's bytes.
    type Damage = fn(&mut Vec<u8>);

    #[test]
    fn damage_anywhere_is_found_and_named() {
        let dir = tempfile::tempdir().unwrap();
        write_backup(dir.path(), 10, SEGMENT_BYTES);
        let file = only_file(dir.path());
        let good = std::fs::read(&file).unwrap();
        let manifest_bytes = std::fs::read(dir.path().join(MANIFEST)).unwrap();
        let cases: [(&str, Damage, &str); 6] = [
            ("truncated", |b| b.truncate(b.len() - 7), "truncated"),
            ("extended", |b| b.push(0), "manifest says"),
            ("magic", |b| b[0] ^= 1, "not a nianbao backup"),
            ("frame length", |b| b[13] ^= 0x40, "runs past the end"),
            ("payload", |b| b[30] ^= 1, "record 1: checksum mismatch"),
            (
                "last byte",
                |b| *b.last_mut().unwrap() ^= 1,
                "checksum mismatch",
            ),
        ];
        for (what, damage, says) in cases {
            let mut bytes = good.clone();
            damage(&mut bytes);
            std::fs::write(&file, &bytes).unwrap();
            let why = refusal(dir.path());
            assert!(why.contains(says), "{what}: {why}");
        }
        std::fs::write(&file, &good).unwrap();

        // The manifest: a changed count, a flipped digit of a checksum, cut short.
        let text = String::from_utf8(manifest_bytes.clone()).unwrap();
        for (what, bad) in [
            (
                "count",
                text.replacen("\"records\": 10", "\"records\": 11", 1),
            ),
            ("stamp", text.replacen("\"stamp\": 11", "\"stamp\": 12", 1)),
            ("cut", text[..text.len() / 2].to_owned()),
        ] {
            assert_ne!(bad, text, "{what}");
            std::fs::write(dir.path().join(MANIFEST), bad).unwrap();
            let why = refusal(dir.path());
            assert!(why.contains(MANIFEST), "{what}: {why}");
        }
        std::fs::remove_file(dir.path().join(MANIFEST)).unwrap();
        assert!(matches!(
            read_manifest(dir.path()),
            Err(FormatError::NoManifest)
        ));
    }

    #[test]
    fn a_file_whose_checksum_differs_is_refused_even_when_its_frames_read() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_backup(dir.path(), 3, SEGMENT_BYTES);
        // Another backup's file of the same size under this one's name.
        let other = tempfile::tempdir().unwrap();
        let mut writer = RecordWriter::new(other.path(), 1, SEGMENT_BYTES);
        for seq in 1..=3 {
            writer
                .write(&record(seq, &format!("document {seq} {}", "y".repeat(200))))
                .unwrap();
        }
        let entries = writer.finish().unwrap();
        assert_eq!(entries[0].bytes, manifest.files[0].bytes);
        std::fs::copy(
            other.path().join(&entries[0].name),
            dir.path().join(&manifest.files[0].name),
        )
        .unwrap();
        assert!(refusal(dir.path()).contains("SHA-256"));
    }

    #[test]
    fn a_manifest_naming_other_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut manifest = write_backup(dir.path(), 2, SEGMENT_BYTES);
        manifest.files[0].name = "../records-1-000001.nbk".into();
        write_manifest(dir.path(), &manifest).unwrap();
        assert!(refusal(dir.path()).contains("not a record file"));
    }

    #[test]
    fn records_out_of_order_or_past_the_stamp_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = RecordWriter::new(dir.path(), 1, SEGMENT_BYTES);
        for seq in [1, 3, 2] {
            writer.write(&record(seq, &format!("doc {seq}"))).unwrap();
        }
        let files = writer.finish().unwrap();
        write_manifest(
            dir.path(),
            &Manifest::new(9, "c".into(), "v".into(), files.clone()),
        )
        .unwrap();
        assert!(refusal(dir.path()).contains("out of order"));
        write_manifest(dir.path(), &Manifest::new(3, "c".into(), "v".into(), files)).unwrap();
        assert!(refusal(dir.path()).contains("not below the stamp 3"));
    }

    #[test]
    fn a_document_that_does_not_hash_to_its_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = RecordWriter::new(dir.path(), 1, SEGMENT_BYTES);
        let mut wrong = record(1, "one");
        wrong.id = record(1, "two").id;
        writer.write(&wrong).unwrap();
        let manifest = Manifest::new(2, "c".into(), "v".into(), writer.finish().unwrap());
        write_manifest(dir.path(), &manifest).unwrap();
        assert!(refusal(dir.path()).contains("SHA-256 is not its id"));
    }

    #[test]
    fn a_new_generation_replaces_the_old_files_only_once_its_manifest_is_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_backup(dir.path(), 5, SEGMENT_BYTES);
        assert_eq!(next_generation(dir.path()).unwrap(), 2);
        let second = write_backup(dir.path(), 6, SEGMENT_BYTES);
        // Both generations' files are there until the stale ones are removed.
        assert!(dir.path().join(&first.files[0].name).exists());
        remove_stale(dir.path(), &second).unwrap();
        assert!(!dir.path().join(&first.files[0].name).exists());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        verify(dir.path(), &read_manifest(dir.path()).unwrap()).unwrap();
    }

    #[test]
    fn backup_file_names() {
        assert_eq!(generation_of(&record_file_name(7, 3)), Some(7));
        for name in [
            "records-x-000001.nbk",
            "records-1.nbk",
            "notes.txt",
            "records-1-1.txt",
        ] {
            assert_eq!(generation_of(name), None, "{name}");
        }
        assert!(is_backup_file(MANIFEST) && is_backup_file(MANIFEST_TMP));
    }
}
