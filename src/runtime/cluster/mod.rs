//! Many runtime nodes on one PostgreSQL: membership and heartbeats, sessions hashed into
//! partitions leased to one node at a time with fencing epochs, and the node's lease keeper.

pub mod identity;
pub mod keeper;
pub mod ownership;
pub mod partition;
pub mod settings;
pub mod shares;

pub use ownership::{Change, Ownership};
pub use partition::{partition_of, PARTITIONS};
pub use settings::ClusterSettings;
