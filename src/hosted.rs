//! The hosted issuer: a [`BadgeBackend`] that issues Open Badges 2.0 assertions itself, as
//! Moodle does, for the host to serve.
//!
//! Each award becomes a hosted assertion with the recipient's email hashed under a fresh
//! per-assertion salt, the evidence, the class's expiry, and the class image baked with the
//! assertion. Ids come from the host's [`UrlScheme`]. The assertion id is a keyed hash
//! (HMAC-SHA256 under the host's [`IdSecret`]) of the award's idempotency key: issuing the
//! same award twice (a retry after a lost response) yields the same assertion, not a second
//! one, and nobody without the secret can compute a learner's assertion URLs from their
//! username to probe which badges they hold. [`HostedIssuer::documents`] lists everything
//! the host must serve; what it keeps of each award is a [`HostedRecord`].

use async_trait::async_trait;
use badgery_backend::{
    AssertionRepository, AwardRequest, BadgeBackend, BadgeClassRecord, ClassCatalog, ClassImage,
    Error as BackendError, Expiry, ImageFormat, IssuedAssertion,
};
use std::sync::Arc;

use badgery_model::jws::{PublicKey, SigningKey};
use badgery_model::{
    AlignmentObject, Assertion, BadgeClass, Criteria, CryptographicKey, Evidence, IdOr,
    IdentityObject, IdentityType, OneOrMany, Profile, RevocationList, RevokedAssertion,
    RevokedEntry, VerificationObject,
};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use url::Url;

use crate::class_image::check_class_image;
use crate::error::Error;

mod record;
pub use record::{HostedRecord, Ob3Credential, Ob3Record};

/// The hosted issuer's [`BadgeBackend::name`], recorded in what it issues.
const BACKEND_NAME: &str = "hosted";

/// Where the hosted documents live, under a base URL the host serves:
///
/// | document | URL |
/// |---|---|
/// | issuer profile | `BASE/issuer` |
/// | badge class | `BASE/badges/SLUG` |
/// | badge class image | `BASE/badges/SLUG/image.png` (or `.svg`) |
/// | assertion | `BASE/assertions/ID` (hosted only: a signed one is `urn:uuid:…`) |
/// | baked assertion image | `BASE/assertions/ID/image.png` (or `.svg`) |
/// | signing key (signed mode) | `BASE/keys/NAME` |
/// | revocation list (signed mode) | `BASE/revocations` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlScheme {
    base: Url,
}

