//! A cluster node's subscribers follow sessions held by other nodes: every node listens to
//! the commit announcements (`store::cluster::announce`) and tells its event hub, whose
//! subscribers then read what they miss from the store. After a broken connection (when
//! announcements may have been lost) every subscriber looks in the store.

use std::time::Duration;

use tokio::sync::watch;

use super::event_log::EventHub;
use crate::store::RuntimeStore;

/// The pause before listening again after the connection could not be made.
const RETRY: Duration = Duration::from_secs(1);

/// Runs until `stop`. `settle`: how long after this node starts listening the others may
/// still commit without announcing (a node alone does not announce, and sees a newcomer at
/// its next heartbeat): then every subscriber here looks in the store once more.
pub fn follow(
    store: RuntimeStore,
    hub: EventHub,
    settle: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        loop {
            let mut listener = tokio::select! {
                _ = stop.changed() => return,
                l = store.listen_commits() => match l {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e.chain(), "cannot listen to the cluster's commits; retrying");
                        tokio::select! {
                            _ = stop.changed() => return,
                            _ = tokio::time::sleep(RETRY) => continue,
                        }
                    }
                },
            };
            // Whatever was announced before this connection listened.
            hub.committed_anywhere();
            let settled = tokio::time::sleep(settle);
            tokio::pin!(settled);
            let mut settling = true;
            loop {
                let next = tokio::select! {
                    _ = stop.changed() => return,
                    _ = &mut settled, if settling => {
                        settling = false;
                        hub.committed_anywhere();
                        continue;
                    }
                    next = listener.next() => next,
                };
                match next {
                    Ok(Some(commits)) => {
                        for (session, seq) in commits {
                            hub.committed(&session, seq);
                        }
                    }
                    Ok(None) => hub.committed_anywhere(),
                    Err(e) => {
                        tracing::warn!(error = %e.chain(), "the cluster's commit announcements broke off; listening again");
                        break;
                    }
                }
            }
        }
    });
}
