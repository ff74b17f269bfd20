//! Group commit for SQLite: the claims and completions of concurrent callers share one
//! transaction, and so one `fsync`.
//!
//! A durable SQLite commit costs one sync of the WAL file (0.6 to 1.5 ms in this session's
//! benchmark runs; see BENCHMARKS.md), and SQLite runs one writer at a time, so a store that
//! commits each claim and each completion on its own is held to about one award per two syncs
//! however many engines run. PostgreSQL does this batching itself (concurrent commits share a
//! WAL flush); SQLite does not. Here a single writer task takes every queued claim and
//! completion into one `BEGIN IMMEDIATE` transaction on a connection of the pool, each so that
//! failing it undoes only its own changes, commits, and only then answers each caller. A
//! caller's operation is durable when it is answered, as if it had committed alone; a failed
//! commit fails every operation of the batch, none of which is then stored.

use std::sync::{Arc, OnceLock};

use badgery_backend::{AwardKey, Error, IssuedAssertion, PendingAward};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::columns::sequence;

/// The most operations one transaction takes: a batch's callers wait for its whole commit.
const MAX_BATCH: usize = 128;

/// A write the group-commit writer runs for a caller.
enum Write {
    /// Insert the award unless its key exists; answers whether it was inserted.
    Claim {
        award: Box<PendingAward>,
        lease_until: i64,
        answer: oneshot::Sender<Result<bool, Error>>,
    },
    /// Mark the award issued and store its assertion; answers whether the award existed.
    Complete {
        assertion: Box<IssuedAssertion>,
        answer: oneshot::Sender<Result<bool, Error>>,
    },
}

/// The handle callers queue their writes on. The writer task starts with the first write (on
/// the tokio runtime that write runs on) and stops when every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    pool: SqlitePool,
    queue: Arc<OnceLock<mpsc::UnboundedSender<Write>>>,
}

impl GroupCommit {
    /// A writer for `pool`'s database, writing through a connection of the pool.
    pub(crate) fn new(pool: SqlitePool) -> Self {
        GroupCommit {
            pool,
            queue: Arc::default(),
        }
    }

    /// Claims `award`: whether this call inserted it.
    pub(crate) async fn claim(&self, award: PendingAward, lease_until: i64) -> Result<bool, Error> {
        let (answer, answered) = oneshot::channel();
        self.send(Write::Claim {
            award: Box::new(award),
            lease_until,
            answer,
        })?;
        answered.await.map_err(|_| stopped())?
    }

    /// Completes the award of `assertion`: whether the award was claimed.
    pub(crate) async fn complete(&self, assertion: IssuedAssertion) -> Result<bool, Error> {
        let (answer, answered) = oneshot::channel();
        self.send(Write::Complete {
            assertion: Box::new(assertion),
            answer,
        })?;
        answered.await.map_err(|_| stopped())?
    }

    fn send(&self, write: Write) -> Result<(), Error> {
        let queue = match self.queue.get() {
            Some(queue) => queue,
            None => {
                let runtime = tokio::runtime::Handle::try_current()
                    .map_err(|e| Error::storage("the SQLite store needs a tokio runtime", e))?;
                self.queue.get_or_init(|| {
                    let (queue, writes) = mpsc::unbounded_channel();
                    runtime.spawn(writer(self.pool.clone(), writes));
                    queue
                })
            }
        };
        queue.send(write).map_err(|_| stopped())
    }
}

fn stopped() -> Error {
    Error::Storage {
        message: "the SQLite store's writer stopped".to_owned(),
        source: None,
    }
}

async fn writer(pool: SqlitePool, mut writes: mpsc::UnboundedReceiver<Write>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while writes.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let batch = std::mem::take(&mut batch);
        // A connection per batch, so that a broken one is replaced by the pool.
        match pool.acquire().await {
            Ok(mut connection) => run_batch(&mut connection, batch).await,
            Err(e) => {
                let e = Error::storage("connecting the SQLite store's writer", e);
                for write in batch {
                    answer(write, Err(e.clone()));
                }
            }
        }
    }
}

/// Runs a batch in one transaction and answers every caller once it has committed.
async fn run_batch(connection: &mut SqliteConnection, batch: Vec<Write>) {
    let db = |doing: &str| {
        let doing = doing.to_owned();
        move |e| Error::storage(doing, e)
    };
    let mut results = Vec::with_capacity(batch.len());
    let began = sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *connection)
        .await
        .map_err(db("beginning a batch of writes"));
    if let Err(e) = began {
        for write in batch {
            answer(write, Err(e.clone()));
        }
        return;
    }
    for write in &batch {
        results.push(run_one(connection, write).await);
    }
    let committed = sqlx::query("COMMIT")
        .execute(&mut *connection)
        .await
        .map_err(db("committing a batch of writes"));
    if let Err(e) = committed {
        // Nothing of the batch is stored: say so to every caller, and leave no transaction
        // open for the next batch.
        let _rolled_back = sqlx::query("ROLLBACK").execute(&mut *connection).await;
        for write in batch {
            answer(write, Err(e.clone()));
        }
        return;
    }
    for (write, result) in batch.into_iter().zip(results) {
        answer(write, result);
    }
}

/// Runs one write so that, failing, it undoes only itself: the batch's other writes are
/// kept. A failed statement undoes itself (SQLite's default conflict resolution, ABORT, backs
/// out the statement and keeps the transaction); a completion's second statement failing
/// takes back what its first stored.
async fn run_one(connection: &mut SqliteConnection, write: &Write) -> Result<bool, Error> {
    match write {
        Write::Claim {
            award, lease_until, ..
        } => claim(connection, award, *lease_until).await,
        Write::Complete { assertion, .. } => complete(connection, assertion).await,
    }
}

