//! The memory functions of mpchat's wasm, for engines that interpret it.
//!
//! WebAssembly 1.0 (all iPhones accept) has no `memory.copy`, so every copy, move, fill and compare
//! the compiler emits is a call to one of these. The generic ones step four bytes at a time, and
//! one byte at a time below 16 bytes, which is where most of mpchat's copies are (JSON pieces, ids,
//! keys). Interpreted (JavaScriptCore on iPhones runs wasm without a JIT), each step costs the
//! same whatever its width: these step eight bytes, with unaligned 64-bit loads and stores (allowed
//! in wasm), and finish in at most three narrower steps.
//!
//! `no_builtins` keeps the compiler from turning these loops back into calls to themselves. Only the
//! wasm build exports them under the C names; elsewhere they are ordinary functions, tested against
//! the platform's own (tests/mem.rs).
//!
//! [`Classes`] is the wasm's allocator, for the same engines: small blocks in a few instructions.
#![no_std]
#![no_builtins]

mod classes;
pub use classes::{Classes, LARGEST};

#[inline(always)]
unsafe fn load64(p: *const u8) -> u64 {
    (p as *const u64).read_unaligned()
}

#[inline(always)]
unsafe fn copy_forward(dest: *mut u8, src: *const u8, n: usize) {
    let mut i = 0;
    while i + 8 <= n {
        (dest.add(i) as *mut u64).write_unaligned(load64(src.add(i)));
        i += 8;
    }
    if n - i >= 4 {
        (dest.add(i) as *mut u32).write_unaligned((src.add(i) as *const u32).read_unaligned());
        i += 4;
    }
    if n - i >= 2 {
        (dest.add(i) as *mut u16).write_unaligned((src.add(i) as *const u16).read_unaligned());
        i += 2;
    }
    if i < n {
        *dest.add(i) = *src.add(i);
    }
}

#[inline(always)]
unsafe fn copy_backward(dest: *mut u8, src: *const u8, n: usize) {
    let mut end = n;
    while end >= 8 {
        end -= 8;
        (dest.add(end) as *mut u64).write_unaligned(load64(src.add(end)));
    }
    while end > 0 {
        end -= 1;
        *dest.add(end) = *src.add(end);
    }
}

/// # Safety
/// As C's `memcpy`: both ranges valid for `n` bytes and not overlapping.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    copy_forward(dest, src, n);
    dest
}

/// # Safety
/// As C's `memmove`: both ranges valid for `n` bytes; they may overlap.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // Forward is safe unless the destination starts inside the source.
    if (dest as usize).wrapping_sub(src as usize) >= n {
        copy_forward(dest, src, n);
    } else {
        copy_backward(dest, src, n);
    }
    dest
}

/// # Safety
/// As C's `memset`: the range valid for `n` bytes.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    let byte = c as u8;
    let word = u64::from(byte) * 0x0101_0101_0101_0101;
    let mut i = 0;
    while i + 8 <= n {
        (dest.add(i) as *mut u64).write_unaligned(word);
        i += 8;
    }
    while i < n {
        *dest.add(i) = byte;
        i += 1;
    }
    dest
}

/// # Safety
/// As C's `memcmp`: both ranges valid for `n` bytes.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i + 8 <= n && load64(a.add(i)) == load64(b.add(i)) {
        i += 8;
    }
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// # Safety
/// As `memcmp`, answering only equal (0) or not.
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}