impl UrlScheme {
    /// A scheme rooted at `base` (an `http(s)` URL; a missing final `/` is added).
    ///
    /// # Errors
    /// [`Error::Config`] when `base` is not an `http(s)` URL or cannot be a base.
    pub fn new(base: &str) -> Result<Self, Error> {
        let with_slash = if base.ends_with('/') {
            base.to_owned()
        } else {
            format!("{base}/")
        };
        let base = Url::parse(&with_slash)
            .map_err(|e| Error::Config(format!("base URL {base:?}: {e}")))?;
        // The slash added above lands in the query or fragment, which stay present.
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::Config(format!(
                "base URL {base}: a query or fragment would be lost from every document's URL"
            )));
        }
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "base URL {base} must be an http(s) URL"
            )));
        }
        Ok(UrlScheme { base })
    }

    fn join(&self, path: &str) -> Url {
        // Every path joined here is made of slugs, hex ids and fixed words: it always parses.
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// The issuer profile's URL.
    pub fn issuer(&self) -> Url {
        self.join("issuer")
    }

    /// A badge class's URL.
    pub fn badge_class(&self, slug: &str) -> Url {
        self.join(&format!("badges/{slug}"))
    }

    /// A badge class image's URL.
    pub fn badge_class_image(&self, slug: &str, format: ImageFormat) -> Url {
        self.join(&format!("badges/{slug}/image.{}", format.extension()))
    }

    /// An assertion's URL.
    pub fn assertion(&self, id: &str) -> Url {
        self.join(&format!("assertions/{id}"))
    }

    /// A baked assertion image's URL.
    pub fn assertion_image(&self, id: &str, format: ImageFormat) -> Url {
        self.join(&format!("assertions/{id}/image.{}", format.extension()))
    }

    /// A signing key's CryptographicKey document.
    pub fn key(&self, name: &str) -> Url {
        self.join(&format!("keys/{name}"))
    }

    /// The issuer's RevocationList document (signed badges).
    pub fn revocation_list(&self) -> Url {
        self.join("revocations")
    }

    /// Which document a URL under this scheme names: the way back from a URL this scheme
    /// minted (query and fragment ignored). `None` for a URL outside the base or of no
    /// document.
    pub fn route(&self, url: &str) -> Option<Route> {
        let url = Url::parse(url).ok()?;
        if url.scheme() != self.base.scheme() || url.authority() != self.base.authority() {
            return None;
        }
        let rest = url.path().strip_prefix(self.base.path())?;
        let image = |name: &str| match name {
            "image.png" => Some(ImageFormat::Png),
            "image.svg" => Some(ImageFormat::Svg),
            _ => None,
        };
        let slug = |text: &str| !text.is_empty() && !text.contains(['/', '%', '.']);
        let segments: Vec<&str> = rest.split('/').collect();
        let route = match segments.as_slice() {
            ["issuer"] => Route::Issuer,
            ["revocations"] => Route::RevocationList,
            ["badges", slug_] if slug(slug_) => Route::BadgeClass {
                slug: (*slug_).to_owned(),
            },
            ["badges", slug_, name] if slug(slug_) => Route::BadgeClassImage {
                slug: (*slug_).to_owned(),
                format: image(name)?,
            },
            ["assertions", token] if slug(token) => Route::Assertion {
                token: (*token).to_owned(),
            },
            ["assertions", token, name] if slug(token) => Route::AssertionImage {
                token: (*token).to_owned(),
                format: image(name)?,
            },
            ["keys", name] if slug(name) => Route::Key {
                name: (*name).to_owned(),
            },
            _ => return None,
        };
        Some(route)
    }
}

/// A document a [`UrlScheme`] URL names (see [`UrlScheme::route`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// The issuer profile.
    Issuer,
    /// A badge class.
    BadgeClass {
        /// The class's slug.
        slug: String,
    },
    /// A badge class's image.
    BadgeClassImage {
        /// The class's slug.
        slug: String,
        /// The image format the URL names.
        format: ImageFormat,
    },
    /// A hosted assertion.
    Assertion {
        /// The assertion's token (the last segment of its id).
        token: String,
    },
    /// An assertion's baked image (hosted or signed).
    AssertionImage {
        /// The assertion's token.
        token: String,
        /// The image format the URL names.
        format: ImageFormat,
    },
    /// A signing key's CryptographicKey document.
    Key {
        /// The key's name.
        name: String,
    },
    /// The revocation list of signed assertions.
    RevocationList,
}

/// The issuer's profile: the properties the specification requires of an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuerProfile {
    /// Name.
    pub name: String,
    /// Home page.
    pub url: Url,
    /// Contact email.
    pub email: String,
    /// Description.
    pub description: Option<String>,
}

impl IssuerProfile {
    /// An issuer with its name, home page and contact email.
    pub fn new(name: impl Into<String>, url: Url, email: impl Into<String>) -> Self {
        IssuerProfile {
            name: name.into(),
            url,
            email: email.into(),
            description: None,
        }
    }
}

/// A document the host must serve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServedDocument {
    /// Where.
    pub url: Url,
    /// The HTTP status: 200, or 410 Gone for a revoked assertion.
    pub status: u16,
    /// `application/ld+json`, `image/png` or `image/svg+xml`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// The secret assertion ids are derived with. Keep it as long as the assertions it named are
/// served (a new secret gives a retried award a new id): store it with the platform's other
/// secrets and give the same one to every app server.
#[derive(Clone, PartialEq, Eq)]
pub struct IdSecret(Vec<u8>);

impl IdSecret {
    /// The shortest secret accepted, in bytes.
    pub const MIN_LEN: usize = 16;

