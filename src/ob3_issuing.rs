//! Open Badges 3.0 from the hosted issuer (feature `ob3`, on by default): each award of a
//! class issued as [`IssuedAs::Ob3`] or [`IssuedAs::Both`] also becomes an
//! OpenBadgeCredential, signed as a VC-JWT by the issuer's `did:web` key, holding a bit of the
//! issuer's revocation list, and baked into the award's image (beside the 2.0 assertion when
//! there is one: one image carries both).
//!
//! The credential's id is the `urn:uuid:` of the award's keyed hash, as a signed 2.0
//! assertion's is: issuing the award again (a retry after a lost response) makes the same
//! credential, with the same status bit (the store keeps which bit each credential holds).

use std::collections::HashMap;
use std::sync::Arc;

use badgery_backend::{AssertionRepository, AwardRequest, Error as BackendError, IssuedAssertion};
use badgery_ob3::credential::{Achievement, Alignment, Criteria, Evidence, Image};
use badgery_ob3::did::Identity;
use badgery_ob3::issue::{CredentialRequest, Issuer};
use badgery_ob3::status::{MIN_LIST_BITS, StatusList, random_index};
use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use crate::hosted::{HostedRecord, Ob3Credential, Ob3Record, ServedDocument, UrlScheme};

/// Which Open Badges versions a class's awards are issued as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssuedAs {
    /// Open Badges 2.0 assertions only.
    Ob2,
    /// Open Badges 3.0 credentials only.
    Ob3,
    /// Both, from the same award: one image carries the assertion and the credential.
    Both,
}

impl IssuedAs {
    /// Whether an Open Badges 2.0 assertion is issued.
    pub fn ob2(self) -> bool {
        matches!(self, IssuedAs::Ob2 | IssuedAs::Both)
    }

    /// Whether an Open Badges 3.0 credential is issued.
    pub fn ob3(self) -> bool {
        matches!(self, IssuedAs::Ob3 | IssuedAs::Both)
    }
}

/// How the hosted issuer proves its Open Badges 3.0 credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ob3Proof {
    /// A VC-JWT (the issuer's RS256 or ES256 key).
    Jwt,
    /// An embedded `eddsa-rdfc-2022` Data Integrity proof (the issuer's Ed25519 key).
    Eddsa,
}

/// How many random bits a new credential tries before the list counts as full.
const STATUS_CANDIDATES: usize = 16;

/// The hosted issuer's Open Badges 3.0 side: the issuer identity and keys, the store that
/// keeps which status bit each credential holds, and which classes are issued as which
/// version.
#[derive(Debug)]
pub struct Ob3Issuing {
    issuer: Issuer,
    store: Arc<dyn AssertionRepository>,
    default: IssuedAs,
    classes: HashMap<String, IssuedAs>,
    proof: Ob3Proof,
}

impl Ob3Issuing {
    /// Issues every class as `default` with `issuer`, keeping status bits in `store` (the
    /// engine's store).
    pub fn new(issuer: Issuer, store: Arc<dyn AssertionRepository>, default: IssuedAs) -> Self {
        Ob3Issuing {
            issuer,
            store,
            default,
            classes: HashMap::new(),
            proof: Ob3Proof::Jwt,
        }
    }

    /// Proves credentials (and the revocation list) with `proof` ([`Ob3Proof::Jwt`] by
    /// default; [`Ob3Proof::Eddsa`] needs an issuer made
    /// [`with_eddsa_key`](badgery_ob3::issue::Issuer::with_eddsa_key)).
    pub fn with_proof(mut self, proof: Ob3Proof) -> Self {
        self.proof = proof;
        self
    }

    /// How credentials are proved.
    pub fn proof(&self) -> Ob3Proof {
        self.proof
    }

    /// Issues the class `slug` as `issued_as` instead of the default.
    pub fn class_as(mut self, slug: impl Into<String>, issued_as: IssuedAs) -> Self {
        self.classes.insert(slug.into(), issued_as);
        self
    }

    /// The Open Badges 3.0 issuer.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// How the class `slug` is issued.
    pub fn issued_as(&self, slug: &str) -> IssuedAs {
        self.classes.get(slug).copied().unwrap_or(self.default)
    }

