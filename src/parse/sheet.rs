//! The parser's working set: one optional value per catalogue metric, the cells marked as
//! inferred, the extra rows and the reading findings. PURE.

use crate::model::catalogue::{self, METRICS};
use crate::model::finding::{finding, Code};
use crate::pb::{ExtraRow, Finding, Report};

#[derive(Debug, Clone)]
pub struct Sheet {
    values: Vec<Option<f64>>,
    inferred: Vec<bool>,
    pub findings: Vec<Finding>,
    pub extra_rows: Vec<ExtraRow>,
}

impl Default for Sheet {
    fn default() -> Self {
        Sheet {
            values: vec![None; METRICS.len()],
            inferred: vec![false; METRICS.len()],
            findings: Vec::new(),
            extra_rows: Vec::new(),
        }
    }
}

impl Sheet {
    /// Sets the cell at `path`; a path the catalogue does not name is a programming error
    /// caught by the tests, and is ignored at run time.
    pub fn set(&mut self, path: &str, value: f64) {
        if let Some(i) = catalogue::index_of(path) {
            self.values[i] = Some(value);
        } else {
            debug_assert!(false, "not a catalogue path: {path}");
        }
    }

    /// Sets the cell of metric `index` (see [`catalogue::children`]).
    pub fn set_at(&mut self, index: usize, value: f64) {
        if let Some(slot) = self.values.get_mut(index) {
            *slot = Some(value);
        }
    }

    pub fn set_inferred_at(&mut self, index: usize, value: f64) {
        self.set_at(index, value);
        if let Some(flag) = self.inferred.get_mut(index) {
            *flag = true;
        }
    }

    pub fn set_inferred(&mut self, path: &str, value: f64) {
        self.set(path, value);
        if let Some(i) = catalogue::index_of(path) {
            self.inferred[i] = true;
        }
    }

    /// The cell of metric `index` (see [`catalogue::children`]).
    pub fn get_at(&self, index: usize) -> Option<f64> {
        self.values.get(index).copied().flatten()
    }

    pub fn get(&self, path: &str) -> Option<f64> {
        catalogue::index_of(path).and_then(|i| self.values[i])
    }

    pub fn note(&mut self, code: Code, path: impl Into<String>, message: impl Into<String>) {
        self.findings.push(finding(code, path, None, None, message));
    }

    pub fn note_values(
        &mut self,
        code: Code,
        path: impl Into<String>,
        expected: Option<f64>,
        actual: Option<f64>,
        message: impl Into<String>,
    ) {
        self.findings
            .push(finding(code, path, expected, actual, message));
    }

    /// Moves everything read into `report` (cells, inferred paths, extra rows, findings).
    pub fn fill(self, report: &mut Report) {
        for (i, v) in self.values.iter().enumerate() {
            if let Some(v) = v {
                catalogue::set(report, i, Some(*v));
                if self.inferred[i] {
                    report.inferred.push(METRICS[i].path.to_owned());
                }
            }
        }
        report.extra_rows = self.extra_rows;
        report.findings.extend(self.findings);
    }
}
