//! Streaming pcap / pcapng reader (pcap-parser): constant memory, borrowed
//! frames, per-interface link type and timestamp resolution, clear notices
//! for truncated or damaged files.
//!
//! The reader keeps one buffer (1 MiB, grown only for a larger block, at most
//! [`MAX_BUFFER`]). Frame numbers count every packet block (pcap records,
//! pcapng EPB / SPB / obsolete packet blocks), as Wireshark does, including
//! the ones that had to be skipped.

use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;

use pcap_parser::PcapError;

use super::Frame;

mod blocks;
mod compressed;
mod time;
pub(crate) mod window;

use blocks::State;
use window::Window;

/// Initial buffer size.
pub const START_BUFFER: usize = 1 << 20;
/// Largest block the reader accepts (the buffer never grows past this).
pub const MAX_BUFFER: usize = 256 << 20;
/// Notices kept; later ones are only counted.
pub const MAX_NOTICES: usize = 100;

/// Something odd in the file that did not stop the reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Frame number it concerns, if any.
    pub frame: Option<u64>,
    pub message: String,
}

/// What was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Packet blocks seen (the last frame number).
    pub frames: u64,
    /// Captured bytes handed to the callback.
    pub bytes: u64,
    pub notices: Vec<Notice>,
}

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a pcap or pcapng file: {0}")]
    NotACapture(String),
}

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAP_MAGICS: [u32; 3] = [0xa1b2_c3d4, 0xa1b2_3c4d, 0xa1b2_cd34];

