//! A conformance suite any [`BadgeStore`] runs in its own tests (feature `testing`).
//!
//! ```text
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn my_store_conforms() {
//!     badgery_backend::conformance::check_store(|| MyStore::connect_fresh()).await;
//! }
//! ```
//!
//! Each check starts from a fresh store made by `make`, and panics with a message naming the
//! rule broken. Concurrency is checked with tasks spawned on the caller's Tokio runtime (use a
//! multi-thread runtime so they really run in parallel).

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::error::Error;
use crate::traits::{BadgeStore, ProgressStore};
use crate::types::{
    Alignment, AssertionFilter, AwardKey, AwardState, BadgeClassRecord, BatchCommit, Claim,
    ClassImage, ImageFormat, IssuedAssertion, PendingAward, ProgressCommit, ProgressUpdate,
    Recipient,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn class(slug: &str) -> BadgeClassRecord {
    BadgeClassRecord::new(
        slug,
        format!("Class {slug}"),
        "A class.",
        "Do it.",
        ClassImage {
            format: ImageFormat::Png,
            bytes: vec![1, 2, 3],
        },
    )
}

fn award(learner: &str, badge: &str, sequence: u32) -> PendingAward {
    PendingAward::new(
        AwardKey::new(learner, badge, sequence),
        Recipient::new(learner, format!("{learner}@example.org")),
        Vec::new(),
        "test",
        t0(),
    )
}

fn assertion(
    key: &AwardKey,
    course: Option<&str>,
    component: &str,
    issued: DateTime<Utc>,
) -> IssuedAssertion {
    IssuedAssertion {
        id: format!(
            "https://example.org/assertions/{}-{}-{}",
            key.learner, key.slug, key.sequence
        ),
        key: key.clone(),
        issuing_component: component.to_owned(),
        course: course.map(str::to_owned),
        backend: "test".to_owned(),
        issued_on: issued,
        image_url: None,
        data: serde_json::Value::Null,
        baked_image: None,
        revoked: None,
    }
}

/// Runs every check, each on a fresh, empty store made by `make` (async, so that a store can
/// open a database; the concurrent checks run their callers as tokio tasks, so a
/// multi-threaded runtime makes them race for real).
pub async fn check_store<S, F, Fut>(mut make: F)
where
    S: BadgeStore + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    classes(&make().await).await;
    claims(&make().await).await;
    concurrent_claims(Arc::new(make().await)).await;
    due_and_leases(&make().await).await;
    claim_leases(&make().await).await;
    concurrent_take_due(Arc::new(make().await)).await;
    reopen_and_latest(&make().await).await;
    paging(&make().await).await;
    completion_and_failure(&make().await).await;
    listings(&make().await).await;
    status_indexes(&make().await).await;
    concurrent_status_indexes(Arc::new(make().await)).await;
}

/// A credential keeps its bit; a bit is one credential's; lists are apart.
async fn status_indexes<S: BadgeStore>(store: &S) {
    let give = |list: &'static str, credential: &'static str, candidates: &'static [u64]| {
        store.status_index(list, credential, candidates)
    };
    assert_eq!(give("l", "a", &[7, 8]).await.expect("give"), Some(7));
    assert_eq!(give("l", "a", &[9]).await.expect("give"), Some(7), "kept");
    assert_eq!(
        give("l", "b", &[7, 7, 8]).await.expect("give"),
        Some(8),
        "7 is a's"
    );
    assert_eq!(
        give("l", "c", &[7, 8]).await.expect("give"),
        None,
        "all taken"
    );
    assert_eq!(give("l", "c", &[]).await.expect("give"), None);
    assert_eq!(
        give("m", "c", &[7]).await.expect("give"),
        Some(7),
        "another list"
    );
    assert_eq!(
        give("l", "b", &[]).await.expect("give"),
        Some(8),
        "kept without candidates"
    );
}

