//! What backends and stores exchange: badge classes, awards, issued assertions, pending awards.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Checks a badge class slug: 1 to 255 of `[a-z0-9_-]`. A slug becomes a path segment of
/// public URLs and part of the award key, so nothing else is accepted (`../issuer` would
/// name the issuer's own document).
///
/// # Errors
/// [`Error::Rejected`] saying what is wrong.
pub fn check_slug(slug: &str) -> Result<(), Error> {
    let valid = (1..=255).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(Error::Rejected(format!(
            "badge class slug {slug:?} must be 1 to 255 of a-z, 0-9, _ and -"
        )))
    }
}

/// Checks an identifier from the platform (a learner id, a course key, an enrollment mode):
/// 1 to 255 bytes, no white space or control characters (`a\nb` would otherwise be shown, and
/// keyed, like `ab`).
///
/// # Errors
/// [`Error::Rejected`] naming `what` and saying what is wrong.
pub fn check_identifier(what: &str, id: &str) -> Result<(), Error> {
    if !(1..=255).contains(&id.len()) {
        return Err(Error::Rejected(format!(
            "{what} {id:?} must have 1 to 255 bytes"
        )));
    }
    if let Some(c) = id.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::Rejected(format!(
            "{what} {id:?} holds the character {c:?}, which identifiers may not"
        )));
    }
    Ok(())
}

/// The format of a badge class image: the baker's.
pub use badgery_bake::ImageFormat;

/// A badge class image (the bytes; hosts check them when the class is created).
#[allow(
    clippy::exhaustive_structs,
    reason = "a record backends and stores build and read field by field"
)]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassImage {
    /// PNG or SVG.
    pub format: ImageFormat,
    /// The image file.
    pub bytes: Vec<u8>,
}

/// Shows the format and length, not the bytes: an image in a log line is noise (and an
/// outcome's `Debug` would otherwise print a whole baked badge).
impl std::fmt::Debug for ClassImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassImage")
            .field("format", &self.format)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// When awards of a class expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Expiry {
    /// On a fixed date.
    At(DateTime<Utc>),
    /// A number of days after issue.
    AfterDays(u32),
}

/// A badge class as the platform stores it.
///
/// Its `slug` is the platform's own, unique key; the backend's id for the class
/// (`backend_id`) is kept apart from it, as the Open edX badges redesign asks (Badgr chooses
/// its own ids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BadgeClassRecord {
    /// Unique slug: 1 to 255 of `[a-z0-9_-]` ([`check_slug`]).
    pub slug: String,
    /// The part of the platform that issues it (Open edX: `openedx__course`); sent to
    /// backends as a tag.
    pub issuing_component: String,
    /// For a course completion class: the course key.
    pub course: Option<String>,
    /// For a course completion class: the enrollment mode (none: any mode).
    pub mode: Option<String>,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// URL of a criteria page.
    pub criteria_url: Option<String>,
    /// Criteria narrative (Markdown).
    pub criteria_narrative: Option<String>,
    /// The image.
    pub image: ClassImage,
    /// When awards expire.
    pub expiry: Option<Expiry>,
    /// The educational frameworks or standards the class aligns to.
    #[serde(default)]
    pub alignments: Vec<Alignment>,
    /// The backend's id for the class, once it has one.
    pub backend_id: Option<String>,
}

impl BadgeClassRecord {
    /// Checks the class's slug, course key and mode ([`check_slug`], [`check_identifier`]).
    ///
    /// # Errors
    /// [`Error::Rejected`] saying which is wrong.
    pub fn check(&self) -> Result<(), Error> {
        check_slug(&self.slug)?;
        if let Some(course) = &self.course {
            check_identifier("course key", course)?;
        }
        if let Some(mode) = &self.mode {
            check_identifier("enrollment mode", mode)?;
        }
        for alignment in &self.alignments {
            alignment.check()?;
        }
        Ok(())
    }

    /// A class with a slug, name, description, criteria narrative and image.
    pub fn new(
        slug: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
        criteria_narrative: impl Into<String>,
        image: ClassImage,
    ) -> Self {
        BadgeClassRecord {
            slug: slug.into(),
            issuing_component: String::new(),
            course: None,
            mode: None,
            name: name.into(),
            description: description.into(),
            criteria_url: None,
            criteria_narrative: Some(criteria_narrative.into()),
            image,
            expiry: None,
            alignments: Vec::new(),
            backend_id: None,
        }
    }

    /// Makes it a course completion class for `course` (and `mode`).
    pub fn for_course(mut self, course: impl Into<String>, mode: Option<&str>) -> Self {
        self.course = Some(course.into());
        self.mode = mode.map(str::to_owned);
        self.issuing_component = "openedx__course".to_owned();
        self
    }