fn answer(write: Write, result: Result<bool, Error>) {
    // A caller that stopped waiting (its task was cancelled) needs no answer.
    let _delivered = match write {
        Write::Claim { answer, .. } | Write::Complete { answer, .. } => answer.send(result),
    };
}

fn failed(key: &AwardKey, doing: &str) -> impl FnOnce(sqlx::Error) -> Error {
    let doing = format!("{doing} {key}");
    move |e| Error::storage(doing, e)
}

async fn claim(
    connection: &mut SqliteConnection,
    award: &PendingAward,
    lease_until: i64,
) -> Result<bool, Error> {
    Ok(
        bind_claim!(sqlx::query(crate::store::CLAIM), award, lease_until)
            .execute(&mut *connection)
            .await
            .map_err(failed(&award.key, "claiming"))?
            .rows_affected()
            == 1,
    )
}

/// Stores the assertion, then marks its award issued: in this order so that the one statement
/// that can need undoing is an insert, undone by deleting what it inserted.
async fn complete(
    connection: &mut SqliteConnection,
    assertion: &IssuedAssertion,
) -> Result<bool, Error> {
    let key = &assertion.key;
    let inserted = bind_assertion!(sqlx::query(crate::store::INSERT_ASSERTION), assertion)
        .execute(&mut *connection)
        .await
        .map_err(failed(key, "storing the assertion of"))?
        .rows_affected()
        == 1;
    let marked = sqlx::query(crate::store::MARK_ISSUED)
        .bind(&key.learner)
        .bind(&key.slug)
        .bind(sequence(key))
        .bind(&assertion.id)
        .execute(&mut *connection)
        .await
        .map_err(failed(key, "completing"));
    match marked {
        // No award: the insert found none either, so stored nothing.
        Ok(marked) => Ok(marked.rows_affected() == 1),
        Err(e) => {
            if inserted {
                sqlx::query(crate::store::UNDO_INSERT_ASSERTION)
                    .bind(&assertion.id)
                    .execute(&mut *connection)
                    .await
                    .map_err(failed(key, "taking back the assertion of"))?;
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use badgery_backend::{AssertionRepository, AwardLedger, AwardState, Recipient};
    use chrono::Utc;

    use super::*;
    use crate::SqlStore;
    use crate::store::Pool;

    fn award(learner: &str) -> PendingAward {
        let recipient = Recipient::new(learner, format!("{learner}@example.org"));
        PendingAward::new(
            AwardKey::new(learner, "b", 1),
            recipient,
            vec![],
            "t",
            Utc::now(),
        )
    }

    fn assertion(learner: &str) -> IssuedAssertion {
        IssuedAssertion {
            id: format!("https://example.org/assertions/{learner}"),
            key: AwardKey::new(learner, "b", 1),
            issuing_component: "t".to_owned(),
            course: None,
            backend: "test".to_owned(),
            issued_on: Utc::now(),
            image_url: None,
            data: serde_json::Value::Null,
            baked_image: None,
            revoked: None,
        }
    }

    /// Writes that fail in a batch undo only themselves; the batch's other writes commit.
    /// SQLite triggers make the mark of `a`'s award and the claim of `c` fail.
    #[tokio::test]
    async fn a_failing_write_in_a_batch_undoes_only_itself() {
        let store = SqlStore::open("sqlite::memory:").await.unwrap();
        #[allow(
            irrefutable_let_patterns,
            reason = "refutable with the postgres feature"
        )]
        let Pool::Sqlite(pool, _) = &store.pool else {
            unreachable!("a SQLite URL")
        };
        let lease = Utc::now();
        for learner in ["a", "b"] {
            store.claim(award(learner), lease).await.unwrap();
        }
        for trigger in [
            "CREATE TRIGGER fail_mark BEFORE UPDATE ON badgery_awards \
             WHEN NEW.learner = 'a' BEGIN SELECT RAISE(ABORT, 'injected'); END",
            "CREATE TRIGGER fail_claim BEFORE INSERT ON badgery_awards \
             WHEN NEW.learner = 'c' BEGIN SELECT RAISE(ABORT, 'injected'); END",
        ] {
            sqlx::query(trigger).execute(pool).await.unwrap();
        }
        let mut answers = Vec::new();
        let mut batch = Vec::new();
        for (learner, complete) in [("a", true), ("b", true), ("c", false), ("d", false)] {
            let (answer, answered) = oneshot::channel();
            answers.push((learner, answered));
            batch.push(if complete {
                Write::Complete {
                    assertion: Box::new(assertion(learner)),
                    answer,
                }
            } else {
                Write::Claim {
                    award: Box::new(award(learner)),
                    lease_until: 0,
                    answer,
                }
            });
        }
        run_batch(&mut pool.acquire().await.unwrap(), batch).await;
        let mut outcomes = Vec::new();
        for (learner, answered) in answers {
            outcomes.push((learner, answered.await.unwrap().is_ok()));
        }
        assert_eq!(
            outcomes,
            [("a", false), ("b", true), ("c", false), ("d", true)]
        );

        for (learner, issued) in [("a", false), ("b", true)] {
            let stored = store.assertion(&assertion(learner).id).await.unwrap();
            assert_eq!(stored.is_some(), issued, "{learner}'s assertion");
        }
        let mut states = Vec::new();
        for learner in ["a", "b", "c", "d"] {
            let key = AwardKey::new(learner, "b", 1);
            states.push(store.award(&key).await.unwrap().map(|award| award.state));
        }
        assert!(matches!(
            states.as_slice(),
            [
                Some(AwardState::Pending),
                Some(AwardState::Issued { .. }),
                None,
                Some(AwardState::Pending)
            ]
        ));
    }
}