/// Writers racing for the same candidates never give one bit twice, and a credential asked
/// for by several writers at once gets one bit.
async fn concurrent_status_indexes<S: BadgeStore + 'static>(store: Arc<S>) {
    let candidates: Vec<u64> = (0..41).collect();
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        let candidates = candidates.clone();
        tasks.push(tokio::spawn(async move {
            let mut given = Vec::new();
            for n in 0..5 {
                // Every writer also asks for credential "shared".
                for credential in [format!("w{writer}-{n}"), "shared".to_owned()] {
                    let index = store
                        .status_index("race", &credential, &candidates)
                        .await
                        .expect("give");
                    given.push((credential, index));
                }
            }
            given
        }));
    }
    let mut by_credential = std::collections::HashMap::new();
    for task in tasks {
        for (credential, index) in task.await.expect("task") {
            let index = index.expect("41 candidates for 41 credentials");
            let first = by_credential.entry(credential.clone()).or_insert(index);
            assert_eq!(*first, index, "{credential} kept its bit");
        }
    }
    let mut bits: Vec<u64> = by_credential.values().copied().collect();
    bits.sort_unstable();
    bits.dedup();
    assert_eq!(bits.len(), by_credential.len(), "no bit given twice");
}

/// Runs every check of a [`ProgressStore`] (which must also be a [`BadgeStore`]: its commits
/// claim awards in the ledger), each on a fresh, empty store made by `make`.
pub async fn check_progress_store<S, F, Fut>(mut make: F)
where
    S: BadgeStore + ProgressStore + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    progress_versions(&make().await).await;
    progress_outbox(&make().await).await;
    progress_batches(&make().await).await;
    concurrent_progress(Arc::new(make().await)).await;
    concurrent_batches(Arc::new(make().await)).await;
}

fn update(learner: &str, expected: Option<u64>, bytes: &[u8]) -> ProgressUpdate {
    ProgressUpdate::new(learner, expected, bytes.to_vec(), Vec::new(), t0())
}

fn committed_version(commit: ProgressCommit) -> u64 {
    match commit {
        ProgressCommit::Committed { version, .. } => version,
        other => panic!("expected a commit, got {other:?}"),
    }
}

async fn progress_versions<S: BadgeStore + ProgressStore>(store: &S) {
    assert_eq!(store.progress("p").await.expect("read"), None);
    let first = store.commit_progress(update("p", None, b"one")).await;
    assert_eq!(committed_version(first.expect("commit")), 1);
    let stored = store.progress("p").await.expect("read").expect("stored");
    assert_eq!((stored.version, stored.bytes.as_slice()), (1, &b"one"[..]));
    assert_eq!(
        store
            .commit_progress(update("p", None, b"again"))
            .await
            .expect("commit"),
        ProgressCommit::Conflict,
        "a learner with progress is not created twice"
    );
    let second = store.commit_progress(update("p", Some(1), b"two")).await;
    assert_eq!(committed_version(second.expect("commit")), 2);
    assert_eq!(
        store
            .commit_progress(update("p", Some(1), b"stale"))
            .await
            .expect("commit"),
        ProgressCommit::Conflict,
        "a commit over a version no longer stored changes nothing"
    );
    assert_eq!(
        store
            .progress("p")
            .await
            .expect("read")
            .expect("stored")
            .bytes,
        b"two"
    );
    // Event ids: committed once per learner.
    let with_id = update("p", Some(2), b"three").with_event_id("e1");
    assert_eq!(
        committed_version(store.commit_progress(with_id).await.expect("commit")),
        3
    );
    let again = update("p", Some(3), b"four").with_event_id("e1");
    assert_eq!(
        store.commit_progress(again).await.expect("commit"),
        ProgressCommit::AlreadyHandled,
        "an event id committed before changes nothing"
    );
    assert_eq!(
        store
            .progress("p")
            .await
            .expect("read")
            .expect("stored")
            .version,
        3
    );
    let other = update("q", None, b"q").with_event_id("e1");
    assert_eq!(
        committed_version(store.commit_progress(other).await.expect("commit")),
        1,
        "event ids are the learner's own"
    );
    for learner in ["r", "s", "t"] {
        store
            .commit_progress(update(learner, None, b"x"))
            .await
            .expect("commit");
    }
    assert_eq!(
        store.learners(None, 3).await.expect("learners"),
        ["p", "q", "r"]
    );
    assert_eq!(
        store.learners(Some("r"), 10).await.expect("learners"),
        ["s", "t"]
    );
    assert!(
        store
            .learners(Some("t"), 10)
            .await
            .expect("learners")
            .is_empty()
    );
    // Checkpoints: per consumer, only forward.
    assert_eq!(store.checkpoint("log").await.expect("checkpoint"), None);
    store.set_checkpoint("log", 7).await.expect("set");
    store.set_checkpoint("log", 3).await.expect("set");
    store.set_checkpoint("other", 1).await.expect("set");
    assert_eq!(store.checkpoint("log").await.expect("checkpoint"), Some(7));
    store.set_checkpoint("log", 9).await.expect("set");
    assert_eq!(store.checkpoint("log").await.expect("checkpoint"), Some(9));
    assert_eq!(
        store.checkpoint("other").await.expect("checkpoint"),
        Some(1)
    );
}

