//! The EventLog actor: durable, ordered append of session events with group commit, and live
//! fan-out to subscribers.
//!
//! Group commit: an `Append` is buffered; the first append into an empty buffer sends the actor a
//! `Flush`, which is queued behind every append already waiting. So one flush — one transaction —
//! takes all appends that arrived while the previous flush was writing. The flush awaits the
//! database inside `handle` on purpose: that serial write is what orders each session's `seq`.
//! An append may carry several events (a driver's consecutive events): they are committed in one
//! transaction, in order, and answered together.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use dashmap::DashMap;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::{broadcast, mpsc};

use crate::actors::Slot;
use crate::runtime::contract::error::RuntimeError;
use crate::store::executions::NewExecution;
use crate::store::{AppendOutcome, Effect, EventRow, NewEvent, RuntimeStore, StoreError};

const MAX_BATCH: usize = 512;
/// Sessions whose latest `seq` is cached; past this the cache starts afresh (it is refilled
/// from the store on demand).
const MAX_CACHED_SESSIONS: usize = 100_000;
const PAGE: i64 = 500;
/// Appends are tried 12 times in all while the event log restarts: 10 ms apart at first, then
/// twice as far apart each time, at most a second.
const APPEND_RETRY: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(10))
    .with_max_delay(Duration::from_secs(1))
    .with_max_times(11);

/// How long a submit waits for its intake's commit (under the session's 30 s answer).
const INTAKE_WAIT: Duration = Duration::from_secs(20);
/// An intake not delivered (the event log restarting) is tried 8 times in all: 10 ms apart,
/// then twice as far each time, at most 500 ms (about 2 s in all).
const INTAKE_RETRY: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(10))
    .with_max_delay(Duration::from_millis(500))
    .with_max_times(7);

/// An event and the state change committed with it.
pub type Item = (NewEvent, Option<Effect>);

pub enum EventLogMsg {
    Append(
        Vec<Item>,
        RpcReplyPort<Result<Vec<AppendOutcome>, RuntimeError>>,
    ),
    /// A new execution (without an idempotency key) and its opening events (its start, when it
    /// starts at once), stored with the next flush: answered once they are committed.
    Intake(
        Box<NewExecution>,
        Vec<Item>,
        RpcReplyPort<Result<Opened, RuntimeError>>,
    ),
    Flush,
    /// Panics in the handler (feature `fault-injection`: chaos tests).
    #[cfg(feature = "fault-injection")]
    Panic,
}

/// One append waiting for its flush: its events and the one reply for all of them.
type Pending = (
    Vec<Item>,
    RpcReplyPort<Result<Vec<AppendOutcome>, RuntimeError>>,
);

/// An intake waiting for its flush: the execution, its opening events, its reply.
type Intake = (
    NewExecution,
    Vec<Item>,
    RpcReplyPort<Result<Opened, RuntimeError>>,
);

/// What became of an intake's opening events, once its execution is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// All stored as sent (or already there, from an attempt whose answer was lost): the
    /// execution is as its submitter built it.
    AsSent,
    /// One was refused (another driver holds the execution): the submitter must not drive it
    /// as new, but claim it.
    Fenced,
}

/// Whom a flush answers: an append (its events' outcomes) or an intake (stored or not).
enum Reply {
    Append(RpcReplyPort<Result<Vec<AppendOutcome>, RuntimeError>>),
    Intake(RpcReplyPort<Result<Opened, RuntimeError>>),
}

impl Reply {
    fn fail(self, append: RuntimeError, intake: RuntimeError) {
        match self {
            Reply::Append(r) => {
                let _ = r.send(Err(append));
            }
            Reply::Intake(r) => {
                let _ = r.send(Err(intake));
            }
        }
    }
}

/// The most intakes one flush carries.
const MAX_INTAKE: usize = 512;

/// Counters of the event log's work: how many events were committed in how many transactions
/// (their ratio is the group-commit batching factor).
#[derive(Default)]
pub struct EventLogStats {
    pub events: std::sync::atomic::AtomicU64,
    pub transactions: std::sync::atomic::AtomicU64,
    /// New executions stored by the event log's transactions (keyless intake).
    pub intakes: std::sync::atomic::AtomicU64,
}

