//! Durable Badgery stores on [sqlx](https://docs.rs/sqlx): SQLite, embedded, as the default,
//! and PostgreSQL for platforms with several app servers. [`SqlStore`] implements every store
//! trait of `badgery-backend` ([`ClassCatalog`], [`AwardLedger`], [`AssertionRepository`]),
//! with the guarantees the traits state enforced by the database itself, so that any number
//! of engines, in one process or many, can share one store.
//!
//! ```
//! use badgery_backend::{AwardKey, AwardLedger, Claim, PendingAward, Recipient};
//! use badgery_store_sql::SqlStore;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let url = format!("sqlite:{}", dir.path().join("badgery.sqlite3").display());
//! let now = chrono::Utc::now();
//! let award = || PendingAward::new(AwardKey::new("ada", "rust-101", 1),
//!                                  Recipient::new("ada", "ada@example.org"), vec![], "passed", now);
//! {
//!     let store = SqlStore::open(&url).await?; // creates the file, runs the migrations
//!     assert!(matches!(store.claim(award(), now).await?, Claim::Won(_)));
//! }
//! // Another process, or this one after a restart: the claim is still there.
//! let store = SqlStore::open(&url).await?;
//! assert!(matches!(store.claim(award(), now).await?, Claim::Exists(_)));
//! # Ok::<(), badgery_backend::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Choosing and opening
//!
//! [`SqlStore::open`] takes a URL:
//! - `sqlite:PATH` (feature `sqlite`, on by default): a file, created if missing, in WAL mode
//!   with `synchronous=FULL` (a commit returns once the WAL is synced to disk) and a busy timeout of
//!   [`SQLITE_BUSY_TIMEOUT`]; `sqlite::memory:` is a database in memory shared by the
//!   store's connections, gone when the store is dropped. SQLite is compiled into the
//!   program: there is nothing to install.
//! - `postgres://…` or `postgresql://…` (feature `postgres`): for several app servers sharing
//!   one store. No TLS is built in: connect over a unix socket or a trusted network.
//!
//! A host that configures its own pool gives it to [`SqlStore::from_sqlite`] or
//! `SqlStore::from_postgres` (feature `postgres`). sqlx needs the tokio runtime; the Badgery engine itself needs
//! none.
//!
//! # Migrations
//!
//! The schema is versioned with sqlx's migrations, embedded in the crate
//! (`migrations/sqlite`, `migrations/postgres`) and run by [`SqlStore::open`]. A host that
//! runs its own migrations opens with [`SqlStore::open_without_migrating`] and applies
//! [`SqlStore::migrator`]'s (or copies the SQL files into its own tool); the store refuses
//! nothing then, so the schema must be current.
//!
//! # Schema (version 4)
//!
//! Every table is prefixed `badgery_`, so the store can live in the platform's own database.
//! Times are `BIGINT` microseconds since 1970 (UTC), which sort like the times.
//!
//! | table | key | what |
//! |---|---|---|
//! | `badgery_classes` | `slug` | the class catalogue: name, description, criteria, image (bytes), expiry (JSON), alignments (JSON, migration 3), the backend's id |
//! | `badgery_awards` | (`learner`, `badge`, `sequence`) | the award ledger: recipient, evidence (JSON), reason, `state` (`pending`, `issued`, `failed`) with its `outcome` (the assertion's id, the failure's reason), attempts, `next_attempt`, `last_error`, `lease_until` |
//! | `badgery_assertions` | `id` | issued assertions: the award's key, issuing component, course, backend, `issued_on`, the backend's data (JSON text, key order kept), the baked image, the revocation reason |
//! | `badgery_progress` | `learner` | learners' progress (`badgery_rules::Progress` bytes) and its `version` (migration 4) |
//! | `badgery_handled_events` | (`learner`, `event_id`) | the ids of the events committed for each learner (migration 4) |
//! | `badgery_checkpoints` | `name` | how far each consumer of an event log has got (migration 4) |
//!
//! Indexes: `badgery_classes_course_mode`, unique on (`course`, `mode`) where both are set,
//! and `badgery_classes_course_fallback`, unique on `course` where the mode is NULL (one
//! unique index over both columns would let any number of NULL modes through);
//! `badgery_awards_due` on `next_attempt` of pending awards; `badgery_assertions_learner`;
//! `badgery_assertions_revoked` on the ids of revoked assertions (migration 2).
//!
//! # How the guarantees are kept
//!
//! - **Exactly-once claims**: `INSERT … ON CONFLICT DO NOTHING` on the award's primary key;
//!   the one insert that happens wins.
//! - **Progress commits as an outbox**: the event ids, the progress (an insert for the first
//!   version, else an update of the version read) and the claims in one transaction, rolled
//!   back on a conflict; a batch writes its learners in name order, so that concurrent
//!   batches never deadlock.
//! - **Leases**: [`AwardLedger::take_due`] is one `UPDATE … RETURNING` over the due awards
//!   whose lease has ended; on PostgreSQL the candidates are chosen `FOR UPDATE SKIP LOCKED`,
//!   on SQLite inside one `BEGIN IMMEDIATE` transaction.
//! - **Atomic completion**: [`AwardLedger::complete`] marks the award issued and inserts its
//!   assertion in one transaction.
//! - **Group commit on SQLite**: a durable commit costs one sync of the WAL, and SQLite runs
//!   one writer at a time, so claims and completions go through one writer task that runs
//!   all those queued at that moment in one `BEGIN IMMEDIATE` transaction, each so that
//!   failing it undoes only itself (a claim is one statement; a completion inserts the
//!   assertion, then marks the award, deleting the assertion if the mark fails), and answers
//!   each caller
//!   once the transaction has committed. An answered write is as durable as one committed
//!   alone; concurrent engines share syncs (PostgreSQL does this itself).
//! - **Classes**: the unique indexes above; get-or-create inserts with `ON CONFLICT DO
//!   NOTHING` and reads back what is there, never altering a stored class.
//!
//! # Errors
//!
//! Every failure is a [`badgery_backend::Error`]: a database failure is
//! [`Error::Storage`] naming what the store was doing, with sqlx's error as its
//! [`source`](std::error::Error::source); it is retryable (every operation is atomic).

