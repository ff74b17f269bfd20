//! A badge store in memory: for tests, examples and small deployments (nothing persists).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::traits::{AssertionRepository, AwardLedger, ClassCatalog, ProgressStore};
use crate::types::{
    AssertionFilter, AwardKey, AwardState, BadgeClassRecord, BatchCommit, Claim, IssuedAssertion,
    PendingAward, ProgressCommit, ProgressUpdate, StoredProgress,
};

#[derive(Debug, Default)]
struct Inner {
    classes: BTreeMap<String, BadgeClassRecord>,
    awards: BTreeMap<AwardKey, (PendingAward, Option<DateTime<Utc>>)>,
    assertions: HashMap<String, IssuedAssertion>,
    by_learner: HashMap<String, Vec<String>>,
    progress: BTreeMap<String, StoredProgress>,
    /// (learner, event id) of every committed event that had an id.
    handled: HashSet<(String, String)>,
    checkpoints: HashMap<String, u64>,
    /// For each status list, the bit of each credential, and the bits taken.
    status: HashMap<String, (HashMap<String, u64>, HashSet<u64>)>,
}

/// A [`BadgeStore`](crate::BadgeStore) held in memory behind one mutex (every method is one critical section,
/// which makes each atomic).
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way later
        // calls would misread (each method finishes its checks before it writes), so a
        // poisoned lock is taken over.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl ProgressStore for MemoryStore {
    async fn progress(&self, learner: &str) -> Result<Option<StoredProgress>, Error> {
        Ok(self.lock().progress.get(learner).cloned())
    }

    async fn commit_progress(&self, update: ProgressUpdate) -> Result<ProgressCommit, Error> {
        ProgressUpdate::check_all(std::slice::from_ref(&update))?;
        let mut inner = self.lock();
        if update.event_ids.iter().any(|id| {
            inner
                .handled
                .contains(&(update.learner.clone(), id.clone()))
        }) {
            return Ok(ProgressCommit::AlreadyHandled);
        }
        if inner.progress.get(&update.learner).map(|p| p.version) != update.expected {
            return Ok(ProgressCommit::Conflict);
        }
        let version = update.expected.unwrap_or(0) + 1;
        let claims = inner.commit(update);
        Ok(ProgressCommit::Committed { version, claims })
    }

    async fn progress_of(&self, learners: &[String]) -> Result<Vec<Option<StoredProgress>>, Error> {
        let inner = self.lock();
        Ok(learners
            .iter()
            .map(|l| inner.progress.get(l).cloned())
            .collect())
    }

    async fn handled(&self, events: &[(String, String)]) -> Result<Vec<bool>, Error> {
        let inner = self.lock();
        Ok(events.iter().map(|e| inner.handled.contains(e)).collect())
    }

    async fn commit_progress_batch(
        &self,
        updates: Vec<ProgressUpdate>,
    ) -> Result<BatchCommit, Error> {
        ProgressUpdate::check_all(&updates)?;
        let mut inner = self.lock();
        let current = updates.iter().all(|u| {
            inner.progress.get(&u.learner).map(|p| p.version) == u.expected
                && !u
                    .event_ids
                    .iter()
                    .any(|id| inner.handled.contains(&(u.learner.clone(), id.clone())))
        });
        if !current {
            return Ok(BatchCommit::Conflict);
        }
        Ok(BatchCommit::Committed(
            updates.into_iter().map(|u| inner.commit(u)).collect(),
        ))
    }

    async fn learners(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>, Error> {
        let inner = self.lock();
        let start = match after {
            Some(after) => std::ops::Bound::Excluded(after.to_owned()),
            None => std::ops::Bound::Unbounded,
        };
        Ok(inner
            .progress
            .range((start, std::ops::Bound::Unbounded))
            .take(limit)
            .map(|(learner, _)| learner.clone())
            .collect())
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<u64>, Error> {
        Ok(self.lock().checkpoints.get(name).copied())
    }

    async fn set_checkpoint(&self, name: &str, position: u64) -> Result<(), Error> {
        let mut inner = self.lock();
        let recorded = inner.checkpoints.entry(name.to_owned()).or_insert(position);
        *recorded = (*recorded).max(position);
        Ok(())
    }
}

impl Inner {
    /// Stores an update already checked against the current version and event ids.
    fn commit(&mut self, update: ProgressUpdate) -> Vec<Claim> {
        let version = update.expected.unwrap_or(0) + 1;
        self.progress.insert(
            update.learner.clone(),
            StoredProgress::new(version, update.bytes),
        );
        for id in update.event_ids {
            self.handled.insert((update.learner.clone(), id));
        }
        update
            .awards
            .into_iter()
            .map(|award| match self.awards.get(&award.key) {
                Some((existing, _)) => Claim::Exists(existing.clone()),
                None => {
                    self.awards
                        .insert(award.key.clone(), (award.clone(), Some(update.lease_until)));
                    Claim::Won(award)
                }
            })
            .collect()
    }
}

fn not_claimed(key: &AwardKey) -> Error {
    Error::NotFound(format!("no claimed award for {key}"))
}

#[async_trait]
impl ClassCatalog for MemoryStore {
    async fn get_or_create_class(
        &self,
        class: BadgeClassRecord,
    ) -> Result<(BadgeClassRecord, bool), Error> {
        class.check()?;
        let mut inner = self.lock();
        if let Some(existing) = inner.classes.get(&class.slug) {
            return Ok((existing.clone(), false));
        }
        if class.course.is_some() {
            if let Some(other) = inner
                .classes
                .values()
                .find(|c| c.course == class.course && c.mode == class.mode)
            {
                return Err(Error::Conflict(format!(
                    "class {} is already the class for course {} and mode {}",
                    other.slug,
                    class.course.as_deref().unwrap_or(""),
                    class.mode.as_deref().unwrap_or("(any)")
                )));
            }
        }
        inner.classes.insert(class.slug.clone(), class.clone());
        Ok((class, true))
    }

    async fn class(&self, slug: &str) -> Result<Option<BadgeClassRecord>, Error> {
        Ok(self.lock().classes.get(slug).cloned())
    }

    async fn set_backend_id(&self, slug: &str, backend_id: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        let class = inner
            .classes
            .get_mut(slug)
            .ok_or_else(|| Error::NotFound(format!("badge class {slug}")))?;
        class.backend_id = Some(backend_id.to_owned());
        Ok(())
    }

    async fn classes(&self) -> Result<Vec<BadgeClassRecord>, Error> {
        Ok(self.lock().classes.values().cloned().collect())
    }
}

#[async_trait]
impl AwardLedger for MemoryStore {
    async fn claim(&self, award: PendingAward, lease_until: DateTime<Utc>) -> Result<Claim, Error> {
        award.key.check()?;
        let mut inner = self.lock();
        if let Some((existing, _)) = inner.awards.get(&award.key) {
            return Ok(Claim::Exists(existing.clone()));
        }
        inner
            .awards
            .insert(award.key.clone(), (award.clone(), Some(lease_until)));
        Ok(Claim::Won(award))
    }

    async fn take_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PendingAward>, Error> {
        let mut inner = self.lock();
        let mut due = Vec::new();
        for (award, lease) in inner.awards.values_mut() {
            if due.len() == limit {
                break;
            }
            if award.state == AwardState::Pending
                && award.next_attempt <= now
                && lease.is_none_or(|l| l <= now)
            {
                *lease = Some(lease_until);
                due.push(award.clone());
            }
        }
        Ok(due)
    }

    async fn unissued(&self) -> Result<Vec<PendingAward>, Error> {
        Ok(self
            .lock()
            .awards
            .values()
            .filter(|(a, _)| !matches!(a.state, AwardState::Issued { .. }))
            .map(|(a, _)| a.clone())
            .collect())
    }

    async fn release(&self, key: &AwardKey) -> Result<(), Error> {
        let mut inner = self.lock();
        let (_, lease) = inner.awards.get_mut(key).ok_or_else(|| not_claimed(key))?;
        *lease = None;
        Ok(())
    }

    async fn reopen(
        &self,
        key: &AwardKey,
        lease_until: DateTime<Utc>,
    ) -> Result<PendingAward, Error> {
        let mut inner = self.lock();
        let (award, lease) = inner.awards.get_mut(key).ok_or_else(|| not_claimed(key))?;
        let AwardState::Failed { reason } = &award.state else {
            return Err(Error::Conflict(format!("the award {key} has not failed")));
        };
        award.last_error = Some(reason.clone());
        award.state = AwardState::Pending;
        award.attempts = 0;
        *lease = Some(lease_until);
        Ok(award.clone())
    }

    async fn awards(
        &self,
        after: Option<&AwardKey>,
        limit: usize,
    ) -> Result<Vec<PendingAward>, Error> {
        use std::ops::Bound;
        let inner = self.lock();
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(inner
            .awards
            .range((from, Bound::Unbounded))
            .take(limit)
            .map(|(_, (a, _))| a.clone())
            .collect())
    }

    async fn latest_award(&self, learner: &str, slug: &str) -> Result<Option<PendingAward>, Error> {
        let inner = self.lock();
        let from = AwardKey::new(learner, slug, 0);
        let to = AwardKey::new(learner, slug, u32::MAX);
        Ok(inner
            .awards
            .range(from..=to)
            .next_back()
            .map(|(_, (a, _))| a.clone()))
    }

    async fn complete(&self, assertion: IssuedAssertion) -> Result<(), Error> {
        let mut inner = self.lock();
        let (award, lease) = inner
            .awards
            .get_mut(&assertion.key)
            .ok_or_else(|| not_claimed(&assertion.key))?;
        award.state = AwardState::Issued {
            assertion: assertion.id.clone(),
        };
        award.attempts += 1;
        *lease = None;
        let learner = assertion.key.learner.clone();
        let id = assertion.id.clone();
        if inner.assertions.insert(id.clone(), assertion).is_none() {
            inner.by_learner.entry(learner).or_default().push(id);
        }
        Ok(())
    }

    async fn retry_later(
        &self,
        key: &AwardKey,
        error: &str,
        next_attempt: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut inner = self.lock();
        let (award, lease) = inner.awards.get_mut(key).ok_or_else(|| not_claimed(key))?;
        if award.state == AwardState::Pending {
            award.attempts += 1;
            award.next_attempt = next_attempt;
            award.last_error = Some(error.to_owned());
            *lease = None;
        }
        Ok(())
    }

    async fn fail(&self, key: &AwardKey, reason: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        let (award, lease) = inner.awards.get_mut(key).ok_or_else(|| not_claimed(key))?;
        if award.state == AwardState::Pending {
            award.attempts += 1;
            award.state = AwardState::Failed {
                reason: reason.to_owned(),
            };
            *lease = None;
        }
        Ok(())
    }
}

#[async_trait]
impl AssertionRepository for MemoryStore {
    async fn assertion(&self, id: &str) -> Result<Option<IssuedAssertion>, Error> {
        Ok(self.lock().assertions.get(id).cloned())
    }

    async fn assertions_for(
        &self,
        learner: &str,
        filter: &AssertionFilter,
    ) -> Result<Vec<IssuedAssertion>, Error> {
        let inner = self.lock();
        let mut found: Vec<IssuedAssertion> = inner
            .by_learner
            .get(learner)
            .into_iter()
            .flatten()
            .filter_map(|id| inner.assertions.get(id))
            .filter(|a| filter.matches(a))
            .cloned()
            .collect();
        found.sort_by(|a, b| b.issued_on.cmp(&a.issued_on).then_with(|| b.id.cmp(&a.id)));
        Ok(found)
    }

    async fn store_revoked(&self, assertion: IssuedAssertion) -> Result<(), Error> {
        let mut inner = self.lock();
        let stored = inner
            .assertions
            .get_mut(&assertion.id)
            .ok_or_else(|| Error::NotFound(format!("assertion {}", assertion.id)))?;
        *stored = assertion;
        Ok(())
    }

    async fn revoked_assertions(&self) -> Result<Vec<IssuedAssertion>, Error> {
        let mut revoked: Vec<IssuedAssertion> = (self.lock().assertions.values())
            .filter(|a| a.revoked.is_some())
            .cloned()
            .collect();
        revoked.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(revoked)
    }

    async fn status_index(
        &self,
        list: &str,
        credential: &str,
        candidates: &[u64],
    ) -> Result<Option<u64>, Error> {
        let mut inner = self.lock();
        let (given, taken) = inner.status.entry(list.to_owned()).or_default();
        if let Some(index) = given.get(credential) {
            return Ok(Some(*index));
        }
        let Some(free) = candidates.iter().copied().find(|c| !taken.contains(c)) else {
            return Ok(None);
        };
        taken.insert(free);
        given.insert(credential.to_owned(), free);
        Ok(Some(free))
    }
}
