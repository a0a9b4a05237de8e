//! The wasm's allocator for small blocks: a free list per size class in front of the general one.
//!
//! Most of mpchat's allocations are small and short-lived: ids, names, keys, a record's JSON. The
//! general allocator (dlmalloc in Rust's wasm std) spends tens of instructions on each malloc and
//! free, and more on blocks over 256 bytes, which it keeps in trees; interpreted, as JavaScriptCore
//! runs wasm on iPhones, each instruction costs alike. Here a block up to [`LARGEST`] bytes is taken
//! from its class's free list, or cut from a slab, in a handful of instructions, and freed by being
//! pushed back. Classes are the powers of two from 16 bytes: a block wastes at most half its size.
//! Freed blocks stay in their class for the next allocation of that size (memory is never handed
//! back: opening and paging a full store three times peaks at 10.4 MiB against 9.8 with dlmalloc
//! alone); larger blocks, and any alignment over 16, go to the general allocator.
//!
//! Not thread-safe: a wasm instance without shared memory runs one thread, and only there is it
//! `Sync` (and so usable as the `#[global_allocator]`).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

/// The smallest class, and the alignment every class block has.
const SMALLEST: usize = 16;
/// The largest class: blocks above it go to the general allocator.
pub const LARGEST: usize = 2048;
/// Classes 16, 32, …, 2048.
const CLASSES: usize = (LARGEST / SMALLEST).trailing_zeros() as usize + 1;
/// Slabs, which blocks are cut from, are taken from the general allocator this many bytes at a time.
const SLAB: usize = 64 * 1024;

struct State {
    /// Per class, the first free block; each free block holds the address of the next.
    free: [*mut u8; CLASSES],
    /// The unused rest of the current slab.
    next: *mut u8,
    end: *mut u8,
}

/// Size classes in front of `A`, which serves slabs and large blocks.
pub struct Classes<A> {
    general: A,
    state: UnsafeCell<State>,
}

// One thread per wasm instance without shared memory (see the module doc).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
unsafe impl<A: Sync> Sync for Classes<A> {}

/// The class of a block of `size` bytes (at most `LARGEST`).
#[inline(always)]
fn class_of(size: usize) -> usize {
    let size = if size < SMALLEST { SMALLEST } else { size };
    (size.next_power_of_two() / SMALLEST).trailing_zeros() as usize
}

/// Whether a block of this layout is served by a class.
#[inline(always)]
fn classed(layout: &Layout) -> bool {
    layout.size() <= LARGEST && layout.align() <= SMALLEST
}

impl<A: GlobalAlloc> Classes<A> {
    pub const fn new(general: A) -> Self {
        Classes { general, state: UnsafeCell::new(State { free: [null_mut(); CLASSES], next: null_mut(), end: null_mut() }) }
    }

    /// The allocator behind the classes.
    pub fn general(&self) -> &A {
        &self.general
    }

    /// A block of class `class`, from its free list or a slab; null when memory is exhausted.
    unsafe fn take(&self, class: usize) -> *mut u8 {
        let state = &mut *self.state.get();
        let head = state.free[class];
        if !head.is_null() {
            state.free[class] = (head as *mut *mut u8).read();
            return head;
        }
        self.cut(class)
    }

    /// A block cut from the slab, taking a new slab when this one has no room left.
    #[inline(never)]
    unsafe fn cut(&self, class: usize) -> *mut u8 {
        let size = SMALLEST << class;
        let state = &mut *self.state.get();
        if (state.end as usize) - (state.next as usize) < size {
            // The rest of the old slab is smaller than this class: it stays unused.
            let slab = self.general.alloc(Layout::from_size_align_unchecked(SLAB, SMALLEST));
            if slab.is_null() {
                return null_mut();
            }
            state.next = slab;
            state.end = slab.add(SLAB);
        }
        let block = state.next;
        state.next = block.add(size);
        block
    }

    unsafe fn give_back(&self, ptr: *mut u8, class: usize) {
        let state = &mut *self.state.get();
        (ptr as *mut *mut u8).write(state.free[class]);
        state.free[class] = ptr;
    }
}

// Not thread-safe on its own: see the module doc for where it is `Sync`.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Classes<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if classed(&layout) {
            self.take(class_of(layout.size()))
        } else {
            self.general.alloc(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if classed(&layout) {
            self.give_back(ptr, class_of(layout.size()))
        } else {
            self.general.dealloc(ptr, layout)
        }
    }

    /// A block whose class does not change stays where it is.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        match (classed(&layout), classed(&new_layout)) {
            (true, true) if class_of(layout.size()) == class_of(new_size) => ptr,
            (false, false) => self.general.realloc(ptr, layout, new_size),
            _ => {
                let moved = self.alloc(new_layout);
                if !moved.is_null() {
                    crate::memcpy(moved, ptr, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                moved
            }
        }
    }
}