async fn progress_outbox<S: BadgeStore + ProgressStore>(store: &S) {
    let lease = t0() + Duration::minutes(5);
    let mut update = update("o", None, b"o1");
    update.awards = vec![award("o", "b", 1), award("o", "c", 1)];
    update.lease_until = lease;
    let ProgressCommit::Committed { claims, .. } =
        store.commit_progress(update).await.expect("commit")
    else {
        panic!("a first commit commits");
    };
    assert!(
        matches!(claims.as_slice(), [Claim::Won(b), Claim::Won(c)] if b.key.slug == "b" && c.key.slug == "c"),
        "{claims:?}"
    );
    assert!(
        store
            .take_due(t0() + Duration::minutes(1), lease, 10)
            .await
            .expect("take_due")
            .is_empty(),
        "awards claimed by a commit are leased to the committer"
    );
    assert_eq!(
        store
            .take_due(
                lease + Duration::seconds(1),
                lease + Duration::minutes(5),
                10
            )
            .await
            .expect("take_due")
            .len(),
        2,
        "and due again once the lease ends"
    );
    // A conflicting commit claims nothing.
    let mut stale = ProgressUpdate::new("o", None, b"x".to_vec(), vec![award("o", "d", 1)], lease);
    stale.event_ids = vec!["e".to_owned()];
    assert_eq!(
        store.commit_progress(stale).await.expect("commit"),
        ProgressCommit::Conflict
    );
    assert!(
        !store
            .awards(None, 100)
            .await
            .expect("read")
            .iter()
            .any(|a| a.key.slug == "d"),
        "a conflicting commit claims nothing"
    );
    // Its event id was not recorded either.
    let retried = ProgressUpdate::new(
        "o",
        Some(1),
        b"o2".to_vec(),
        vec![award("o", "b", 1)],
        lease,
    )
    .with_event_id("e");
    let ProgressCommit::Committed { claims, .. } =
        store.commit_progress(retried).await.expect("commit")
    else {
        panic!("the retried commit commits");
    };
    assert!(
        matches!(claims.as_slice(), [Claim::Exists(_)]),
        "an award claimed before exists: {claims:?}"
    );
    let bad = ProgressUpdate::new(
        "o",
        Some(2),
        b"o3".to_vec(),
        vec![award("a\nb", "b", 1)],
        lease,
    );
    assert!(matches!(
        store.commit_progress(bad).await,
        Err(Error::Rejected(_))
    ));
    assert_eq!(
        store
            .progress("o")
            .await
            .expect("read")
            .expect("stored")
            .bytes,
        b"o2",
        "a refused commit stores nothing"
    );
}