    /// A secret from the host's bytes (at least [`IdSecret::MIN_LEN`]).
    ///
    /// # Errors
    /// [`Error::Config`] for a shorter secret.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let bytes = bytes.into();
        if bytes.len() < Self::MIN_LEN {
            return Err(Error::Config(format!(
                "the assertion id secret has {} bytes; at least {} are needed",
                bytes.len(),
                Self::MIN_LEN
            )));
        }
        Ok(IdSecret(bytes))
    }

    /// A new random 32-byte secret from the operating system.
    ///
    /// # Errors
    /// [`Error::Config`] when the system has no randomness to give.
    pub fn generate() -> Result<Self, Error> {
        let mut bytes = vec![0; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Config(format!("no randomness for the id secret: {e}")))?;
        Ok(IdSecret(bytes))
    }

    /// The secret's bytes, to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for IdSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdSecret(..)")
    }
}

/// The hosted issuer backend.
#[derive(Debug, Clone)]
pub struct HostedIssuer {
    scheme: UrlScheme,
    secret: IdSecret,
    /// The issuer profile document, built and checked once.
    issuer: Profile,
    /// In signed mode, the keys: the one that signs, and every one published.
    keys: Option<Arc<Keys>>,
    /// Open Badges 3.0 issuing, when on.
    #[cfg(feature = "ob3")]
    ob3: Option<Arc<crate::ob3_issuing::Ob3Issuing>>,
}

/// A signed-mode issuer's keys.
#[derive(Debug)]
struct Keys {
    /// The key new assertions are signed with, and its URL.
    signing: (Arc<SigningKey>, Url),
    /// Every key published, the signing one first: a retired key stays published so that
    /// what it signed still verifies.
    published: Vec<(Url, PublicKey)>,
}

