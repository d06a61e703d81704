//! Which partition a session belongs to: a fixed hash of its id, the same on every node and
//! every version (FNV-1a, 64 bits), modulo [`PARTITIONS`].

/// Sessions hash into this many partitions; each is leased to one node at a time.
pub const PARTITIONS: u16 = 256;

/// The partition of `session_id`.
pub fn partition_of(session_id: &str) -> u16 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in session_id.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(PARTITIONS)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fnv1a_and_fixed() {
        // FNV-1a 64 of "" is its offset basis, of "a" 0xaf63dc4c8601ec8c (the published test
        // vectors); the partition is the hash modulo 256, its low byte.
        assert_eq!(partition_of(""), 0x25);
        assert_eq!(partition_of("a"), 0x8c);
    }

    #[test]
    fn session_ids_spread_over_every_partition() {
        let mut counts = vec![0u32; PARTITIONS as usize];
        for i in 0..25_600 {
            counts[partition_of(&format!("{:032x}", i * 7919)) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 50 && c < 150), "{counts:?}");
    }
}