async fn progress_batches<S: BadgeStore + ProgressStore>(store: &S) {
    let learners = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    store
        .commit_progress(update("a", None, b"a1").with_event_id("ea"))
        .await
        .expect("commit");
    store
        .commit_progress(update("b", None, b"b1"))
        .await
        .expect("commit");
    let read = store
        .progress_of(&learners(&["b", "none", "a"]))
        .await
        .expect("progress_of");
    assert_eq!(
        read.iter()
            .map(|p| p.as_ref().map(|p| (p.version, p.bytes.clone())))
            .collect::<Vec<_>>(),
        [Some((1, b"b1".to_vec())), None, Some((1, b"a1".to_vec()))]
    );
    let pairs = [("a", "ea"), ("a", "eb"), ("b", "ea")].map(|(l, e)| (l.to_owned(), e.to_owned()));
    assert_eq!(
        store.handled(&pairs).await.expect("handled"),
        [true, false, false]
    );
    let lease = t0() + Duration::minutes(5);
    let batch = |a: Option<u64>, event: &str| {
        let mut with_award =
            ProgressUpdate::new("a", a, b"a2".to_vec(), vec![award("a", "x", 1)], lease);
        with_award = with_award.with_event_id(event);
        vec![
            with_award,
            ProgressUpdate::new("b", Some(1), b"b2".to_vec(), Vec::new(), lease),
            ProgressUpdate::new("c", None, b"c1".to_vec(), vec![award("c", "x", 1)], lease),
        ]
    };
    // A stale version, or an event id committed before: nothing of the batch is stored.
    for (a, event) in [(None, "e2"), (Some(1), "ea")] {
        assert_eq!(
            store
                .commit_progress_batch(batch(a, event))
                .await
                .expect("batch"),
            BatchCommit::Conflict
        );
        let read = store
            .progress_of(&learners(&["a", "b", "c"]))
            .await
            .expect("progress_of");
        assert_eq!(
            read.iter()
                .map(|p| p.as_ref().map(|p| p.version))
                .collect::<Vec<_>>(),
            [Some(1), Some(1), None],
            "a conflicting batch stores nothing"
        );
        assert!(
            store.awards(None, 100).await.expect("awards").is_empty(),
            "and claims nothing"
        );
    }
    let BatchCommit::Committed(claims) = store
        .commit_progress_batch(batch(Some(1), "e2"))
        .await
        .expect("batch")
    else {
        panic!("a current batch commits");
    };
    assert_eq!(claims.len(), 3);
    assert!(matches!(claims[0].as_slice(), [Claim::Won(_)]));
    assert!(claims[1].is_empty());
    assert!(matches!(claims[2].as_slice(), [Claim::Won(_)]));
    let read = store
        .progress_of(&learners(&["a", "b", "c"]))
        .await
        .expect("progress_of");
    assert_eq!(
        read.iter()
            .map(|p| p.as_ref().map(|p| p.version))
            .collect::<Vec<_>>(),
        [Some(2), Some(2), Some(1)]
    );
    assert!(
        store
            .take_due(t0(), lease, 10)
            .await
            .expect("take_due")
            .is_empty(),
        "a batch's claims are leased"
    );
    let twice = vec![
        ProgressUpdate::new("d", None, b"d".to_vec(), Vec::new(), lease),
        ProgressUpdate::new("d", None, b"d".to_vec(), Vec::new(), lease),
    ];
    assert!(matches!(
        store.commit_progress_batch(twice).await,
        Err(Error::Rejected(_))
    ));
}

/// Four writers each increment 30 learners' counters in one batch, 10 times, every writer
/// listing the learners in its own order: every increment lands once, and no two batches
/// deadlock (each must lock the rows in one order).
async fn concurrent_batches<S: BadgeStore + ProgressStore + 'static>(store: Arc<S>) {
    let tasks: Vec<_> = (0..4u64)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut learners: Vec<String> = (0..30).map(|i| format!("m{i:02}")).collect();
                // A different order per writer: rotated, and reversed for odd writers.
                learners.rotate_left(w as usize * 7);
                if w % 2 == 1 {
                    learners.reverse();
                }
                for _ in 0..10 {
                    loop {
                        let read = store.progress_of(&learners).await.expect("progress_of");
                        let updates = learners
                            .iter()
                            .zip(&read)
                            .map(|(learner, p)| {
                                let count: u64 = p.as_ref().map_or(0, |p| {
                                    String::from_utf8_lossy(&p.bytes).parse().expect("a count")
                                });
                                update(
                                    learner,
                                    p.as_ref().map(|p| p.version),
                                    (count + 1).to_string().as_bytes(),
                                )
                            })
                            .collect();
                        match store.commit_progress_batch(updates).await.expect("batch") {
                            BatchCommit::Committed(_) => break,
                            _ => tokio::task::yield_now().await,
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a writer");
    }
    let learners: Vec<String> = (0..30).map(|i| format!("m{i:02}")).collect();
    for p in store.progress_of(&learners).await.expect("progress_of") {
        assert_eq!(
            p.expect("stored").bytes,
            b"40",
            "every batch's increment once"
        );
    }
}

/// Eight writers increment one learner's counter ten times each, reading and retrying on
/// conflict: every increment lands once (compare and swap serialises them).
async fn concurrent_progress<S: BadgeStore + ProgressStore + 'static>(store: Arc<S>) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut conflicts = 0u32;
                for _ in 0..10 {
                    loop {
                        let stored = store.progress("n").await.expect("read");
                        let count: u64 = stored
                            .as_ref()
                            .map(|p| String::from_utf8_lossy(&p.bytes).parse().expect("a count"))
                            .unwrap_or(0);
                        let next = (count + 1).to_string().into_bytes();
                        match store
                            .commit_progress(update("n", stored.map(|p| p.version), &next))
                            .await
                            .expect("commit")
                        {
                            ProgressCommit::Committed { .. } => break,
                            ProgressCommit::Conflict => conflicts += 1,
                            other => panic!("{other:?}"),
                        }
                    }
                }
                conflicts
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a writer");
    }
    let stored = store.progress("n").await.expect("read").expect("stored");
    assert_eq!(stored.bytes, b"80", "every increment once");
    assert_eq!(stored.version, 80);
}