    /// Sets the issuing component.
    pub fn with_issuing_component(mut self, component: impl Into<String>) -> Self {
        self.issuing_component = component.into();
        self
    }

    /// Sets the criteria page URL.
    pub fn with_criteria_url(mut self, url: impl Into<String>) -> Self {
        self.criteria_url = Some(url.into());
        self
    }

    /// Sets the expiry of awards.
    pub fn with_expiry(mut self, expiry: Expiry) -> Self {
        self.expiry = Some(expiry);
        self
    }

    /// Adds an alignment to a framework or standard.
    pub fn with_alignment(mut self, alignment: Alignment) -> Self {
        self.alignments.push(alignment);
        self
    }
}

/// An alignment of a badge class to a node of an educational framework or standard (Open
/// Badges' `AlignmentObject`, Badgr's `alignments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Alignment {
    /// The node's name.
    pub target_name: String,
    /// The node's URL (http or https).
    pub target_url: String,
    /// A description of the node.
    pub target_description: Option<String>,
    /// The framework the node belongs to.
    pub target_framework: Option<String>,
    /// The node's code within the framework.
    pub target_code: Option<String>,
}

impl Alignment {
    /// An alignment to the node `target_name` at `target_url`.
    pub fn new(target_name: impl Into<String>, target_url: impl Into<String>) -> Self {
        Alignment {
            target_name: target_name.into(),
            target_url: target_url.into(),
            target_description: None,
            target_framework: None,
            target_code: None,
        }
    }

    /// Sets the framework and the node's code in it.
    pub fn in_framework(mut self, framework: impl Into<String>, code: impl Into<String>) -> Self {
        self.target_framework = Some(framework.into());
        self.target_code = Some(code.into());
        self
    }

    /// Checks that the alignment names its node and points at it over http(s).
    ///
    /// # Errors
    /// [`Error::Rejected`] saying which is wrong.
    pub fn check(&self) -> Result<(), Error> {
        if self.target_name.trim().is_empty() {
            return Err(Error::Rejected(format!(
                "alignment to {:?} has no target name",
                self.target_url
            )));
        }
        let scheme_ok = ["http://", "https://"].iter().any(|scheme| {
            self.target_url
                .get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
                && self.target_url.len() > scheme.len()
        });
        if !scheme_ok
            || self
                .target_url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::Rejected(format!(
                "alignment {:?}: target URL {:?} is not an http(s) URL",
                self.target_name, self.target_url
            )));
        }
        Ok(())
    }
}

/// The recipient of an award.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recipient {
    /// The learner's id in the platform.
    pub learner: String,
    /// The identity the badge is issued to (an email address).
    pub email: String,
}

impl Recipient {
    /// A learner and the email address badges are issued to.
    pub fn new(learner: impl Into<String>, email: impl Into<String>) -> Self {
        Recipient {
            learner: learner.into(),
            email: email.into(),
        }
    }
}

/// Evidence of an award: a URL, a narrative, or both.
#[allow(
    clippy::exhaustive_structs,
    reason = "a record backends and stores build and read field by field"
)]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// URL of a page showing the evidence (such as the certificate page).
    pub url: Option<String>,
    /// Markdown narrative.
    pub narrative: Option<String>,
}

impl EvidenceItem {
    /// Evidence given as a URL.
    pub fn url(url: impl Into<String>) -> Self {
        EvidenceItem {
            url: Some(url.into()),
            narrative: None,
        }
    }

    /// Evidence given as a narrative (the count and group rules have no page to point at).
    pub fn narrative(text: impl Into<String>) -> Self {
        EvidenceItem {
            url: None,
            narrative: Some(text.into()),
        }
    }
}

/// Identifies one award: the learner, the class, and which award of that class it is (1 for
/// the first; repeatable classes count up). Claims are unique per key.
#[allow(
    clippy::exhaustive_structs,
    reason = "a record backends and stores build and read field by field"
)]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AwardKey {
    /// The learner's id.
    pub learner: String,
    /// The class's slug (`badge` in the serialized form, as stores and hosts have kept it).
    #[serde(rename = "badge")]
    pub slug: String,
    /// 1 for the first award of the class to the learner, 2 for the second, ….
    pub sequence: u32,
}

/// `learner / slug #sequence`, as messages name an award.
impl std::fmt::Display for AwardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {} #{}", self.learner, self.slug, self.sequence)
    }
}

impl AwardKey {
    /// The key of the `sequence`-th award of the class `slug` to `learner`.
    pub fn new(learner: impl Into<String>, slug: impl Into<String>, sequence: u32) -> Self {
        AwardKey {
            learner: learner.into(),
            slug: slug.into(),
            sequence,
        }
    }

