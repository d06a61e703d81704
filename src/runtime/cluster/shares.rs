//! How many partitions each live node should hold: an even split, the first nodes in id order
//! taking one more when it does not divide.

use super::partition::PARTITIONS;

/// The share of the node at `index` among `live` nodes sorted by id.
pub fn share(index: usize, live: usize) -> usize {
    if live == 0 {
        return 0;
    }
    let total = usize::from(PARTITIONS);
    total / live + usize::from(index < total % live)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        assert_eq!(share(0, 1), 256);
        assert_eq!((share(0, 2), share(1, 2)), (128, 128));
        assert_eq!((share(0, 3), share(1, 3), share(2, 3)), (86, 85, 85));
        for live in 1..40 {
            let shares: Vec<usize> = (0..live).map(|i| share(i, live)).collect();
            assert_eq!(shares.iter().sum::<usize>(), 256);
            assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
        }
        assert_eq!(share(0, 0), 0);
    }
}