#![forbid(unsafe_code)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("badgery-store-sql needs the feature `sqlite`, `postgres` or both");

#[macro_use]
mod columns;
#[cfg(feature = "sqlite")]
mod group_commit;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

use badgery_backend::Error;
#[cfg(doc)]
use badgery_backend::{AssertionRepository, AwardLedger, ClassCatalog};

use crate::store::Pool;

/// How long a SQLite connection waits for another connection's write to finish before the
/// store reports the database busy.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times a SQLite store tries to connect, and to migrate, when processes open a new
/// file at once.
#[cfg(feature = "sqlite")]
const SQLITE_OPEN_ATTEMPTS: u64 = 10;

/// A Badgery store in a SQL database: a [`ClassCatalog`], an [`AwardLedger`] and an
/// [`AssertionRepository`], so a [`badgery_backend::BadgeStore`]. Cloning shares the
/// connections.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: Pool,
}

impl SqlStore {
    /// Opens (creating a SQLite file if missing) and brings the schema up to date. See the
    /// crate docs for the URLs.
    ///
    /// # Errors
    /// [`Error::Rejected`] for a URL of no enabled database; [`Error::Storage`] when the
    /// database cannot be opened or migrated.
    pub async fn open(url: &str) -> Result<Self, Error> {
        let store = Self::open_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens without touching the schema, for hosts that run the migrations themselves.
    ///
    /// # Errors
    /// As [`SqlStore::open`].
    pub async fn open_without_migrating(url: &str) -> Result<Self, Error> {
        let open_error = |e| Error::storage(format!("opening {}", redacted(url)), e);
        #[cfg(feature = "sqlite")]
        if url.starts_with("sqlite:") {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            use std::str::FromStr;
            let options = SqliteConnectOptions::from_str(url)
                .map_err(open_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                // A page cache of 16 MiB per connection (SQLite's default is 2 MiB): with a
                // million learners' progress, reading and updating a learner then stays in
                // memory more often (BENCHMARKS.md, "Learner progress").
                .pragma("cache_size", "-16384")
                // The batch statements' transient tables (the `json_each` rows an
                // `UPDATE … FROM` joins) in memory rather than in temporary files: batched
                // progress commits ran 1.18-1.26x faster (BENCHMARKS.md, "Learner progress").
                // What they hold is bounded by a batch, and none of it is committed data: the
                // WAL and its syncs are unchanged.
                .pragma("temp_store", "MEMORY");
            // An in-memory database lives as long as one of its connections: keep them all.
            let pool_options = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(4)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            // Switching a new file to WAL takes a lock that the busy timeout does not wait
            // for, so processes creating one file at once can find it locked: try again.
            let pool = sqlite_retrying(
                || pool_options.clone().connect_with(options.clone()),
                is_sqlite_busy,
            )
            .await
            .map_err(open_error)?;
            return Ok(Self::from_sqlite(pool));
        }
        #[cfg(feature = "postgres")]
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            use std::str::FromStr;
            let options = sqlx::postgres::PgConnectOptions::from_str(url).map_err(open_error)?;
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .connect_with(options)
                .await
                .map_err(open_error)?;
            return Ok(Self::from_postgres(pool));
        }
        Err(Error::Rejected(format!(
            "store URL {} names no database this build supports (enabled: {})",
            redacted(url),
            ENABLED
        )))
    }

    /// A store over a SQLite pool the host configured. Its claims and completions are
    /// committed in groups by a writer task on the tokio runtime of the first write (see the
    /// crate docs).
    #[cfg(feature = "sqlite")]
    pub fn from_sqlite(pool: sqlx::SqlitePool) -> Self {
        let writer = group_commit::GroupCommit::new(pool.clone());
        SqlStore {
            pool: Pool::Sqlite(pool, writer),
        }
    }

    /// A store over a PostgreSQL pool the host configured.
    #[cfg(feature = "postgres")]
    pub fn from_postgres(pool: sqlx::PgPool) -> Self {
        SqlStore {
            pool: Pool::Postgres(pool),
        }
    }

    /// The migrations of this store's database, for a host that applies them itself.
    pub fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(..) => &SQLITE_MIGRATIONS,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies the migrations not yet applied, each once however many processes run this at
    /// the same time. On PostgreSQL sqlx holds the database's advisory migration lock. SQLite
    /// has no such lock: each migration is one transaction, so a process that loses the race
    /// (its migration fails because another process's has just committed) reads the applied
    /// list again and goes on; a migration that really fails fails every attempt.
    ///
    /// # Errors
    /// [`Error::Storage`] with the failing migration.
    pub async fn migrate(&self) -> Result<(), Error> {
        let migrator = self.migrator();
        let result = match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool, _) => sqlite_retrying(|| migrator.run(pool), |_| true).await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => migrator.run(pool).await,
        };
        result.map_err(|e| Error::storage("migrating the store's schema", e))
    }

    /// Closes the connections, waiting for those in use to be returned.
    pub async fn close(&self) {
        match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool, _) => pool.close().await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Runs `attempt` until it succeeds, fails in a way `retry` refuses, or has been tried
