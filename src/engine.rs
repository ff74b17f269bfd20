//! The awarding engine: events → rules → an award claimed once in the store → the backend →
//! the assertion recorded.
//!
//! Exactly once: every award the rules decide is first *claimed* in the store under its
//! [`AwardKey`] (learner, class, award number). Only the claim's winner calls the backend;
//! a duplicate or replayed event, a concurrent event for the same learner, or an engine
//! restarted over the same store finds the claim and stops there. A transient backend
//! failure leaves the award pending with a retry time (exponential backoff); a permanent one
//! marks it failed with its reason. A won claim is *leased* to the engine that won it, and an
//! award taken by [`Engine::retry_pending`] to the engine that took it: while the lease is live
//! no other engine over the store calls the backend for it, and a lease outlives the backend
//! calls made under it (each has a timeout). The operator's path for awards that failed for
//! good is [`Engine::failed_awards`] and [`Engine::reissue`]. [`Engine::retry_pending`] issues
//! what is due, including what a crash interrupted; the backend sees the same idempotency key
//! each time.
//!
//! After a restart, the host builds a new engine over the same store and replays its event
//! log: the rules decide the same awards with the same keys, and the store's claims keep
//! anything already issued from being issued again.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use badgery_backend::{
    AwardKey, AwardRequest, AwardState, BadgeBackend, BadgeClassRecord, BadgeStore, BatchCommit,
    Claim, ClassImage, EvidenceItem, IssuedAssertion, PendingAward, ProgressCommit, ProgressStore,
    ProgressUpdate, Recipient,
};
use badgery_rules::{Award, ClassRule, Evaluator, Event, Progress, Rule, RuleSet};
use chrono::{DateTime, Duration, Utc};
use tracing::Instrument;

use crate::class_image::check_class_image;
use crate::error::Error;

/// How many times in a row an event is applied again after another engine committed the same
/// learner's progress first, before handling it fails (the event can be delivered again).
const MAX_PROGRESS_CONFLICTS: u32 = 64;

/// What the engine needs to know about learners and courses; the host implements it, usually
/// over its own database (so it is async: the engine awaits it on the awarding path).
///
/// A lookup that fails is an answer of `None`: the award waits (no email yet) or goes ahead
/// without what is missing (a course's pages, a certificate's URL).
#[async_trait::async_trait]
pub trait Directory: Send + Sync + fmt::Debug {
    /// The email address a learner's badges are issued to.
    async fn email(&self, learner: &str) -> Option<String>;

    /// A course's name and pages, for classes created automatically.
    async fn course(&self, course: &str) -> Option<CourseInfo>;

    /// The URL of a learner's certificate in a course, used as evidence.
    async fn certificate_url(&self, _learner: &str, _course: &str) -> Option<String> {
        None
    }
}

/// What the engine shows of a course.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CourseInfo {
    /// Display name.
    pub name: String,
    /// The course's about page (the criteria URL of its completion badges).
    pub about_url: Option<String>,
    /// Start date, as shown to people.
    pub start: Option<String>,
    /// End date, as shown to people.
    pub end: Option<String>,
}

impl CourseInfo {
    /// A course with its name.
    pub fn new(name: impl Into<String>) -> Self {
        CourseInfo {
            name: name.into(),
            ..CourseInfo::default()
        }
    }
}

/// A [`Directory`] held in maps, for tests, examples and small platforms.
#[derive(Debug, Clone, Default)]
pub struct StaticDirectory {
    emails: HashMap<String, String>,
    courses: HashMap<String, CourseInfo>,
    certificates: HashMap<(String, String), String>,
}

impl StaticDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a learner's email.
    pub fn learner(mut self, learner: &str, email: &str) -> Self {
        self.emails.insert(learner.to_owned(), email.to_owned());
        self
    }

    /// Adds a course.
    pub fn course(mut self, course: &str, info: CourseInfo) -> Self {
        self.courses.insert(course.to_owned(), info);
        self
    }

    /// Adds the URL of a learner's certificate in a course (evidence of its completion badge).
    /// It is public: it should name the certificate by an id of its own, not the learner.
    pub fn certificate(mut self, learner: &str, course: &str, url: &str) -> Self {
        self.certificates
            .insert((learner.to_owned(), course.to_owned()), url.to_owned());
        self
    }
}

#[async_trait::async_trait]
impl Directory for StaticDirectory {
    async fn email(&self, learner: &str) -> Option<String> {
        self.emails.get(learner).cloned()
    }

    async fn course(&self, course: &str) -> Option<CourseInfo> {
        self.courses.get(course).cloned()
    }

    async fn certificate_url(&self, learner: &str, course: &str) -> Option<String> {
        self.certificates
            .get(&(learner.to_owned(), course.to_owned()))
            .cloned()
    }
}

/// How transient failures are retried: after `first`, then twice as long each time, at most
/// `max_delay`; after `max_attempts` attempts the award fails for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Delay before the first retry.
    pub first: Duration,
    /// Longest delay between retries.
    pub max_delay: Duration,
    /// Attempts before giving up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first: Duration::seconds(30),
            max_delay: Duration::hours(6),
            max_attempts: 20,
        }
    }
}

impl RetryPolicy {
    /// The delay after the `attempt`-th failed attempt (from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1i32
            .checked_shl(attempt.saturating_sub(1).min(30))
            .unwrap_or(i32::MAX);
        self.first
            .checked_mul(factor)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }
}