/// Events of a session kept for its live subscribers; one that falls further behind catches up
/// from the store (it never misses one). Small: every watched session holds one such buffer.
const LIVE_BUFFER: usize = 16;

/// What a session's live channel carries: an event committed here, or word that events up to
/// a `seq` were committed elsewhere (another cluster node holds the session): the store has
/// them.
#[derive(Clone, Debug)]
enum Live {
    Event(Arc<EventRow>),
    Committed(i64),
}

/// Live fan-out: one broadcast channel per session with subscribers.
#[derive(Clone, Default)]
pub struct EventHub {
    channels: Arc<DashMap<String, broadcast::Sender<Live>>>,
}

impl EventHub {
    /// Events up to `seq` of the session were committed (announced by the node that holds
    /// it): its subscribers here read what they miss from the store.
    pub fn committed(&self, session_id: &str, seq: i64) {
        let no_receivers = match self.channels.get(session_id) {
            Some(tx) => tx.send(Live::Committed(seq)).is_err(),
            None => false,
        };
        if no_receivers {
            self.channels
                .remove_if(session_id, |_, tx| tx.receiver_count() == 0);
        }
    }

    /// Announcements may have been missed (a lost connection): every subscriber here looks
    /// in the store.
    pub fn committed_anywhere(&self) {
        self.channels
            .retain(|_, tx| tx.send(Live::Committed(i64::MAX)).is_ok());
    }

    fn subscribe(&self, session_id: &str) -> broadcast::Receiver<Live> {
        self.channels
            .entry(session_id.to_string())
            .or_insert_with(|| broadcast::channel(LIVE_BUFFER).0)
            .subscribe()
    }

    fn publish(&self, event: EventRow) {
        let session_id = event.session_id.clone();
        let no_receivers = match self.channels.get(&session_id) {
            Some(tx) => tx.send(Live::Event(Arc::new(event))).is_err(),
            None => false,
        };
        if no_receivers {
            self.channels
                .remove_if(&session_id, |_, tx| tx.receiver_count() == 0);
        }
    }
}

pub struct EventLog;

pub struct EventLogArgs {
    pub store: RuntimeStore,
    pub hub: EventHub,
    pub stats: Arc<EventLogStats>,
    pub faults: crate::actors::FaultTargets,
    pub ownership: Arc<crate::runtime::cluster::Ownership>,
}

pub struct EventLogState {
    store: RuntimeStore,
    ownership: Arc<crate::runtime::cluster::Ownership>,
    /// The ownership's generation `last_seq` was cached under.
    generation: u64,
    hub: EventHub,
    stats: Arc<EventLogStats>,
    buffer: Vec<Pending>,
    intake: Vec<Intake>,
    flush_scheduled: bool,
    last_seq: HashMap<String, i64>,
}

impl Actor for EventLog {
    type Msg = EventLogMsg;
    type State = EventLogState;
    type Arguments = EventLogArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: EventLogArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::fault_target!(args.faults, "event_log".into(), myself, EventLogMsg::Panic);
        // Nothing is trusted from a previous incarnation: `seq` values are re-read from the store.
        Ok(EventLogState {
            store: args.store,
            generation: args.ownership.generation(),
            ownership: args.ownership,
            hub: args.hub,
            stats: args.stats,
            buffer: Vec::new(),
            intake: Vec::new(),
            flush_scheduled: false,
            last_seq: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            #[cfg(feature = "fault-injection")]
            EventLogMsg::Panic => panic!("fault injected into the event log"),
            EventLogMsg::Append(items, reply) => {
                state.buffer.push((items, reply));
                if !state.flush_scheduled {
                    state.flush_scheduled = true;
                    myself.send_message(EventLogMsg::Flush)?;
                }
            }
            EventLogMsg::Intake(new, opening, reply) => {
                state.intake.push((*new, opening, reply));
                if !state.flush_scheduled {
                    state.flush_scheduled = true;
                    myself.send_message(EventLogMsg::Flush)?;
                }
            }
            EventLogMsg::Flush => {
                // Whole appends, up to about MAX_BATCH events (at least one append).
                let mut events = 0;
                let take = state
                    .buffer
                    .iter()
                    .take_while(|(items, _)| {
                        let fits = events == 0 || events + items.len() <= MAX_BATCH;
                        events += items.len();
                        fits
                    })
                    .count();
                let batch: Vec<Pending> = state.buffer.drain(..take).collect();
                // An intake whose submitter stopped waiting (its call timed out) is not
                // written: that submit was answered an error.
                let intake: Vec<Intake> = state
                    .intake
                    .drain(..state.intake.len().min(MAX_INTAKE))
                    .filter(|(_, _, reply)| !reply.is_closed())
                    .collect();
                if state.buffer.is_empty() && state.intake.is_empty() {
                    state.flush_scheduled = false;
                } else {
                    myself.send_message(EventLogMsg::Flush)?;
                }
                flush(state, batch, intake).await;
            }
        }
        Ok(())
    }
}

