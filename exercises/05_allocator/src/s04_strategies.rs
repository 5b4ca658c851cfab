//! # Fit strategies and fragmentation
//!
//! Which free block should serve a request? [`FirstFit`](crate::s03_heap::FirstFit) takes
//! the first one in address order: fast, and it keeps the low end of the heap busy. Two
//! classic alternatives implement the same [`Strategy`] trait here:
//!
//! - [`BestFit`] takes the smallest block that fits (the lowest one among equals), and stops
//!   early at an exact fit. It leaves the big blocks whole, but walks the whole list when
//!   there is no exact fit, and can leave slivers just above `MIN_BLOCK` everywhere.
//! - [`NextFit`] resumes the search at the first free block at or after the end of its last
//!   allocation, and wraps around to the start when nothing fits further on. It spreads
//!   allocations over the heap and avoids walking the same busy prefix of the list over and
//!   over, at the price of more fragmentation.
//!
//! Fragmentation is measured with the invariant walker's [`FreeStats`]: [`fragmentation`] is
//! `1 - largest / free_bytes`, 0 when all free memory is one block, close to 1 when it is cut
//! into crumbs. The tests replay deterministic traces on which the strategies choose different
//! blocks, and a seeded random workload per strategy that checks the heap's invariants after
//! every step and the contents of every live block.
//!
//! A strategy only *chooses* among the candidates the heap offers; it never touches memory.
//! That split is deliberate: the unsafe code (carving the chosen block) stays in one place
//! whose invariants are already checked, and a buggy strategy can at worst make bad choices,
//! not corrupt the heap. Keeping `unsafe` small and behind a safe interface is the lesson of
//! Rust for Rustaceans' chapter on unsafe code; it is also why `Candidate`'s pointers are
//! `pub(crate)`: a strategy outside this crate cannot forge one that points into a live block,
//! which would hand out one block twice, two `&mut` to the same bytes.
//!
//! Afterwards you can say how first, best and next fit trade speed for fragmentation, and
//! measure the difference on a workload.
//!
//! Read: CS:APP chapter 9.9.7 (placing allocated blocks: first, next and best fit) and 9.9.14
//! (segregated free lists); The Garbage Collection Handbook, chapter 7 (sequential fits);
//! talc's random-actions benchmark, a seeded workload like the ones here:
//! <https://github.com/SFBdragon/talc>.

use crate::s02_free_list::FreeStats;
use crate::s03_heap::{Candidate, Strategy};

/// The smallest block that fits; the lowest address among equals.
#[derive(Debug, Clone, Copy, Default)]
pub struct BestFit;

impl Strategy for BestFit {
    fn choose<I: Iterator<Item = Candidate>>(&mut self, candidates: I) -> Option<Candidate> {
        // TODO: the best fit, as described above.
        todo!("BestFit::choose")
    }
}

/// The first block at or after the end of the last allocation, wrapping around.
#[derive(Debug, Clone, Copy, Default)]
pub struct NextFit {
    /// The address just after the last block handed out.
    cursor: usize,
}

impl Strategy for NextFit {
    fn choose<I: Iterator<Item = Candidate>>(&mut self, candidates: I) -> Option<Candidate> {
        // TODO: the next fit, as described above; keep `cursor` as its doc comment says.
        todo!("NextFit::choose")
    }
}