    /// Checks the learner id ([`check_identifier`]) and the slug ([`check_slug`]): with both
    /// valid, no two keys share an idempotency key.
    ///
    /// # Errors
    /// [`Error::Rejected`] saying which is wrong.
    pub fn check(&self) -> Result<(), Error> {
        check_identifier("learner id", &self.learner)?;
        check_slug(&self.slug)
    }

    /// A stable text form, used as the backend idempotency key.
    pub fn idempotency_key(&self) -> String {
        format!("{}\u{1f}{}\u{1f}{}", self.learner, self.slug, self.sequence)
    }
}

/// What a backend needs to issue one award.
#[allow(
    clippy::exhaustive_structs,
    reason = "a record backends and stores build and read field by field"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwardRequest {
    /// The award's key; backends must treat a repeated key as the same award (idempotency).
    pub key: AwardKey,
    /// The class.
    pub class: BadgeClassRecord,
    /// The recipient.
    pub recipient: Recipient,
    /// Evidence.
    pub evidence: Vec<EvidenceItem>,
    /// Narrative of the award.
    pub narrative: Option<String>,
    /// When the award was decided.
    pub issued_on: DateTime<Utc>,
}

/// An assertion a backend issued.
#[allow(
    clippy::exhaustive_structs,
    reason = "a record backends and stores build and read field by field"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedAssertion {
    /// The assertion's id (for hosted badges, the URL where it is served).
    pub id: String,
    /// The award it is for.
    pub key: AwardKey,
    /// The class's issuing component.
    pub issuing_component: String,
    /// The class's course, if any.
    pub course: Option<String>,
    /// The backend's name.
    pub backend: String,
    /// When it was issued.
    pub issued_on: DateTime<Utc>,
    /// URL of the baked image, if the backend hosts one.
    pub image_url: Option<String>,
    /// The backend's data: for the hosted issuer its record (`badgery::HostedRecord`: the
    /// documents it serves), for a service its response.
    pub data: serde_json::Value,
    /// The baked image, when the backend produced it.
    pub baked_image: Option<ClassImage>,
    /// The revocation reason once revoked.
    pub revoked: Option<String>,
}

/// Where a pending award stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AwardState {
    /// To be issued (again): at `next_attempt` or later.
    Pending,
    /// Issued as this assertion.
    Issued {
        /// The assertion's id.
        assertion: String,
    },
    /// Failed for good (the backend rejected it); kept for the host to see.
    Failed {
        /// Why.
        reason: String,
    },
}

/// An award claimed in the store: the unit of exactly-once issuing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingAward {
    /// The award's key.
    pub key: AwardKey,
    /// The recipient.
    pub recipient: Recipient,
    /// Evidence.
    pub evidence: Vec<EvidenceItem>,
    /// Why it is awarded (the rule's explanation).
    pub reason: String,
    /// When it was claimed.
    pub created: DateTime<Utc>,
    /// Its state.
    pub state: AwardState,
    /// Issue attempts made.
    pub attempts: u32,
    /// When to try next (while pending).
    pub next_attempt: DateTime<Utc>,
    /// The last transient error, if any.
    pub last_error: Option<String>,
}

impl PendingAward {
    /// A new pending award, due now.
    pub fn new(
        key: AwardKey,
        recipient: Recipient,
        evidence: Vec<EvidenceItem>,
        reason: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        PendingAward {
            key,
            recipient,
            evidence,
            reason: reason.into(),
            created: now,
            state: AwardState::Pending,
            attempts: 0,
            next_attempt: now,
            last_error: None,
        }
    }
}

/// A learner's progress as a [`ProgressStore`](crate::ProgressStore) keeps it: the encoded
/// progress (the rules crate's `Progress::to_bytes`) and its version, which every commit
/// raises by one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredProgress {
    /// 1 for the first commit, then one more for each.
    pub version: u64,
    /// The encoded progress.
    pub bytes: Vec<u8>,
}

impl StoredProgress {
    /// Progress as read from a store.
    pub fn new(version: u64, bytes: Vec<u8>) -> Self {
        StoredProgress { version, bytes }
    }
}

/// What [`ProgressStore::commit_progress`](crate::ProgressStore::commit_progress) is to commit
/// for one learner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgressUpdate {
    /// The learner.
    pub learner: String,
    /// The version read (`None`: the learner had no progress).
    pub expected: Option<u64>,
    /// The new encoded progress.
    pub bytes: Vec<u8>,
    /// The ids of the events the update applies (those that have one): each is committed
    /// once per learner.
    pub event_ids: Vec<String>,
    /// The awards the event decided, to claim.
    pub awards: Vec<PendingAward>,
    /// When the claims' leases end.
    pub lease_until: DateTime<Utc>,
}

