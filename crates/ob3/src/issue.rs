//! Issuing: an issuer identity (`did:web`, an https id or `did:key`, and signing keys) that
//! makes OpenBadgeCredentials, signs them as VC-JWT or with an embedded proof, and publishes
//! what a verifier needs (the DID or controller document, the JWKS, the status list
//! credential).

use badgery_model::jws::{Algorithm, SigningKey};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::credential::{
    Achievement, AchievementResult, AchievementSubject, Evidence, IdentityObject, OB_CONTEXT,
    OpenBadgeCredential, Profile, VC_CONTEXT,
};
use crate::did::{DidWeb, Identity, jwk_method, multikey_method};
use crate::eddsa;
use crate::error::Error;
use crate::jwt;
use crate::status::{StatusList, StatusPurpose, list_credential, status_entry};

/// An Open Badges 3.0 date-time: UTC, whole seconds (a VC-JWT's `nbf` and `exp` are whole
/// seconds and must equal them).
pub fn date_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What one credential says: the achievement, its recipient and when.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CredentialRequest {
    /// The credential's id (`urn:uuid:…`): the same for the same award, so that issuing it
    /// again (a retry) makes the same credential.
    pub id: String,
    /// What was achieved.
    pub achievement: Achievement,
    /// The recipient's id (a URI), the VC-JWT's `sub`.
    pub subject_id: String,
    /// The recipient's email address, written hashed under `salt`.
    pub email: Option<(String, String)>,
    /// From when the credential is valid (also its achievement date).
    pub valid_from: DateTime<Utc>,
    /// Until when, if it expires.
    pub valid_until: Option<DateTime<Utc>>,
    /// Evidence.
    pub evidence: Vec<Evidence>,
    /// A grade, if the achievement has one.
    pub grade: Option<String>,
    /// The credential's bit in the issuer's status list.
    pub status_index: Option<usize>,
}

impl CredentialRequest {
    /// A request for `achievement`, achieved by `subject_id` at `valid_from`, as credential
    /// `id`.
    pub fn new(
        id: impl Into<String>,
        achievement: Achievement,
        subject_id: impl Into<String>,
        valid_from: DateTime<Utc>,
    ) -> Self {
        CredentialRequest {
            id: id.into(),
            achievement,
            subject_id: subject_id.into(),
            email: None,
            valid_from,
            valid_until: None,
            evidence: Vec::new(),
            grade: None,
            status_index: None,
        }
    }
}

/// An issuer of Open Badges 3.0 credentials under an [`Identity`].
#[derive(Debug)]
pub struct Issuer {
    identity: Identity,
    profile: Profile,
    key: SigningKey,
    key_fragment: String,
    status_list_url: String,
    /// What a set bit of the status list means.
    status_purpose: StatusPurpose,
    /// The Ed25519 key of embedded `eddsa-rdfc-2022` proofs, and its fragment.
    ed25519: Option<(SigningKey, String)>,
}

impl Issuer {
    /// An issuer whose DID document is served under `site` (see [`DidWeb::for_site`]),
    /// presenting `profile` (whose id becomes the DID), signing VC-JWTs with `key` (RS256 or
    /// ES256, which the 1EdTech validator accepts; EdDSA as an opt-in, which it refuses)
    /// named `DID#key_fragment`, and publishing its status list (revocation by default) at `status_list_url`.
    ///
    /// # Errors
    /// [`Error::Misuse`] when `site` is not an https URL a `did:web` can name.
    pub fn new(
        site: &str,
        profile: Profile,
        key: SigningKey,
        key_fragment: &str,
        status_list_url: &str,
    ) -> Result<Self, Error> {
        let identity = Identity::Web(DidWeb::for_site(site)?);
        Self::with_identity(identity, profile, key, key_fragment, status_list_url)
    }

