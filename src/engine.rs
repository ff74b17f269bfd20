//! The awarding engine: events → rules → an award claimed once in the store → the backend →
//! the assertion recorded.
//!
//! Exactly once: every award the rules decide is first *claimed* in the store under its
//! [`AwardKey`] (learner, class, award number). Only the claim's winner calls the backend;
//! a duplicate or replayed event, a concurrent event for the same learner, or an engine
//! restarted over the same store finds the claim and stops there. A transient backend
//! failure leaves the award pending with a retry time (exponential backoff); a permanent one
//! marks it failed with its reason. [`Engine::retry_pending`] issues what is due, including
//! what a crash interrupted; the backend sees the same idempotency key each time.
//!
//! After a restart, the host builds a new engine over the same store and replays its event
//! log: the rules decide the same awards with the same keys, and the store's claims keep
//! anything already issued from being issued again.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use badgery_backend::{
    AwardKey, AwardRequest, AwardState, BadgeBackend, BadgeClassRecord, BadgeStore, Claim,
    ClassImage, EvidenceItem, IssuedAssertion, PendingAward, Recipient,
};
use badgery_rules::{Award, Evaluator, Event, Rule, RuleSet};
use chrono::{DateTime, Duration, Utc};

use crate::error::Error;
use crate::hosted::check_class_image;

/// What the engine needs to know about learners and courses; the host implements it.
pub trait Directory: Send + Sync + fmt::Debug {
    /// The email address a learner's badges are issued to.
    fn email(&self, learner: &str) -> Option<String>;

    /// A course's name and pages, for classes created automatically.
    fn course(&self, course: &str) -> Option<CourseInfo>;

    /// The URL of a learner's certificate in a course, used as evidence.
    fn certificate_url(&self, _learner: &str, _course: &str) -> Option<String> {
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
    certificate_base: Option<String>,
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

    /// Certificates are at `BASE?learner=L&course=C`.
    pub fn certificates_at(mut self, base: &str) -> Self {
        self.certificate_base = Some(base.to_owned());
        self
    }
}

impl Directory for StaticDirectory {
    fn email(&self, learner: &str) -> Option<String> {
        self.emails.get(learner).cloned()
    }

    fn course(&self, course: &str) -> Option<CourseInfo> {
        self.courses.get(course).cloned()
    }