/// `1 - largest / free_bytes`: 0.0 when the free memory is one block (or there is none).
pub fn fragmentation(stats: &FreeStats) -> f64 {
    // TODO: mind the full heap (no free bytes).
    todo!("fragmentation")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s01_layout::block_size;
    use crate::s03_heap::{FirstFit, Heap};
    use crate::test_support::{Rng, bytes};
    use std::alloc::Layout;
    use std::ptr::NonNull;

    /// A trace step: allocate `n` bytes (remembered by index), or free the allocation at index.
    enum Op {
        Alloc(usize),
        Free(usize),
    }
    use Op::{Alloc, Free};

    /// Replays `ops` and returns the offset of every allocation and the final statistics.
    fn replay<S: Strategy>(strategy: S, size: usize, ops: &[Op]) -> (Vec<usize>, FreeStats) {
        let mut heap = Heap::with_strategy(size, strategy).unwrap();
        let base = heap.base;
        let mut live: Vec<Option<(NonNull<u8>, Layout)>> = Vec::new();
        let mut offsets = Vec::new();
        for op in ops {
            match *op {
                Alloc(n) => {
                    let p = heap.alloc(bytes(n)).unwrap_or_else(|| {
                        panic!(
                            "alloc({n}) failed, but a free block fits it: a strategy must choose \
                             a block whenever there is a candidate (next fit wraps around)"
                        )
                    });
                    offsets.push(p.as_ptr().addr() - base.as_ptr().addr());
                    live.push(Some((p, bytes(n))));
                }
                Free(i) => {
                    let (p, l) = live[i].take().expect("each allocation is freed once");
                    // SAFETY: allocated in this trace with `l`, freed once.
                    unsafe { heap.free(p, l) };
                }
            }
            heap.check()
                .unwrap_or_else(|e| panic!("invariant broken: {e}"));
        }
        let stats = heap.check().unwrap();
        for (p, l) in live.into_iter().flatten() {
            // SAFETY: still live, allocated with `l`.
            unsafe { heap.free(p, l) };
        }
        (offsets, stats)
    }

    /// Two holes (0..64 and 80..112) before the busy block 112..128, and a large tail.
    fn holes() -> Vec<Op> {
        vec![Alloc(64), Alloc(16), Alloc(32), Alloc(16), Free(0), Free(2)]
    }

    #[test]
    fn the_three_strategies_choose_different_blocks() {
        let mut ops = holes();
        ops.push(Alloc(32));
        let (first, _) = replay(FirstFit, 4096, &ops);
        let (best, _) = replay(BestFit, 4096, &ops);
        let (next, _) = replay(NextFit::default(), 4096, &ops);
        assert_eq!(
            first[4], 0,
            "first fit: the first hole, 0..64, is large enough"
        );
        assert_eq!(best[4], 80, "best fit: the 32-byte hole at 80 fits exactly");
        assert_eq!(
            next[4], 128,
            "next fit: resumes after the last allocation (112..128), in the tail"
        );
    }

    #[test]
    fn best_fit_takes_the_lowest_of_equal_blocks() {
        // Holes of 48 bytes at 0 and at 64, neither an exact fit for 16 bytes.
        let ops = [
            Alloc(48),
            Alloc(16),
            Alloc(48),
            Alloc(16),
            Free(0),
            Free(2),
            Alloc(16),
        ];
        let (best, _) = replay(BestFit, 4096, &ops);
        assert_eq!(best[4], 0, "both holes are 48 bytes: the lower one wins");
    }

    #[test]
    fn best_fit_leaves_less_fragmentation_on_this_trace() {
        let mut ops = holes();
        ops.extend([Alloc(32), Alloc(64)]);
        let (first_off, first) = replay(FirstFit, 4096, &ops);
        let (best_off, best) = replay(BestFit, 4096, &ops);
        assert_eq!(best_off[4..], [80, 0], "best fit fills both holes exactly");
        assert_eq!(
            first_off[4..],
            [0, 128],
            "first fit splits the first hole, then the tail"
        );
        assert_eq!(best.blocks, 1, "best fit: only the tail is left");
        assert_eq!(
            first.blocks, 3,
            "first fit: two 32-byte crumbs and the tail"
        );
        assert_eq!(
            best.free_bytes, first.free_bytes,
            "the same bytes are in use"
        );
        assert!(best.largest > first.largest);
        assert!(fragmentation(&best) < fragmentation(&first));
        assert_eq!(fragmentation(&best), 0.0);
    }

    #[test]
    fn next_fit_wraps_around_when_nothing_fits_further_on() {
        // 256 bytes: fill it, free a hole at the start, then ask for what only the hole holds.
        let ops = [
            Alloc(64),
            Alloc(64),
            Alloc(64),
            Alloc(48),
            Free(0),
            Alloc(64),
        ];
        let (next, stats) = replay(NextFit::default(), 256, &ops);
        assert_eq!(
            next[4], 0,
            "the cursor is at 240: nothing there fits, so wrap to 0"
        );
        assert_eq!(stats.free_bytes, 16);
    }

    #[test]
    fn next_fit_keeps_moving_forward_while_first_fit_reuses_the_start() {
        let ops = [Alloc(64), Free(0), Alloc(64), Alloc(64)];
        let (first, _) = replay(FirstFit, 4096, &ops);
        let (next, _) = replay(NextFit::default(), 4096, &ops);
        assert_eq!(first[..], [0, 0, 64]);
        assert_eq!(
            next[..],
            [0, 0, 64],
            "a freed heap is one block at 0: wrap to it"
        );
        let ops = [Alloc(64), Alloc(64), Free(0), Alloc(64)];
        let (first, _) = replay(FirstFit, 4096, &ops);
        let (next, _) = replay(NextFit::default(), 4096, &ops);
        assert_eq!(first[2], 0, "first fit reuses the hole at 0");
        assert_eq!(next[2], 128, "next fit continues after the last allocation");
    }

    #[test]
    fn fragmentation_is_zero_for_one_block_and_grows_with_crumbs() {
        let one = FreeStats {
            free_bytes: 4096,
            largest: 4096,
            blocks: 1,
        };
        assert_eq!(fragmentation(&one), 0.0);
        assert_eq!(
            fragmentation(&FreeStats::default()),
            0.0,
            "a full heap has none"
        );
        let crumbs = FreeStats {
            free_bytes: 1024,
            largest: 16,
            blocks: 64,
        };
        assert!((fragmentation(&crumbs) - (1.0 - 16.0 / 1024.0)).abs() < 1e-12);
    }

    /// A seeded random alloc/free workload, invariants and contents checked after each step.
    fn stress<S: Strategy>(strategy: S, seed: u64) -> FreeStats {
        let steps = if cfg!(miri) { 120 } else { 3000 };
        let size = 16 * 1024;
        let mut heap = Heap::with_strategy(size, strategy).unwrap();
        let mut rng = Rng(seed);
        let mut live: Vec<(NonNull<u8>, Layout, u8)> = Vec::new();
        let mut worst = FreeStats::default();
        for step in 0..steps {
            if live.is_empty() || rng.below(8) < 5 {
                let n = if rng.below(10) == 0 {
                    rng.below(1024)
                } else {
                    rng.below(64)
                };
                let layout = Layout::from_size_align(n, 1 << rng.below(5)).unwrap();
                if let Some(p) = heap.alloc(layout) {
                    let tag = (step % 251) as u8;
                    // SAFETY: a fresh block of at least `n` bytes.
                    unsafe { p.as_ptr().write_bytes(tag, n) };
                    live.push((p, layout, tag));
                }
            } else {
                let (p, layout, tag) = live.swap_remove(rng.below(live.len()));
                // SAFETY: live, filled with `tag`.
                let data = unsafe { std::slice::from_raw_parts(p.as_ptr(), layout.size()) };
                assert!(
                    data.iter().all(|&b| b == tag),
                    "step {step}: a live block changed"
                );
                // SAFETY: allocated with `layout`, freed once.
                unsafe { heap.free(p, layout) };
            }
            let stats = heap
                .check()
                .unwrap_or_else(|e| panic!("step {step}: invariant broken: {e}"));
            let used: usize = live.iter().map(|&(_, l, _)| block_size(l).unwrap()).sum();
            assert_eq!(
                stats.free_bytes + used,
                size,
                "step {step}: bytes went missing"
            );
            if stats.blocks > worst.blocks {
                worst = stats;
            }
        }
        for (p, layout, _) in live {
            // SAFETY: allocated with `layout`, freed once.
            unsafe { heap.free(p, layout) };
        }
        assert_eq!(
            heap.check().unwrap().blocks,
            1,
            "everything freed: one block again"
        );
        worst
    }

    #[test]
    fn every_strategy_survives_a_seeded_random_workload() {
        for seed in [1, 0xC0FFEE, 0xDEAD_BEEF_CAFE] {
            stress(FirstFit, seed);
            stress(BestFit, seed);
            stress(NextFit::default(), seed);
        }
    }
}
