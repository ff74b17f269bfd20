//! The store conformance suite of `badgery-backend`, on SQLite in memory and in a file and on a
//! real PostgreSQL server, with the concurrent checks racing over several connections.

use std::sync::atomic::{AtomicU32, Ordering};

use badgery_backend::conformance::{check_progress_store, check_store};
use badgery_store_sql::SqlStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_in_memory_passes_the_store_conformance_suite() {
    check_store(|| async { SqlStore::open("sqlite::memory:").await.expect("open") }).await;
    check_progress_store(|| async { SqlStore::open("sqlite::memory:").await.expect("open") }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_in_a_file_passes_the_store_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicU32::new(0);
    let make = || {
        let path = dir.path().join(format!(
            "store-{}.sqlite3",
            n.fetch_add(1, Ordering::Relaxed)
        ));
        async move {
            SqlStore::open(&format!("sqlite:{}", path.display()))
                .await
                .expect("open")
        }
    };
    check_store(make).await;
    check_progress_store(make).await;
}

/// Runs with the features `postgres` and `testing` (`cargo test --workspace` enables them, as
/// does `cargo test -p badgery-store-sql --all-features`).
#[cfg(all(feature = "postgres", feature = "testing"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_passes_the_store_conformance_suite() {
    use badgery_store_sql::testing::TempPostgres;
    let Some(server) = TempPostgres::start_or_skip("postgres_passes_the_store_conformance_suite")
    else {
        return;
    };
    let n = AtomicU32::new(0);
    let make = || {
        let url = server
            .create_database(&format!(
                "conformance_{}",
                n.fetch_add(1, Ordering::Relaxed)
            ))
            .expect("createdb");
        async move { SqlStore::open(&url).await.expect("open") }
    };
    check_store(make).await;
    check_progress_store(make).await;
}

/// Several stores (as several processes would) opening one new SQLite file at once each get a
/// migrated schema: SQLite has no migration lock, and switching a new file to WAL takes a lock
/// its busy timeout does not wait for, so those that lose either race try again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stores_opening_a_new_sqlite_file_at_once_all_migrate() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("new.sqlite3").display());
        let opens: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { SqlStore::open(&url).await })
            })
            .collect();
        for open in opens {
            if let Err(e) = open.await.unwrap() {
                panic!("round {round}: {e}: {:?}", std::error::Error::source(&e));
            }
        }
    }
}