    /// An issuer known as `identity`, presenting `profile` (whose id becomes the identity's),
    /// signing VC-JWTs with `key` named `ID#key_fragment`, its status list at
    /// `status_list_url`. A `did:key` issuer signs VC-JWTs (EdDSA) and embedded proofs with
    /// the one Ed25519 key its DID is.
    ///
    /// # Errors
    /// [`Error::Misuse`] when a `did:key` identity is not `key`'s.
    pub fn with_identity(
        identity: Identity,
        mut profile: Profile,
        key: SigningKey,
        key_fragment: &str,
        status_list_url: &str,
    ) -> Result<Self, Error> {
        let mut ed25519 = None;
        if let Identity::Key(did) = &identity {
            if Identity::did_key(&key.public_key()).ok().as_ref() != Some(&identity) {
                return Err(Error::Misuse(format!(
                    "{did} is not the DID of the signing key"
                )));
            }
            // The same key signs both proofs: a second handle on it, from its PKCS#8.
            let again = SigningKey::from_pkcs8_pem(&key.to_pkcs8_pem())
                .map_err(|e| Error::Misuse(e.to_string()))?;
            ed25519 = Some((again, String::new()));
        }
        profile.id = identity.id().to_owned();
        Ok(Issuer {
            identity,
            profile,
            key,
            key_fragment: key_fragment.to_owned(),
            status_list_url: status_list_url.to_owned(),
            status_purpose: StatusPurpose::Revocation,
            ed25519,
        })
    }

    /// Makes the status list a `suspension` list (or back a `revocation` one, the default):
    /// what its set bits mean, written in each credential's status entry and in the list.
    /// A suspension bit may be cleared again (the credential is reinstated); a host that
    /// suspends sets in it both the suspended credentials and the revoked ones, since a
    /// credential has one status entry (the 1EdTech schema allows no list of them).
    pub fn with_status_purpose(mut self, purpose: StatusPurpose) -> Self {
        self.status_purpose = purpose;
        self
    }

    /// What a set bit of the status list means.
    pub fn status_purpose(&self) -> StatusPurpose {
        self.status_purpose
    }

    /// Also signs with embedded `eddsa-rdfc-2022` proofs by `key` (Ed25519), published in
    /// the DID document as the Multikey `DID#fragment`.
    ///
    /// # Errors
    /// [`Error::Misuse`] when `key` is not an Ed25519 key, or the issuer is a `did:key`
    /// (which signs with the one key it is).
    pub fn with_eddsa_key(mut self, key: SigningKey, fragment: &str) -> Result<Self, Error> {
        if let Identity::Key(did) = &self.identity {
            return Err(Error::Misuse(format!("{did} signs with the one key it is")));
        }
        if key.algorithm() != Algorithm::EdDsa {
            return Err(Error::Misuse(format!(
                "an eddsa-rdfc-2022 key is Ed25519, not {}",
                key.algorithm().name()
            )));
        }
        self.ed25519 = Some((key, fragment.to_owned()));
        Ok(self)
    }

    /// The id of the Ed25519 key (`DID#fragment`), when there is one.
    pub fn eddsa_key_id(&self) -> Option<String> {
        self.ed25519.as_ref().map(|(_, f)| self.identity.key_id(f))
    }

    /// `credential` with an embedded `eddsa-rdfc-2022` proof made at `created`.
    ///
    /// # Errors
    /// [`Error::Misuse`] when the issuer has no Ed25519 key; as [`eddsa::sign`].
    pub fn sign_eddsa(
        &self,
        credential: &OpenBadgeCredential,
        created: DateTime<Utc>,
    ) -> Result<Value, Error> {
        self.sign_eddsa_json(&credential.to_value(), created)
    }

    /// A credential given as JSON with an embedded `eddsa-rdfc-2022` proof, as it is.
    ///
    /// # Errors
    /// As [`Issuer::sign_eddsa`].
    pub fn sign_eddsa_json(
        &self,
        credential: &Value,
        created: DateTime<Utc>,
    ) -> Result<Value, Error> {
        let (key, fragment) = self
            .ed25519
            .as_ref()
            .ok_or_else(|| Error::Misuse("the issuer has no Ed25519 key".into()))?;
        eddsa::sign(
            credential,
            key,
            &self.identity.key_id(fragment),
            &date_time(created),
        )
    }

    /// Who the issuer is.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The issuer profile written into each credential.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The id of the signing key (`ID#fragment`), the VC-JWT's `kid`.
    pub fn key_id(&self) -> String {
        self.identity.key_id(&self.key_fragment)
    }

    /// The URL of the status list credential.
    pub fn status_list_url(&self) -> &str {
        &self.status_list_url
    }

