//! The in-memory store passes the store conformance suite.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_conforms() {
    badgery_backend::conformance::check_store(badgery_backend::MemoryStore::new).await;
}