async fn classes<S: BadgeStore>(store: &S) {
    let (created, fresh) = store
        .get_or_create_class(class("a"))
        .await
        .expect("create a class");
    assert!(fresh, "a new slug creates a class");
    let mut changed = class("a");
    changed.description = "Changed".to_owned();
    let (existing, fresh) = store
        .get_or_create_class(changed)
        .await
        .expect("get an existing class");
    assert!(
        !fresh && existing == created,
        "get_or_create_class must never alter an existing class"
    );
    let verified = class("a-verified")
        .for_course("course-v1:O+A+1", Some("verified"))
        .with_alignment(
            Alignment::new("Systems programming", "https://example.org/framework/sp")
                .in_framework("Example framework", "SP.1"),
        )
        .with_alignment(Alignment::new("Testing", "https://example.org/framework/t"));
    let any = class("a-any").for_course("course-v1:O+A+1", None);
    store
        .get_or_create_class(verified.clone())
        .await
        .expect("course class");
    assert_eq!(
        store.class("a-verified").await.expect("read a class"),
        Some(verified.clone()),
        "a class reads back as it was stored, alignments and all"
    );
    let mut unaligned = class("a-bad-alignment");
    unaligned.alignments = vec![Alignment::new("X", "javascript:alert(1)")];
    assert!(
        matches!(
            store.get_or_create_class(unaligned).await,
            Err(Error::Rejected(_))
        ),
        "an alignment to a non-http(s) URL is refused"
    );
    store
        .get_or_create_class(any.clone())
        .await
        .expect("course class without mode");
    let clash = class("a-verified-2").for_course("course-v1:O+A+1", Some("verified"));
    assert!(
        matches!(
            store.get_or_create_class(clash).await,
            Err(Error::Conflict(_))
        ),
        "one class per course and mode"
    );
    store
        .set_backend_id("a", "badgr-123")
        .await
        .expect("set backend id");
    assert_eq!(
        store
            .class("a")
            .await
            .expect("get")
            .and_then(|c| c.backend_id),
        Some("badgr-123".to_owned())
    );
    assert!(matches!(
        store.set_backend_id("zz", "x").await,
        Err(Error::NotFound(_))
    ));
    let slugs: Vec<String> = store
        .classes()
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.slug)
        .collect();
    assert_eq!(
        slugs,
        ["a", "a-any", "a-verified"],
        "classes are listed by slug"
    );
}

async fn claims<S: BadgeStore>(store: &S) {
    for learner in ["a\nb", "a\u{1f}b", ""] {
        assert!(
            matches!(
                store.claim(award(learner, "b", 1), t0()).await,
                Err(Error::Rejected(_))
            ),
            "a learner id with a control character or none is refused: {learner:?}"
        );
    }
    for slug in ["../issuer", "a b", "A"] {
        assert!(
            matches!(
                store.get_or_create_class(class(slug)).await,
                Err(Error::Rejected(_))
            ),
            "an invalid slug is refused: {slug:?}"
        );
    }
    for (learner, sequence, wins, why) in [
        ("l", 1, true, "the first claim wins"),
        ("l", 1, false, "a second claim of the key loses"),
        ("l", 2, true, "another sequence number is another award"),
        ("m", 1, true, "another learner is another award"),
    ] {
        let claim = store.claim(award(learner, "b", sequence), t0()).await;
        if wins {
            assert!(matches!(claim, Ok(Claim::Won(_))), "{why}");
        } else {
            assert!(matches!(claim, Ok(Claim::Exists(_))), "{why}");
        }
    }
}