    fn certificate_url(&self, learner: &str, course: &str) -> Option<String> {
        let base = self.certificate_base.as_ref()?;
        let mut url = url::Url::parse(base).ok()?;
        url.query_pairs_mut()
            .append_pair("learner", learner)
            .append_pair("course", course);
        Some(url.into())
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

/// The awarding engine.
pub struct Engine {
    evaluator: Mutex<Evaluator>,
    store: Arc<dyn BadgeStore>,
    backend: Arc<dyn BadgeBackend>,
    directory: Arc<dyn Directory>,
    retry: RetryPolicy,
    lease: Duration,
    auto_classes: Option<AutoClasses>,
    notifier: Option<Notifier>,
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// Awards decided whose claim failed (the store was down): claimed again by
    /// [`Engine::retry_pending`].
    unclaimed: Mutex<Vec<Award>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("store", &self.store)
            .field("backend", &self.backend)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
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
            auto_classes: None,
            notifier: None,
            clock: Arc::new(Utc::now),
            unclaimed: Mutex::new(Vec::new()),
        }
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Creates course completion classes on first award (opt-in; the rules must have
    /// [`RuleSet::with_auto_course_completion`] too).
    pub fn with_auto_classes(mut self, auto: AutoClasses) -> Self {
        self.auto_classes = Some(auto);
        self
    }

    /// Calls `notifier` with each issued, deferred and failed award.
    pub fn with_notifier(mut self, notifier: Notifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Uses `clock` for "now" (tests and simulations).
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn BadgeStore> {
        &self.store
    }

    /// Checks each class's image and stores the classes (an existing class is kept as it is).
    /// Returns the classes created.
    ///
    /// # Errors
    /// [`Error::InvalidImage`] for a bad image (nothing is stored then), or the store's errors.
    pub async fn register_classes(
        &self,
        classes: Vec<BadgeClassRecord>,
    ) -> Result<Vec<String>, Error> {
        for class in &classes {
            check_class_image(&class.slug, &class.image)?;
        }
        let mut created = Vec::new();
        for class in classes {
            let (stored, fresh) = self.store.get_or_create_class(class).await?;
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

    /// Handles one learning event: decides the awards and issues each exactly once.
    ///
    /// # Errors
    /// [`Error::Rules`] for an event that fails its checks. Store failures do not lose awards:
    /// the award is kept and claimed again by [`Engine::retry_pending`]; the first such
    /// failure is returned after the other awards were handled.
    pub async fn handle(&self, event: &Event) -> Result<Vec<Outcome>, Error> {
        event.check()?;
        let awards = self.lock_evaluator().apply(event);
        self.process(awards).await
    }

    /// Replaces the rules and issues the awards now due to learners who already met them
    /// (back-fill).
    ///
    /// # Errors
    /// As [`Engine::handle`].
    pub async fn set_rules(&self, rules: RuleSet) -> Result<Vec<Outcome>, Error> {
        let awards = self.lock_evaluator().set_rules(rules);
        self.process(awards).await
    }

    async fn process(&self, awards: Vec<Award>) -> Result<Vec<Outcome>, Error> {
        let mut outcomes = Vec::with_capacity(awards.len());
        let mut first_error = None;
        for award in awards {
            match self.claim_and_issue(&award).await {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => {
                    self.unclaimed
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(award);
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
    /// awards a crash interrupted after their claim) and claims awards whose claim failed.
    ///
    /// # Errors
    /// The store's errors (what was not done stays to do).
    pub async fn retry_pending(&self) -> Result<Vec<Outcome>, Error> {
        let unclaimed = std::mem::take(
            &mut *self
                .unclaimed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut outcomes = self.process(unclaimed).await?;
        // Each award is tried at most once per call: with a zero retry delay an award would
        // otherwise be due again at once, forever.
        let mut tried = std::collections::HashSet::new();
        loop {
            let now = (self.clock)();
            let due = self.store.take_due(now, now + self.lease, 64).await?;
            let due: Vec<PendingAward> = due
                .into_iter()
                .filter(|p| tried.insert(p.key.clone()))
                .collect();
            if due.is_empty() {
                return Ok(outcomes);
            }
            for pending in due {
                let class = self.store.class(&pending.key.badge).await?;
                let outcome = match class {
                    Some(class) => self.issue(pending, class).await?,
                    None => {
                        self.fail(
                            &pending.key,
                            format!("badge class {} is not in the store", pending.key.badge),
                        )
                        .await?
                    }
                };
                outcomes.push(outcome);
            }
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
        let revoked = self.backend.revoke(&assertion, reason).await?;
        self.store.store_revoked(revoked.clone()).await?;
        Ok(revoked)
    }

    /// Finds or creates the class an award is for.
    async fn class_for(&self, award: &Award) -> Result<Option<BadgeClassRecord>, Error> {
        if let Some(class) = self.store.class(&award.badge).await? {
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
            award.badge.clone(),
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

    fn evidence(&self, award: &Award) -> Vec<EvidenceItem> {
        // Count and group badges have no page to point at: give a narrative, never a null URL
        // (which Badgr rejects).
        let url = match &award.rule {
            Rule::CourseCompletion { course, .. } => {
                self.directory.certificate_url(&award.learner, course)
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

    async fn claim_and_issue(&self, award: &Award) -> Result<Outcome, Error> {
        let now = (self.clock)();
        let key = AwardKey::new(award.learner.clone(), award.badge.clone(), award.sequence);
        let email = self.directory.email(&award.learner).unwrap_or_default();
        let pending = PendingAward::new(
            key.clone(),
            Recipient::new(award.learner.clone(), email.clone()),
            self.evidence(award),
            award.reason.clone(),
            now,
        );
        let pending = match self.store.claim(pending).await? {
            Claim::Won(pending) => pending,
            Claim::Exists(existing) => {
                return Ok(Outcome::AlreadyClaimed {
                    key,
                    state: existing.state,
                });
            }
        };
        if email.is_empty() {
            return self
                .fail(
                    &key,
                    format!("no email address for learner {}", award.learner),
                )
                .await;
        }
        match self.class_for(award).await {
            Ok(Some(class)) => self.issue(pending, class).await,
            Ok(None) => {
                self.fail(
                    &key,
                    format!("badge class {} is not in the store", award.badge),
                )
                .await
            }
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

    /// Calls the backend for a claimed award and records what happened.
    async fn issue(
        &self,
        pending: PendingAward,
        mut class: BadgeClassRecord,
    ) -> Result<Outcome, Error> {
        let key = pending.key.clone();
        if class.backend_id.is_none() {
            match self.backend.ensure_class(&class).await {
                Ok(id) => {
                    self.store.set_backend_id(&class.slug, &id).await?;
                    class.backend_id = Some(id);
                }
                Err(e) => return self.backend_failed(&pending, e).await,
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
        match self.backend.award(&request).await {
            Ok(assertion) => {
                self.store.complete(assertion.clone()).await?;
                let outcome = Outcome::Issued(Box::new(assertion));
                self.notify(&outcome);
                Ok(outcome)
            }
            Err(e) => self.backend_failed(&pending, e).await,
        }
    }

    async fn backend_failed(
        &self,
        pending: &PendingAward,
        e: badgery_backend::Error,
    ) -> Result<Outcome, Error> {
        let attempt = pending.attempts + 1;
        if !e.is_retryable() {
            return self.fail(&pending.key, e.to_string()).await;
        }
        if attempt >= self.retry.max_attempts {
            return self
                .fail(
                    &pending.key,
                    format!("gave up after {attempt} attempts; last error: {e}"),
                )
                .await;
        }
        let next_attempt = (self.clock)() + self.retry.delay(attempt);
        self.store
            .retry_later(&pending.key, &e.to_string(), next_attempt)
            .await?;
        let outcome = Outcome::Deferred {
            key: pending.key.clone(),
            error: e.to_string(),
            next_attempt,
        };
        self.notify(&outcome);
        Ok(outcome)
    }

    async fn fail(&self, key: &AwardKey, reason: String) -> Result<Outcome, Error> {
        self.store.fail(key, &reason).await?;
        let outcome = Outcome::Failed {
            key: key.clone(),
            reason,
        };
        self.notify(&outcome);
        Ok(outcome)
    }

    fn notify(&self, outcome: &Outcome) {
        if let Some(notifier) = &self.notifier {
            notifier(outcome);
        }
    }
}