    /// The signed credential for `request`, as the hosted issuer makes it: `id` (the award's
    /// `urn:uuid:`), the recipient `subject` (a `urn:uuid:` of the learner) and their email,
    /// hashed under `salt`. Returns the record kept with the award; its credential's
    /// [`Ob3Credential::text`] is what is baked (a VC-JWT, or JSON with its proof).
    pub(crate) async fn credential(
        &self,
        scheme: &UrlScheme,
        request: &AwardRequest,
        id: &str,
        subject: &str,
        salt: &str,
        valid_until: Option<DateTime<Utc>>,
    ) -> Result<Ob3Record, BackendError> {
        let class = &request.class;
        let rejected = |e: badgery_ob3::Error| BackendError::Rejected(e.to_string());
        let mut criteria = Criteria::narrative(
            class
                .criteria_narrative
                .clone()
                .unwrap_or_else(|| class.description.clone()),
        );
        if let Some(url) = &class.criteria_url {
            criteria.id = Some(url.clone());
            criteria.narrative = class.criteria_narrative.clone();
        }
        let mut achievement = Achievement::new(
            scheme.badge_class(&class.slug).to_string(),
            class.name.clone(),
            class.description.clone(),
            criteria,
        );
        achievement.image = Some(Image::new(
            scheme
                .badge_class_image(&class.slug, class.image.format)
                .to_string(),
        ));
        achievement.achievement_type = Some("Badge".into());
        for a in &class.alignments {
            let mut alignment = Alignment::new(a.target_name.clone(), a.target_url.clone());
            alignment.target_description = a.target_description.clone();
            alignment.target_framework = a.target_framework.clone();
            alignment.target_code = a.target_code.clone();
            achievement.alignment.push(alignment);
        }
        if !class.issuing_component.is_empty() {
            achievement.tag.push(class.issuing_component.clone());
        }
        let list = self.issuer.status_list_url().to_owned();
        let mut candidates = Vec::with_capacity(STATUS_CANDIDATES);
        for _ in 0..STATUS_CANDIDATES {
            // The issuer's lists are of the minimum length: no list is built to draw from.
            let index = random_index(MIN_LIST_BITS)
                .map_err(|e| BackendError::unavailable_from("drawing a status list bit", e))?;
            candidates.push(index as u64);
        }
        let index = self
            .store
            .status_index(&list, id, &candidates)
            .await?
            .ok_or_else(|| {
                BackendError::unavailable(format!(
                    "status list {list}: {STATUS_CANDIDATES} random bits all taken (the list is nearly full)"
                ))
            })?;
        let mut credential = CredentialRequest::new(id, achievement, subject, request.issued_on);
        credential.email = Some((request.recipient.email.clone(), salt.to_owned()));
        credential.valid_until = valid_until;
        credential.status_index = usize::try_from(index).ok();
        for item in &request.evidence {
            if item.url.is_some() || item.narrative.is_some() {
                credential
                    .evidence
                    .push(Evidence::new(item.url.clone(), item.narrative.clone()));
            }
        }
        let made = self.issuer.credential(&credential);
        let credential = match self.proof {
            Ob3Proof::Jwt => Ob3Credential::Jwt(self.issuer.sign_jwt(&made).map_err(rejected)?),
            Ob3Proof::Eddsa => Ob3Credential::Json(
                self.issuer
                    .sign_eddsa(&made, request.issued_on)
                    .map_err(rejected)?,
            ),
        };
        Ok(Ob3Record {
            id: id.to_owned(),
            status_index: index,
            credential,
        })
    }

    /// What the host serves for Open Badges 3.0, made anew whenever a status bit changes:
    /// the DID document of a `did:web` issuer (or the controller document of an https one;
    /// nothing for a `did:key`), the status list credential with the bits of `set` set
    /// (proved as the credentials are) and the issuer's JWKS (at `jwks_url`).
    ///
    /// `set` is what the list's purpose says: for a revocation list (the default), the
    /// revoked assertions ([`AssertionRepository::revoked_assertions`]); for a suspension list
    /// ([`Issuer::with_status_purpose`]), those the host suspends now and the revoked ones. A
    /// reinstated credential is valid again once its assertion is left out.
    ///
    /// # Errors
    /// [`BackendError::Rejected`] when the list cannot be signed.
    pub fn documents(
        &self,
        set: &[IssuedAssertion],
        at: DateTime<Utc>,
        jwks_url: &Url,
    ) -> Result<Vec<ServedDocument>, BackendError> {
        let mut list = StatusList::new();
        for assertion in set {
            let bit = HostedRecord::of(assertion)
                .ok()
                .and_then(|record| record.ob3)
                .map(|ob3| ob3.status_index);
            if let Some(bit) = bit.and_then(|b| usize::try_from(b).ok()) {
                list.set(bit, true)
                    .map_err(|e| BackendError::Rejected(e.to_string()))?;
            }
        }
        let signing = |e: badgery_ob3::Error| BackendError::Rejected(e.to_string());
        let (content_type, body) = match self.proof {
            Ob3Proof::Jwt => (
                "application/vc+jwt",
                self.issuer
                    .status_list_jwt(&list, at)
                    .map_err(signing)?
                    .into_bytes(),
            ),
            Ob3Proof::Eddsa => (
                "application/vc+ld+json",
                serde_json::to_vec_pretty(
                    &self.issuer.status_list_eddsa(&list, at).map_err(signing)?,
                )
                .unwrap_or_default(),
            ),
        };
        let status_url = Url::parse(self.issuer.status_list_url())
            .map_err(|e| BackendError::Rejected(format!("the status list URL: {e}")))?;
        let pretty = |v: &Value| serde_json::to_vec_pretty(v).unwrap_or_default();
        let mut served = Vec::new();
        if let Some((url, document)) = self.issuer.controller_document() {
            let content_type = match self.issuer.identity() {
                Identity::Web(_) => "application/did+json",
                _ => "application/json",
            };
            served.push(ServedDocument {
                url,
                status: 200,
                content_type,
                body: pretty(&document),
            });
        }
        served.extend([
            ServedDocument {
                url: status_url,
                status: 200,
                content_type,
                body,
            },
            ServedDocument {
                url: jwks_url.clone(),
                status: 200,
                content_type: "application/jwk-set+json",
                body: pretty(&self.issuer.jwks()),
            },
        ]);
        Ok(served)
    }
}
