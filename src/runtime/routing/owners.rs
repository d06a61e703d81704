//! Who holds each partition, and where that node's Runtime API is: read from the leases and
//! kept for a moment (forwarding reads it for every command it forwards), read again at once
//! after a forward could not reach the node it named.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::runtime::cluster::PARTITIONS;
use crate::runtime::contract::error::RuntimeError;
use crate::store::RuntimeStore;

/// How long a reading of the leases is used.
const FRESH: Duration = Duration::from_millis(500);

/// Per partition: its holder's id and address.
type Table = Arc<Vec<Option<(String, String)>>>;

pub struct Owners {
    store: RuntimeStore,
    cache: parking_lot::Mutex<Option<(Instant, Table)>>,
}

impl Owners {
    pub fn new(store: RuntimeStore) -> Owners {
        Owners {
            store,
            cache: parking_lot::Mutex::new(None),
        }
    }

    /// The holder of `partition` (its node id and address), if its lease runs.
    pub async fn of(&self, partition: u16) -> Result<Option<(String, String)>, RuntimeError> {
        let cached = self
            .cache
            .lock()
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FRESH)
            .map(|(_, t)| t.clone());
        let table = match cached {
            Some(t) => t,
            None => {
                let mut table = vec![None; usize::from(PARTITIONS)];
                for (p, owner, address) in self.store.cluster_placement().await? {
                    if let Some(slot) = table.get_mut(usize::from(p)) {
                        *slot = Some((owner, address));
                    }
                }
                let table = Arc::new(table);
                *self.cache.lock() = Some((Instant::now(), table.clone()));
                table
            }
        };
        Ok(table.get(usize::from(partition)).cloned().flatten())
    }

    /// The next question reads the leases again.
    pub fn forget(&self) {
        *self.cache.lock() = None;
    }
}