/// [`SQLITE_OPEN_ATTEMPTS`] times, waiting a little longer after each failure.
#[cfg(feature = "sqlite")]
async fn sqlite_retrying<T, E, F: Future<Output = Result<T, E>>>(
    mut attempt: impl FnMut() -> F,
    retry: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let mut tried = 1;
    loop {
        match attempt().await {
            Err(e) if tried < SQLITE_OPEN_ATTEMPTS && retry(&e) => {
                tokio::time::sleep(Duration::from_millis(50 * tried)).await;
                tried += 1;
            }
            result => return result,
        }
    }
}

/// Whether SQLite answered `SQLITE_BUSY` ("database is locked") or one of its extended codes.
#[cfg(feature = "sqlite")]
fn is_sqlite_busy(error: &sqlx::Error) -> bool {
    const SQLITE_BUSY: u32 = 5;
    let sqlx::Error::Database(e) = error else {
        return false;
    };
    e.code()
        .and_then(|code| code.parse::<u32>().ok())
        .is_some_and(|code| code & 0xff == SQLITE_BUSY)
}

#[cfg(feature = "sqlite")]
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
#[cfg(feature = "postgres")]
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const ENABLED: &str = match (cfg!(feature = "sqlite"), cfg!(feature = "postgres")) {
    (true, true) => "sqlite, postgres",
    (true, false) => "sqlite",
    _ => "postgres",
};

/// A URL as it may be shown: without the password.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redacted("postgres://app:s3cret@db.internal/badges"),
            "postgres://app:***@db.internal/badges"
        );
        assert_eq!(
            redacted("postgres://app@db/badges"),
            "postgres://app@db/badges"
        );
        assert_eq!(
            redacted("sqlite:/var/lib/b.sqlite3"),
            "sqlite:/var/lib/b.sqlite3"
        );
    }

    #[tokio::test]
    async fn a_url_of_no_database_is_refused_by_name() {
        let err = SqlStore::open("mysql://db/badges").await.unwrap_err();
        assert!(matches!(err, Error::Rejected(_)), "{err}");
        assert!(err.to_string().contains("mysql://db/badges"), "{err}");
    }
}