async fn concurrent_claims<S: BadgeStore + 'static>(store: Arc<S>) {
    for round in 0..20 {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.claim(award("racer", "b", round), t0()).await })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            match task.await.expect("claim task") {
                Ok(Claim::Won(_)) => winners += 1,
                Ok(Claim::Exists(_)) => {}
                Err(e) => panic!("a concurrent claim failed instead of losing: {e}"),
            }
        }
        assert_eq!(
            winners, 1,
            "16 concurrent claims of one award must have exactly one winner"
        );
    }
}

async fn due_and_leases<S: BadgeStore>(store: &S) {
    let now = t0();
    // A claim whose lease ends at once (its claimer gave it up): due to anyone.
    store.claim(award("l", "b", 1), now).await.expect("claim");
    let due = store
        .take_due(now, now + Duration::seconds(30), 10)
        .await
        .expect("take due");
    assert_eq!(due.len(), 1, "a new award is due at once");
    assert!(
        store
            .take_due(now, now + Duration::seconds(30), 10)
            .await
            .expect("take")
            .is_empty(),
        "a leased award is not handed out twice"
    );
    let later = now + Duration::seconds(31);
    assert_eq!(
        store
            .take_due(later, later + Duration::seconds(30), 10)
            .await
            .expect("take")
            .len(),
        1,
        "an expired lease frees the award"
    );
    let key = &due[0].key;
    store
        .retry_later(key, "timeout", now + Duration::seconds(300))
        .await
        .expect("retry later");
    assert!(
        store
            .take_due(later, later, 10)
            .await
            .expect("take")
            .is_empty(),
        "not due before its next attempt"
    );
    let at = now + Duration::seconds(300);
    let again = store.take_due(at, at, 10).await.expect("take");
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].attempts, again[0].last_error.as_deref()),
        (1, Some("timeout"))
    );
}

async fn claim_leases<S: BadgeStore>(store: &S) {
    let now = t0();
    let lease = now + Duration::seconds(60);
    assert!(matches!(
        store.claim(award("l", "b", 1), lease).await,
        Ok(Claim::Won(_))
    ));
    for at in [now, now + Duration::seconds(59)] {
        assert!(
            store
                .take_due(at, at + Duration::seconds(60), 10)
                .await
                .expect("take due")
                .is_empty(),
            "a won claim is not due to anyone else while its lease is live"
        );
    }
    // The claimer died without a word: once its lease has ended the award is taken again.
    let after = lease;
    let taken = store
        .take_due(after, after + Duration::seconds(60), 10)
        .await
        .expect("take due");
    assert_eq!(
        taken.iter().map(|a| a.key.clone()).collect::<Vec<_>>(),
        [AwardKey::new("l", "b", 1)],
        "an award whose claimer died is taken again after its lease"
    );
    // A claimer that gives an award back ends its lease.
    assert!(matches!(
        store.claim(award("l", "d", 1), lease).await,
        Ok(Claim::Won(_))
    ));
    store
        .release(&AwardKey::new("l", "d", 1))
        .await
        .expect("release");
    assert_eq!(
        store.take_due(now, lease, 10).await.expect("take").len(),
        1,
        "a released award is due at once"
    );
    assert!(matches!(
        store.release(&AwardKey::new("nobody", "d", 1)).await,
        Err(Error::NotFound(_))
    ));
    // A claimer that reports a transient failure ends its lease: due at the next attempt.
    assert!(matches!(
        store.claim(award("l", "c", 1), lease).await,
        Ok(Claim::Won(_))
    ));
    store
        .retry_later(
            &AwardKey::new("l", "c", 1),
            "503",
            now + Duration::seconds(5),
        )
        .await
        .expect("retry later");
    let at = now + Duration::seconds(5);
    assert_eq!(
        store.take_due(at, at, 10).await.expect("take").len(),
        1,
        "retry_later ends the claim's lease"
    );
}