impl ProgressUpdate {
    /// An update of `learner`'s progress from version `expected` to `bytes`, claiming
    /// `awards` leased until `lease_until`.
    pub fn new(
        learner: impl Into<String>,
        expected: Option<u64>,
        bytes: Vec<u8>,
        awards: Vec<PendingAward>,
        lease_until: DateTime<Utc>,
    ) -> Self {
        ProgressUpdate {
            learner: learner.into(),
            expected,
            bytes,
            event_ids: Vec::new(),
            awards,
            lease_until,
        }
    }

    /// Records an event's id with the commit.
    pub fn with_event_id(mut self, id: impl Into<String>) -> Self {
        self.event_ids.push(id.into());
        self
    }

    /// Checks updates to commit together: every award key passes [`AwardKey::check`], and no
    /// learner has two updates.
    ///
    /// # Errors
    /// [`Error::Rejected`] saying which.
    pub fn check_all(updates: &[ProgressUpdate]) -> Result<(), Error> {
        let mut learners = std::collections::HashSet::new();
        for update in updates {
            if !learners.insert(&update.learner) {
                return Err(Error::Rejected(format!(
                    "two progress updates for {} in one batch",
                    update.learner
                )));
            }
            for award in &update.awards {
                award.key.check()?;
            }
        }
        Ok(())
    }
}

/// What committing a learner's progress did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressCommit {
    /// Stored as `version`, with each award's claim, in the order given.
    Committed {
        /// The version now stored.
        version: u64,
        /// The claims, in the order of the update's awards.
        claims: Vec<Claim>,
    },
    /// Another writer committed this learner's progress since it was read: nothing changed;
    /// read it again and re-apply the event.
    Conflict,
    /// The event's id was committed before for this learner: nothing changed.
    AlreadyHandled,
}

/// What committing several learners' progress at once did: all of it, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchCommit {
    /// Every update stored; for each, in the order given, its awards' claims.
    Committed(Vec<Vec<Claim>>),
    /// Nothing stored: another writer committed one of the learners since it was read, or
    /// one of the event ids was committed before. Read again and re-apply.
    Conflict,
}

/// The outcome of claiming an award.
#[allow(
    clippy::exhaustive_enums,
    reason = "the outcomes of a claim: a store answers one of these and no other"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This caller won the claim and must issue the award.
    Won(PendingAward),
    /// The award was claimed before (by this or another process); here is where it stands.
    Exists(PendingAward),
}

/// Which courses an assertion listing covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CourseFilter {
    /// Any course, or none.
    #[default]
    Any,
    /// Only this course.
    Only(String),
    /// Only classes that belong to no course.
    NoCourse,
}

/// A filter on a learner's assertions, with the semantics of Open edX's
/// `GET /api/badges/v1/assertions/user/{username}/`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AssertionFilter {
    /// Only this class.
    pub slug: Option<String>,
    /// Only this issuing component (applies together with `slug`).
    pub issuing_component: Option<String>,
    /// Which courses.
    pub course: CourseFilter,
    /// Include revoked assertions (default: no).
    pub include_revoked: bool,
}

impl AssertionFilter {
    /// Every assertion that is not revoked.
    pub fn all() -> Self {
        AssertionFilter::default()
    }

    /// The Open edX API's query parameters: `slug` (optional); `issuing_component` applies only
    /// with `slug` and defaults to `""`; `course_id` is a course key or `*` for any course, and
    /// when `slug` is given without `course_id` only non-course badges match.
    pub fn openedx(
        slug: Option<&str>,
        issuing_component: Option<&str>,
        course_id: Option<&str>,
    ) -> Self {
        let course = match (course_id, slug) {
            (Some("*"), _) => CourseFilter::Any,
            (Some(c), _) => CourseFilter::Only(c.to_owned()),
            (None, Some(_)) => CourseFilter::NoCourse,
            (None, None) => CourseFilter::Any,
        };
        AssertionFilter {
            slug: slug.map(str::to_owned),
            issuing_component: slug.map(|_| issuing_component.unwrap_or("").to_owned()),
            course,
            include_revoked: false,
        }
    }

    /// Whether an assertion passes the filter.
    pub fn matches(&self, a: &IssuedAssertion) -> bool {
        (self.include_revoked || a.revoked.is_none())
            && self.slug.as_ref().is_none_or(|s| *s == a.key.slug)
            && self
                .issuing_component
                .as_ref()
                .is_none_or(|c| *c == a.issuing_component)
            && match &self.course {
                CourseFilter::Any => true,
                CourseFilter::Only(c) => a.course.as_ref() == Some(c),
                CourseFilter::NoCourse => a.course.is_none(),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_debugs_as_its_length() {
        let image = ClassImage {
            format: ImageFormat::Png,
            bytes: vec![0x89; 5000],
        };
        assert_eq!(
            format!("{image:?}"),
            "ClassImage { format: Png, len: 5000 }"
        );
    }
}
