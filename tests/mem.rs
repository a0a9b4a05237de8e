//! mpchat-mem's functions (the wasm's memcpy, memmove, memset, memcmp) against Rust's own, for every
//! length and offset a few words around, overlapping both ways.
#![cfg(not(target_arch = "wasm32"))]

use mpchat_mem::{memcmp, memcpy, memmove, memset};

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

#[test]
fn copies_and_fills_every_length_and_offset() {
    for len in 0..40 {
        for offset in 0..9 {
            let src = pattern(len + offset);
            let mut dest = vec![0xEEu8; len + 16];
            unsafe { memcpy(dest.as_mut_ptr().add(offset.min(8)), src.as_ptr().add(offset), len) };
            let start = offset.min(8);
            assert_eq!(&dest[start..start + len], &src[offset..offset + len], "memcpy {len} at {offset}");
            assert!(dest[..start].iter().chain(&dest[start + len..]).all(|&b| b == 0xEE), "memcpy {len} stays inside");

            let mut filled = vec![0u8; len + 16];
            unsafe { memset(filled.as_mut_ptr().add(start), 0x1AB, len) };
            assert!(filled[start..start + len].iter().all(|&b| b == 0xAB), "memset {len} writes the low byte");
            assert!(filled[..start].iter().chain(&filled[start + len..]).all(|&b| b == 0), "memset {len} stays inside");
        }
    }
}

#[test]
fn moves_overlapping_either_way() {
    for len in 0..40 {
        for shift in 1..12 {
            let mut forward = pattern(len + shift);
            let mut want = forward.clone();
            want.copy_within(shift..shift + len, 0);
            unsafe { memmove(forward.as_mut_ptr(), forward.as_ptr().add(shift), len) };
            assert_eq!(forward, want, "memmove {len} down by {shift}");

            let mut backward = pattern(len + shift);
            let mut want = backward.clone();
            want.copy_within(0..len, shift);
            unsafe { memmove(backward.as_mut_ptr().add(shift), backward.as_ptr(), len) };
            assert_eq!(backward, want, "memmove {len} up by {shift}");
        }
    }
}

#[test]
fn compares_as_bytes_do() {
    for len in 0..40 {
        let a = pattern(len);
        assert_eq!(unsafe { memcmp(a.as_ptr(), a.clone().as_ptr(), len) }, 0, "equal {len}");
        for at in 0..len {
            for delta in [1u8, 0x80, 0xFF] {
                let mut b = a.clone();
                b[at] = b[at].wrapping_add(delta);
                let got = unsafe { memcmp(a.as_ptr(), b.as_ptr(), len) };
                assert_eq!(got.signum(), a.cmp(&b) as i32, "{len} differing at {at} by {delta}");
            }
        }
    }
}