/// Course completion classes created on first award for courses that have none (Open edX
/// use case 4): named from the course, with the image configured for the mode or the default.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AutoClasses {
    /// Image per enrollment mode.
    pub images: HashMap<String, ClassImage>,
    /// Image for modes without their own.
    pub default_image: Option<ClassImage>,
}

impl AutoClasses {
    /// Automatic classes with one image for every mode.
    pub fn with_default_image(image: ClassImage) -> Self {
        AutoClasses {
            images: HashMap::new(),
            default_image: Some(image),
        }
    }

    /// Sets the image for one mode.
    pub fn mode_image(mut self, mode: &str, image: ClassImage) -> Self {
        self.images.insert(mode.to_owned(), image);
        self
    }
}

/// What became of an award the engine handled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Issued now.
    Issued(Box<IssuedAssertion>),
    /// Not issued yet: a transient failure; retried at `next_attempt`.
    Deferred {
        /// The award.
        key: AwardKey,
        /// The failure.
        error: String,
        /// When it will be retried.
        next_attempt: DateTime<Utc>,
    },
    /// Failed for good; kept in the store with the reason.
    Failed {
        /// The award.
        key: AwardKey,
        /// Why.
        reason: String,
    },
    /// Already claimed before (a duplicate event, a replay, a concurrent handler): nothing
    /// done.
    AlreadyClaimed {
        /// The award.
        key: AwardKey,
        /// Where it stands.
        state: AwardState,
    },
}

/// Called with each issued, deferred and failed award (to email the learner, emit analytics
/// events, push to a backpack, …).
pub type Notifier = Arc<dyn Fn(&Outcome) + Send + Sync>;

/// What an engine holds in memory, as [`Engine::memory_use`] counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryUse {
    /// Learners whose progress the engine holds.
    pub learners: usize,
    /// Distinct names of courses, modes, activities, roles and badges it has met.
    pub names: usize,
}

/// The awarding engine.
pub struct Engine {
    evaluator: Mutex<Evaluator>,
    store: Arc<dyn BadgeStore>,
    backend: Arc<dyn BadgeBackend>,
    directory: Arc<dyn Directory>,
    retry: RetryPolicy,
    lease: Duration,
    backend_timeout: std::time::Duration,
    auto_classes: Option<AutoClasses>,
    notifier: Option<Notifier>,
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// Awards decided whose claim failed (the store was down): claimed again by
    /// [`Engine::retry_pending`].
    unclaimed: Mutex<Vec<Award>>,
    /// Where learners' progress is kept, when not in `evaluator`'s memory.
    progress: Option<Arc<dyn ProgressStore>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .field("backend", &self.backend)
            .field("retry", &self.retry)
            .field("lease", &self.lease)
            .field("backend_timeout", &self.backend_timeout)
            .finish_non_exhaustive()
    }
}

/// Why a backend call did not return an assertion: what the backend said (a timeout the
/// engine measured is the backend's [`badgery_backend::Error::Timeout`]), or what the engine
/// saw instead of an answer (a panic, no recipient yet), which is always transient.
#[derive(Debug)]
enum Failure {
    Backend(badgery_backend::Error),
    Engine(String),
}

impl Failure {
    fn retryable(&self) -> bool {
        match self {
            Failure::Backend(e) => e.is_retryable(),
            Failure::Engine(_) => true,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Backend(e) => e.to_string(),
            Failure::Engine(message) => message.clone(),
        }
    }
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Runs a backend call with a timeout, turning a panic inside it into a transient failure
/// (the award is kept and retried, never lost with the task).
async fn guarded<T>(
    what: &str,
    timeout: std::time::Duration,
    call: impl Future<Output = Result<T, badgery_backend::Error>>,
) -> Result<T, Failure> {
    let mut call = std::pin::pin!(call);
    let mut deadline = futures_timer::Delay::new(timeout);
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| call.as_mut().poll(cx))) {
            Ok(Poll::Ready(result)) => return Poll::Ready(result.map_err(Failure::Backend)),
            Ok(Poll::Pending) => {}
            Err(payload) => {
                return Poll::Ready(Err(Failure::Engine(format!(
                    "the backend panicked in {what}: {}",
                    panic_message(&*payload)
                ))));
            }
        }
        match Pin::new(&mut deadline).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Failure::Backend(badgery_backend::Error::Timeout(
                format!("the backend's {what} took longer than {timeout:?}"),
            )))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// A learner's email address, if it is one (blank is none).
fn usable_email(email: Option<String>) -> Option<String> {
    email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty())
}

impl Engine {
    /// An engine deciding with `rules`, keeping state in `store`, issuing through `backend`.
    pub fn new(
        rules: RuleSet,
        store: Arc<dyn BadgeStore>,
        backend: Arc<dyn BadgeBackend>,
        directory: Arc<dyn Directory>,
    ) -> Self {
        Engine {
            evaluator: Mutex::new(Evaluator::new(rules)),
            store,
            backend,
            directory,
            retry: RetryPolicy::default(),
            lease: Duration::minutes(5),
            backend_timeout: std::time::Duration::from_secs(30),
            auto_classes: None,
            notifier: None,
            clock: Arc::new(Utc::now),
            unclaimed: Mutex::new(Vec::new()),
            progress: None,
        }
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how long one backend call may take (default 30 s). A call that takes longer is a
    /// transient failure: the award is retried later with the same idempotency key.
    pub fn with_backend_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.backend_timeout = timeout;
        self
    }

