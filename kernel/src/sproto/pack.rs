//! sproto's 0-packing (Cap'n Proto style): each 8-byte word becomes a bitmap byte plus its
//! non-zero bytes; runs of dense words are copied raw after `0xff, count - 1`.
//!
//! Output matches cloudwu's `sproto_pack` byte for byte, including its rule that a word with
//! 6 or 7 non-zero bytes extends a raw run instead of ending it.

use super::error::UnpackError;

/// Longest raw run (words) one `0xff` group can hold.
const MAX_RUN: usize = 256;

/// Pack `src` into a new buffer.
pub fn pack(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    pack_into(src, &mut out);
    out
}

/// Bit `i` set when byte `i` (little-endian) of `w` is non-zero.
#[inline]
fn nonzero_bitmap(w: u64) -> u8 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // Per byte: the high bit ends up set iff the byte is non-zero (no carries cross bytes).
    let high = (((w & LOW7) + LOW7) | w) & !LOW7;
    // Gather the eight high bits into one byte, byte i -> bit i.
    ((high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// Append the packed form of `src` to `out`. The input is padded with zeros to a multiple
/// of 8, as the unpacked output will be.
pub fn pack_into(src: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    // Output never exceeds 10 bytes per word (a one-word raw run); the sparse path below
    // also writes one byte past its end.
    out.resize(start + src.len().div_ceil(8) * 10 + 1, 0);
    let buf = &mut out[start..];
    let mut pos = 0;
    // (offset of the run's count byte, words in the run)
    let mut run: Option<(usize, usize)> = None;
    let mut word = |bytes: [u8; 8], buf: &mut [u8]| {
        let bitmap = nonzero_bitmap(u64::from_le_bytes(bytes));
        let dense = bitmap.count_ones();
        if dense == 8 || (dense >= 6 && run.is_some()) {
            match run {
                None => {
                    buf[pos] = 0xff;
                    run = Some((pos + 1, 1));
                    pos += 2;
                }
                Some((at, n)) if n + 1 == MAX_RUN => {
                    buf[at] = (MAX_RUN - 1) as u8;
                    run = None;
                }
                Some((at, n)) => run = Some((at, n + 1)),
            }
            buf[pos..pos + 8].copy_from_slice(&bytes);
            pos += 8;
            return;
        }
        if let Some((at, n)) = run.take() {
            buf[at] = (n - 1) as u8;
        }
        buf[pos] = bitmap;
        pos += 1;
        for b in bytes {
            buf[pos] = b;
            pos += usize::from(b != 0);
        }
    };
    let mut chunks = src.chunks_exact(8);
    for c in chunks.by_ref() {
        word(c.try_into().expect("8 bytes"), buf);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        word(last, buf);
    }
    if let Some((at, n)) = run {
        buf[at] = (n - 1) as u8;
    }
    out.truncate(start + pos);
}

/// Unpack a 0-packed stream. The result is a multiple of 8 bytes (the packer's padding).
pub fn unpack(src: &[u8]) -> Result<Vec<u8>, UnpackError> {
    let mut out = Vec::new();
    unpack_into(src, &mut out)?;
    Ok(out)
}

/// Append the unpacked form of `src` to `out`. Output is at most 8 bytes per input byte
/// and grows with the input actually read, so hostile input cannot request more.
pub fn unpack_into(src: &[u8], out: &mut Vec<u8>) -> Result<(), UnpackError> {
    out.reserve(src.len() * 2);
    let mut i = 0;
    while let Some(&tag) = src.get(i) {
        i += 1;
        if tag == 0xff {
            let Some(&n) = src.get(i) else {
                return Err(UnpackError { offset: i });
            };
            let n = (usize::from(n) + 1) * 8;
            let Some(raw) = src.get(i + 1..i + 1 + n) else {
                return Err(UnpackError { offset: src.len() });
            };
            out.extend_from_slice(raw);
            i += 1 + n;
            continue;
        }
        let dense = tag.count_ones() as usize;
        let Some(bytes) = src.get(i..i + dense) else {
            return Err(UnpackError { offset: src.len() });
        };
        // Place each non-zero byte at its bit's position in a little-endian word.
        let (mut word, mut bits) = (0u64, tag);
        for &b in bytes {
            word |= u64::from(b) << (bits.trailing_zeros() * 8);
            bits &= bits - 1;
        }
        out.extend_from_slice(&word.to_le_bytes());
        i += dense;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_example_sparse_words() {
        let raw = [
            0x08, 0, 0, 0, 0x03, 0, 0x02, 0, 0x19, 0, 0, 0, 0xaa, 0x01, 0, 0,
        ];
        let packed = [0x51, 0x08, 0x03, 0x02, 0x31, 0x19, 0xaa, 0x01];
        assert_eq!(pack(&raw), packed);
        assert_eq!(unpack(&packed).unwrap(), raw);
    }

    #[test]
    fn readme_example_raw_run() {
        let raw = [0x8a; 30];
        let mut packed = vec![0xff, 0x03];
        packed.extend_from_slice(&[0x8a; 30]);
        packed.extend_from_slice(&[0, 0]);
        assert_eq!(pack(&raw), packed);
        let mut padded = raw.to_vec();
        padded.extend_from_slice(&[0, 0]);
        assert_eq!(unpack(&packed).unwrap(), padded);
    }

    #[test]
    fn six_or_seven_dense_bytes_extend_a_run_but_do_not_start_one() {
        let mut raw = vec![1u8; 8];
        raw.extend_from_slice(&[1, 1, 1, 1, 1, 1, 0, 0]);
        raw.extend_from_slice(&[1, 1, 1, 1, 1, 1, 0, 0]);
        let p = pack(&raw);
        assert_eq!(&p[..2], &[0xff, 2]);
        assert_eq!(p.len(), 2 + 24);
        let p = pack(&[1, 1, 1, 1, 1, 1, 1, 0]);
        assert_eq!(p, [0x7f, 1, 1, 1, 1, 1, 1, 1]);
    }

    #[test]
    fn runs_split_at_256_words() {
        let raw = vec![0x11u8; 8 * 300];
        let p = pack(&raw);
        assert_eq!(&p[..2], &[0xff, 255]);
        assert_eq!(&p[2 + 2048..2 + 2048 + 2], &[0xff, 43]);
        assert_eq!(p.len(), 2 + 2048 + 2 + 44 * 8);
        assert_eq!(unpack(&p).unwrap(), raw);
    }

    #[test]
    fn bitmap_marks_non_zero_bytes() {
        for (w, want) in [
            (0u64, 0u8),
            (u64::MAX, 0xff),
            (0x0000_0000_0000_0080, 0x01),
            (0x0100_0000_0000_0000, 0x80),
            (0x0001_0000_7f00_0200, 0b0100_1010),
        ] {
            assert_eq!(nonzero_bitmap(w), want, "{w:#018x}");
        }
    }

    #[test]
    fn truncated_streams_are_errors() {
        assert!(unpack(&[0xff]).is_err());
        assert!(unpack(&[0xff, 0, 1, 2, 3]).is_err());
        assert!(unpack(&[0x03, 0x01]).is_err());
        assert_eq!(unpack(&[]).unwrap(), Vec::<u8>::new());
        assert_eq!(unpack(&[0]).unwrap(), vec![0; 8]);
    }
}
