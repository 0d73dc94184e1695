//! Padding (format v2): how long the signed region of an object is, given
//! its kind and the length of its inner header and body.
//!
//! The signed region is `inner header ‖ body ‖ zero padding`, and its length
//! `X` is a function of the part kind and `H + B` only, so that the stored
//! size of an object says little about its content (S9):
//!
//! | kind | `X` for `n = H + B` | sizes |
//! | --- | --- | --- |
//! | event record | `max(1024, 2^⌈log2 n⌉)` | one size (1 KiB) up to 1024 bytes |
//! | thumbnail | `max(16384, 2^⌈log2 n⌉)` | powers of two from 16 KiB |
//! | clip, live segment | `padme(max(n, 65536))` | Padmé: at most 12 % overhead, `O(log log n)` bits leak |
//!
//! Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
//! and Communication with PURBs", PETS 2019) rounds `n` up so that only the
//! `⌊log2 ⌊log2 n⌋⌋ + 1` most significant bits of the result may be non-zero.

use crate::PartKind;

/// The smallest signed region of an event record (its one size).
pub const RECORD_SIZE: u64 = 1024;
/// The smallest signed region of a thumbnail.
pub const THUMBNAIL_MIN: u64 = 16 * 1024;
/// The smallest signed region of a clip or live segment.
pub const CLIP_MIN: u64 = 64 * 1024;

/// The signed-region length `X` of a version 2 object of `kind` whose inner
/// header and body take `n` bytes. `None` only past 2^63 bytes.
pub fn padded_len(kind: PartKind, n: u64) -> Option<u64> {
    match kind {
        PartKind::Record => n.max(RECORD_SIZE).checked_next_power_of_two(),
        PartKind::Thumbnail => n.max(THUMBNAIL_MIN).checked_next_power_of_two(),
        PartKind::Clip | PartKind::LiveSegment => padme(n.max(CLIP_MIN)),
    }
}

/// Padmé: `n` rounded up to a multiple of `2^(E − S)`, where `E = ⌊log2 n⌋`
/// and `S = ⌊log2 E⌋ + 1`. `None` when the result would overflow.
pub fn padme(n: u64) -> Option<u64> {
    if n < 2 {
        return Some(n);
    }
    let e = 63 - u64::from(n.leading_zeros()); // ⌊log2 n⌋ ≥ 1
    let s = 64 - u64::from(e.leading_zeros()); // ⌊log2 e⌋ + 1
    let mask = (1u64 << (e - s)) - 1;
    n.checked_add(mask).map(|m| m & !mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padme_matches_the_paper() {
        // Computed from the paper's definition.
        for (n, want) in [
            (0, 0),
            (1, 1),
            (2, 2),
            (9, 10),
            (100, 104),
            (1000, 1024),
            (65_537, 67_584),
            (1_000_000, 1_015_808),
        ] {
            assert_eq!(padme(n), Some(want), "padme({n})");
        }
    }

    #[test]
    fn padme_overhead_is_at_most_12_percent_and_idempotent() {
        let mut n = 65_536u64;
        while n < 1 << 40 {
            let p = padme(n).unwrap_or(0);
            assert!(p >= n && (p - n) * 100 <= n * 12, "padme({n}) = {p}");
            assert_eq!(padme(p), Some(p), "padme is not idempotent at {p}");
            n = n * 13 / 11 + 7;
        }
    }

    #[test]
    fn records_have_one_size_and_thumbnails_few() {
        for n in [82, 300, 1000, 1024] {
            assert_eq!(padded_len(PartKind::Record, n), Some(1024));
        }
        assert_eq!(padded_len(PartKind::Record, 1025), Some(2048));
        assert_eq!(padded_len(PartKind::Thumbnail, 900), Some(16_384));
        assert_eq!(padded_len(PartKind::Thumbnail, 20_000), Some(32_768));
        assert_eq!(padded_len(PartKind::Clip, 100), Some(65_536));
        assert_eq!(padded_len(PartKind::Clip, u64::MAX), None);
        for kind in [
            PartKind::Record,
            PartKind::Thumbnail,
            PartKind::Clip,
            PartKind::LiveSegment,
        ] {
            for n in [1u64, 81, 1023, 65_535, 65_536, 10_000_019] {
                let x = padded_len(kind, n).unwrap_or(0);
                assert!(x >= n, "{kind} {n}");
                assert_eq!(padded_len(kind, x), Some(x), "{kind} {x} not a fixed point");
            }
        }
    }
}