async fn concurrent_take_due<S: BadgeStore + 'static>(store: Arc<S>) {
    let now = t0();
    for i in 0..64 {
        store
            .claim(award(&format!("l{i}"), "b", 1), now)
            .await
            .expect("claim");
    }
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let batch = store
                        .take_due(now, now + Duration::seconds(60), 3)
                        .await
                        .expect("take due");
                    if batch.is_empty() {
                        return got;
                    }
                    got.extend(batch.into_iter().map(|a| a.key));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let taken = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        (taken, all.len()),
        (64, 64),
        "8 concurrent take_due callers get every due award once, never the same award twice"
    );
}

async fn reopen_and_latest<S: BadgeStore>(store: &S) {
    let now = t0();
    let key = AwardKey::new("l", "b", 1);
    assert!(matches!(
        store.reopen(&key, now).await,
        Err(Error::NotFound(_))
    ));
    store.claim(award("l", "b", 1), now).await.expect("claim");
    assert!(
        matches!(store.reopen(&key, now).await, Err(Error::Conflict(_))),
        "only a failed award is reopened"
    );
    store.fail(&key, "no class").await.expect("fail");
    let lease = now + Duration::seconds(60);
    let reopened = store.reopen(&key, lease).await.expect("reopen");
    assert_eq!(
        (
            &reopened.state,
            reopened.attempts,
            reopened.last_error.as_deref()
        ),
        (&AwardState::Pending, 0, Some("no class")),
        "a reopened award is pending with its failure kept as the last error"
    );
    assert!(
        store.take_due(now, now, 10).await.expect("take").is_empty(),
        "a reopened award is leased to the operator who reopened it"
    );
    assert_eq!(
        store.take_due(lease, lease, 10).await.expect("take").len(),
        1,
        "and due to anyone after that lease"
    );
    assert_eq!(store.latest_award("l", "zz").await.expect("latest"), None);
    store.claim(award("l", "b", 3), now).await.expect("claim");
    store.claim(award("l", "b", 2), now).await.expect("claim");
    store.claim(award("l", "bb", 9), now).await.expect("claim");
    store.claim(award("m", "b", 7), now).await.expect("claim");
    assert_eq!(
        store
            .latest_award("l", "b")
            .await
            .expect("latest")
            .map(|a| a.key.sequence),
        Some(3),
        "the latest award is the one with the highest number, of that learner and class only"
    );
}

async fn paging<S: BadgeStore>(store: &S) {
    let now = t0();
    assert!(store.awards(None, 10).await.expect("awards").is_empty());
    let keys = [
        ("b", "x", 10),
        ("a", "y", 1),
        ("b", "x", 2),
        ("a", "x", 3),
        ("b", "w", 1),
    ];
    for (learner, badge, n) in keys {
        store
            .claim(award(learner, badge, n), now)
            .await
            .expect("claim");
    }
    let ordered = [
        ("a", "x", 3),
        ("a", "y", 1),
        ("b", "w", 1),
        ("b", "x", 2),
        ("b", "x", 10),
    ]
    .map(|(l, b, n)| AwardKey::new(l, b, n));
    let mut pages = Vec::new();
    let mut after: Option<AwardKey> = None;
    loop {
        let page = store.awards(after.as_ref(), 2).await.expect("awards");
        assert!(page.len() <= 2, "a page holds at most the limit");
        let Some(last) = page.last() else { break };
        after = Some(last.key.clone());
        pages.push(page.into_iter().map(|a| a.key).collect::<Vec<_>>());
    }
    assert_eq!(
        pages.concat(),
        ordered,
        "awards pages through every award once, by learner, class and award number (as a number)"
    );
    assert_eq!(pages.len(), 3);
}

