//! The `k` best items seen, in memory bounded by `k` whatever the number offered: a min-heap
//! of the best so far whose root (the worst kept) is replaced when a better item comes.
//! "Better" is the items' `Ord` (greater is better); give them a total order (a tie-breaker
//! such as the order in which they were found) and the result is deterministic.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Debug, Clone)]
pub struct TopK<T: Ord> {
    k: usize,
    heap: BinaryHeap<Reverse<T>>,
}

impl<T: Ord> TopK<T> {
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.min(1024)),
        }
    }

    /// Offers an item; kept when fewer than `k` are kept or it beats the worst of them.
    pub fn offer(&mut self, item: T) {
        if self.heap.len() < self.k {
            self.heap.push(Reverse(item));
        } else if self.heap.peek().is_some_and(|Reverse(worst)| item > *worst) {
            self.heap.pop();
            self.heap.push(Reverse(item));
        }
    }

    /// Whether `item` would be kept if offered now.
    pub fn would_keep(&self, item: &T) -> bool {
        self.heap.len() < self.k || self.heap.peek().is_some_and(|Reverse(worst)| item > worst)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The kept items, best first.
    pub fn into_sorted(self) -> Vec<T> {
        // Ascending order of `Reverse` is descending order of the items.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_k_best_in_order() {
        let mut top = TopK::new(3);
        for x in [5, 1, 9, 3, 7, 9, 2] {
            top.offer(x);
        }
        assert_eq!(top.len(), 3);
        assert!(top.would_keep(&8) && !top.would_keep(&7));
        assert_eq!(top.into_sorted(), [9, 9, 7]);
        let mut none = TopK::new(0);
        none.offer(1);
        assert!(none.is_empty());
        // Ties broken by a second key: the earlier found (smaller sequence) is better.
        let mut top = TopK::new(2);
        for (seq, score) in [(0, 1), (1, 2), (2, 2), (3, 1)] {
            top.offer((score, Reverse(seq)));
        }
        assert_eq!(top.into_sorted(), [(2, Reverse(1)), (2, Reverse(2))]);
    }
}