    /// Sets how long an award is leased to the engine that claimed or took it (default five
    /// minutes; never less than four backend timeouts, so that a lease outlives the calls made
    /// under it). Another engine takes a leased award only once the lease has ended.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Creates course completion classes on first award (opt-in; the rules must have
    /// [`RuleSet::with_auto_course_completion`] too).
    pub fn with_auto_classes(mut self, auto: AutoClasses) -> Self {
        self.auto_classes = Some(auto);
        self
    }

    /// Calls `notifier` with each issued, deferred and failed award. A notifier that panics
    /// loses nothing: the outcome is already recorded.
    pub fn with_notifier(mut self, notifier: Notifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Keeps learners' progress in `progress` instead of this engine's memory: each event is
    /// applied to the learner's stored progress, which is committed with the claims of the
    /// awards it decided, in one atomic step, over the version read (a conflict with another
    /// engine re-reads and re-applies: the result is that of some serial order of the
    /// events). A restarted engine, or one on another app server, continues with the next
    /// event, with no replay; the engine's memory does not grow with learners. An event
    /// with an id that was committed before changes nothing.
    ///
    /// `progress` is normally the engine's own store (both SQL stores and the memory store are
    /// progress stores). [`Engine::set_rules`] then back-fills the stored learners, page by
    /// page.
    pub fn with_stored_progress(mut self, progress: Arc<dyn ProgressStore>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Uses `clock` for "now" (tests and simulations).
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// What the engine holds in memory: with progress in memory (the default), every learner
    /// seen; with [`Engine::with_stored_progress`], no learner at all, only the names of the
    /// courses, modes, activities, roles and badges met, however many learners are stored.
    pub fn memory_use(&self) -> MemoryUse {
        let evaluator = self.lock_evaluator();
        MemoryUse {
            learners: evaluator.learner_count(),
            names: evaluator.names_known(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn BadgeStore> {
        &self.store
    }

    /// The lease in force: the configured one, but never less than four backend timeouts, so
    /// that a lease outlives the calls made under it.
    fn effective_lease(&self) -> Duration {
        let calls = self
            .backend_timeout
            .checked_mul(4)
            .and_then(|d| Duration::from_std(d).ok())
            .unwrap_or(Duration::MAX);
        self.lease.max(calls)
    }

    /// When a lease taken now ends.
    fn lease_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_add_signed(self.effective_lease())
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// How many awards `retry_pending` takes under one lease: as many as two backend calls
    /// each fit in it (ensure_class and award), between 1 and 16.
    fn retry_batch(&self) -> usize {
        let per_award = self.backend_timeout.as_millis().saturating_mul(2).max(1);
        let lease = u128::try_from(self.effective_lease().num_milliseconds()).unwrap_or(0);
        usize::try_from(lease / per_award)
            .unwrap_or(usize::MAX)
            .clamp(1, 16)
    }

    /// Checks each class's image and stores the classes (an existing class is kept as it is).
    /// Returns the classes created.
    ///
    /// The rules say which course and mode award a class: a record that names no course takes
    /// its rule's (so a host writes them once, in the rules); a record that names one must
    /// name the same.
    ///
    /// # Errors
    /// [`Error::InvalidImage`] for a bad image, [`Error::Config`] for a class the rules award
    /// for another course or mode (naming both; nothing is stored then), or the store's errors.
    pub async fn register_classes(
        &self,
        mut classes: Vec<BadgeClassRecord>,
    ) -> Result<Vec<String>, Error> {
        // The rules' classes of these slugs, found in one pass over the rules (not one per
        // record) and copied, so that no lock is held while the store is called.
        let slugs: HashSet<&str> = classes.iter().map(|c| c.slug.as_str()).collect();
        let rules: HashMap<String, ClassRule> = self
            .lock_evaluator()
            .rules()
            .classes()
            .iter()
            .filter(|c| slugs.contains(c.slug.as_str()))
            .map(|c| (c.slug.clone(), c.clone()))
            .collect();
        drop(slugs);
        for class in &mut classes {
            let rule = rules.get(&class.slug);
            if let Some(rule) = rule
                && class.course.is_none()
                && class.mode.is_none()
            {
                class.course.clone_from(&rule.course);
                class.mode.clone_from(&rule.mode);
            }
            class.check()?;
            check_class_image(&class.slug, &class.image)?;
            check_agrees_with_rules(rule, class)?;
        }
        let mut created = Vec::new();
        for class in classes {
            let (stored, fresh) = self.store.get_or_create_class(class).await?;
            // A class stored before keeps its course and mode: it must agree too.
            check_agrees_with_rules(rules.get(&stored.slug), &stored)?;
            if fresh {
                created.push(stored.slug);
            }
        }
        Ok(created)
    }

    fn lock_evaluator(&self) -> std::sync::MutexGuard<'_, Evaluator> {
        // The evaluator is only mutated inside `apply_into`/`set_rules`, which do not panic on
        // any input; take a poisoned lock over rather than stop issuing.
        self.evaluator
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn lock_unclaimed(&self) -> std::sync::MutexGuard<'_, Vec<Award>> {
        self.unclaimed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Handles one learning event: decides the awards and issues each exactly once.
    ///
    /// # Errors
    /// [`Error::Rules`] for an event that fails its checks. Store failures do not lose awards:
    /// the award is kept and claimed again by [`Engine::retry_pending`]; the first such
    /// failure is returned after the other awards were handled.
    pub async fn handle(&self, event: &Event) -> Result<Vec<Outcome>, Error> {
        event.check()?;
        if let Some(progress_store) = &self.progress {
            let span = tracing::info_span!("handle", stored_progress = true);
            return self
                .handle_with_stored_progress(&**progress_store, event)
                .instrument(span)
                .await;
        }
        let awards = self.lock_evaluator().apply(event);
        let span = tracing::info_span!("handle", awards = awards.len());
        self.process(awards).instrument(span).await
    }

    /// Replaces the rules and issues the awards now due to learners who already met them
    /// (back-fill).
    ///
    /// # Errors
    /// As [`Engine::handle`].
    pub async fn set_rules(&self, rules: RuleSet) -> Result<Vec<Outcome>, Error> {
        let awards = self.lock_evaluator().set_rules(rules);
        if let Some(progress_store) = &self.progress {
            let span = tracing::info_span!("set_rules", stored_progress = true);
            return self
                .backfill_stored(&**progress_store)
                .instrument(span)
                .await;
        }
        let span = tracing::info_span!("set_rules", awards = awards.len());
        self.process(awards).instrument(span).await
    }

    async fn process(&self, awards: Vec<Award>) -> Result<Vec<Outcome>, Error> {
        let mut outcomes = Vec::with_capacity(awards.len());
        let mut first_error = None;
        for award in awards {
            match self.claim_and_issue(&award).await {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => {
                    tracing::warn!(slug = %award.slug, sequence = award.sequence, error = %e,
                        "award not claimed; kept for retry_pending");
                    self.lock_unclaimed().push(award);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// Issues every pending award that is due (transient failures whose retry time has come,
    /// awards a crash interrupted after their claim, awards whose claimer's lease ended) and
    /// claims awards whose claim failed.
    ///
    /// Several engines (app servers, timers) may call it at once over one store: each award is
    /// leased to the engine that takes it, so only one calls the backend for it.
    ///
    /// # Errors
    /// The store's errors (what was not done stays to do).
    pub async fn retry_pending(&self) -> Result<Vec<Outcome>, Error> {
        let span = tracing::info_span!("retry_pending");
        self.retry_pending_inner().instrument(span).await
    }

    async fn retry_pending_inner(&self) -> Result<Vec<Outcome>, Error> {
        let mut outcomes = Vec::new();
        // One at a time off the shared list, so that a failure or a panic part-way leaves the
        // rest where a later call finds it; the store being down again ends the round.
        loop {
            let Some(award) = self.lock_unclaimed().pop() else {
                break;
            };
            match self.claim_and_issue(&award).await {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => {
                    self.lock_unclaimed().push(award);
                    return Err(e);
                }
            }
        }
        // Each award is tried at most once per call: with a zero retry delay an award would
        // otherwise be due again at once, forever. Awards are taken a few at a time so that
        // every lease outlives the calls made for the awards taken with it.
        let batch = self.retry_batch();
        let mut tried = HashSet::new();
        loop {
            let now = (self.clock)();
            let due = self
                .store
                .take_due(now, self.lease_until(now), batch)
                .await?;
            let mut fresh = Vec::with_capacity(due.len());
            for pending in due {
                if tried.insert(pending.key.clone()) {
                    fresh.push(pending);
                } else {
                    // Tried in this call already: give it back for the next call.
                    self.store.release(&pending.key).await?;
                }
            }
            if fresh.is_empty() {
                return Ok(outcomes);
            }
            for pending in fresh {
                tracing::info!(slug = %pending.key.slug, sequence = pending.key.sequence,
                    attempts = pending.attempts, "retrying award");
                outcomes.push(self.issue_with_stored_class(pending).await?);
            }
        }
    }

    /// Every award that failed for good, with its reason in [`AwardState::Failed`]: the
    /// operator's list to act on (register the missing class, fix the learner's email), then
    /// [`Engine::reissue`].
    ///
    /// # Errors
    /// The store's errors.
    pub async fn failed_awards(&self) -> Result<Vec<PendingAward>, Error> {
        let mut failed = self.store.unissued().await?;
        failed.retain(|a| matches!(a.state, AwardState::Failed { .. }));
        Ok(failed)
    }

    /// Issues a failed award again, once the cause of its failure is fixed: it becomes pending
    /// (attempts from zero) and is issued now, with the same key (and so, for the hosted
    /// issuer, the same assertion id).
    ///
    /// # Errors
    /// [`Error::Backend`] with [`badgery_backend::Error::NotFound`] for an award never claimed
    /// or [`badgery_backend::Error::Conflict`] for one that has not failed; the store's errors.
    pub async fn reissue(&self, key: &AwardKey) -> Result<Outcome, Error> {
        let now = (self.clock)();
        let pending = self.store.reopen(key, self.lease_until(now)).await?;
        tracing::info!(slug = %key.slug, sequence = key.sequence, "reissuing a failed award");
        self.issue_with_stored_class(pending).await
    }

    /// [`Engine::reissue`] for every failed award of one class.
    ///
    /// # Errors
    /// The store's errors.
    pub async fn reissue_class(&self, slug: &str) -> Result<Vec<Outcome>, Error> {
        let mut outcomes = Vec::new();
        for award in self.failed_awards().await? {
            if award.key.slug == slug {
                outcomes.push(self.reissue(&award.key).await?);
            }
        }
        Ok(outcomes)
    }

    /// Grants a class again, on purpose, to a learner whose award of it was revoked: a new award
    /// with the next award number, `reason` as its narrative. The rules never do this on their
    /// own: a revoked award stays revoked however often its events are replayed.
    ///
    /// # Errors
    /// [`Error::Backend`] with [`badgery_backend::Error::Conflict`] when the learner's latest
    /// award of the class is not revoked (or there is none: the rules award a first one);
    /// the store's errors.
    pub async fn grant_again(
        &self,
        learner: &str,
        slug: &str,
        reason: &str,
    ) -> Result<Outcome, Error> {
        let conflict = |why: &str| {
            Error::Backend(badgery_backend::Error::Conflict(format!(
                "cannot grant {slug} to {learner} again: {why}"
            )))
        };
        let latest = self
            .store
            .latest_award(learner, slug)
            .await?
            .ok_or_else(|| conflict("it was never awarded"))?;
        let AwardState::Issued { assertion } = &latest.state else {
            return Err(conflict("the latest award is not issued"));
        };
        let revoked = self
            .store
            .assertion(assertion)
            .await?
            .is_some_and(|a| a.revoked.is_some());
        if !revoked {
            return Err(conflict("the latest award is not revoked"));
        }
        let now = (self.clock)();
        let key = AwardKey::new(learner, slug, latest.key.sequence + 1);
        let pending = PendingAward::new(
            key.clone(),
            Recipient::new(learner, latest.recipient.email.clone()),
            vec![EvidenceItem::narrative(reason)],
            reason,
            now,
        );
        match self.store.claim(pending, self.lease_until(now)).await? {
            Claim::Won(pending) => self.issue_with_stored_class(pending).await,
            Claim::Exists(existing) => Ok(Outcome::AlreadyClaimed {
                key,
                state: existing.state,
            }),
        }
    }

    /// Revokes an assertion with a reason through the backend and records it.
    ///
    /// # Errors
    /// [`Error::Backend`] when the assertion is unknown or the backend refuses.
    pub async fn revoke(&self, assertion_id: &str, reason: &str) -> Result<IssuedAssertion, Error> {
        let assertion =
            self.store.assertion(assertion_id).await?.ok_or_else(|| {
                badgery_backend::Error::NotFound(format!("assertion {assertion_id}"))
            })?;
        let revoked = self
            .call_backend("revoke", self.backend.revoke(&assertion, reason))
            .await
            .map_err(|f| match f {
                Failure::Backend(e) => Error::Backend(e),
                Failure::Engine(message) => Error::BackendPanicked(message),
            })?;
        self.store.store_revoked(revoked.clone()).await?;
        Ok(revoked)
    }

    /// Finds or creates the class an award is for.
    async fn class_for(&self, award: &Award) -> Result<Option<BadgeClassRecord>, Error> {
        if let Some(class) = self.store.class(&award.slug).await? {
            return Ok(Some(class));
        }
        let (Some(auto), Rule::CourseCompletion { course, mode }) =
            (&self.auto_classes, &award.rule)
        else {
            return Ok(None);
        };
        let mode_name = mode.as_deref().unwrap_or("");
        let Some(image) = auto.images.get(mode_name).or(auto.default_image.as_ref()) else {
            return Ok(None);
        };
        let info = self
            .directory
            .course(course)
            .await
            .unwrap_or_else(|| CourseInfo::new(course.clone()));
        let dates = match (&info.start, &info.end) {
            (Some(s), Some(e)) => format!(", {s} - {e}"),
            (Some(s), None) => format!(", {s}"),
            _ => String::new(),
        };
        let description = format!(
            "Completed the course \"{}\" ({mode_name}{dates})",
            info.name
        );
        let mut class = BadgeClassRecord::new(
            award.slug.clone(),
            info.name.clone(),
            description.clone(),
            description,
            image.clone(),
        )
        .for_course(course.clone(), mode.as_deref());
        if let Some(about) = info.about_url {
            class = class.with_criteria_url(about);
        }
        check_class_image(&class.slug, &class.image)?;
        Ok(Some(self.store.get_or_create_class(class).await?.0))
    }

    async fn evidence(&self, award: &Award) -> Vec<EvidenceItem> {
        // Count and group badges have no page to point at: give a narrative, never a null URL
        // (which Badgr rejects).
        let url = match &award.rule {
            Rule::CourseCompletion { course, .. } => {
                self.directory.certificate_url(&award.learner, course).await
            }
            _ => None,
        };
        vec![match url {
            Some(url) => EvidenceItem {
                url: Some(url),
                narrative: Some(award.reason.clone()),
            },
            None => EvidenceItem::narrative(award.reason.clone()),
        }]
    }

    /// The award as the ledger keeps it, with its recipient's email (none yet: blank) and
    /// evidence.
    async fn pending_for(&self, award: &Award, now: DateTime<Utc>) -> PendingAward {
        let key = AwardKey::new(award.learner.clone(), award.slug.clone(), award.sequence);
        let email = usable_email(self.directory.email(&award.learner).await).unwrap_or_default();
        PendingAward::new(
            key,
            Recipient::new(award.learner.clone(), email),
            self.evidence(award).await,
            award.reason.clone(),
            now,
        )
    }

    async fn claim_and_issue(&self, award: &Award) -> Result<Outcome, Error> {
        let now = (self.clock)();
        let span = tracing::info_span!("award", slug = %award.slug, sequence = award.sequence);
        async {
            let pending = self.pending_for(award, now).await;
            let claim = self.store.claim(pending, self.lease_until(now)).await?;
            self.issue_claimed(award, claim, now).await
        }
        .instrument(span)
        .await
    }

    /// Issues an award this engine won the claim of; reports one claimed before as such.
    async fn issue_claimed(
        &self,
        award: &Award,
        claim: Claim,
        now: DateTime<Utc>,
    ) -> Result<Outcome, Error> {
        let pending = match claim {
            Claim::Won(pending) => pending,
            Claim::Exists(existing) => {
                tracing::debug!("claimed before");
                return Ok(Outcome::AlreadyClaimed {
                    key: existing.key,
                    state: existing.state,
                });
            }
        };
        tracing::info!(reason = %award.reason, "claimed");
        let key = pending.key.clone();
        match self.class_for(award).await {
            Ok(class) => self.issue_pending(pending, class).await,
            Err(Error::InvalidImage(reason)) => self.fail(&key, reason).await,
            Err(e) => {
                // The claim stands; the award is retried from the store.
                self.store
                    .retry_later(&key, &e.to_string(), now + self.retry.delay(1))
                    .await?;
                Err(e)
            }
        }
    }

    /// [`Engine::handle`] with the learner's progress in the progress store: read it, apply
    /// the event, commit the new progress with the claims of the awards it decided (over the
    /// version read; on a conflict, read again and re-apply), then issue the awards won.
    async fn handle_with_stored_progress(
        &self,
        progress_store: &dyn ProgressStore,
        event: &Event,
    ) -> Result<Vec<Outcome>, Error> {
        self.update_stored_progress(
            progress_store,
            event.learner(),
            event.id(),
            |evaluator, progress| evaluator.apply_to(progress, event),
        )
        .await
    }

    /// Issues the awards whose claims a progress commit made: each won claim's award is
    /// issued; a failure after the claim leaves the award in the ledger for retry_pending,
    /// and the first such failure is returned after the others were issued.
    async fn issue_committed(
        &self,
        awards: &[Award],
        claims: Vec<Claim>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, Error> {
        let mut outcomes = Vec::with_capacity(claims.len());
        let mut first_error = None;
        for (award, claim) in awards.iter().zip(claims) {
            let span = tracing::info_span!("award", slug = %award.slug, sequence = award.sequence);
            match self.issue_claimed(award, claim, now).instrument(span).await {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }

    /// Handles several events in one commit: every learner's progress read at once, the
    /// events applied in order, and every learner's new progress committed with the claims of
    /// the awards they decided in one atomic step (on a conflict with another engine, all of
    /// it read and applied again); then the awards won are issued. Events with an id
    /// committed before, or repeated in the batch, are skipped. The result is that of
    /// [`Engine::handle`] on each event in turn, at the cost of one commit for the batch.
    ///
    /// Without [`Engine::with_stored_progress`], the events are handled one by one.
    ///
    /// # Errors
    /// [`Error::Rules`] for an event that fails its checks (nothing is handled then); the
    /// store's errors (nothing is committed then); as [`Engine::handle`] after the commit.
    pub async fn handle_batch(&self, events: &[Event]) -> Result<Vec<Outcome>, Error> {
        for event in events {
            event.check()?;
        }
        let Some(progress_store) = &self.progress else {
            let mut outcomes = Vec::new();
            let mut first_error = None;
            for event in events {
                match self.handle(event).await {
                    Ok(handled) => outcomes.extend(handled),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            return first_error.map_or(Ok(outcomes), Err);
        };
        let span = tracing::info_span!("handle_batch", events = events.len());
        self.handle_batch_stored(&**progress_store, events)
            .instrument(span)
            .await
    }

    async fn handle_batch_stored(
        &self,
        progress_store: &dyn ProgressStore,
        events: &[Event],
    ) -> Result<Vec<Outcome>, Error> {
        let mut learners: Vec<String> = Vec::new();
        let mut slot: HashMap<&str, usize> = HashMap::new();
        for event in events {
            slot.entry(event.learner()).or_insert_with(|| {
                learners.push(event.learner().to_owned());
                learners.len() - 1
            });
        }
        let with_ids: Vec<(String, String)> = events
            .iter()
            .filter_map(|e| e.id().map(|id| (e.learner().to_owned(), id.to_owned())))
            .collect();
        for _ in 0..MAX_PROGRESS_CONFLICTS {
            let stored = progress_store.progress_of(&learners).await?;
            let handled = progress_store.handled(&with_ids).await?;
            let mut skip: HashSet<(&str, &str)> = with_ids
                .iter()
                .zip(&handled)
                .filter(|(_, handled)| **handled)
                .map(|((l, id), _)| (l.as_str(), id.as_str()))
                .collect();
            let read: Vec<Progress> = stored
                .iter()
                .map(|s| match s {
                    Some(s) => Progress::from_bytes(&s.bytes),
                    None => Ok(Progress::default()),
                })
                .collect::<Result<_, _>>()?;
            let mut progress = read.clone();
            let mut decided: Vec<Vec<Award>> = vec![Vec::new(); learners.len()];
            let mut ids: Vec<Vec<String>> = vec![Vec::new(); learners.len()];
            {
                let mut evaluator = self.lock_evaluator();
                for event in events {
                    let i = slot[event.learner()];
                    if let Some(id) = event.id() {
                        // Handled before, or earlier in this batch.
                        if !skip.insert((event.learner(), id)) {
                            continue;
                        }
                        ids[i].push(id.to_owned());
                    }
                    let (next, awards) = evaluator.apply_to(&progress[i], event);
                    progress[i] = next;
                    decided[i].extend(awards);
                }
            }
            let now = (self.clock)();
            let mut updates = Vec::new();
            let mut awards = Vec::new();
            for (i, learner) in learners.iter().enumerate() {
                if decided[i].is_empty() && progress[i] == read[i] {
                    continue;
                }
                let mut pending = Vec::with_capacity(decided[i].len());
                for award in &decided[i] {
                    pending.push(self.pending_for(award, now).await);
                }
                let mut update = ProgressUpdate::new(
                    learner.clone(),
                    stored[i].as_ref().map(|s| s.version),
                    progress[i].to_bytes(),
                    pending,
                    self.lease_until(now),
                );
                update.event_ids = std::mem::take(&mut ids[i]);
                updates.push(update);
                awards.push(std::mem::take(&mut decided[i]));
            }
            if updates.is_empty() {
                return Ok(Vec::new());
            }
            match progress_store.commit_progress_batch(updates).await? {
                BatchCommit::Committed(claims) => {
                    let mut outcomes = Vec::new();
                    let mut first_error = None;
                    for (awards, claims) in awards.iter().zip(claims) {
                        match self.issue_committed(awards, claims, now).await {
                            Ok(issued) => outcomes.extend(issued),
                            Err(e) => {
                                first_error.get_or_insert(e);
                            }
                        }
                    }
                    return first_error.map_or(Ok(outcomes), Err);
                }
                _ => tracing::debug!(
                    "a learner's progress changed since it was read; applying again"
                ),
            }
        }
        Err(Error::Backend(badgery_backend::Error::Conflict(format!(
            "a batch of {} events met {MAX_PROGRESS_CONFLICTS} conflicting commits in a row",
            events.len()
        ))))
    }

    /// Back-fills every learner of the progress store under the rules now in force, page by
    /// page, committing each learner's new progress with its awards. Interrupted, it resumes
    /// at the page it stopped in (a checkpoint named after the rule set); what a learner was
    /// awarded is in their progress, so nothing is awarded twice.
    async fn backfill_stored(
        &self,
        progress_store: &dyn ProgressStore,
    ) -> Result<Vec<Outcome>, Error> {
        const PAGE: usize = 500;
        // The walk's checkpoint, named after the rule set: the number of learners (in name
        // order) back-filled, recorded after each page, so that a walk a crash interrupted
        // resumes at its page. (A learner added meanwhile before the cursor is decided by
        // its own events, under these rules.)
        let name = {
            use sha2::Digest;
            let rules = format!("{:?}", self.lock_evaluator().rules());
            let digest = sha2::Sha256::digest(rules.as_bytes());
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("badgery back-fill {hex}")
        };
        let done = progress_store.checkpoint(&name).await?.unwrap_or(0);
        let mut outcomes = Vec::new();
        let mut after: Option<String> = None;
        let mut walked = 0u64;
        loop {
            let page = progress_store.learners(after.as_deref(), PAGE).await?;
            for learner in &page {
                walked += 1;
                if walked <= done {
                    continue;
                }
                outcomes.extend(
                    self.update_stored_progress(
                        progress_store,
                        learner,
                        None,
                        |evaluator, progress| evaluator.backfill_progress(learner, progress),
                    )
                    .await?,
                );
            }
            if walked > done {
                progress_store.set_checkpoint(&name, walked).await?;
            }
            match page.last() {
                Some(last) if page.len() == PAGE => after = Some(last.clone()),
                _ => return Ok(outcomes),
            }
        }
    }

    /// Reads `learner`'s stored progress, applies `change` to it, and commits the new progress
    /// with the claims of the awards it decided, over the version read (on a conflict, reads
    /// again and re-applies); then issues the awards won.
    async fn update_stored_progress(
        &self,
        progress_store: &dyn ProgressStore,
        learner: &str,
        event_id: Option<&str>,
        change: impl Fn(&mut Evaluator, &Progress) -> (Progress, Vec<Award>),
    ) -> Result<Vec<Outcome>, Error> {
        for _ in 0..MAX_PROGRESS_CONFLICTS {
            let stored = progress_store.progress(learner).await?;
            let progress = match &stored {
                Some(stored) => Progress::from_bytes(&stored.bytes)?,
                None => Progress::default(),
            };
            let (next, awards) = change(&mut self.lock_evaluator(), &progress);
            if awards.is_empty() && next == progress {
                // Nothing to record (a replayed or redelivered event, say).
                return Ok(Vec::new());
            }
            let now = (self.clock)();
            let mut pending = Vec::with_capacity(awards.len());
            for award in &awards {
                pending.push(self.pending_for(award, now).await);
            }
            let mut update = ProgressUpdate::new(
                learner,
                stored.map(|s| s.version),
                next.to_bytes(),
                pending,
                self.lease_until(now),
            );
            if let Some(id) = event_id {
                update = update.with_event_id(id);
            }
            match progress_store.commit_progress(update).await? {
                ProgressCommit::Committed { claims, .. } => {
                    return self.issue_committed(&awards, claims, now).await;
                }
                ProgressCommit::AlreadyHandled => return Ok(Vec::new()),
                // Another server updated the learner meanwhile: apply the event to theirs.
                _ => tracing::debug!("progress changed since it was read; applying again"),
            }
        }
        Err(Error::Backend(badgery_backend::Error::Conflict(format!(
            "the progress of {learner} changed under {MAX_PROGRESS_CONFLICTS} commits in a row"
        ))))
    }

    /// [`Engine::issue_pending`] with the award's class as the store has it.
    async fn issue_with_stored_class(&self, pending: PendingAward) -> Result<Outcome, Error> {
        let class = self.store.class(&pending.key.slug).await?;
        self.issue_pending(pending, class).await
    }

    /// Issues an award this engine holds the lease of, with its class (none: the class is not
    /// in the store): finds its recipient's email, calls the backend and records what
    /// happened.
    async fn issue_pending(
        &self,
        mut pending: PendingAward,
        class: Option<BadgeClassRecord>,
    ) -> Result<Outcome, Error> {
        let Some(class) = class else {
            let reason = format!("badge class {} is not in the store", pending.key.slug);
            return self.fail(&pending.key, reason).await;
        };
        if pending.recipient.email.trim().is_empty() {
            // The learner may have added an address since the award was claimed.
            match usable_email(self.directory.email(&pending.recipient.learner).await) {
                Some(email) => pending.recipient.email = email,
                None => {
                    let failure = Failure::Engine(format!(
                        "no email address for learner {} yet",
                        pending.recipient.learner
                    ));
                    return self.backend_failed(&pending, failure).await;
                }
            }
        }
        self.issue(pending, class).await
    }

    /// Calls the backend for a claimed award and records what happened.
    async fn issue(
        &self,
        pending: PendingAward,
        mut class: BadgeClassRecord,
    ) -> Result<Outcome, Error> {
        let key = pending.key.clone();
        if class.backend_id.is_none() {
            match self
                .call_backend("ensure_class", self.backend.ensure_class(&class))
                .await
            {
                Ok(id) => {
                    self.store.set_backend_id(&class.slug, &id).await?;
                    class.backend_id = Some(id);
                }
                Err(failure) => return self.backend_failed(&pending, failure).await,
            }
        }
        let request = AwardRequest {
            key: key.clone(),
            class,
            recipient: pending.recipient.clone(),
            evidence: pending.evidence.clone(),
            narrative: Some(pending.reason.clone()).filter(|n| !n.is_empty()),
            issued_on: pending.created,
        };
        match self
            .call_backend("award", self.backend.award(&request))
            .await
        {
            Ok(assertion) => {
                self.store.complete(assertion.clone()).await?;
                let outcome = Outcome::Issued(Box::new(assertion));
                self.notify(&outcome);
                Ok(outcome)
            }
            Err(failure) => self.backend_failed(&pending, failure).await,
        }
    }

    /// One backend call: under the timeout, a panic caught ([`guarded`]), its duration and
    /// outcome traced.
    async fn call_backend<T>(
        &self,
        what: &'static str,
        call: impl Future<Output = Result<T, badgery_backend::Error>>,
    ) -> Result<T, Failure> {
        let started = std::time::Instant::now();
        let result = guarded(what, self.backend_timeout, call).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(_) => tracing::info!(call = what, ok = true, duration_ms, "backend call"),
            Err(failure) => tracing::warn!(call = what, ok = false, duration_ms,
                retryable = failure.retryable(), error = %failure.message(), "backend call"),
        }
        result
    }

    async fn backend_failed(
        &self,
        pending: &PendingAward,
        failure: Failure,
    ) -> Result<Outcome, Error> {
        let attempt = pending.attempts + 1;
        let message = failure.message();
        if !failure.retryable() {
            return self.fail(&pending.key, message).await;
        }
        if attempt >= self.retry.max_attempts {
            return self
                .fail(
                    &pending.key,
                    format!("gave up after {attempt} attempts; last error: {message}"),
                )
                .await;
        }
        let next_attempt = (self.clock)() + self.retry.delay(attempt);
        self.store
            .retry_later(&pending.key, &message, next_attempt)
            .await?;
        tracing::info!(attempt, %next_attempt, "award deferred");
        let outcome = Outcome::Deferred {
            key: pending.key.clone(),
            error: message,
            next_attempt,
        };
        self.notify(&outcome);
        Ok(outcome)
    }

    async fn fail(&self, key: &AwardKey, reason: String) -> Result<Outcome, Error> {
        self.store.fail(key, &reason).await?;
        tracing::warn!(reason = %reason, "award failed for good");
        let outcome = Outcome::Failed {
            key: key.clone(),
            reason,
        };
        self.notify(&outcome);
        Ok(outcome)
    }

    fn notify(&self, outcome: &Outcome) {
        if let Some(notifier) = &self.notifier {
            // The outcome is recorded before the notifier hears of it: a panicking notifier
            // loses nothing, and must not stop the awards after this one.
            if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(|| notifier(outcome))) {
                tracing::error!(panic = %panic_message(&*payload), "the notifier panicked");
            }
        }
    }
}

/// [`Error::Config`] when `rule`, the rules' class of `record`'s slug, is for another course or
/// mode: the class's document and the backends (Badgr tags a class with its course) would
/// name a course the rules do not award it for.
fn check_agrees_with_rules(
    rule: Option<&ClassRule>,
    record: &BadgeClassRecord,
) -> Result<(), Error> {
    let Some(rule) = rule else {
        return Ok(());
    };
    if rule.course == record.course && rule.mode == record.mode {
        return Ok(());
    }
    let describe = |course: &Option<String>, mode: &Option<String>| match (course, mode) {
        (None, _) => "no course".to_owned(),
        (Some(course), None) => format!("course {course} (any mode)"),
        (Some(course), Some(mode)) => format!("course {course}, mode {mode}"),
    };
    Err(Error::Config(format!(
        "badge class {}: the rules award it for {} but the class record is for {}",
        record.slug,
        describe(&rule.course, &rule.mode),
        describe(&record.course, &record.mode)
    )))
}
