//! The store API on both backends: idempotency under concurrency, the event log's dedup,
//! ordering and fencing.

use std::collections::HashMap;

use crate::common::*;
use serde_json::json;
use symphainy::store::time::now_micros;
use symphainy::store::ExecutionState;
use symphainy::store::{
    AppendOutcome, Effect, InsertOutcome, NewEvent, NewExecution, SessionRow, Store,
};

/// The `seq` of each outcome, all of which must be `Appended`.
fn appended_seqs(out: &[AppendOutcome]) -> Vec<i64> {
    out.iter()
        .map(|o| match o {
            AppendOutcome::Appended(e) => e.seq,
            other => panic!("{other:?}"),
        })
        .collect()
}

async fn store_with_session(db: &TestDb, session_id: &str) -> Store {
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.expect("migrations are idempotent");
    assert!(store
        .runtime()
        .insert_session(&session_row(session_id))
        .await
        .unwrap());
    store
}

fn new_execution(session_id: &str, key: Option<&str>) -> NewExecution {
    NewExecution {
        execution_id: uuid::Uuid::new_v4().to_string(),
        intent_id: uuid::Uuid::new_v4().to_string(),
        intent_type: "echo".into(),
        session_id: session_id.into(),
        tenant_id: Some("t".into()),
        solution_id: "default".into(),
        parameters: json!({"message": "x"}),
        metadata: json!({}),
        created_at: now_micros(),
        request_id: Some("req-1".into()),
        traceparent: None,
        idempotency: key.map(|k| ("tenant:t".to_string(), k.to_string())),
        idempotency_alt_scope: None,
    }
}

fn event(session_id: &str, key: Option<&str>) -> NewEvent {
    NewEvent {
        event_id: uuid::Uuid::new_v4().to_string(),
        session_id: session_id.into(),
        event_type: "TEST".into(),
        execution_id: None,
        event_key: key.map(str::to_string),
        data: json!({"k": key}),
        created_at: now_micros(),
    }
}