async fn completion_and_failure<S: BadgeStore>(store: &S) {
    let won = match store.claim(award("l", "b", 1), t0()).await {
        Ok(Claim::Won(a)) => a,
        other => panic!("claim: {other:?}"),
    };
    let issued = assertion(&won.key, None, "", t0());
    store.complete(issued.clone()).await.expect("complete");
    store
        .complete(issued.clone())
        .await
        .expect("completing again is harmless");
    assert_eq!(
        store.assertion(&issued.id).await.expect("get"),
        Some(issued.clone())
    );
    match store.claim(award("l", "b", 1), t0()).await {
        Ok(Claim::Exists(a)) => assert_eq!(
            a.state,
            AwardState::Issued {
                assertion: issued.id.clone()
            }
        ),
        other => panic!("a claim after issue must report the issued award: {other:?}"),
    }
    assert!(
        store
            .take_due(t0(), t0(), 10)
            .await
            .expect("take")
            .is_empty(),
        "issued awards are never due"
    );
    store.claim(award("l", "c", 1), t0()).await.expect("claim");
    store
        .fail(&AwardKey::new("l", "c", 1), "rejected: bad email")
        .await
        .expect("fail");
    let unissued = store.unissued().await.expect("unissued");
    assert_eq!(unissued.len(), 1);
    assert_eq!(
        unissued[0].state,
        AwardState::Failed {
            reason: "rejected: bad email".to_owned()
        },
        "failures are kept with their reason"
    );
    assert!(
        store
            .take_due(t0(), t0(), 10)
            .await
            .expect("take")
            .is_empty(),
        "failed awards are not retried"
    );
    let ghost = AwardKey::new("nobody", "b", 1);
    assert!(matches!(
        store.complete(assertion(&ghost, None, "", t0())).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.retry_later(&ghost, "x", t0()).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.fail(&ghost, "x").await,
        Err(Error::NotFound(_))
    ));
}

async fn listings<S: BadgeStore>(store: &S) {
    let entries = [
        ("course-a", Some("course-v1:O+A+1"), "openedx__course", 1),
        ("three", None, "openedx__course", 2),
        ("legacy", None, "", 3),
        ("course-b", Some("course-v1:O+B+1"), "openedx__course", 4),
    ];
    for (slug, course, component, day) in entries {
        store.claim(award("l", slug, 1), t0()).await.expect("claim");
        store
            .complete(assertion(
                &AwardKey::new("l", slug, 1),
                course,
                component,
                t0() + Duration::days(day),
            ))
            .await
            .expect("complete");
    }
    let slugs =
        |list: Vec<IssuedAssertion>| list.into_iter().map(|a| a.key.slug).collect::<Vec<_>>();
    let all = store
        .assertions_for("l", &AssertionFilter::all())
        .await
        .expect("list");
    assert_eq!(
        slugs(all),
        ["course-b", "legacy", "three", "course-a"],
        "newest first"
    );
    let one_course = store
        .assertions_for(
            "l",
            &AssertionFilter::openedx(None, None, Some("course-v1:O+A+1")),
        )
        .await
        .expect("list");
    assert_eq!(slugs(one_course), ["course-a"]);
    let slug_only = store
        .assertions_for(
            "l",
            &AssertionFilter::openedx(Some("three"), Some("openedx__course"), None),
        )
        .await
        .expect("list");
    assert_eq!(
        slugs(slug_only),
        ["three"],
        "a slug without course_id matches non-course badges"
    );
    let slug_default_component = store
        .assertions_for("l", &AssertionFilter::openedx(Some("three"), None, None))
        .await
        .expect("list");
    assert!(
        slug_default_component.is_empty(),
        "issuing_component defaults to \"\" with a slug"
    );
    let slug_any_course = store
        .assertions_for(
            "l",
            &AssertionFilter::openedx(Some("course-a"), Some("openedx__course"), Some("*")),
        )
        .await
        .expect("list");
    assert_eq!(slugs(slug_any_course), ["course-a"]);
    let mut revoked = assertion(
        &AwardKey::new("l", "legacy", 1),
        None,
        "",
        t0() + Duration::days(3),
    );
    revoked.revoked = Some("issued in error".to_owned());
    let revoked_id = revoked.id.clone();
    store.store_revoked(revoked).await.expect("revoke");
    let listed: Vec<String> = store
        .revoked_assertions()
        .await
        .expect("list the revoked")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        listed,
        [revoked_id],
        "revoked_assertions lists the revoked one only"
    );
    let visible = store
        .assertions_for("l", &AssertionFilter::all())
        .await
        .expect("list");
    assert_eq!(
        slugs(visible),
        ["course-b", "three", "course-a"],
        "revoked assertions are hidden by default"
    );
    let mut with_revoked = AssertionFilter::all();
    with_revoked.include_revoked = true;
    assert_eq!(
        store
            .assertions_for("l", &with_revoked)
            .await
            .expect("list")
            .len(),
        4
    );
    assert!(
        store
            .assertions_for("stranger", &AssertionFilter::all())
            .await
            .expect("list")
            .is_empty()
    );
}