async fn flush(state: &mut EventLogState, batch: Vec<Pending>, intake: Vec<Intake>) {
    let (batch, intake) = held_only(&state.ownership, batch, intake);
    if batch.is_empty() && intake.is_empty() {
        return;
    }
    // The intakes' opening events first, then the appends': each with its reply and how many
    // events it brought.
    let mut news = Vec::with_capacity(intake.len());
    let mut sizes = Vec::with_capacity(batch.len() + intake.len());
    let mut replies = Vec::with_capacity(batch.len() + intake.len());
    let mut items = Vec::new();
    for (new, opening, reply) in intake {
        news.push(new);
        sizes.push(opening.len());
        items.extend(opening);
        replies.push(Reply::Intake(reply));
    }
    for (group, reply) in batch {
        sizes.push(group.len());
        items.extend(group);
        replies.push(Reply::Append(reply));
    }
    let events = items.len();
    let started = std::time::Instant::now();
    let fence = state.ownership.fence(
        items
            .iter()
            .map(|(e, _)| e.session_id.as_str())
            .chain(news.iter().map(|n| n.session_id.as_str())),
    );
    // Partitions taken since the cache was filled: their sessions' events may have grown on
    // another node. (Read after the fence: a node takes a partition's generation before its
    // epoch, so a fence holding a newly taken partition sees the new generation.)
    let generation = state.ownership.generation();
    if state.last_seq.len() > MAX_CACHED_SESSIONS || generation != state.generation {
        state.last_seq.clear();
        state.generation = generation;
    }
    let (result, news, items) = match fence {
        Ok(fence) => append_detached(state, fence, news, items).await,
        // Let go since `held_only` looked (a moment ago): nothing is written.
        Err(lost) => (Err(moved(&lost)), news, items),
    };
    metrics::histogram!(crate::telemetry::names::EVENT_BATCH_SIZE).record(events as f64);
    metrics::histogram!(crate::telemetry::names::EVENT_COMMIT_SECONDS)
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(outcomes) => deliver(state, outcomes, &sizes, replies),
        // (Nothing back: the write task was cancelled, the runtime is stopping. A database
        // that cannot write at all fails each alone too: answer them all at once.)
        Err(StoreError::Moved(why)) => {
            forget_sessions(state, &items);
            tracing::warn!(%why, "event batch refused: its partitions moved");
            for reply in replies {
                let e = RuntimeError::Unavailable(why.clone());
                reply.fail(e.clone(), e);
            }
        }
        Err(err)
            if replies.len() > 1
                && !(items.is_empty() && news.is_empty())
                && !err.is_unavailable() =>
        {
            // One bad append or intake must not sink the others: retry each on its own.
            tracing::warn!(error = %err, batch = items.len(), intake = news.len(),
                "event batch failed; retrying one append at a time");
            forget_sessions(state, &items);
            let mut rest = items.into_iter();
            let mut news = news.into_iter();
            for (size, reply) in sizes.into_iter().zip(replies) {
                let group: Vec<Item> = rest.by_ref().take(size).collect();
                let new: Vec<NewExecution> = match reply {
                    Reply::Intake(_) => news.next().into_iter().collect(),
                    Reply::Append(_) => Vec::new(),
                };
                let fence = state.ownership.fence(
                    group
                        .iter()
                        .map(|(e, _)| e.session_id.as_str())
                        .chain(new.iter().map(|n| n.session_id.as_str())),
                );
                let (result, _, group) = match fence {
                    Ok(fence) => append_detached(state, fence, new, group).await,
                    Err(lost) => (Err(moved(&lost)), new, group),
                };
                match result {
                    Ok(outcomes) => deliver(state, outcomes, &[size], vec![reply]),
                    Err(err) => {
                        forget_sessions(state, &group);
                        tracing::error!(error = %err, "event append failed");
                        reply.fail(append_error(&err), intake_error(&err));
                    }
                }
            }
        }
        Err(err) => {
            forget_sessions(state, &items);
            tracing::error!(error = %err, "event append failed");
            for reply in replies {
                reply.fail(append_error(&err), intake_error(&err));
            }
        }
    }
}