    /// The credential `request` describes, unsigned.
    pub fn credential(&self, request: &CredentialRequest) -> OpenBadgeCredential {
        let mut subject = AchievementSubject {
            id: Some(request.subject_id.clone()),
            types: vec!["AchievementSubject".into()],
            achievement: request.achievement.clone(),
            identifier: Vec::new(),
            activity_end_date: Some(date_time(request.valid_from)),
            result: Vec::new(),
            extra: Map::new(),
        };
        if let Some((email, salt)) = &request.email {
            subject
                .identifier
                .push(IdentityObject::hashed_email(email, salt));
        }
        if let Some(grade) = &request.grade {
            subject.result.push(AchievementResult {
                types: vec!["Result".into()],
                value: Some(grade.clone()),
                status: Some("Completed".into()),
            });
        }
        OpenBadgeCredential {
            context: vec![VC_CONTEXT.into(), OB_CONTEXT.into()],
            id: request.id.clone(),
            types: vec!["VerifiableCredential".into(), "OpenBadgeCredential".into()],
            name: Some(request.achievement.name.clone()),
            description: None,
            image: request.achievement.image.clone(),
            issuer: self.profile.clone(),
            valid_from: date_time(request.valid_from),
            valid_until: request.valid_until.map(date_time),
            credential_subject: subject,
            credential_status: request
                .status_index
                .map(|i| status_entry(&self.status_list_url, self.status_purpose, i)),
            // `credentialSchema`'s type, 1EdTechJsonSchemaValidator2019, is defined only in
            // the extensions context: a credential that stays within the VC 2.0 and OB 3.0
            // contexts leaves it out (it is optional).
            credential_schema: Vec::new(),
            evidence: request.evidence.clone(),
            proof: Vec::new(),
            extra: Map::new(),
        }
    }

    /// `credential` signed as a VC-JWT.
    ///
    /// # Errors
    /// As [`jwt::sign`].
    pub fn sign_jwt(&self, credential: &OpenBadgeCredential) -> Result<String, Error> {
        self.sign_jwt_json(&credential.to_value())
    }

    /// A credential given as JSON signed as a VC-JWT, as it is: for credentials made
    /// elsewhere (and for tests that sign a defective one).
    ///
    /// # Errors
    /// As [`jwt::sign`].
    pub fn sign_jwt_json(&self, credential: &Value) -> Result<String, Error> {
        jwt::sign(credential, &self.key, &self.key_id())
    }

    /// Where the document that lists the issuer's keys is served, and that document: the
    /// DID document of a `did:web`, the controller document of an https issuer; `None` for a
    /// `did:key`. Its methods: the VC-JWT key as a JWK, the Ed25519 key as a Multikey.
    pub fn controller_document(&self) -> Option<(url::Url, Value)> {
        let id = self.identity.id();
        let mut methods = vec![jwk_method(&self.key_id(), id, &self.public_jwk())];
        if let (Some((key, _)), Some(key_id)) = (&self.ed25519, self.eddsa_key_id()) {
            // An Ed25519 key (checked when it was given) always has a Multikey.
            let multibase = eddsa::public_multibase(&key.public_key()).unwrap_or_default();
            methods.push(multikey_method(&key_id, id, &multibase));
        }
        self.identity.document(&methods)
    }

    /// The signing key's public JWK, with its `kid`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.key.public_key().to_jwk();
        jwk["kid"] = Value::String(self.key_id());
        jwk
    }

    /// The JWKS of the issuer's keys.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.public_jwk()]})
    }

    /// The status list credential for `list`, signed as a VC-JWT, to serve at
    /// [`Issuer::status_list_url`] (made anew whenever a bit changes).
    ///
    /// # Errors
    /// As [`jwt::sign`].
    pub fn status_list_jwt(&self, list: &StatusList, at: DateTime<Utc>) -> Result<String, Error> {
        jwt::sign(&self.status_list(list, at), &self.key, &self.key_id())
    }

    /// The unsigned status list credential for `list`, valid from `at`.
    fn status_list(&self, list: &StatusList, at: DateTime<Utc>) -> Value {
        list_credential(
            &self.status_list_url,
            self.identity.id(),
            self.status_purpose,
            list,
            &date_time(at),
        )
    }

    /// The status list credential for `list` with an embedded `eddsa-rdfc-2022` proof.
    ///
    /// # Errors
    /// As [`Issuer::sign_eddsa`].
    pub fn status_list_eddsa(&self, list: &StatusList, at: DateTime<Utc>) -> Result<Value, Error> {
        self.sign_eddsa_json(&self.status_list(list, at), at)
    }
}
