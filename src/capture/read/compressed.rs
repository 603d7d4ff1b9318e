//! Compressed captures: gzip (`capture.pcapng.gz`, as Wireshark writes and
//! reads them) is inflated on the fly; other compressors are named by their
//! magic so that the message says what to run instead of "not a capture".
//!
//! A damaged or cut gzip stream ends the capture where the damage starts:
//! the frames before it are analyzed and the damage becomes a notice.

use std::cell::RefCell;
use std::io::{self, Read};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Compressed formats that are recognized but not read, with the command
/// that decompresses them.
const OTHERS: [(&[u8], &str, &str); 4] = [
    (&[0x28, 0xb5, 0x2f, 0xfd], "zstd", "zstd -d"),
    (&[0x04, 0x22, 0x4d, 0x18], "lz4", "lz4 -d"),
    (b"BZh", "bzip2", "bunzip2"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz", "unxz"),
];

/// Whether `head` starts a gzip stream.
pub(super) fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&GZIP_MAGIC)
}

/// For a file compressed with something other than gzip: what it is and
/// how to decompress it.
pub(super) fn other(head: &[u8]) -> Option<String> {
    OTHERS
        .iter()
        .find(|(magic, _, _)| head.starts_with(magic))
        .map(|(_, name, command)| {
            format!("it is {name}-compressed; decompress it first (`{command} FILE`)")
        })
}

/// Where and why a gzip stream could not be inflated further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Damage {
    /// Capture bytes inflated before the damage.
    pub(super) after: u64,
    pub(super) why: String,
}

impl Damage {
    /// As a notice of a capture read up to the damage.
    pub(super) fn notice(&self) -> String {
        format!(
            "the gzip stream is damaged after {} bytes of capture ({}); the frames before are analyzed",
            self.after, self.why
        )
    }
}

/// The inflated bytes of a gzip stream (several members are read as one, as
/// `gzip -d` does). Decompression errors end the stream; the first one is
/// kept in `damage`, with how many bytes had been inflated before it.
pub(super) struct Inflate<R: Read> {
    inner: MultiGzDecoder<R>,
    inflated: u64,
    damage: Rc<RefCell<Option<Damage>>>,
}

impl<R: Read> Inflate<R> {
    pub(super) fn new(input: R) -> (Inflate<R>, Rc<RefCell<Option<Damage>>>) {
        let damage = Rc::new(RefCell::new(None));
        let me = Inflate {
            inner: MultiGzDecoder::new(input),
            inflated: 0,
            damage: Rc::clone(&damage),
        };
        (me, damage)
    }
}

impl<R: Read> Read for Inflate<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.damage.borrow().is_some() {
            return Ok(0);
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.inflated += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let why = match e.kind() {
                    io::ErrorKind::UnexpectedEof => "the file ends inside it".to_string(),
                    _ => e.to_string(),
                };
                *self.damage.borrow_mut() = Some(Damage {
                    after: self.inflated,
                    why,
                });
                Ok(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        let _ = e.write_all(data);
        e.finish().unwrap_or_default()
    }

    fn inflate_all(bytes: &[u8]) -> (Vec<u8>, Option<String>) {
        let (mut r, damage) = Inflate::new(bytes);
        let mut out = Vec::new();
        let _ = r.read_to_end(&mut out);
        let d = damage.borrow().as_ref().map(Damage::notice);
        (out, d)
    }

    #[test]
    fn two_members_read_as_one_stream() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut gz = gzip(&data[..40_000]);
        gz.extend(gzip(&data[40_000..]));
        assert!(is_gzip(&gz));
        let (out, damage) = inflate_all(&gz);
        assert_eq!(damage, None);
        assert_eq!(out, data);
    }

    /// A cut stream gives what was inflated before the cut, and says so.
    #[test]
    fn a_cut_stream_keeps_its_start_and_names_the_damage() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 13 % 251) as u8).collect();
        let gz = gzip(&data);
        let (out, damage) = inflate_all(&gz[..gz.len() / 2]);
        assert!(!out.is_empty() && out.len() < data.len());
        assert_eq!(out, data[..out.len()]);
        let damage = damage.unwrap_or_default();
        assert!(damage.contains("gzip stream is damaged"), "{damage}");
        assert!(
            damage.contains(&format!("after {} bytes", out.len())),
            "{damage}"
        );
    }

    /// A wrong checksum at the end is damage too, not silently accepted.
    #[test]
    fn a_bad_checksum_is_damage() {
        let mut gz = gzip(b"0123456789");
        let n = gz.len();
        gz[n - 8] ^= 0xff; // CRC32 of the member
        let (_, damage) = inflate_all(&gz);
        assert!(damage.is_some());
    }

    #[test]
    fn other_compressors_are_named() {
        let zstd = [0x28, 0xb5, 0x2f, 0xfd, 0x24];
        let msg = other(&zstd).unwrap_or_default();
        assert!(
            msg.contains("zstd-compressed") && msg.contains("zstd -d"),
            "{msg}"
        );
        assert_eq!(other(&[0x0a, 0x0d, 0x0d, 0x0a]), None);
        assert!(!is_gzip(&zstd));
    }
}
