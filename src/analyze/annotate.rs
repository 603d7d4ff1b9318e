//! `analyze --annotate`: a pcapng copy of the input in which every frame with
//! a finding carries a comment `[MQTT-x.y.z-n] message` (Wireshark and
//! tshark show it as `frame.comment`).

use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::Path;

use super::model::FileReport;
use crate::capture::pcapng::{Interface, PcapngWriter};
use crate::capture::read::read;

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

/// Write the annotated copy of `input` to `output`; returns how many frames
/// got comments.
pub fn write(input: &Path, output: &Path, report: &FileReport) -> std::io::Result<usize> {
    let notes = comments(report);
    // Pass 1: the interfaces (input interface, link type) in order of use.
    let mut ifaces: Vec<(u32, u16)> = Vec::new();
    read(std::fs::File::open(input)?, &mut |f| {
        if !ifaces.contains(&(f.interface, f.linktype)) {
            ifaces.push((f.interface, f.linktype));
        }
    })
    .map_err(std::io::Error::other)?;
    let out = BufWriter::new(std::fs::File::create(output)?);
    let defs: Vec<Interface> = ifaces
        .iter()
        .map(|(_, lt)| Interface {
            linktype: *lt,
            snaplen: 262_144,
            ts_resolution_nanos: true,
        })
        .collect();
    let mut w = PcapngWriter::new(out, &defs)?;
    let mut result = Ok(());
    let mut annotated = 0usize;
    read(std::fs::File::open(input)?, &mut |f| {
        if result.is_err() {
            return;
        }
        let idx = ifaces
            .iter()
            .position(|k| *k == (f.interface, f.linktype))
            .unwrap_or(0) as u32;
        let texts: Vec<&str> = notes
            .get(&f.number)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if !texts.is_empty() {
            annotated += 1;
        }
        result = w.packet(idx, f.ts, f.data, f.orig_len, &texts);
    })
    .map_err(std::io::Error::other)?;
    result?;
    w.finish()?;
    Ok(annotated)
}
