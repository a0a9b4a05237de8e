//! mpchat-mem's allocator (the wasm's global one) over the platform's: blocks aligned, never
//! overlapping, contents kept across reallocation, freed blocks reused rather than memory grown.
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use mpchat_mem::{Classes, LARGEST};
use proptest::prelude::*;

/// The platform's allocator, counting the blocks it hands out and has back.
#[derive(Default)]
struct Counted {
    live: Cell<usize>,
    taken: Cell<usize>,
}

unsafe impl GlobalAlloc for Counted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.live.set(self.live.get() + 1);
        self.taken.set(self.taken.get() + 1);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live.set(self.live.get() - 1);
        System.dealloc(ptr, layout)
    }
}

struct Block {
    ptr: *mut u8,
    layout: Layout,
    fill: u8,
}

fn fill(block: &Block) {
    unsafe { std::ptr::write_bytes(block.ptr, block.fill, block.layout.size()) }
}

fn intact(block: &Block) -> bool {
    (0..block.layout.size()).all(|i| unsafe { *block.ptr.add(i) } == block.fill)
}

#[derive(Debug, Clone)]
enum Op {
    Alloc(usize, usize),
    Free(usize),
    Realloc(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let size = prop_oneof![1usize..64, 1usize..=LARGEST + 64, 1usize..20_000];
    prop_oneof![
        3 => (size.clone(), prop::sample::select(vec![1usize, 2, 8, 16, 32, 64])).prop_map(|(s, a)| Op::Alloc(s, a)),
        2 => any::<usize>().prop_map(Op::Free),
        2 => (any::<usize>(), size).prop_map(|(i, s)| Op::Realloc(i, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn blocks_are_aligned_apart_and_keep_their_bytes(ops in prop::collection::vec(op(), 1..300)) {
        let classes = Classes::new(Counted::default());
        let mut live: Vec<Block> = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            let fill_byte = (n % 251) as u8 + 1;
            match op {
                Op::Alloc(size, align) => {
                    let layout = Layout::from_size_align(size, align).unwrap();
                    let ptr = unsafe { classes.alloc(layout) };
                    prop_assert!(!ptr.is_null());
                    prop_assert_eq!(ptr as usize % align, 0, "{} bytes aligned to {}", size, align);
                    let block = Block { ptr, layout, fill: fill_byte };
                    fill(&block);
                    live.push(block);
                }
                Op::Free(i) if !live.is_empty() => {
                    let block = live.swap_remove(i % live.len());
                    prop_assert!(intact(&block));
                    unsafe { classes.dealloc(block.ptr, block.layout) };
                }
                Op::Realloc(i, size) if !live.is_empty() => {
                    let at = i % live.len();
                    let old = &live[at];
                    let kept = old.layout.size().min(size);
                    let ptr = unsafe { classes.realloc(old.ptr, old.layout, size) };
                    prop_assert!(!ptr.is_null());
                    prop_assert_eq!(ptr as usize % old.layout.align(), 0);
                    prop_assert!((0..kept).all(|b| unsafe { *ptr.add(b) } == old.fill), "realloc to {} keeps the bytes", size);
                    let block = Block { ptr, layout: Layout::from_size_align(size, old.layout.align()).unwrap(), fill: fill_byte };
                    fill(&block);
                    live[at] = block;
                }
                _ => {}
            }
            // Each block still holds what was written into it: none overlaps another.
            prop_assert!(live.iter().all(intact));
        }
        for block in live {
            unsafe { classes.dealloc(block.ptr, block.layout) };
        }
    }
}

#[test]
fn freed_small_blocks_are_reused_not_grown() {
    let classes = Classes::new(Counted::default());
    let layout = Layout::from_size_align(100, 8).unwrap();
    let first = unsafe { classes.alloc(layout) };
    unsafe { classes.dealloc(first, layout) };
    // The next block of the same class is the one just freed.
    let again = unsafe { classes.alloc(Layout::from_size_align(120, 4).unwrap()) };
    assert_eq!(again, first);
    unsafe { classes.dealloc(again, Layout::from_size_align(120, 4).unwrap()) };
    for _ in 0..10_000 {
        let blocks: Vec<_> = (0..8).map(|_| unsafe { classes.alloc(layout) }).collect();
        for block in blocks {
            unsafe { classes.dealloc(block, layout) };
        }
    }
    assert_eq!(classes_taken(&classes), 1, "ten thousand rounds of small blocks take one slab");
}

#[test]
fn large_blocks_and_wide_alignments_go_to_the_general_allocator() {
    let classes = Classes::new(Counted::default());
    for layout in [Layout::from_size_align(LARGEST + 1, 8).unwrap(), Layout::from_size_align(64, 64).unwrap()] {
        let ptr = unsafe { classes.alloc(layout) };
        assert_eq!(ptr as usize % layout.align(), 0);
        assert_eq!(classes_live(&classes), 1, "{layout:?} from the general allocator");
        unsafe { classes.dealloc(ptr, layout) };
        assert_eq!(classes_live(&classes), 0, "{layout:?} given back to it");
    }
}

#[test]
fn a_block_growing_within_its_class_stays_put() {
    let classes = Classes::new(Counted::default());
    let layout = Layout::from_size_align(40, 1).unwrap();
    let ptr = unsafe { classes.alloc(layout) };
    assert_eq!(unsafe { classes.realloc(ptr, layout, 64) }, ptr);
    let moved = unsafe { classes.realloc(ptr, Layout::from_size_align(64, 1).unwrap(), 65) };
    assert_ne!(moved, ptr, "65 bytes is the next class");
    unsafe { classes.dealloc(moved, Layout::from_size_align(65, 1).unwrap()) };
}

fn classes_live(classes: &Classes<Counted>) -> usize {
    classes.general().live.get()
}

fn classes_taken(classes: &Classes<Counted>) -> usize {
    classes.general().taken.get()
}