/// Read every frame of a pcap or pcapng stream, plain or gzip-compressed,
/// calling `on_frame` for each.
pub fn read<R: Read>(
    input: R,
    on_frame: &mut dyn FnMut(&Frame<'_>),
) -> Result<ReadStats, CaptureError> {
    let mut input = input;
    let mut head = [0u8; 2];
    let got = read_full(&mut input, &mut head).map_err(CaptureError::Io)?;
    let start = io::Cursor::new(head[..got].to_vec()).chain(input);
    if !compressed::is_gzip(&head[..got]) {
        return read_stream(start, on_frame);
    }
    let (inflated, damage) = compressed::Inflate::new(start);
    let result = read_stream(inflated, on_frame);
    let damage = damage.borrow_mut().take();
    match (result, damage) {
        (Ok(mut stats), Some(damage)) => {
            stats.notices.push(Notice {
                frame: None,
                message: damage.notice(),
            });
            Ok(stats)
        }
        (Err(CaptureError::NotACapture(_)), Some(damage)) => Err(CaptureError::NotACapture(
            format!("damaged gzip stream ({})", damage.why),
        )),
        (Err(CaptureError::NotACapture(why)), None) => Err(CaptureError::NotACapture(format!(
            "gzip-compressed, but what it holds is not one: {why}"
        ))),
        (result, _) => result,
    }
}

/// Fill `buf` unless the input ends first (interrupted reads are retried);
/// returns how much was read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// [`read`] of an uncompressed stream.
fn read_stream<R: Read>(
    input: R,
    on_frame: &mut dyn FnMut(&Frame<'_>),
) -> Result<ReadStats, CaptureError> {
    let failure = Rc::new(RefCell::new(None));
    let mut input = Filling {
        inner: input,
        failure: Rc::clone(&failure),
    };
    let mut head = [0u8; 24];
    let got = input.read(&mut head).map_err(CaptureError::Io)?;
    let head = &head[..got];
    let pcapng = head.starts_with(&PCAPNG_MAGIC);
    if !pcapng && !is_pcap(head) {
        return Err(CaptureError::NotACapture(describe_start(head)));
    }
    let source = Filling {
        inner: io::Cursor::new(head.to_vec()).chain(input),
        failure: Rc::clone(&failure),
    };
    let kind = if pcapng {
        "pcapng section header"
    } else {
        "pcap file header"
    };
    let mut reader = match Window::new(START_BUFFER, source, pcapng) {
        Ok(r) => r,
        Err(PcapError::ReadError) => return Err(io_failure(&failure)),
        Err(PcapError::Incomplete(_)) | Err(PcapError::Eof) => {
            return Err(CaptureError::NotACapture(format!(
                "the {kind} is cut short (file of {got} bytes or header over 1 MiB)"
            )))
        }
        Err(e) => return Err(CaptureError::NotACapture(format!("damaged {kind}: {e:?}"))),
    };
    let mut state = State::default();
    let mut capacity = START_BUFFER;
    loop {
        if pcapng {
            // Plain EPBs (the bulk of a file) skip pcap-parser's generic path.
            if let Some(n) = state.plain_epb(reader.data(), reader.chunk(), on_frame) {
                reader.consume(n);
                continue;
            }
        }
        let step = {
            // Dropped before a refill, which reuses the buffer if unshared.
            let shared = reader.chunk().clone();
            match reader.next() {
                Ok((n, block)) => {
                    state.block(&block, &shared, on_frame);
                    Step::Consume(n)
                }
                Err(PcapError::Eof) => Step::Stop,
                Err(PcapError::Incomplete(_)) => Step::Refill,
                Err(PcapError::BufferTooSmall) => Step::Grow,
                Err(PcapError::UnexpectedEof) => Step::Truncated,
                Err(PcapError::ReadError) => return Err(io_failure(&failure)),
                Err(_) => Step::Damaged,
            }
        };
        // pcap-parser asks for more bytes when a field inside a complete
        // block is inconsistent (e.g. a captured length past the block end).
        let step = match step {
            Step::Refill | Step::Truncated if state.block_present(pcapng, reader.data()) => {
                Step::Damaged
            }
            other => other,
        };
        match step {
            // No shift here: `refill` moves the unread tail once the buffer runs dry.
            Step::Consume(n) => reader.consume(n),
            Step::Stop => break,
            Step::Refill => {
                let before = reader.data().len();
                if reader.refill().is_err() {
                    return Err(io_failure(&failure));
                }
                let stuck = reader.data().len() == before && !reader.exhausted();
                if stuck && !grow(&mut reader, pcapng, &mut capacity, &mut state) {
                    break;
                }
            }
            Step::Grow => {
                if !grow(&mut reader, pcapng, &mut capacity, &mut state) {
                    break;
                }
                if reader.refill().is_err() {
                    return Err(io_failure(&failure));
                }
            }
            Step::Truncated => {
                let left = reader.data().len();
                state.truncated(pcapng, reader.data(), left);
                break;
            }
            Step::Damaged => match state.damaged(pcapng, reader.data()) {
                Some(n) => reader.consume(n),
                None => break,
            },
        }
    }
    Ok(state.finish())
}

enum Step {
    Consume(usize),
    Stop,
    Refill,
    Grow,
    Truncated,
    Damaged,
}

/// Grow the buffer for the next block, or give up (with a notice) past
/// [`MAX_BUFFER`] or for an absurd length.
fn grow<R: Read>(
    reader: &mut Window<R>,
    pcapng: bool,
    capacity: &mut usize,
    state: &mut State,
) -> bool {
    let needed = state.needed(pcapng, reader.data()).unwrap_or(*capacity * 2);
    if needed > MAX_BUFFER || *capacity >= MAX_BUFFER {
        state.too_large(pcapng, reader.data());
        return false;
    }
    *capacity = needed
        .next_power_of_two()
        .max(*capacity * 2)
        .min(MAX_BUFFER);
    // `grow` only declines when the buffer is already that large; the
    // doubling above bounds the retries either way.
    reader.grow(*capacity);
    true
}

fn is_pcap(head: &[u8]) -> bool {
    let Some(m) = head.get(..4) else { return false };
    let le = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
    let be = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
    PCAP_MAGICS.contains(&le) || PCAP_MAGICS.contains(&be)
}

fn describe_start(head: &[u8]) -> String {
    if head.is_empty() {
        return "the file is empty".into();
    }
    if let Some(what) = compressed::other(head) {
        return what;
    }
    if compressed::is_gzip(head) {
        return "it is gzip-compressed twice; decompress it once first (`gunzip FILE`)".into();
    }
    let shown = &head[..head.len().min(16)];
    let hex: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
    let text: String = shown
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("it starts with {} (\"{text}\")", hex.join(" "))
}

fn io_failure(failure: &Rc<RefCell<Option<io::Error>>>) -> CaptureError {
    let err = failure.borrow_mut().take();
    CaptureError::Io(err.unwrap_or_else(|| io::Error::other("read failed")))
}

/// A reader that fills the whole buffer unless the input ends, retries
/// interrupted reads, and keeps the I/O error pcap-parser would discard.
struct Filling<R> {
    inner: R,
    failure: Rc<RefCell<Option<io::Error>>>,
}

impl<R: Read> Read for Filling<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_full(&mut self.inner, buf).map_err(|e| {
            let copy = io::Error::new(e.kind(), e.to_string());
            *self.failure.borrow_mut() = Some(e);
            copy
        })
    }
}
