//! Byte-pair merging of one pre-tokenized piece.
//!
//! The piece starts as one symbol per byte-level character; then, repeatedly, the adjacent pair
//! with the best (lowest) merge rank is merged, the leftmost one on ties, until no adjacent pair
//! has a merge. This is the order Hugging Face's BPE model and llama.cpp apply (a priority queue
//! of `(rank, position)` over a linked list of symbols), so it is `O(n log n)` for a piece of
//! `n` characters, even for long runs of whitespace or punctuation.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Merge rules: a pair of token ids to its rank (its position in the merges list) and the id of
/// the merged token.
#[derive(Default)]
pub struct Merges {
    rules: HashMap<(u32, u32), (u32, u32)>,
}

impl Merges {
    /// Adds the rule `left right -> merged` with the next rank; a repeated pair keeps its first
    /// (best) rank.
    pub fn push(&mut self, left: u32, right: u32, merged: u32) {
        let rank = self.rules.len() as u32;
        self.rules.entry((left, right)).or_insert((rank, merged));
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn get(&self, left: u32, right: u32) -> Option<(u32, u32)> {
        self.rules.get(&(left, right)).copied()
    }

    /// Merges the symbols of one piece (token ids of its characters), returning its token ids.
    pub fn apply(&self, symbols: &[u32]) -> Vec<u32> {
        let n = symbols.len();
        if n < 2 {
            return symbols.to_vec();
        }
        // Doubly linked list over positions; `alive[i]` is false once `i` merged into its left.
        let mut ids = symbols.to_vec();
        let mut prev: Vec<Option<usize>> = (0..n).map(|i| i.checked_sub(1)).collect();
        let mut next: Vec<Option<usize>> = (0..n).map(|i| Some(i + 1).filter(|&j| j < n)).collect();
        let mut alive = vec![true; n];
        let mut queue = BinaryHeap::new();
        let push = |queue: &mut BinaryHeap<_>, ids: &[u32], left: usize, right: usize| {
            if let Some((rank, merged)) = self.get(ids[left], ids[right]) {
                queue.push(Reverse((rank, left, merged)));
            }
        };
        for i in 0..n - 1 {
            push(&mut queue, &ids, i, i + 1);
        }
        while let Some(Reverse((_, left, merged))) = queue.pop() {
            // Skip entries made stale by earlier merges.
            let Some(right) = next[left].filter(|_| alive[left]) else {
                continue;
            };
            if self.get(ids[left], ids[right]).map(|(_, m)| m) != Some(merged) {
                continue;
            }
            ids[left] = merged;
            alive[right] = false;
            next[left] = next[right];
            if let Some(after) = next[right] {
                prev[after] = Some(left);
                push(&mut queue, &ids, left, after);
            }
            if let Some(before) = prev[left] {
                push(&mut queue, &ids, before, left);
            }
        }
        (0..n).filter(|&i| alive[i]).map(|i| ids[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_rank_first_then_leftmost() {
        // ids: a=0 b=1 c=2 ab=3 bc=4 abc=5
        let mut m = Merges::default();
        m.push(1, 2, 4); // b c  (rank 0)
        m.push(0, 1, 3); // a b  (rank 1)
        m.push(0, 4, 5); // a bc (rank 2)
        assert_eq!(m.apply(&[0, 1, 2]), [5], "bc first, then a+bc");
        assert_eq!(m.apply(&[0, 1, 0, 1]), [3, 3]);
        assert_eq!(m.apply(&[2, 2]), [2, 2]);
        // aaa with `a a -> aa`: the leftmost pair merges first.
        let mut m = Merges::default();
        m.push(0, 0, 1);
        assert_eq!(m.apply(&[0, 0, 0]), [1, 0]);
        assert_eq!(m.apply(&[0; 5]), [1, 1, 0]);
    }
}
