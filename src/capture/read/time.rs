//! pcapng timestamps: `if_tsresol` (powers of ten and of two) and
//! `if_tsoffset` turned into a time since the Unix epoch.

use std::time::Duration;

/// Units per second for an `if_tsresol` value (10^n, or 2^n with the top bit set).
/// (pcap-parser's `ts_resolution()` rejects every power-of-two value.)
pub(super) fn resolution(tsresol: u8) -> Option<u64> {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    }
}

/// A 64-bit timestamp in `units` per second, plus `offset` seconds.
#[inline]
pub(super) fn ng_time((high, low): (u32, u32), units: u64, offset: i64) -> Duration {
    let ticks = (u64::from(high) << 32) | u64::from(low);
    // Micro- and nanoseconds (nearly every capture) divide by a constant,
    // which compiles to a multiplication: this runs once per frame.
    let (secs, nanos) = match units {
        1_000_000 => (ticks / 1_000_000, (ticks % 1_000_000) * 1_000),
        1_000_000_000 => (ticks / 1_000_000_000, ticks % 1_000_000_000),
        _ => return any_time(ticks, units, offset),
    };
    // nanos < 10^9 in both arms.
    Duration::new(secs.saturating_add_signed(offset), nanos as u32)
}

/// [`ng_time`] for any resolution.
#[cold]
fn any_time(ticks: u64, units: u64, offset: i64) -> Duration {
    let units = units.max(1);
    let secs = ticks / units;
    let nanos = if 1_000_000_000 % units == 0 {
        // Micro- and nanoseconds (nearly every capture): no 128-bit division.
        (ticks % units) * (1_000_000_000 / units)
    } else {
        let n = u128::from(ticks % units) * 1_000_000_000 / u128::from(units);
        u64::try_from(n).unwrap_or(0)
    };
    let secs = secs.saturating_add_signed(offset);
    Duration::new(secs, u32::try_from(nanos).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        assert_eq!(resolution(6), Some(1_000_000));
        assert_eq!(resolution(9), Some(1_000_000_000));
        assert_eq!(resolution(19), Some(10_000_000_000_000_000_000));
        assert_eq!(resolution(20), None);
        assert_eq!(resolution(0x80), Some(1));
        assert_eq!(resolution(0x80 | 20), Some(1 << 20));
        assert_eq!(resolution(0x80 | 63), Some(1 << 63));
        assert_eq!(resolution(0x80 | 64), None);
    }

    #[test]
    fn times() {
        assert_eq!(
            ng_time((0, 1_500_000), 1_000_000, 0),
            Duration::new(1, 500_000_000)
        );
        assert_eq!(ng_time((0, 3), 1 << 1, 10), Duration::new(11, 500_000_000));
        assert_eq!(ng_time((0, 5), 1, -10), Duration::ZERO);
        assert_eq!(
            ng_time((u32::MAX, u32::MAX), 1, i64::MAX),
            Duration::new(u64::MAX, 0)
        );
        // The constant-divisor paths agree with the general one.
        for ticks in [0x1234_5678_9abc_def0_u64, u64::MAX, 999_999] {
            let (high, low) = ((ticks >> 32) as u32, ticks as u32);
            for units in [1_000_000, 1_000_000_000, 1_000] {
                for offset in [0, -3, 7, i64::MAX, i64::MIN] {
                    assert_eq!(
                        ng_time((high, low), units, offset),
                        any_time(ticks, units, offset),
                        "{ticks} {units} {offset}"
                    );
                }
            }
        }
    }
}
