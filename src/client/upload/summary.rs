//! What an upload did ([`Summary`]), as the command prints it: counts by outcome, the
//! rejected files by reason, the repeats, what was skipped or never acknowledged.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A file holding the same bytes as an earlier file of the same upload: not sent, answered
/// from the answer of the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub path: PathBuf,
    /// The first file with these bytes, the one sent.
    pub first: PathBuf,
    /// The first file's rejection, which is the repeat's too; `None` when it was stored, a
    /// duplicate or a revision (the repeat is then a duplicate).
    pub rejected: Option<String>,
}

/// What an upload did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub stored: u64,
    /// Documents the server held already, and repeats of a file answered in this upload.
    pub duplicate: u64,
    pub revision: u64,
    /// Other renditions of a report stored already (its PDF, a re-scrape).
    pub rendition: u64,
    /// Rejected documents by reason (by the server, or here when too large to send).
    pub rejected: BTreeMap<String, u64>,
    /// Of `rejected`, the files rejected in an earlier run (answered from the journal, or
    /// still too large for the same limit): they do not fail the upload.
    pub rejected_earlier: u64,
    /// Each rejected file that is not a repeat, with its reason (its key in `rejected`), in
    /// the order answered.
    pub rejected_files: Vec<(PathBuf, String)>,
    /// Skipped because an earlier run's journal holds their acknowledgement (rejections
    /// answered earlier count under `rejected`).
    pub already_acknowledged: u64,
    /// Sent but never acknowledged (the server kept failing), or unreadable.
    pub unacknowledged: Vec<(PathBuf, String)>,
    /// Files found in a folder that are no document nianbao reads (by their bytes), with
    /// why: not sent, not journaled, and no failure of the upload.
    pub skipped: Vec<(PathBuf, String)>,
    /// Repeats answered in this upload, in the order answered (each also counted under
    /// `duplicate` or `rejected`).
    pub repeats: Vec<Repeat>,
    /// The journal, named where the summary lists rejections in part.
    pub journal: PathBuf,
}

impl Summary {
    /// True when every file was acknowledged in this run or an earlier one, and nothing was
    /// rejected in this run (a rejection answered in an earlier run is not news).
    pub fn ok(&self) -> bool {
        self.rejected.values().sum::<u64>() <= self.rejected_earlier
            && self.unacknowledged.is_empty()
    }

    /// Records `path`'s rejection, found in the journal of an earlier run: `files` files (it
    /// and its repeats) under `reason`.
    pub(super) fn rejected_earlier(&mut self, path: PathBuf, reason: &str, files: u64) {
        let reason = format!("{reason} (answered in an earlier run)");
        *self.rejected.entry(reason.clone()).or_default() += files;
        self.rejected_earlier += files;
        self.rejected_files.push((path, reason));
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "files: {} ({:.1} MB)",
            self.files,
            self.bytes as f64 / 1e6
        )?;
        writeln!(f, "stored: {}", self.stored)?;
        writeln!(f, "duplicate: {}", self.duplicate)?;
        self.list_repeats(f, "  ", None)?;
        writeln!(f, "revision: {}", self.revision)?;
        writeln!(f, "rendition: {}", self.rendition)?;
        writeln!(
            f,
            "already acknowledged (journal): {}",
            self.already_acknowledged
        )?;
        let rejected: u64 = self.rejected.values().sum();
        writeln!(f, "rejected: {rejected}")?;
        let mut budget = REJECTED_LISTED;
        for (reason, n) in &self.rejected {
            writeln!(f, "  {n} × {reason}")?;
            let files = self.rejected_files.iter().filter(|(_, r)| r == reason);
            for (path, _) in files.take(budget) {
                writeln!(f, "    {}", path.display())?;
                budget -= 1;
            }
            let repeats = self
                .repeats
                .iter()
                .filter(|r| r.rejected.as_ref() == Some(reason));
            for r in repeats.take(budget) {
                let (path, first) = (r.path.display(), r.first.display());
                writeln!(f, "    {path}: duplicate of {first}")?;
                budget -= 1;
            }
        }
        let listed = (REJECTED_LISTED - budget) as u64;
        if rejected > listed {
            writeln!(
                f,
                "  … and {} more rejected files: each with its reason in the journal {}",
                rejected - listed,
                self.journal.display()
            )?;
        }
        writeln!(f, "skipped (not a document): {}", self.skipped.len())?;
        for (path, why) in self.skipped.iter().take(REJECTED_LISTED) {
            writeln!(f, "  {}: {why}", path.display())?;
        }
        if let Some(more) = self.skipped.len().checked_sub(REJECTED_LISTED) {
            if more > 0 {
                writeln!(f, "  … and {more} more")?;
            }
        }
        writeln!(f, "not acknowledged: {}", self.unacknowledged.len())?;
        for (path, why) in self.unacknowledged.iter().take(REJECTED_LISTED) {
            writeln!(f, "  {}: {why}", path.display())?;
        }
        if let Some(more) = self.unacknowledged.len().checked_sub(REJECTED_LISTED) {
            if more > 0 {
                writeln!(f, "  … and {more} more; a re-run sends them again")?;
            }
        }
        Ok(())
    }
}

/// Rejected files named in the summary, at most (the rest are in the journal).
pub(super) const REJECTED_LISTED: usize = 20;

/// Repeats listed under one count of the summary, at most this many (a mirror of a whole
/// site can repeat thousands of files).
pub(super) const REPEATS_LISTED: usize = 20;

impl Summary {
    /// Lists the repeats answered as `rejected` (`None`: the duplicates), one per line.
    fn list_repeats(
        &self,
        f: &mut std::fmt::Formatter<'_>,
        indent: &str,
        rejected: Option<&String>,
    ) -> std::fmt::Result {
        let mut repeats = self
            .repeats
            .iter()
            .filter(|r| r.rejected.as_ref() == rejected);
        for r in repeats.by_ref().take(REPEATS_LISTED) {
            let (path, first) = (r.path.display(), r.first.display());
            writeln!(f, "{indent}{path}: duplicate of {first}")?;
        }
        match repeats.count() {
            0 => Ok(()),
            more => writeln!(
                f,
                "{indent}… and {more} more duplicates of files of this upload"
            ),
        }
    }
}
