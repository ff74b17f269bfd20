//! The two traits a host implements or picks: where awards go, and where they are kept.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::types::{
    AssertionFilter, AwardKey, AwardRequest, BadgeClassRecord, BatchCommit, Claim, IssuedAssertion,
    PendingAward, ProgressCommit, ProgressUpdate, StoredProgress,
};

/// A badge service awards go to: the platform's own hosted issuer, Badgr, Credly, ….
///
/// Errors say whether a retry can help ([`Error::is_retryable`]). Implementations must be
/// idempotent on [`AwardRequest::key`]: awarding the same key twice (after a timeout whose
/// response was lost, say) must not issue two assertions.
#[async_trait]
pub trait BadgeBackend: Send + Sync + Debug {
    /// The backend's name, recorded with each assertion.
    fn name(&self) -> &str;

    /// Makes sure the backend has the class (creating it the first time) and returns the
    /// backend's id for it.
    ///
    /// # Errors
    /// As the backend reports them.
    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, Error>;

    /// Issues an award and returns the assertion.
    ///
    /// # Errors
    /// As the backend reports them.
    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, Error>;

    /// Revokes an assertion with a reason; returns it as revoked.
    ///
    /// # Errors
    /// As the backend reports them.
    async fn revoke(
        &self,
        assertion: &IssuedAssertion,
        reason: &str,
    ) -> Result<IssuedAssertion, Error>;
}

/// Where badge classes are kept, by slug. Which class a course and mode award is the rules'
/// decision alone (a rule set maps them to a slug); the catalogue keeps the class documents.
///
/// Every method is atomic. Slugs are unique; so is a class's (course, mode): a store may be
/// shared by engines with different rule sets (two app servers mid-deploy), and only the
/// store sees every class they register.
#[async_trait]
pub trait ClassCatalog: Send + Sync + Debug {
    /// Stores a class unless one with its slug exists, and returns the stored class and whether
    /// it was created. An existing class is never altered. A class for a course and mode that
    /// another class already has is a [`Error::Conflict`]; a class that fails
    /// [`BadgeClassRecord::check`] is [`Error::Rejected`].
    ///
    /// # Errors
    /// [`Error::Conflict`], [`Error::Rejected`], or the store's own errors.
    async fn get_or_create_class(
        &self,
        class: BadgeClassRecord,
    ) -> Result<(BadgeClassRecord, bool), Error>;

    /// The class with this slug.
    ///
    /// # Errors
    /// The store's own errors.
    async fn class(&self, slug: &str) -> Result<Option<BadgeClassRecord>, Error>;

    /// Records the backend's id for a class.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown slug.
    async fn set_backend_id(&self, slug: &str, backend_id: &str) -> Result<(), Error>;

    /// Every class, by slug.
    ///
    /// # Errors
    /// The store's own errors.
    async fn classes(&self) -> Result<Vec<BadgeClassRecord>, Error>;
}

/// Where awards are kept from the moment one is decided until it is issued or fails for good.
///
/// Every method is atomic. [`AwardLedger::claim`] is the exactly-once guarantee: of any number
/// of concurrent claims of one [`AwardKey`], exactly one wins, and the winner holds a *lease*
/// on the award: until the lease ends, [`AwardLedger::take_due`] hands the award to nobody
/// else, so only the claimer calls the backend. A claimer that dies leaves the award to be
/// taken again once its lease has ended. [`AwardLedger::complete`],
/// [`AwardLedger::retry_later`] and [`AwardLedger::fail`] end the lease.
#[async_trait]
pub trait AwardLedger: Send + Sync + Debug {
    /// Claims an award: stores it as pending unless its key was claimed before. A won claim is
    /// leased to the caller until `lease_until`: no [`AwardLedger::take_due`] returns it before.
    ///
    /// # Errors
    /// [`Error::Rejected`] for a key that fails [`AwardKey::check`]; the store's own errors.
    async fn claim(&self, award: PendingAward, lease_until: DateTime<Utc>) -> Result<Claim, Error>;

    /// Pending awards due at `now` (up to `limit`) whose lease, if any, has ended by `now`,
    /// each leased until `lease_until` so that a concurrent caller does not get it too.
    ///
    /// # Errors
    /// The store's own errors.
    async fn take_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PendingAward>, Error>;