#[tokio::test]
async fn concurrent_submits_with_one_key_store_one_execution() {
    for db in databases().await {
        let store = store_with_session(&db, "s1").await;
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .runtime()
                    .insert_execution(&new_execution("s1", Some("same-key")), None)
                    .await
            }));
        }
        let mut created = 0;
        let mut ids = std::collections::HashSet::new();
        for t in tasks {
            match t.await.unwrap().unwrap() {
                InsertOutcome::Created(row) => {
                    created += 1;
                    ids.insert(row.execution_id);
                }
                InsertOutcome::Existing(row) => {
                    ids.insert(row.execution_id);
                }
            }
        }
        assert_eq!(created, 1, "[{}] exactly one execution is stored", db.name);
        assert_eq!(ids.len(), 1, "every caller gets the same execution");
        let unfinished = store.runtime().unfinished_executions("s1").await.unwrap();
        assert_eq!(unfinished.len(), 1);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn event_appends_are_ordered_deduplicated_and_fenced() {
    for db in databases().await {
        let store = store_with_session(&db, "s1").await;
        let exec = new_execution("s1", None);
        let InsertOutcome::Created(stored) =
            store.runtime().insert_execution(&exec, None).await.unwrap()
        else {
            panic!("a new execution is created");
        };
        // A new execution belongs to its first driver at the first epoch, unclaimed.
        assert_eq!(stored.epoch, 1);
        let epoch = store
            .runtime()
            .claim_execution(&exec.execution_id, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(epoch, 2);

        let mut cache = HashMap::new();
        let batch: Vec<_> = (0..5)
            .map(|i| (event("s1", Some(&format!("k{i}"))), None))
            .collect();
        let out = append_events(&store, &batch, &mut cache).await.unwrap();
        let seqs = appended_seqs(&out);
        assert_eq!(seqs, [1, 2, 3, 4, 5], "[{}]", db.name);

        // A repeated key returns the stored event and takes no seq; a fresh one continues.
        let again = vec![(event("s1", Some("k2")), None), (event("s1", None), None)];
        let out = append_events(&store, &again, &mut cache).await.unwrap();
        match (&out[0], &out[1]) {
            (AppendOutcome::Duplicate(d), AppendOutcome::Appended(a)) => {
                assert_eq!(d.seq, 3);
                assert_eq!(a.seq, 6);
            }
            other => panic!("{other:?}"),
        }

        // A cold cache (a restarted event log) reads the latest seq from the store.
        let mut cold = HashMap::new();
        let out = append_events(&store, &[(event("s1", None), None)], &mut cold)
            .await
            .unwrap();
        assert!(matches!(&out[0], AppendOutcome::Appended(e) if e.seq == 7));

        // An effect with a stale epoch writes nothing, neither state nor event.
        let newer = store
            .runtime()
            .claim_execution(&exec.execution_id, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(newer, 3);
        let stale = Effect::ExecutionFinished {
            execution_id: exec.execution_id.clone(),
            epoch,
            status: ExecutionState::Completed,
            error: None,
        };
        let out = append_events(
            &store,
            &[(event("s1", Some("stale")), Some(stale))],
            &mut cold,
        )
        .await
        .unwrap();
        assert!(matches!(out[0], AppendOutcome::Fenced), "{out:?}");
        let row = store
            .runtime()
            .get_execution(&exec.execution_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status.as_str(), "pending");
        let current = Effect::ExecutionFinished {
            execution_id: exec.execution_id.clone(),
            epoch: newer,
            status: ExecutionState::Completed,
            error: None,
        };
        let out = append_events(
            &store,
            &[(event("s1", Some("fresh")), Some(current))],
            &mut cold,
        )
        .await
        .unwrap();
        assert!(
            matches!(&out[0], AppendOutcome::Appended(e) if e.seq == 8),
            "{out:?}"
        );
        let row = store
            .runtime()
            .get_execution(&exec.execution_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status.as_str(), "completed");
        assert!(row.completed_at.is_some());

        let page = store.runtime().events_after("s1", 5, 2).await.unwrap();
        let seqs: Vec<i64> = page.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [6, 7]);
        assert_eq!(store.runtime().max_seq("s1").await.unwrap(), 8);
        assert_eq!(store.runtime().max_seq("nobody").await.unwrap(), 0);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_failed_batch_commits_nothing() {
    for db in databases().await {
        let store = store_with_session(&db, "s1").await;
        let mut cache = HashMap::new();
        // The second event names a session that does not exist: the foreign key fails.
        let batch = vec![
            (event("s1", Some("a")), None),
            (event("ghost", Some("b")), None),
        ];
        assert!(append_events(&store, &batch, &mut cache).await.is_err());
        assert_eq!(
            store.runtime().max_seq("s1").await.unwrap(),
            0,
            "[{}] rolled back",
            db.name
        );
        assert!(cache.is_empty(), "the seq cache is only updated on commit");
        store.close().await;
        db.cleanup().await;
    }
}

/// A batch that mixes a current driver's events with a stale one's: the current ones are
/// stored with their effects, the stale one changes nothing, and the `seq`s have no gap.
/// Each outcome's `seq` when appended, `None` when fenced (a repeat is not expected here).
fn appended_or_fenced(out: &[AppendOutcome]) -> Vec<Option<i64>> {
    out.iter()
        .map(|o| match o {
            AppendOutcome::Appended(e) => Some(e.seq),
            AppendOutcome::Fenced => None,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// A step of an execution whose row is not there: SQLite runs the batch's whole script before
/// its counts are checked, so the step's insert meets the foreign key to `executions`. That
/// event alone is refused (`Fenced`), as a stale epoch's is; the others are stored.
#[tokio::test]
async fn a_step_of_a_missing_execution_spoils_only_its_own_event() {
    for db in databases().await {
        let store = store_with_session(&db, "s1").await;
        let a = new_execution("s1", None);
        store.runtime().insert_execution(&a, None).await.unwrap();
        let step = |execution_id: String| Effect::StepStarted {
            execution_id,
            epoch: 1,
            idx: 0,
            name: "one".into(),
        };
        let batch = vec![
            (
                event("s1", Some("a-step")),
                Some(step(a.execution_id.clone())),
            ),
            (
                event("s1", Some("ghost-step")),
                Some(step("no-such-execution".into())),
            ),
            (event("s1", None), None),
        ];
        let out = append_events(&store, &batch, &mut HashMap::new())
            .await
            .unwrap();
        let seqs = appended_or_fenced(&out);
        assert_eq!(seqs, [Some(1), None, Some(2)], "[{}]", db.name);
        let steps = store.runtime().get_steps(&a.execution_id).await.unwrap();
        assert_eq!(steps.len(), 1, "[{}] the real step is stored", db.name);
    }
}

#[tokio::test]
async fn a_stale_effect_in_a_batch_spoils_only_its_own_event() {
    for db in databases().await {
        let store = store_with_session(&db, "s1").await;
        let (a, b) = (new_execution("s1", None), new_execution("s1", None));
        for e in [&a, &b] {
            store.runtime().insert_execution(e, None).await.unwrap();
        }
        // `b` is taken over by a newer driver: its first driver (epoch 1) is stale.
        assert_eq!(
            store
                .runtime()
                .claim_execution(&b.execution_id, None)
                .await
                .unwrap(),
            Some(2)
        );
        let started = |e: &NewExecution, epoch| Effect::ExecutionStarted {
            execution_id: e.execution_id.clone(),
            epoch,
        };
        let step = |e: &NewExecution, epoch| Effect::StepStarted {
            execution_id: e.execution_id.clone(),
            epoch,
            idx: 0,
            name: "one".into(),
        };
        let batch = vec![
            (event("s1", Some("a-started")), Some(started(&a, 1))),
            (event("s1", Some("b-started")), Some(started(&b, 1))),
            (event("s1", Some("a-step")), Some(step(&a, 1))),
            (event("s1", None), None),
        ];
        let out = append_events(&store, &batch, &mut HashMap::new())
            .await
            .unwrap();
        let seqs = appended_or_fenced(&out);
        assert_eq!(seqs, [Some(1), None, Some(2), Some(3)], "[{}]", db.name);
        let stored = store.runtime().events_after("s1", 0, 10).await.unwrap();
        assert_eq!(
            stored.len(),
            3,
            "[{}] the stale event is not stored",
            db.name
        );
        let a_row = store
            .runtime()
            .get_execution(&a.execution_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a_row.status.as_str(), "running");
        assert_eq!(
            store
                .runtime()
                .get_steps(&a.execution_id)
                .await
                .unwrap()
                .len(),
            1
        );
        let b_row = store
            .runtime()
            .get_execution(&b.execution_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            b_row.status.as_str(),
            "pending",
            "[{}] the stale start changed nothing",
            db.name
        );

        // The keyed events again (a retried flush), and a new one: the keyed ones are repeats
        // and nothing doubles.
        let mut again = batch.clone();
        again[3] = (event("s1", None), None);
        let out = append_events(&store, &again, &mut HashMap::new())
            .await
            .unwrap();
        assert!(
            matches!(out[0], AppendOutcome::Duplicate(ref e) if e.seq == 1),
            "{out:?}"
        );
        assert!(matches!(out[1], AppendOutcome::Fenced), "{out:?}");
        assert!(
            matches!(out[2], AppendOutcome::Duplicate(ref e) if e.seq == 2),
            "{out:?}"
        );
        assert!(
            matches!(out[3], AppendOutcome::Appended(ref e) if e.seq == 4),
            "{out:?}"
        );
        let steps = store.runtime().get_steps(&a.execution_id).await.unwrap();
        assert_eq!(
            steps[0].attempts, 1,
            "[{}] a repeated start is not a new attempt",
            db.name
        );
        store.close().await;
        db.cleanup().await;
    }
}

/// One batch with each common kind of effect for several executions (the event log's fast
/// path): every row ends as the effects say, with the events' own timestamps.
#[tokio::test]
async fn a_batch_of_starts_steps_and_endings_sets_every_row() {
    for db in databases().await {
        let store = store_with_session(&db, "s1").await;
        let [a, b, c] = [(); 3].map(|_| new_execution("s1", None));
        for e in [&a, &b, &c] {
            store.runtime().insert_execution(e, None).await.unwrap();
        }
        let with_time = |key: &str, t: i64| {
            let mut e = event("s1", Some(key));
            e.created_at = t;
            e
        };
        let started = |e: &NewExecution| Effect::ExecutionStarted {
            execution_id: e.execution_id.clone(),
            epoch: 1,
        };
        let step_started = |e: &NewExecution, idx| Effect::StepStarted {
            execution_id: e.execution_id.clone(),
            epoch: 1,
            idx,
            name: format!("step{idx}"),
        };
        let step_completed = |e: &NewExecution, idx| Effect::StepCompleted {
            execution_id: e.execution_id.clone(),
            epoch: 1,
            idx,
            output: json!({"done": idx}),
            artifacts: None,
        };
        // b and c are running their step 0 already.
        let first = vec![
            (with_time("b1", 1_000), Some(started(&b))),
            (with_time("b2", 1_001), Some(step_started(&b, 0))),
            (with_time("c1", 1_002), Some(started(&c))),
            (with_time("c2", 1_003), Some(step_started(&c, 0))),
        ];
        append_events(&store, &first, &mut HashMap::new())
            .await
            .unwrap();
        // One batch: a starts; b's step completes and b ends (failed); c's step completes and
        // its next one starts (step effects only).
        let batch = vec![
            (with_time("a1", 2_000), Some(started(&a))),
            (with_time("a2", 2_001), Some(step_started(&a, 0))),
            (with_time("b3", 2_002), Some(step_completed(&b, 0))),
            (
                with_time("b4", 2_003),
                Some(Effect::ExecutionFinished {
                    execution_id: b.execution_id.clone(),
                    epoch: 1,
                    status: ExecutionState::Failed,
                    error: Some("it broke".into()),
                }),
            ),
            (with_time("c3", 2_004), Some(step_completed(&c, 0))),
            (with_time("c4", 2_005), Some(step_started(&c, 1))),
        ];
        let out = append_events(&store, &batch, &mut HashMap::new())
            .await
            .unwrap();
        let seqs = appended_seqs(&out);
        assert_eq!(seqs, [5, 6, 7, 8, 9, 10], "[{}]", db.name);
        let why = db.name;
        let row = |id: String| {
            let store = store.clone();
            async move { store.runtime().get_execution(&id).await.unwrap().unwrap() }
        };
        let ra = row(a.execution_id.clone()).await;
        // `updated_at`: the time of the latest event that changed the execution.
        assert_eq!(
            (ra.status.as_str(), ra.started_at, ra.updated_at),
            ("running", Some(2_000), 2_001),
            "[{why}]"
        );
        let rb = row(b.execution_id.clone()).await;
        assert_eq!(
            (
                rb.status.as_str(),
                rb.error.as_deref(),
                rb.started_at,
                rb.completed_at
            ),
            ("failed", Some("it broke"), Some(1_000), Some(2_003)),
            "[{why}]"
        );
        let rc = row(c.execution_id.clone()).await;
        assert_eq!(
            (rc.status.as_str(), rc.updated_at),
            ("running", 2_005),
            "[{why}]"
        );
        let steps = |id: String| {
            let store = store.clone();
            async move {
                store
                    .runtime()
                    .get_steps(&id)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| (s.idx, s.status.as_str().to_string(), s.output, s.attempts))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            steps(a.execution_id.clone()).await,
            [(0, "running".to_string(), None, 1)],
            "[{why}]"
        );
        assert_eq!(
            steps(b.execution_id.clone()).await,
            [(0, "completed".to_string(), Some(json!({"done": 0})), 1)],
            "[{why}]"
        );
        assert_eq!(
            steps(c.execution_id.clone()).await,
            [
                (0, "completed".to_string(), Some(json!({"done": 0})), 1),
                (1, "running".to_string(), None, 1)
            ],
            "[{why}]"
        );
        store.close().await;
        db.cleanup().await;
    }
}

/// Every kind of effect, several per execution in one batch: the set-by-set fast path and the
/// event-by-event path (taken when the batch holds a repeated key) leave the same rows, and
/// those are the rows worked out here by hand.
#[tokio::test]
async fn the_fast_path_and_the_careful_path_leave_the_same_rows() {
    for db in databases().await {
        let why = db.name;
        let store = store_with_session(&db, "fast").await;
        assert!(store
            .runtime()
            .insert_session(&session_row("careful"))
            .await
            .unwrap());
        // A key already in the careful session's log: its batch repeats it.
        append_events(
            &store,
            &[(event("careful", Some("dup")), None)],
            &mut HashMap::new(),
        )
        .await
        .unwrap();
        let mut results = Vec::new();
        for session in ["fast", "careful"] {
            // x: two steps, the second fails, the first is compensated, x fails.
            // y: waits for approval, is approved, runs, its compensation fails, completes.
            // z: waits for approval, is refused, is cancelled.
            // w: its step starts twice (a retry).
            let [x, y, z, w] = [(); 4].map(|_| new_execution(session, None));
            for e in [&x, &y, &z, &w] {
                store.runtime().insert_execution(e, None).await.unwrap();
            }
            let id = |e: &NewExecution| e.execution_id.clone();
            let mut t = 10_000;
            let mut batch = Vec::new();
            let mut push = |key: String, effect: Effect| {
                t += 1;
                let mut e = event(session, Some(&key));
                e.created_at = t;
                batch.push((e, Some(effect)));
            };
            let started = |e: &NewExecution| Effect::ExecutionStarted {
                execution_id: id(e),
                epoch: 1,
            };
            let step_started = |e: &NewExecution, idx: i64| Effect::StepStarted {
                execution_id: id(e),
                epoch: 1,
                idx,
                name: format!("s{idx}"),
            };
            // Interleaved, as a busy event log sees them.
            push("x1".into(), started(&x)); // 10001
            push(
                "y1".into(),
                Effect::AwaitingApproval {
                    execution_id: id(&y),
                    epoch: 1,
                    hook_id: format!("hook-y-{session}"),
                    reason: "deletes".into(),
                },
            ); // 10002
            push("x2".into(), step_started(&x, 0)); // 10003
            push(
                "z1".into(),
                Effect::AwaitingApproval {
                    execution_id: id(&z),
                    epoch: 1,
                    hook_id: format!("hook-z-{session}"),
                    reason: "drops".into(),
                },
            ); // 10004
            push(
                "x3".into(),
                Effect::StepCompleted {
                    execution_id: id(&x),
                    epoch: 1,
                    idx: 0,
                    output: json!({"rows": 3}),
                    artifacts: Some(json!({"file": "f1"})),
                },
            ); // 10005
            push("y2".into(), started(&y)); // 10006
            push("w1".into(), started(&w)); // 10007
            push("x4".into(), step_started(&x, 1)); // 10008
            push("w2".into(), step_started(&w, 0)); // 10009
            push(
                "z2".into(),
                Effect::ApprovalRefused {
                    execution_id: id(&z),
                    epoch: 1,
                    reason: "not today".into(),
                },
            ); // 10010
            push(
                "x5".into(),
                Effect::StepFailed {
                    execution_id: id(&x),
                    epoch: 1,
                    idx: 1,
                    name: "s1".into(),
                    error: "boom".into(),
                },
            ); // 10011
            push("y3".into(), step_started(&y, 0)); // 10012
            push("w3".into(), step_started(&w, 0)); // 10013
            push(
                "x6".into(),
                Effect::StepCompensated {
                    execution_id: id(&x),
                    epoch: 1,
                    idx: 0,
                    error: None,
                },
            ); // 10014
            push(
                "y4".into(),
                Effect::StepCompleted {
                    execution_id: id(&y),
                    epoch: 1,
                    idx: 0,
                    output: json!("ok"),
                    artifacts: None,
                },
            ); // 10015
            push(
                "y5".into(),
                Effect::StepCompensated {
                    execution_id: id(&y),
                    epoch: 1,
                    idx: 0,
                    error: Some("undo failed".into()),
                },
            ); // 10016
            push(
                "x7".into(),
                Effect::ExecutionFinished {
                    execution_id: id(&x),
                    epoch: 1,
                    status: ExecutionState::Failed,
                    error: Some("boom".into()),
                },
            ); // 10017
            push(
                "z3".into(),
                Effect::ExecutionFinished {
                    execution_id: id(&z),
                    epoch: 1,
                    status: ExecutionState::Cancelled,
                    error: Some("not today".into()),
                },
            ); // 10018
            push(
                "y6".into(),
                Effect::ExecutionFinished {
                    execution_id: id(&y),
                    epoch: 1,
                    status: ExecutionState::Completed,
                    error: None,
                },
            ); // 10019
               // Conversation turns: c1 has one turn already; the batch adds three to it (one
               // after the other, in waves) and the first to c2.
            let turn = |conversation: &str, role: &str, content: &str| Effect::ConversationTurn {
                conversation_id: conversation.into(),
                role: role.into(),
                content: content.into(),
                data: json!({"said": content}),
            };
            append_events(
                &store,
                &[(
                    event(session, Some("c1-0")),
                    Some(turn("c1", "user", "earlier")),
                )],
                &mut HashMap::new(),
            )
            .await
            .unwrap();
            for (key, effect) in [
                ("c1-1", turn("c1", "user", "hi")),
                ("c2-0", turn("c2", "user", "other")),
                ("c1-2", turn("c1", "agent", "hello")),
                ("c1-3", turn("c1", "user", "again")),
            ] {
                t += 1;
                let mut e = event(session, Some(key));
                e.created_at = t;
                batch.push((e, Some(effect)));
            }
            if session == "careful" {
                batch.push((event(session, Some("dup")), None));
                // A repeat that carries a turn (a retried append): its turn is not stored twice.
                batch.push((
                    event(session, Some("c1-0")),
                    Some(turn("c1", "user", "earlier")),
                ));
            }
            let appended = store
                .runtime()
                .append_events(None, Vec::new(), batch.clone(), HashMap::new())
                .await;
            // The careful session's batch went event by event (its repeat); the other did not.
            assert_eq!(appended.careful, session == "careful", "[{why}] {session}");
            let out = appended.result.unwrap();
            assert_eq!(out.len(), batch.len(), "[{why}] {session}");
            let appended = out
                .iter()
                .filter(|o| matches!(o, AppendOutcome::Appended(_)))
                .count();
            assert_eq!(appended, 23, "[{why}] {session}: {out:?}");
            let mut rows = Vec::new();
            for e in [&x, &y, &z, &w] {
                let r = store
                    .runtime()
                    .get_execution(&id(e))
                    .await
                    .unwrap()
                    .unwrap();
                let steps: Vec<_> = store
                    .runtime()
                    .get_steps(&id(e))
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| {
                        (
                            s.idx,
                            s.status.as_str().to_string(),
                            s.output,
                            s.error,
                            s.attempts,
                            s.started_at,
                            s.completed_at,
                        )
                    })
                    .collect();
                rows.push((
                    (
                        r.status.as_str().to_string(),
                        r.error,
                        r.artifacts,
                        r.hook_id,
                        r.hook_reason,
                    ),
                    (r.started_at, r.completed_at, r.updated_at),
                    steps,
                ));
            }
            let answer = |hook: String| {
                let store = store.clone();
                async move {
                    store
                        .runtime()
                        .answered_hook(&hook)
                        .await
                        .unwrap()
                        .map(|(_, decision)| decision)
                }
            };
            let answers = (
                answer(format!("hook-y-{session}")).await,
                answer(format!("hook-z-{session}")).await,
            );
            let mut turns = Vec::new();
            for conversation in ["c1", "c2"] {
                let stored = store
                    .runtime()
                    .recent_turns(session, conversation, 10)
                    .await
                    .unwrap();
                turns.push(
                    stored
                        .into_iter()
                        .map(|t| (t.role, t.content, t.data))
                        .collect::<Vec<_>>(),
                );
            }
            results.push((rows, answers, turns));
        }
        let (fast, careful) = (&results[0], &results[1]);
        let s = |v: &str| v.to_string();
        // x: failed at its second step, the first compensated.
        assert_eq!(
            fast.0[0],
            (
                (
                    s("failed"),
                    Some(s("boom")),
                    Some(json!({"file": "f1"})),
                    None,
                    None
                ),
                (Some(10_001), Some(10_017), 10_017),
                vec![
                    (
                        0,
                        s("compensated"),
                        Some(json!({"rows": 3})),
                        None,
                        1,
                        Some(10_003),
                        Some(10_005)
                    ),
                    (
                        1,
                        s("failed"),
                        None,
                        Some(s("boom")),
                        1,
                        Some(10_008),
                        Some(10_011)
                    ),
                ]
            ),
            "[{why}] x"
        );
        // y: approved, ran, its compensation failed, completed.
        assert_eq!(
            fast.0[1],
            (
                (s("completed"), None, None, None, None),
                (Some(10_006), Some(10_019), 10_019),
                vec![(
                    0,
                    s("compensation_failed"),
                    Some(json!("ok")),
                    Some(s("undo failed")),
                    1,
                    Some(10_012),
                    Some(10_015)
                )]
            ),
            "[{why}] y"
        );
        // z: refused, cancelled, never started.
        assert_eq!(
            fast.0[2],
            (
                (s("cancelled"), Some(s("not today")), None, None, None),
                (None, Some(10_018), 10_018),
                vec![]
            ),
            "[{why}] z"
        );
        // w: its step's second start.
        assert_eq!(
            fast.0[3],
            (
                (s("running"), None, None, None, None),
                (Some(10_007), None, 10_013),
                vec![(0, s("running"), None, None, 2, Some(10_013), None)]
            ),
            "[{why}] w"
        );
        assert_eq!(fast.1, (Some(s("approved")), Some(s("refused"))), "[{why}]");
        // Oldest first: c1's earlier turn, then the batch's three in order; c2's one.
        let said = |role: &str, content: &str| (s(role), s(content), json!({"said": content}));
        assert_eq!(
            fast.2,
            vec![
                vec![
                    said("user", "earlier"),
                    said("user", "hi"),
                    said("agent", "hello"),
                    said("user", "again")
                ],
                vec![said("user", "other")]
            ],
            "[{why}]"
        );
        assert_eq!(fast, careful, "[{why}] the two paths differ");
        store.close().await;
        db.cleanup().await;
    }
}

fn artifact(id: &str, parents: &[&str]) -> symphainy::store::artifacts::ArtifactRow {
    symphainy::store::artifacts::ArtifactRow {
        artifact_id: id.into(),
        artifact_type: if parents.is_empty() {
            "file"
        } else {
            "parsed_file"
        }
        .into(),
        tenant_id: Some("t".into()),
        session_id: "s1".into(),
        lifecycle_state: "active".into(),
        semantic_descriptor: json!({}),
        parent_artifacts: parents.iter().map(|p| p.to_string()).collect(),
        produced_by_intent: "ingest_file".into(),
        produced_by_execution: "e".into(),
        blob_sha256: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn session_row(id: &str) -> SessionRow {
    let now = now_micros();
    SessionRow {
        session_id: id.into(),
        tenant_id: Some("t".into()),
        user_id: None,
        status: "active".into(),
        metadata: json!({}),
        created_at: now,
        updated_at: now,
        superseded_by: None,
        succeeds: None,
    }
}

/// Issue 14, item 1: a write dropped at any `.await` (a cancelled step, an aborted driver) must
/// not hand its connection back inside a transaction. Before the store ran its transactions to
/// their end, a drop inside `BEGIN IMMEDIATE` left SQLite's writer at transaction depth 1: every
/// later transaction failed ("begin_with at non-zero transaction depth") and every later
/// autocommit write "succeeded" inside the orphaned transaction, never to be committed.
#[tokio::test]
async fn a_write_dropped_at_any_point_leaves_every_later_write_durable() {
    for db in databases().await {
        let store = store_with_session(&db, "s1").await;
        // Another pool: it sees only what was committed.
        let witness = Store::connect(&db.url).await.unwrap();
        for i in 0..300usize {
            let root = format!("f{i}");
            let child = format!("p{i}");
            store
                .artifacts()
                .insert_artifact(&artifact(&root, &[]))
                .await
                .unwrap();
            store
                .artifacts()
                .insert_artifact(&artifact(&child, &[&root]))
                .await
                .unwrap();
            // Poll the delete a few times (0..24, with the database working meanwhile) and drop it.
            let artifacts = store.artifacts();
            let mut delete = Box::pin(artifacts.delete_artifact_tree(&root));
            for _ in 0..(i % 25) {
                if futures::poll!(delete.as_mut()).is_ready() {
                    break;
                }
                tokio::task::yield_now().await;
            }
            drop(delete);
            // Later writes are acknowledged only when committed.
            let sid = format!("later-{i}");
            assert!(
                store
                    .runtime()
                    .insert_session(&session_row(&sid))
                    .await
                    .unwrap(),
                "[{}] trial {i}",
                db.name
            );
            assert!(
                witness.runtime().get_session(&sid).await.unwrap().is_some(),
                "[{}] trial {i}: an acknowledged session is not visible to another connection",
                db.name
            );
            // A dropped delete happens whole or not at all: never a child without its root.
            let root_left = witness.artifacts().artifact(&root).await.unwrap().is_some();
            let child_left = witness
                .artifacts()
                .artifact(&child)
                .await
                .unwrap()
                .is_some();
            assert!(root_left || !child_left, "[{}] trial {i}", db.name);
        }
        // Transactions still work, and the deletes all finished (they run to their end).
        store
            .artifacts()
            .insert_artifact(&artifact("last", &[]))
            .await
            .unwrap();
        assert!(store
            .artifacts()
            .delete_artifact_tree("last")
            .await
            .unwrap());
        witness.close().await;
        store.close().await;
        db.cleanup().await;
    }
}
