//! Fault injection: a backend wrapper that fails a share of calls, for tests and demos of
//! exactly-once issuing.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use badgery_backend::{
    AwardKey, AwardRequest, BadgeBackend, BadgeClassRecord, Error, IssuedAssertion,
};

/// Counts of what a [`FlakyBackend`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultStats {
    /// Calls received.
    pub calls: u64,
    /// Calls failed before reaching the inner backend.
    pub failed_before: u64,
    /// Calls the inner backend completed whose response was then lost.
    pub lost_responses: u64,
    /// Awards the inner backend completed, by key (a key completed more than once was retried
    /// after a lost response: the inner backend must have returned the same assertion).
    pub completed: HashMap<AwardKey, u32>,
    /// Assertions returned to the caller, by key: exactly one per award when issuing is
    /// exactly-once (a second one means two callers issued the same award).
    pub delivered: HashMap<AwardKey, u32>,
}

/// Wraps a backend and fails each call with probability `rate` (deterministic from `seed`):
/// half of the failures before the inner call (service unavailable), half after it (the inner
/// backend acted but the response is lost: a timeout). Both are transient.
#[derive(Debug)]
pub struct FlakyBackend<B> {
    inner: B,
    rate: f64,
    state: Mutex<(u64, FaultStats)>,
}

impl<B> FlakyBackend<B> {
    /// Wraps `inner`, failing a share `rate` (0.0 to 1.0) of calls.
    pub fn new(inner: B, rate: f64, seed: u64) -> Self {
        FlakyBackend {
            inner,
            rate: rate.clamp(0.0, 1.0),
            state: Mutex::new((seed | 1, FaultStats::default())),
        }
    }

    /// What happened so far.
    pub fn stats(&self) -> FaultStats {
        self.lock().1.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, FaultStats)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Draws the fate of one call: `None` to succeed, `Some(true)` to fail before, `Some(false)`
    /// to fail after.
    fn draw(&self) -> Option<bool> {
        let mut state = self.lock();
        state.1.calls += 1;
        let mut x = state.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.0 = x;
        let roll = (x >> 11) as f64 / (1u64 << 53) as f64;
        if roll >= self.rate {
            return None;
        }
        let before = x & 1 == 0;
        if before {
            state.1.failed_before += 1;
        } else {
            state.1.lost_responses += 1;
        }
        Some(before)
    }
}

#[async_trait]
impl<B: BadgeBackend> BadgeBackend for FlakyBackend<B> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, Error> {
        match self.draw() {
            Some(true) => Err(Error::unavailable("injected: service unavailable")),
            Some(false) => {
                self.inner.ensure_class(class).await?;
                Err(Error::Timeout("injected: response lost".to_owned()))
            }
            None => self.inner.ensure_class(class).await,
        }
    }

    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, Error> {
        let fate = self.draw();
        if fate == Some(true) {
            return Err(Error::unavailable("injected: service unavailable"));
        }
        let assertion = self.inner.award(request).await?;
        let mut state = self.lock();
        *state.1.completed.entry(request.key.clone()).or_default() += 1;
        match fate {
            Some(_) => Err(Error::Timeout("injected: response lost".to_owned())),
            None => {
                *state.1.delivered.entry(request.key.clone()).or_default() += 1;
                Ok(assertion)
            }
        }
    }

    async fn revoke(
        &self,
        assertion: &IssuedAssertion,
        reason: &str,
    ) -> Result<IssuedAssertion, Error> {
        self.inner.revoke(assertion, reason).await
    }
}