/// Runs one append transaction. This actor can be killed mid-flush (or panic); the store runs
/// the transaction to its end whatever happens to the actor (see `store::write`).
async fn append_detached(
    state: &mut EventLogState,
    fence: Option<crate::store::cluster::Fence>,
    intake: Vec<NewExecution>,
    items: Vec<Item>,
) -> (
    Result<Vec<AppendOutcome>, StoreError>,
    Vec<NewExecution>,
    Vec<Item>,
) {
    let cache = std::mem::take(&mut state.last_seq);
    let appended = state.store.append_events(fence, intake, items, cache).await;
    state.last_seq = appended.last_seq;
    (appended.result, appended.intake, appended.items)
}

fn moved(lost: &[u16]) -> StoreError {
    StoreError::Moved(format!(
        "{} (this node let partitions {lost:?} go)",
        crate::store::cluster::MOVED
    ))
}

/// The appends and intakes of sessions this node holds now; the others are answered at once
/// (their partitions moved to another node) and not written.
fn held_only(
    ownership: &crate::runtime::cluster::Ownership,
    batch: Vec<Pending>,
    intake: Vec<Intake>,
) -> (Vec<Pending>, Vec<Intake>) {
    if ownership.node_id().is_none() {
        return (batch, intake);
    }
    let refused = |lost: &[u16]| RuntimeError::Unavailable(moved(lost).to_string());
    let batch = batch
        .into_iter()
        .filter_map(|(items, reply)| {
            match ownership.fence(items.iter().map(|(e, _)| e.session_id.as_str())) {
                Ok(_) => Some((items, reply)),
                Err(lost) => {
                    let _ = reply.send(Err(refused(&lost)));
                    None
                }
            }
        })
        .collect();
    let intake = intake
        .into_iter()
        .filter_map(
            |(new, opening, reply)| match ownership.fence([new.session_id.as_str()]) {
                Ok(_) => Some((new, opening, reply)),
                Err(lost) => {
                    let _ = reply.send(Err(refused(&lost)));
                    None
                }
            },
        )
        .collect();
    (batch, intake)
}

/// A failed append as its appender hears it: a refusal because the partition moved stays one
/// (nothing was written: the command may be placed at the partition's holder).
fn append_error(e: &StoreError) -> RuntimeError {
    match e {
        StoreError::Moved(why) => RuntimeError::Unavailable(why.clone()),
        other => RuntimeError::Internal(other.to_string()),
    }
}

/// A failed intake as its submitter hears it: 503 while the database cannot write (a full
/// disk, a lost connection), as a direct insert would have said.
fn intake_error(e: &StoreError) -> RuntimeError {
    if let StoreError::Moved(why) = e {
        RuntimeError::Unavailable(why.clone())
    } else if e.is_unavailable() {
        RuntimeError::DatabaseUnavailable(e.chain())
    } else {
        RuntimeError::Internal(e.chain())
    }
}

fn forget_sessions(state: &mut EventLogState, items: &[Item]) {
    for (e, _) in items {
        state.last_seq.remove(&e.session_id);
    }
}

