//! The Badgr session against a test server that answers as the recorded Badgr did: one login
//! reused, tokens shared through the store, refresh with rotation, the login back-off waited
//! out, transient and permanent errors told apart.

#![allow(clippy::unwrap_used)] // A test's helpers may panic: that is how a test fails.

mod support;

use std::sync::Arc;
use std::time::Duration;

use badgery_backend::Error;
use badgery_badgr::{BadgrConfig, MemoryTokenStore, Session, TokenStore};
use support::server::{self, PASSWORD, USERNAME};

fn session(url: &str, password: &str, store: Arc<dyn TokenStore>) -> Session {
    let mut config = BadgrConfig::new(url, USERNAME, password).unwrap();
    config.refresh_margin = Duration::ZERO;
    Session::new(config, store).unwrap()
}

#[tokio::test]
async fn one_login_serves_every_call_and_a_second_server_reuses_it() {
    let (url, server) = server::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let first = session(&url, PASSWORD, store.clone());
    for _ in 0..5 {
        let me = first.get("/v2/users/self").await.unwrap();
        assert_eq!(me[0]["entityId"], "N-R-gjBoT6KiTljD35CybA");
    }
    let second = session(&url, PASSWORD, store.clone());
    second.get("/v2/users/self").await.unwrap();
    assert_eq!(first.token_requests() + second.token_requests(), 1);
    let s = server.lock().unwrap();
    assert_eq!(
        (s.password_grants, s.refresh_grants, s.api_requests),
        (1, 0, 6)
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_a_rotated_one_is_taken_from_the_store() {
    let (url, server) = server::start().await;
    server.lock().unwrap().lifetime = Duration::from_secs(1);
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let a = session(&url, PASSWORD, store.clone());
    let b = session(&url, PASSWORD, store.clone());
    a.get("/v2/users/self").await.unwrap();
    b.get("/v2/users/self").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // A refreshes (rotating both tokens); B then holds dead tokens in memory, reads the new
    // ones from the store and makes no token request (a refresh with the dead refresh token
    // would be refused and start Badgr's back-off).
    server.lock().unwrap().lifetime = Duration::from_secs(3600);
    a.get("/v2/users/self").await.unwrap();
    b.get("/v2/users/self").await.unwrap();
    assert_eq!((a.token_requests(), b.token_requests()), (2, 0));
    let s = server.lock().unwrap();
    assert_eq!((s.password_grants, s.refresh_grants), (1, 1));
    assert_eq!(s.refused_token_requests, 0);
}

#[tokio::test]
async fn a_token_the_api_refuses_is_replaced_once() {
    let (url, server) = server::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let a = session(&url, PASSWORD, store.clone());
    a.get("/v2/users/self").await.unwrap();
    // The server forgets every access token (as after a rotation elsewhere): 401, then a
    // refresh, then the call succeeds.
    server.lock().unwrap().forget_access_tokens();
    a.get("/v2/users/self").await.unwrap();
    let s = server.lock().unwrap();
    assert_eq!((s.password_grants, s.refresh_grants), (1, 1));
}

#[tokio::test]
async fn a_refused_login_is_deferred_and_badgrs_back_off_is_waited_out() {
    let (url, server) = server::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let wrong = session(&url, "wrong-password", store.clone());
    let e = wrong.get("/v2/users/self").await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("Invalid credentials given."), "{e}");
    // Our own back-off: no second token request at once.
    let e = wrong.get("/v2/users/self").await.unwrap_err();
    assert!(e.to_string().contains("back-off"), "{e}");
    assert_eq!(wrong.token_requests(), 1);

    // The right password during Badgr's back-off: one 429, then nothing until it ends.
    let right = session(&url, PASSWORD, store.clone());
    let e = right.get("/v2/users/self").await.unwrap_err();
    assert!(
        e.is_retryable() && e.to_string().contains("throttles logins"),
        "{e}"
    );
    for _ in 0..3 {
        assert!(right.get("/v2/users/self").await.is_err());
    }
    assert_eq!(
        right.token_requests(),
        1,
        "no token request during the back-off"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    right.get("/v2/users/self").await.unwrap();
    assert_eq!(right.token_requests(), 2);
    assert_eq!(server.lock().unwrap().refused_token_requests, 2);
}

#[tokio::test]
async fn server_errors_are_transient_and_an_unreachable_server_is_too() {
    let (url, server) = server::start().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let a = session(&url, PASSWORD, store.clone());
    server.lock().unwrap().fail_next = 3;
    for _ in 0..3 {
        let e = a.get("/v2/users/self").await.unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    }
    a.get("/v2/users/self").await.unwrap();
    assert_eq!(a.token_requests(), 1);

    let gone = session("http://127.0.0.1:9", PASSWORD, store);
    let e = gone.get("/v2/users/self").await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(
        std::error::Error::source(&e).is_some(),
        "the transport error is kept"
    );
}

/// A token store that answers its next load with what it held a moment ago: the window in
/// which another app server refreshed (and stored) between this server's load and its refresh.
#[derive(Debug)]
struct StaleOnce {
    inner: MemoryTokenStore,
    stale: std::sync::Mutex<Option<badgery_badgr::Tokens>>,
}

#[async_trait::async_trait]
impl TokenStore for StaleOnce {
    async fn load(&self) -> Result<Option<badgery_badgr::Tokens>, Error> {
        let stale = self.stale.lock().unwrap().take();
        match stale {
            Some(stale) => Ok(Some(stale)),
            None => self.inner.load().await,
        }
    }

    async fn save(&self, tokens: Option<&badgery_badgr::Tokens>) -> Result<(), Error> {
        self.inner.save(tokens).await
    }
}

/// Two servers refresh at once: the loser's refresh token is dead (Badgr refuses it), and it
/// must not wipe the winner's new tokens from the store; it uses them instead of logging in.
#[tokio::test]
async fn a_refresh_lost_to_another_server_keeps_the_winners_tokens() {
    let (url, server) = server::start().await;
    server.lock().unwrap().lifetime = Duration::from_secs(1);
    let store = Arc::new(StaleOnce {
        inner: MemoryTokenStore::default(),
        stale: std::sync::Mutex::new(None),
    });
    let a = session(&url, PASSWORD, store.clone());
    let b = session(&url, PASSWORD, store.clone());
    a.get("/v2/users/self").await.unwrap();
    b.get("/v2/users/self").await.unwrap();
    let before = store.inner.load().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    server.lock().unwrap().lifetime = Duration::from_secs(3600);
    a.get("/v2/users/self").await.unwrap(); // A refreshes and stores the new pair.
    let winners = store.inner.load().await.unwrap();
    assert_ne!(winners, before);
    // B read the store just before A stored: it refreshes with the dead token.
    *store.stale.lock().unwrap() = before;
    assert!(matches!(
        b.get("/v2/users/self").await,
        Err(Error::Unavailable { .. })
    ));
    assert_eq!(
        store.inner.load().await.unwrap(),
        winners,
        "the winner's tokens are kept"
    );
    b.get("/v2/users/self").await.unwrap();
    let s = server.lock().unwrap();
    assert_eq!(
        (
            s.password_grants,
            s.refresh_grants,
            s.refused_token_requests
        ),
        (1, 1, 1),
        "no second login: B took A's tokens"
    );
}