    /// Ends the lease on a pending award without recording an attempt, so that it is due to
    /// anyone again (an engine that took an award it will not work on gives it back).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the award was never claimed.
    async fn release(&self, key: &AwardKey) -> Result<(), Error>;

    /// Every award not yet issued (pending or failed for good).
    ///
    /// # Errors
    /// The store's own errors.
    async fn unissued(&self) -> Result<Vec<PendingAward>, Error>;

    /// Makes a failed award pending again (attempts from zero, its failure kept as the last
    /// error), leased to the caller until `lease_until`, and returns it: the operator's way to
    /// issue an award once the cause of its failure is fixed.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the award was never claimed, [`Error::Conflict`] when it has
    /// not failed.
    async fn reopen(
        &self,
        key: &AwardKey,
        lease_until: DateTime<Utc>,
    ) -> Result<PendingAward, Error>;

    /// Every award in any state, in key order (learner, class, award number), starting after
    /// `after` and at most `limit`: pages through the whole ledger.
    ///
    /// # Errors
    /// The store's own errors.
    async fn awards(
        &self,
        after: Option<&AwardKey>,
        limit: usize,
    ) -> Result<Vec<PendingAward>, Error>;

    /// The claimed award of the class `slug` to `learner` with the highest award number, in
    /// any state.
    ///
    /// # Errors
    /// The store's own errors.
    async fn latest_award(&self, learner: &str, slug: &str) -> Result<Option<PendingAward>, Error>;

    /// Records the assertion and marks its award issued, atomically. Recording the same
    /// assertion again changes nothing.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the award was never claimed.
    async fn complete(&self, assertion: IssuedAssertion) -> Result<(), Error>;

    /// Keeps an award pending after a transient failure, to retry at `next_attempt`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the award was never claimed.
    async fn retry_later(
        &self,
        key: &AwardKey,
        error: &str,
        next_attempt: DateTime<Utc>,
    ) -> Result<(), Error>;

    /// Marks an award failed for good, with the reason.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the award was never claimed.
    async fn fail(&self, key: &AwardKey, reason: &str) -> Result<(), Error>;
}

/// Where issued assertions are kept and looked up (to serve them, list a learner's badges, or
/// revoke one).
#[async_trait]
pub trait AssertionRepository: Send + Sync + Debug {
    /// The assertion with this id.
    ///
    /// # Errors
    /// The store's own errors.
    async fn assertion(&self, id: &str) -> Result<Option<IssuedAssertion>, Error>;

    /// A learner's assertions passing `filter`, newest first.
    ///
    /// # Errors
    /// The store's own errors.
    async fn assertions_for(
        &self,
        learner: &str,
        filter: &AssertionFilter,
    ) -> Result<Vec<IssuedAssertion>, Error>;

    /// Replaces a stored assertion by its revoked form.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown id.
    async fn store_revoked(&self, assertion: IssuedAssertion) -> Result<(), Error>;

    /// Every revoked assertion, by id: what an issuer's revocation list (signed badges)
    /// lists.
    ///
    /// # Errors
    /// The store's own errors.
    async fn revoked_assertions(&self) -> Result<Vec<IssuedAssertion>, Error>;

    /// The bit of status list `list` that credential `credential` holds: the one it was
    /// given before (issuing again after a lost response gives the same), else the first of
    /// `candidates` no other credential of the list holds, taken for it. `None` when every
    /// candidate is taken (the caller draws more, or starts another list). Open Badges 3.0
    /// status lists draw their candidates at random, so that positions in the list do not
    /// tell the order of issue.
    ///
    /// # Errors
    /// The store's own errors.
    async fn status_index(
        &self,
        list: &str,
        credential: &str,
        candidates: &[u64],
    ) -> Result<Option<u64>, Error>;
}

/// Where learners' progress is kept, so that a restarted engine, or another app server,
/// decides each learner's next event from what every earlier event recorded (no replay, no
/// learner in memory).
///
/// [`ProgressStore::commit_progress`] is an outbox: a learner's new progress and the claims of
/// the awards it decided commit together or not at all, and only over the version that was
/// read (compare and swap), so that concurrent writers of one learner serialise: the loser
/// reads again and re-applies its event.
#[async_trait]
pub trait ProgressStore: Send + Sync + Debug {
    /// The learner's progress as last committed, with its version.
    ///
    /// # Errors
    /// The store's own errors.
    async fn progress(&self, learner: &str) -> Result<Option<StoredProgress>, Error>;

