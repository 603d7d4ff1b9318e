//! `analyze --annotate`: a pcapng copy of the input in which every frame with
//! a finding carries a comment `[MQTT-x.y.z-n] message`.

use std::collections::BTreeMap;
use std::path::Path;

use super::model::FileReport;

/// Comments per frame number, from a file's findings.
pub fn comments(report: &FileReport) -> BTreeMap<u64, Vec<String>> {
    let mut m: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for fl in &report.flows {
        for f in &fl.findings {
            m.entry(f.frame)
                .or_default()
                .push(format!("[{}] {}", f.rule, f.message));
        }
    }
    m
}

/// Write the annotated copy; returns how many frames got comments.
pub fn write(_input: &Path, _output: &Path, report: &FileReport) -> std::io::Result<usize> {
    let c = comments(report);
    Err(std::io::Error::other(format!(
        "annotation needs the pcapng writer ({} frames would be annotated)",
        c.len()
    )))
}