fn json_ld(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

impl HostedIssuer {
    /// An issuer serving its documents under `scheme`, naming assertions with `secret`.
    ///
    /// # Errors
    /// [`Error::Config`] when the issuer's email is not an address.
    pub fn new(scheme: UrlScheme, issuer: IssuerProfile, secret: IdSecret) -> Result<Self, Error> {
        let mut profile = Profile::issuer(scheme.issuer(), issuer.name, issuer.url, &issuer.email)
            .map_err(|e| Error::Config(e.to_string()))?;
        profile.description = issuer.description;
        Ok(HostedIssuer {
            scheme,
            secret,
            issuer: profile,
            keys: None,
            #[cfg(feature = "ob3")]
            ob3: None,
        })
    }

    /// Issues Open Badges 3.0 credentials as `ob3` says (per class: 2.0, 3.0 or both).
    #[cfg(feature = "ob3")]
    pub fn issuing_ob3(mut self, ob3: crate::ob3_issuing::Ob3Issuing) -> Self {
        self.ob3 = Some(Arc::new(ob3));
        self
    }

    /// The Open Badges 3.0 side, when on.
    #[cfg(feature = "ob3")]
    pub fn ob3(&self) -> Option<&crate::ob3_issuing::Ob3Issuing> {
        self.ob3.as_deref()
    }

    /// Whether the class `slug`'s awards are issued as an Open Badges 2.0 assertion, a 3.0
    /// credential, or both.
    fn versions(&self, slug: &str) -> (bool, bool) {
        #[cfg(feature = "ob3")]
        if let Some(ob3) = &self.ob3 {
            let issued_as = ob3.issued_as(slug);
            return (issued_as.ob2(), issued_as.ob3());
        }
        let _ = slug;
        (true, false)
    }

    /// Signed mode: assertions are issued as JWS signed with `key` (RS256 for an RSA key,
    /// which the official validator verifies; ES256 for a P-256 key, which only Badgery's
    /// validator does), with `verification: {"type": "SignedBadge", "creator": KEY_URL}` and
    /// a `urn:uuid:` id derived from the award as hosted ids are. The key is published at
    /// [`UrlScheme::key`]`(name)`; the issuer profile lists every published key
    /// (`publicKey`) and the [`UrlScheme::revocation_list`]. A key given here replaces the
    /// signing key; one signing before is kept published (use [`HostedIssuer::publishing`]
    /// for the keys of earlier runs).
    ///
    /// # Errors
    /// [`Error::Config`] when `name` is not a slug (`a-z`, `0-9`, `-`, `_`).
    pub fn signing_with(mut self, name: &str, key: SigningKey) -> Result<Self, Error> {
        let url = self.key_url(name)?;
        let mut published = match self.keys.take() {
            Some(keys) => keys.published.clone(),
            None => Vec::new(),
        };
        published.retain(|(published, _)| *published != url);
        published.insert(0, (url.clone(), key.public_key()));
        self.keys = Some(Arc::new(Keys {
            signing: (Arc::new(key), url),
            published,
        }));
        self.update_profile();
        Ok(self)
    }

    /// Publishes a retired key (one that signed earlier assertions and signs no more) at
    /// [`UrlScheme::key`]`(name)`, so that what it signed still verifies. Call after
    /// [`HostedIssuer::signing_with`].
    ///
    /// # Errors
    /// [`Error::Config`] when the issuer is not in signed mode, or `name` is not a slug or
    /// is the signing key's.
    pub fn publishing(mut self, name: &str, key: PublicKey) -> Result<Self, Error> {
        let url = self.key_url(name)?;
        let Some(keys) = self.keys.take() else {
            return Err(Error::Config(
                "a retired key is published by a signing issuer: call signing_with first".into(),
            ));
        };
        if keys.signing.1 == url {
            return Err(Error::Config(format!("key {name} is the signing key")));
        }
        let mut published = keys.published.clone();
        published.retain(|(published, _)| *published != url);
        published.push((url, key));
        self.keys = Some(Arc::new(Keys {
            signing: keys.signing.clone(),
            published,
        }));
        self.update_profile();
        Ok(self)
    }

    fn key_url(&self, name: &str) -> Result<Url, Error> {
        let slug = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if slug {
            Ok(self.scheme.key(name))
        } else {
            Err(Error::Config(format!(
                "key name {name:?} must be a slug (a-z, 0-9, '-', '_')"
            )))
        }
    }

    fn update_profile(&mut self) {
        let keys = self.keys.as_ref().map(|keys| {
            keys.published
                .iter()
                .map(|(url, _)| IdOr::Id(url.clone().into()))
                .collect()
        });
        self.issuer.public_key = keys.map(OneOrMany::Many);
        self.issuer.revocation_list = Some(self.scheme.revocation_list().into());
    }

    /// Whether assertions are signed.
    pub fn is_signing(&self) -> bool {
        self.keys.is_some()
    }

    /// The CryptographicKey documents of every published key (none unless signing).
    pub fn key_documents(&self) -> Vec<ServedDocument> {
        let Some(keys) = &self.keys else {
            return Vec::new();
        };
        keys.published
            .iter()
            .map(|(url, public)| ServedDocument {
                url: url.clone(),
                status: 200,
                content_type: "application/ld+json",
                body: json_ld(
                    &CryptographicKey::new(url.clone(), self.scheme.issuer(), public.to_pem())
                        .to_value(),
                ),
            })
            .collect()
    }

    /// The RevocationList document listing `revoked` (the issuer's revoked signed
    /// assertions, from the store), to serve again whenever an assertion is revoked.
    /// Hosted assertions in `revoked` are left out: they are revoked where they are served.
    pub fn revocation_list(&self, revoked: &[IssuedAssertion]) -> ServedDocument {
        let entries = revoked
            .iter()
            .filter(|a| HostedRecord::of(a).is_ok_and(|record| record.jws.is_some()))
            .filter_map(|a| {
                let reason = a.revoked.clone()?;
                let id = badgery_model::Iri::parse(&a.id).ok()?;
                Some(RevokedEntry::with_reason(id, reason))
            })
            .collect();
        let list =
            RevocationList::new(self.scheme.revocation_list(), self.scheme.issuer(), entries);
        ServedDocument {
            url: self.scheme.revocation_list(),
            status: 200,
            content_type: "application/ld+json",
            body: json_ld(&list.to_value()),
        }
    }

    /// The URL scheme.
    pub fn scheme(&self) -> &UrlScheme {
        &self.scheme
    }

    /// The issuer profile document.
    pub fn issuer_document(&self) -> &Profile {
        &self.issuer
    }

    /// The badge class document.
    pub fn badge_class_document(&self, class: &BadgeClassRecord) -> BadgeClass {
        let mut criteria = Criteria {
            id: parse_url(class.criteria_url.as_deref()).map(Into::into),
            narrative: class.criteria_narrative.clone(),
            ..Criteria::default()
        };
        if criteria.id.is_none() && criteria.narrative.is_none() {
            criteria.narrative = Some(class.description.clone());
        }
        let doc = BadgeClass::new(
            self.scheme.badge_class(&class.slug),
            class.name.clone(),
            class.description.clone(),
            self.scheme
                .badge_class_image(&class.slug, class.image.format),
            criteria,
            self.scheme.issuer(),
        );
        let mut doc = class.alignments.iter().fold(doc, |doc, a| {
            // Checked when the class entered the store: an http(s) URL.
            let Ok(url) = a.target_url.parse() else {
                return doc;
            };
            let mut alignment = AlignmentObject::new(a.target_name.clone(), url);
            alignment.target_description = a.target_description.clone();
            alignment.target_framework = a.target_framework.clone();
            alignment.target_code = a.target_code.clone();
            doc.with_alignment(alignment)
        });
        // The issuing component travels as a tag, as the Open edX redesign proposes.
        if !class.issuing_component.is_empty() {
            doc = doc.with_tags([class.issuing_component.clone()]);
        }
        doc
    }

    /// Every document the host must serve for an issued (or revoked) assertion: the assertion
    /// (410 Gone once revoked; a signed one has no URL, it travels as its JWS), its baked
    /// image (not once revoked), the badge class, the class image, the issuer profile and,
    /// signing, the keys. The revocation list is [`HostedIssuer::revocation_list`].
    pub fn documents(
        &self,
        assertion: &IssuedAssertion,
        class: &BadgeClassRecord,
    ) -> Vec<ServedDocument> {
        let mut served = Vec::new();
        let record = HostedRecord::of(assertion).unwrap_or_default();
        if let (true, Ok(url), Some(doc)) = (
            record.is_served_at_its_url(),
            Url::parse(&assertion.id),
            &record.assertion,
        ) {
            let status = if assertion.revoked.is_some() {
                410
            } else {
                200
            };
            served.push(ServedDocument {
                url,
                status,
                content_type: "application/ld+json",
                body: json_ld(doc),
            });
        }
        if let (Some(url), Some(image), None) = (
            parse_url(assertion.image_url.as_deref()),
            &assertion.baked_image,
            &assertion.revoked,
        ) {
            served.push(ServedDocument {
                url,
                status: 200,
                content_type: image.format.media_type(),
                body: image.bytes.clone(),
            });
        }
        served.push(ServedDocument {
            url: self.scheme.badge_class(&class.slug),
            status: 200,
            content_type: "application/ld+json",
            body: json_ld(&self.badge_class_document(class).to_value()),
        });
        served.push(ServedDocument {
            url: self
                .scheme
                .badge_class_image(&class.slug, class.image.format),
            status: 200,
            content_type: class.image.format.media_type(),
            body: class.image.bytes.clone(),
        });
        served.push(ServedDocument {
            url: self.scheme.issuer(),
            status: 200,
            content_type: "application/ld+json",
            body: json_ld(&self.issuer_document().to_value()),
        });
        served.extend(self.key_documents());
        served
    }

    /// Answers a request for `url` from `store`: the document with status 200, 410 Gone for a
    /// revoked assertion (its revoked form) or its image (no body), 404 for a URL of this
    /// scheme that names nothing stored (or of no document at all), with a plain-text body
    /// saying so. Serving is then a few lines in any web framework:
    ///
    /// ```text
    /// // axum, say: every GET under the base URL.
    /// let doc = issuer.serve(&*store, &request_url).await?;
    /// (StatusCode::from_u16(doc.status)?, [(CONTENT_TYPE, doc.content_type)], doc.body)
    /// ```
    ///
    /// # Errors
    /// The store's errors.
    pub async fn serve<S>(&self, store: &S, url: &str) -> Result<ServedDocument, Error>
    where
        S: ClassCatalog + AssertionRepository + ?Sized,
    {
        let not_found = || ServedDocument {
            url: Url::parse(url).unwrap_or_else(|_| self.scheme.base.clone()),
            status: 404,
            content_type: "text/plain; charset=utf-8",
            body: format!("not found: {url}").into_bytes(),
        };
        let json = |url: Url, status: u16, value: &Value| ServedDocument {
            url,
            status,
            content_type: "application/ld+json",
            body: json_ld(value),
        };
        let Some(route) = self.scheme.route(url) else {
            return Ok(not_found());
        };
        let served = match route {
            Route::Issuer => Some(json(
                self.scheme.issuer(),
                200,
                &self.issuer_document().to_value(),
            )),
            Route::BadgeClass { slug } => store.class(&slug).await?.map(|class| {
                json(
                    self.scheme.badge_class(&slug),
                    200,
                    &self.badge_class_document(&class).to_value(),
                )
            }),
            Route::BadgeClassImage { slug, format } => store
                .class(&slug)
                .await?
                .filter(|class| class.image.format == format)
                .map(|class| ServedDocument {
                    url: self.scheme.badge_class_image(&slug, format),
                    status: 200,
                    content_type: format.media_type(),
                    body: class.image.bytes,
                }),
            Route::Assertion { token } => {
                let id = self.scheme.assertion(&token);
                store.assertion(id.as_str()).await?.and_then(|a| {
                    let record = HostedRecord::of(&a).ok()?;
                    if !record.is_served_at_its_url() {
                        return None;
                    }
                    let document = record.assertion?;
                    let status = if a.revoked.is_some() { 410 } else { 200 };
                    Some(json(id, status, &document))
                })
            }
            Route::AssertionImage { token, format } => {
                let hosted = self.scheme.assertion(&token).to_string();
                let assertion = match store.assertion(&hosted).await? {
                    Some(a) => Some(a),
                    None => match urn_uuid(&token) {
                        Some(urn) => store.assertion(urn.as_str()).await?,
                        None => None,
                    },
                };
                assertion.and_then(|a| match (&a.revoked, a.baked_image) {
                    (Some(_), _) => Some(ServedDocument {
                        url: self.scheme.assertion_image(&token, format),
                        status: 410,
                        content_type: "text/plain; charset=utf-8",
                        body: b"revoked".to_vec(),
                    }),
                    (None, Some(image)) if image.format == format => Some(ServedDocument {
                        url: self.scheme.assertion_image(&token, format),
                        status: 200,
                        content_type: format.media_type(),
                        body: image.bytes,
                    }),
                    _ => None,
                })
            }
            Route::Key { name } => {
                let url = self.scheme.key(&name);
                self.key_documents().into_iter().find(|doc| doc.url == url)
            }
            Route::RevocationList if self.is_signing() => {
                Some(self.revocation_list(&store.revoked_assertions().await?))
            }
            Route::RevocationList => None,
        };
        Ok(served.unwrap_or_else(not_found))
    }

    /// The assertion id for an award: 32 hex digits of HMAC-SHA256 of its idempotency key
    /// under the id secret.
    /// A learner's `urn:uuid:` (a keyed hash of their id): the subject of their Open Badges
    /// 3.0 credentials, the same in each, and nobody's username.
    #[cfg(feature = "ob3")]
    fn learner_uuid(&self, learner: &str) -> Result<String, BackendError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(format!("learner\u{1f}{learner}").as_bytes());
        let token: String = mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        urn_uuid(&token)
            .map(|u| u.to_string())
            .ok_or_else(|| rejected("a learner token is 32 hex digits"))
    }

    fn assertion_token(&self, request: &AwardRequest) -> String {
        // HMAC takes a key of any length: `new_from_slice` cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(request.key.idempotency_key().as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A salt for a hashed recipient: 16 random bytes, as hex.
#[cfg(feature = "ob3")]
fn salt() -> Result<String, BackendError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        BackendError::unavailable(format!(
            "drawing a salt for the recipient's hashed email: {e}"
        ))
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A `urn:uuid:` id from an assertion token's 32 hex digits, shaped as an RFC 4122 version 4
/// UUID (the validator accepts versions 1 to 5): the token is a keyed hash, as random to
/// anyone without the secret as a version 4 UUID is. `None` for anything but 32 hex digits
/// (a token read from a requested URL is untrusted).
fn urn_uuid(token: &str) -> Option<Url> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut hex = token.to_ascii_lowercase().into_bytes();
    hex[12] = b'4';
    let nibble = char::from(hex[16]).to_digit(16).unwrap_or(0) as usize;
    hex[16] = b"89ab"[nibble & 3];
    let hex = String::from_utf8(hex).ok()?;
    Url::parse(&format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
    .ok()
}

/// An optional URL from a record, `None` when absent or not a URL.
fn parse_url(url: Option<&str>) -> Option<Url> {
    url.and_then(|u| Url::parse(u).ok())
}

fn rejected(e: impl std::fmt::Display) -> BackendError {
    BackendError::Rejected(e.to_string())
}

#[async_trait]
impl BadgeBackend for HostedIssuer {
    fn name(&self) -> &str {
        BACKEND_NAME
    }

    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, BackendError> {
        class.check()?;
        check_class_image(&class.slug, &class.image).map_err(rejected)?;
        Ok(self.scheme.badge_class(&class.slug).to_string())
    }

    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, BackendError> {
        let class = &request.class;
        class.check()?;
        request.key.check()?;
        check_class_image(&class.slug, &class.image).map_err(rejected)?;
        let token = self.assertion_token(request);
        let recipient = IdentityObject::hashed(IdentityType::Email, &request.recipient.email)
            .map_err(|e| {
                BackendError::unavailable_from("drawing a salt for the recipient's hashed email", e)
            })?;
        let image_url = self.scheme.assertion_image(&token, class.image.format);
        let (id, verification) = match &self.keys {
            None => (self.scheme.assertion(&token), VerificationObject::hosted()),
            Some(keys) => (
                urn_uuid(&token).ok_or_else(|| rejected("an assertion token is 32 hex digits"))?,
                VerificationObject::signed(keys.signing.1.clone()),
            ),
        };
        let mut assertion = Assertion::new(
            id,
            recipient,
            self.scheme.badge_class(&class.slug).into(),
            verification,
            request.issued_on,
        )
        .with_image(image_url.clone());
        for item in &request.evidence {
            let url = match item.url.as_deref() {
                None => None,
                Some(text) => Some(
                    Url::parse(text)
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https"))
                        .ok_or_else(|| {
                            rejected(format!("evidence URL {text:?} is not an http(s) URL"))
                        })?,
                ),
            };
            let evidence = Evidence {
                id: url.map(Into::into),
                narrative: item.narrative.clone(),
                ..Evidence::default()
            };
            if evidence.id.is_some() || evidence.narrative.is_some() {
                assertion = assertion.with_evidence(evidence);
            }
        }
        if let Some(narrative) = &request.narrative {
            assertion = assertion.with_narrative(narrative.clone());
        }
        // The Open Badges date-time has four year digits: a date outside years 1 to 9999
        // cannot be written (nor read back by a validator).
        let writable = |what: &str, date: chrono::DateTime<chrono::Utc>| {
            if (1..=9999).contains(&chrono::Datelike::year(&date)) {
                Ok(date)
            } else {
                Err(rejected(format!(
                    "the {what} {date} is outside the years 1 to 9999 an Open Badges date can hold"
                )))
            }
        };
        writable("issue date", request.issued_on)?;
        match class.expiry {
            Some(Expiry::At(date)) if date <= request.issued_on => {
                return Err(rejected(format!(
                    "badge class {} expired on {date}, before this award",
                    class.slug
                )));
            }
            Some(Expiry::At(date)) => assertion = assertion.with_expires(writable("expiry", date)?),
            Some(Expiry::AfterDays(days)) => {
                let expires = request
                    .issued_on
                    .checked_add_signed(chrono::Duration::days(i64::from(days)))
                    .ok_or_else(|| {
                        rejected(format!(
                            "an expiry {days} days after issue is past the year 9999"
                        ))
                    })?;
                assertion = assertion.with_expires(writable("expiry", expires)?);
            }
            _ => {}
        }
        let (ob2, ob3) = self.versions(&class.slug);
        let assertion_json = assertion.to_value();
        let jws = match &self.keys {
            None => None,
            Some(keys) => Some(
                keys.signing
                    .0
                    .sign(&assertion_json)
                    .map_err(|e| BackendError::unavailable_from("signing the assertion", e))?,
            ),
        };
        // A signed badge bakes its JWS; a hosted one its JSON.
        let baked_text = match &jws {
            Some(jws) => jws.clone(),
            None => serde_json::to_string(&assertion_json).map_err(rejected)?,
        };
        let limits = badgery_bake::Limits::default();
        let mut baked = class.image.bytes.clone();
        if ob2 {
            let payload = badgery_bake::Payload::new(baked_text).map_err(rejected)?;
            baked = badgery_bake::bake(&baked, &payload, &limits).map_err(rejected)?;
        }
        let mut id = assertion.id.to_string();
        let mut ob3_record = None;
        #[cfg(feature = "ob3")]
        if let (true, Some(issuing)) = (ob3, &self.ob3) {
            let credential_id = urn_uuid(&token)
                .ok_or_else(|| rejected("an assertion token is 32 hex digits"))?
                .to_string();
            let subject = self.learner_uuid(&request.key.learner)?;
            let salt = salt()?;
            let record = issuing
                .credential(
                    &self.scheme,
                    request,
                    &credential_id,
                    &subject,
                    &salt,
                    assertion.expires.as_ref().and_then(|d| d.parse().ok()),
                )
                .await?;
            baked = badgery_ob3::bake::bake(&baked, &record.credential.text()).map_err(rejected)?;
            if !ob2 {
                id = credential_id;
            }
            ob3_record = Some(record);
        }
        let _ = ob3;
        Ok(IssuedAssertion {
            id,
            key: request.key.clone(),
            issuing_component: class.issuing_component.clone(),
            course: class.course.clone(),
            backend: self.name().to_owned(),
            issued_on: request.issued_on,
            image_url: Some(image_url.to_string()),
            // A class issued as OB 3.0 only keeps no 2.0 assertion (nothing to serve at its id).
            data: HostedRecord {
                assertion: ob2.then_some(assertion_json),
                jws: jws.filter(|_| ob2),
                ob3: ob3_record,
            }
            .to_data(),
            baked_image: Some(ClassImage {
                format: class.image.format,
                bytes: baked,
            }),
            revoked: None,
        })
    }

    async fn revoke(
        &self,
        assertion: &IssuedAssertion,
        reason: &str,
    ) -> Result<IssuedAssertion, BackendError> {
        let id = badgery_model::Iri::parse(&assertion.id).map_err(rejected)?;
        let mut revoked = assertion.clone();
        // A hosted assertion is replaced where it is served; a signed one is listed in the
        // revocation list and keeps its JWS, which stays valid but for the list.
        let mut record = HostedRecord::of(assertion).map_err(rejected)?;
        if record.is_served_at_its_url() {
            record.assertion = Some(RevokedAssertion::new(id, Some(reason.to_owned())).to_value());
            revoked.data = record.to_data();
        }
        revoked.revoked = Some(reason.to_owned());
        revoked.baked_image = None;
        Ok(revoked)
    }
}