    /// Atomically: unless the update's event id was committed before for this learner
    /// ([`ProgressCommit::AlreadyHandled`]) or the learner's version is no longer
    /// `expected` ([`ProgressCommit::Conflict`]), stores the progress as the next version,
    /// records the event id, and claims each award as [`AwardLedger::claim`] does (leased
    /// until `lease_until`). Otherwise nothing changes.
    ///
    /// # Errors
    /// [`Error::Rejected`] for an award key that fails [`AwardKey::check`]; the store's own
    /// errors (nothing is stored then).
    async fn commit_progress(&self, update: ProgressUpdate) -> Result<ProgressCommit, Error>;

    /// The progress of each of `learners` (`None` for one without), in the order given: what
    /// a batch of events reads at once.
    ///
    /// # Errors
    /// The store's own errors.
    async fn progress_of(&self, learners: &[String]) -> Result<Vec<Option<StoredProgress>>, Error>;

    /// For each (learner, event id), whether it was committed before.
    ///
    /// # Errors
    /// The store's own errors.
    async fn handled(&self, events: &[(String, String)]) -> Result<Vec<bool>, Error>;

    /// Commits several learners' updates (one each) atomically, as
    /// [`ProgressStore::commit_progress`] commits one: all of them, or, when any learner's
    /// version is no longer the one read or any event id was committed before, none
    /// ([`BatchCommit::Conflict`]).
    ///
    /// # Errors
    /// [`Error::Rejected`] for an award key that fails [`AwardKey::check`] or a learner given
    /// twice; the store's own errors (nothing is stored then).
    async fn commit_progress_batch(
        &self,
        updates: Vec<ProgressUpdate>,
    ) -> Result<BatchCommit, Error>;