/// Publishes what a flush committed and answers each append with its own outcomes and each
/// intake that it is stored (`sizes`: how many events each brought, in order).
fn deliver(
    state: &EventLogState,
    outcomes: Vec<AppendOutcome>,
    sizes: &[usize],
    replies: Vec<Reply>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    crate::failpoint!(crate::failpoints::EVENT_LOG_BEFORE_PUBLISH);
    state.stats.transactions.fetch_add(1, Relaxed);
    state.stats.events.fetch_add(outcomes.len() as u64, Relaxed);
    for outcome in &outcomes {
        // A duplicate may be an event whose commit succeeded but whose publication was lost
        // (a crash or an ambiguous commit error): publish it again. Subscribers drop `seq`s
        // they have already seen, so this never doubles an event.
        if let AppendOutcome::Appended(row) | AppendOutcome::Duplicate(row) = outcome {
            state.hub.publish(row.clone());
        }
    }
    let mut rest = outcomes.into_iter();
    for (size, reply) in sizes.iter().zip(replies) {
        let mine: Vec<AppendOutcome> = rest.by_ref().take(*size).collect();
        match reply {
            Reply::Append(reply) => {
                let _ = reply.send(Ok(mine));
            }
            Reply::Intake(reply) => {
                state.stats.intakes.fetch_add(1, Relaxed);
                let opened = if mine.iter().any(|o| matches!(o, AppendOutcome::Fenced)) {
                    Opened::Fenced
                } else {
                    Opened::AsSent
                };
                let _ = reply.send(Ok(opened));
            }
        }
    }
}

/// How the rest of the runtime reaches the event log: by its slot (re-pointed on restart), with
/// retries across a restart, plus subscriptions that need no actor round trip.
#[derive(Clone)]
pub struct EventLogHandle {
    pub slot: Slot<EventLogMsg>,
    pub hub: EventHub,
    pub store: RuntimeStore,
    pub stats: Arc<EventLogStats>,
    /// Which sessions this node may write (a refusal for one it still holds is tried again:
    /// its lease was renewed late).
    pub ownership: Arc<crate::runtime::cluster::Ownership>,
}

impl EventLogHandle {
    /// Appends one event (with its effect) and returns once it is committed.
    pub async fn append(
        &self,
        event: NewEvent,
        effect: Option<Effect>,
    ) -> Result<AppendOutcome, RuntimeError> {
        let mut outcomes = self.append_all(vec![(event, effect)]).await?;
        outcomes
            .pop()
            .ok_or_else(|| RuntimeError::Internal("the event log answered no outcome".into()))
    }

    /// Appends events in order, in one transaction, and returns once they are committed: one
    /// outcome per event. Retries for a while when the event log is restarting; dedup keys make
    /// a retried append harmless.
    pub async fn append_all(&self, items: Vec<Item>) -> Result<Vec<AppendOutcome>, RuntimeError> {
        let append = || async {
            let actor = self
                .slot
                .get()
                .ok_or_else(|| RuntimeError::Unavailable("event log not started".into()))?;
            let items = items.clone();
            match actor
                .call(
                    move |reply| EventLogMsg::Append(items, reply),
                    Some(Duration::from_secs(30)),
                )
                .await
            {
                Ok(ractor::rpc::CallResult::Success(answer)) => answer,
                Ok(other) => Err(RuntimeError::Unavailable(format!(
                    "event log call: {other:?}"
                ))),
                Err(e) => Err(RuntimeError::Unavailable(format!("event log: {e}"))),
            }
        };
        // A refusal because the session's partition moved is final here, unless this node
        // still holds it (its lease was renewed late): then it is tried again.
        let session = items.first().map(|(e, _)| e.session_id.clone());
        append
            .retry(APPEND_RETRY)
            .when(|e| !crate::runtime::cluster::ownership::is_moved(e) || self.still_held(&session))
            .await
    }

