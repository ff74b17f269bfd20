//! Group commit for SQLite: the claims and completions of concurrent callers share one
//! transaction, and so one `fsync`.
//!
//! A durable SQLite commit costs one sync of the WAL file (0.6 to 1.5 ms in this session's
//! benchmark runs; see BENCHMARKS.md), and SQLite runs one writer at a time, so a store that
//! commits each claim and each completion on its own is held to about one award per two syncs
//! however many engines run. PostgreSQL does this batching itself (concurrent commits share a
//! WAL flush); SQLite does not. Here a single writer task takes every queued claim and
//! completion into one `BEGIN IMMEDIATE` transaction on a connection of the pool, each so that
//! failing it undoes only its own changes (a claim is one statement; a completion runs in a
//! savepoint), commits, and only then answers each caller. A caller's operation is durable
//! when it is answered, as if it had committed alone; a failed commit fails every operation of
//! the batch, none of which is then stored.

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

/// Runs one write so that, failing, it undoes only itself. A claim is one statement, which
/// SQLite undoes by itself when it fails (its default conflict resolution, ABORT, backs out
/// the statement and keeps the transaction); a completion's two statements run in a savepoint.
async fn run_one(connection: &mut SqliteConnection, write: &Write) -> Result<bool, Error> {
    match write {
        Write::Claim {
            award, lease_until, ..
        } => claim(connection, award, *lease_until).await,
        Write::Complete { assertion, .. } => {
            sqlx::query("SAVEPOINT one_write")
                .execute(&mut *connection)
                .await
                .map_err(|e| Error::storage("opening a write", e))?;
            let result = complete(connection, assertion).await;
            if result.is_err() {
                sqlx::query("ROLLBACK TO one_write")
                    .execute(&mut *connection)
                    .await
                    .map_err(|e| Error::storage("undoing a write", e))?;
            }
            sqlx::query("RELEASE one_write")
                .execute(&mut *connection)
                .await
                .map_err(|e| Error::storage("closing a write", e))?;
            result
        }
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

async fn complete(
    connection: &mut SqliteConnection,
    assertion: &IssuedAssertion,
) -> Result<bool, Error> {
    let key = &assertion.key;
    let updated = sqlx::query(crate::store::MARK_ISSUED)
        .bind(&key.learner)
        .bind(&key.badge)
        .bind(sequence(key))
        .bind(&assertion.id)
        .execute(&mut *connection)
        .await
        .map_err(failed(key, "completing"))?
        .rows_affected();
    if updated == 0 {
        return Ok(false);
    }
    bind_assertion!(sqlx::query(crate::store::INSERT_ASSERTION), assertion)
        .execute(&mut *connection)
        .await
        .map_err(failed(key, "storing the assertion of"))?;
    Ok(true)
}