    /// The learners with stored progress, in name order, after `after` (all: `None`), at
    /// most `limit`: the pages a back-fill walks.
    ///
    /// # Errors
    /// The store's own errors.
    async fn learners(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>, Error>;

    /// How far the consumer `name` of an event log has got (the position it last recorded),
    /// if it recorded any.
    ///
    /// # Errors
    /// The store's own errors.
    async fn checkpoint(&self, name: &str) -> Result<Option<u64>, Error>;

    /// Records that the consumer `name` has handled its log up to `position`; a position
    /// lower than the one recorded is ignored (checkpoints only move forward). A consumer
    /// that stops between a commit and its checkpoint handles those events again after a
    /// restart, which their ids make harmless.
    ///
    /// # Errors
    /// The store's own errors.
    async fn set_checkpoint(&self, name: &str, position: u64) -> Result<(), Error>;
}

/// A whole store: the class catalogue, the award ledger and the assertion repository, which the
/// engine needs together. Implemented for every type that implements the three; a store's
/// [`AwardLedger::complete`] writes to its own repository in the same transaction.
pub trait BadgeStore: ClassCatalog + AwardLedger + AssertionRepository {}

impl<T: ClassCatalog + AwardLedger + AssertionRepository + ?Sized> BadgeStore for T {}

macro_rules! forward_backend {
    ($($ptr:ty),*) => {$(
        #[async_trait]
        impl<T: BadgeBackend + ?Sized> BadgeBackend for $ptr {
            fn name(&self) -> &str { (**self).name() }
            async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, Error> { (**self).ensure_class(class).await }
            async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, Error> { (**self).award(request).await }
            async fn revoke(&self, assertion: &IssuedAssertion, reason: &str) -> Result<IssuedAssertion, Error> { (**self).revoke(assertion, reason).await }
        }
    )*};
}

forward_backend!(Arc<T>, Box<T>);

macro_rules! forward_progress {
    ($($ptr:ty),*) => {$(
        #[async_trait]
        impl<T: ProgressStore + ?Sized> ProgressStore for $ptr {
            async fn progress(&self, learner: &str) -> Result<Option<StoredProgress>, Error> { (**self).progress(learner).await }
            async fn commit_progress(&self, update: ProgressUpdate) -> Result<ProgressCommit, Error> { (**self).commit_progress(update).await }
            async fn progress_of(&self, learners: &[String]) -> Result<Vec<Option<StoredProgress>>, Error> { (**self).progress_of(learners).await }
            async fn handled(&self, events: &[(String, String)]) -> Result<Vec<bool>, Error> { (**self).handled(events).await }
            async fn commit_progress_batch(&self, updates: Vec<ProgressUpdate>) -> Result<BatchCommit, Error> { (**self).commit_progress_batch(updates).await }
            async fn learners(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>, Error> { (**self).learners(after, limit).await }
            async fn checkpoint(&self, name: &str) -> Result<Option<u64>, Error> { (**self).checkpoint(name).await }
            async fn set_checkpoint(&self, name: &str, position: u64) -> Result<(), Error> { (**self).set_checkpoint(name, position).await }
        }
    )*};
}

forward_progress!(Arc<T>, Box<T>);

macro_rules! forward_store {
    ($($ptr:ty),*) => {$(
        #[async_trait]
        impl<T: ClassCatalog + ?Sized> ClassCatalog for $ptr {
            async fn get_or_create_class(&self, class: BadgeClassRecord) -> Result<(BadgeClassRecord, bool), Error> { (**self).get_or_create_class(class).await }
            async fn class(&self, slug: &str) -> Result<Option<BadgeClassRecord>, Error> { (**self).class(slug).await }
            async fn set_backend_id(&self, slug: &str, backend_id: &str) -> Result<(), Error> { (**self).set_backend_id(slug, backend_id).await }
            async fn classes(&self) -> Result<Vec<BadgeClassRecord>, Error> { (**self).classes().await }
        }

        #[async_trait]
        impl<T: AwardLedger + ?Sized> AwardLedger for $ptr {
            async fn claim(&self, award: PendingAward, lease_until: DateTime<Utc>) -> Result<Claim, Error> { (**self).claim(award, lease_until).await }
            async fn take_due(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: usize) -> Result<Vec<PendingAward>, Error> { (**self).take_due(now, lease_until, limit).await }
            async fn release(&self, key: &AwardKey) -> Result<(), Error> { (**self).release(key).await }
            async fn unissued(&self) -> Result<Vec<PendingAward>, Error> { (**self).unissued().await }
            async fn reopen(&self, key: &AwardKey, lease_until: DateTime<Utc>) -> Result<PendingAward, Error> { (**self).reopen(key, lease_until).await }
            async fn awards(&self, after: Option<&AwardKey>, limit: usize) -> Result<Vec<PendingAward>, Error> { (**self).awards(after, limit).await }
            async fn latest_award(&self, learner: &str, slug: &str) -> Result<Option<PendingAward>, Error> { (**self).latest_award(learner, slug).await }
            async fn complete(&self, assertion: IssuedAssertion) -> Result<(), Error> { (**self).complete(assertion).await }
            async fn retry_later(&self, key: &AwardKey, error: &str, next_attempt: DateTime<Utc>) -> Result<(), Error> { (**self).retry_later(key, error, next_attempt).await }
            async fn fail(&self, key: &AwardKey, reason: &str) -> Result<(), Error> { (**self).fail(key, reason).await }
        }

        #[async_trait]
        impl<T: AssertionRepository + ?Sized> AssertionRepository for $ptr {
            async fn assertion(&self, id: &str) -> Result<Option<IssuedAssertion>, Error> { (**self).assertion(id).await }
            async fn assertions_for(&self, learner: &str, filter: &AssertionFilter) -> Result<Vec<IssuedAssertion>, Error> { (**self).assertions_for(learner, filter).await }
            async fn store_revoked(&self, assertion: IssuedAssertion) -> Result<(), Error> { (**self).store_revoked(assertion).await }
            async fn revoked_assertions(&self) -> Result<Vec<IssuedAssertion>, Error> { (**self).revoked_assertions().await }
            async fn status_index(&self, list: &str, credential: &str, candidates: &[u64]) -> Result<Option<u64>, Error> { (**self).status_index(list, credential, candidates).await }
        }
    )*};
}

forward_store!(Arc<T>, Box<T>);