    /// Stores a new execution (one without an idempotency key), with its opening events, in
    /// the event log's next commit, and returns once it is committed. Tried again only when the message never
    /// reached a live event log (it is restarting), for at most about two seconds. A call that
    /// times out is not retried: its submitter is answered an error, and the event log drops an
    /// intake whose caller stopped waiting before it is written. An intake committed by a
    /// lost attempt is not stored twice.
    pub async fn intake(
        &self,
        new: NewExecution,
        opening: Vec<Item>,
    ) -> Result<Opened, RuntimeError> {
        let session = new.session_id.clone();
        let attempt = || async {
            let actor = self
                .slot
                .get()
                .ok_or_else(|| RuntimeError::Unavailable("event log not started".into()))?;
            let new = Box::new(new.clone());
            let opening = opening.clone();
            match actor
                .call(
                    move |reply| EventLogMsg::Intake(new, opening, reply),
                    Some(INTAKE_WAIT),
                )
                .await
            {
                Ok(ractor::rpc::CallResult::Success(answer)) => answer,
                Ok(ractor::rpc::CallResult::Timeout) => Err(RuntimeError::Internal(
                    "the event log did not store the intent in time".into(),
                )),
                Ok(other) => Err(RuntimeError::Unavailable(format!(
                    "event log call: {other:?}"
                ))),
                Err(e) => Err(RuntimeError::Unavailable(format!("event log: {e}"))),
            }
        };
        attempt
            .retry(INTAKE_RETRY)
            .when(|e| {
                matches!(e, RuntimeError::Unavailable(_))
                    && (!crate::runtime::cluster::ownership::is_moved(e)
                        || self.still_held(&Some(session.clone())))
            })
            .await
    }

    fn still_held(&self, session: &Option<String>) -> bool {
        session.as_deref().is_some_and(|s| self.ownership.holds(s))
    }

    /// Events of a session with `seq > after_seq`: stored ones first, then live ones, in order,
    /// none missed and none doubled at the hand-over. The stream ends when the receiver is
    /// dropped; an `Err` item ends it too.
    pub fn subscribe(
        &self,
        session_id: String,
        after_seq: i64,
    ) -> mpsc::Receiver<Result<Arc<EventRow>, RuntimeError>> {
        // Shared events: the channel's first block of slots is allocated up front, per
        // subscriber, so small slots keep an idle subscription small; a live event is not
        // copied per subscriber.
        let (tx, rx) = mpsc::channel(256);
        // Subscribe to live events before reading the store: anything committed after this
        // point is in the channel, anything before it is in the store.
        let live = self.hub.subscribe(&session_id);
        let store = self.store.clone();
        tokio::spawn(async move {
            // This subscriber in the gauge while its pump runs.
            let _gauge =
                crate::telemetry::metrics::Held::new(crate::telemetry::names::EVENT_SUBSCRIBERS);
            let tx_closed = tx.clone();
            tokio::select! {
                _ = pump(store, session_id, after_seq, live, tx) => {}
                _ = tx_closed.closed() => {}
            }
        });
        rx
    }
}

async fn pump(
    store: RuntimeStore,
    session_id: String,
    after_seq: i64,
    mut live: broadcast::Receiver<Live>,
    tx: mpsc::Sender<Result<Arc<EventRow>, RuntimeError>>,
) {
    let mut last = after_seq;
    if catch_up(&store, &session_id, &mut last, &tx).await.is_err() {
        return;
    }
    loop {
        match live.recv().await {
            Ok(Live::Event(event)) if event.seq <= last => continue,
            Ok(Live::Event(event)) if event.seq == last + 1 => {
                last = event.seq;
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            Ok(Live::Committed(seq)) if seq <= last => continue,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                // A gap (we fell behind): the store has everything, in order.
                if catch_up(&store, &session_id, &mut last, &tx).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

async fn catch_up(
    store: &RuntimeStore,
    session_id: &str,
    last: &mut i64,
    tx: &mpsc::Sender<Result<Arc<EventRow>, RuntimeError>>,
) -> Result<(), ()> {
    loop {
        let page = match store.events_after(session_id, *last, PAGE).await {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return Err(());
            }
        };
        let n = page.len() as i64;
        for event in page {
            *last = event.seq;
            tx.send(Ok(Arc::new(event))).await.map_err(|_| ())?;
        }
        if n < PAGE {
            return Ok(());
        }
    }
}
