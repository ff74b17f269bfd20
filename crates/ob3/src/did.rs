//! Issuer identity: who an issuer is to a verifier and where its keys are found.
//!
//! - `did:web`, the DID method whose document is a file on the issuer's own web site (W3C CCG
//!   did:web §3.2): `did:web:lms.example.org` is resolved at
//!   `https://lms.example.org/.well-known/did.json`; `did:web:lms.example.org:ob` at
//!   `https://lms.example.org/ob/did.json`; a port is written percent-encoded
//!   (`lms.example.org%3A8443`).
//! - An https issuer: its id is the URL of a controller document the host serves, shaped
//!   like a DID document, its keys named `URL#fragment`.
//! - `did:key` (Ed25519): the DID is the public key itself (`did:key:z6Mk…`, its method
//!   `did:key:z6Mk…#z6Mk…`); nothing is served, which suits tests and demonstrations.
//!
//! A served document lists the issuer's public keys as verification methods, each also named
//! under `assertionMethod` (the purpose a credential proof is made for).

use serde_json::{Value, json};
use url::Url;

use crate::error::Error;

/// The DID document context.
pub const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
/// The Multikey context (Ed25519 keys in `publicKeyMultibase`).
pub const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";

/// A `did:web` identity rooted at an https URL the issuer serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidWeb {
    did: String,
    document_url: Url,
}

impl DidWeb {
    /// The DID for `site`: `https://HOST[:PORT]/[PATH/]`, whose document is served at
    /// `PATH/did.json` (or `/.well-known/did.json` without a path).
    ///
    /// # Errors
    /// [`Error::Misuse`] when `site` is not https, has no host, or has a query or fragment.
    pub fn for_site(site: &str) -> Result<Self, Error> {
        let url = Url::parse(site)
            .map_err(|e| Error::Misuse(format!("the did:web site {site:?} is not a URL: {e}")))?;
        if url.scheme() != "https" || url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Misuse(format!(
                "the did:web site {site:?} must be an https URL without query or fragment"
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| Error::Misuse(format!("the did:web site {site:?} has no host")))?;
        let mut did = format!("did:web:{host}");
        if let Some(port) = url.port() {
            did.push_str(&format!("%3A{port}"));
        }
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        for segment in &segments {
            if segment.contains(':') {
                return Err(Error::Misuse(format!(
                    "the did:web site {site:?} has a ':' in its path, which the DID cannot hold"
                )));
            }
            did.push(':');
            did.push_str(segment);
        }
        let document = if segments.is_empty() {
            ".well-known/did.json".to_owned()
        } else {
            format!("{}/did.json", segments.join("/"))
        };
        let mut document_url = url.clone();
        document_url.set_path(&format!("/{document}"));
        Ok(DidWeb { did, document_url })
    }

    /// The DID.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The URL where the DID document is served.
    pub fn document_url(&self) -> &Url {
        &self.document_url
    }

    /// The document's path as laid out on disk under a folder of hosts: `HOST/.well-known/
    /// did.json` or `HOST/PATH/did.json` (a port kept as `HOST%3APORT`).
    pub fn document_path(&self) -> String {
        let host = self.did["did:web:".len()..]
            .split(':')
            .next()
            .unwrap_or_default();
        format!("{host}{}", self.document_url.path())
    }
}

/// Who an issuer is: the id credentials name as `issuer.id` and the controller of its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identity {
    /// A `did:web` DID, its document served on the issuer's site.
    Web(DidWeb),
    /// An https URL, where the host serves the controller document listing the keys.
    Https(Url),
    /// A `did:key` DID (Ed25519): the DID is the key, nothing is served.
    Key(String),
}

impl Identity {
    /// An https issuer whose controller document is served at `url`.
    ///
    /// # Errors
    /// [`Error::Misuse`] when `url` is not an https URL without fragment.
    pub fn https(url: &str) -> Result<Self, Error> {
        let parsed = Url::parse(url)
            .map_err(|e| Error::Misuse(format!("the issuer id {url:?} is not a URL: {e}")))?;
        if parsed.scheme() != "https" || parsed.fragment().is_some() {
            return Err(Error::Misuse(format!(
                "the issuer id {url:?} must be an https URL without fragment"
            )));
        }
        Ok(Identity::Https(parsed))
    }

    /// The `did:key` DID of the Ed25519 `key`.
    ///
    /// # Errors
    /// [`Error::Misuse`] when `key` is not an Ed25519 key.
    pub fn did_key(key: &badgery_model::jws::PublicKey) -> Result<Self, Error> {
        Ok(Identity::Key(format!(
            "did:key:{}",
            crate::eddsa::public_multibase(key)?
        )))
    }

    /// The issuer's id, written as `issuer.id` and as every key's controller.
    pub fn id(&self) -> &str {
        match self {
            Identity::Web(web) => web.did(),
            Identity::Https(url) => url.as_str(),
            Identity::Key(did) => did,
        }
    }

    /// The id of the key named `fragment`: `ID#fragment` (a `did:key` has one key, named by
    /// its multibase, whatever `fragment` says).
    pub fn key_id(&self, fragment: &str) -> String {
        match self {
            Identity::Key(did) => format!("{did}#{}", &did["did:key:".len()..]),
            other => format!("{}#{fragment}", other.id()),
        }
    }

    /// Where the document listing `methods` is served, and the document (`None` for a
    /// `did:key`, which is resolved from the DID itself).
    pub fn document(&self, methods: &[Value]) -> Option<(Url, Value)> {
        let (url, id) = match self {
            Identity::Web(web) => (web.document_url().clone(), web.did()),
            Identity::Https(url) => (url.clone(), url.as_str()),
            Identity::Key(_) => return None,
        };
        let ids: Vec<&Value> = methods.iter().filter_map(|m| m.get("id")).collect();
        Some((
            url,
            json!({
                "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
                "id": id,
                "verificationMethod": methods,
                "assertionMethod": ids,
            }),
        ))
    }
}

/// The URL of the document that lists the verification method `id`: a `did:web` DID's
/// document, or an https method's document (the URL before the fragment); `None` for other
/// ids (`did:key`).
pub fn controller_document_url(id: &str) -> Option<Url> {
    if id.starts_with("did:web:") {
        return did_web_document_url(id).ok();
    }
    let base = id.split('#').next().unwrap_or_default();
    Url::parse(base).ok().filter(|u| u.scheme() == "https")
}

/// The https URL of the document of `did` (a `did:web` DID, with or without a fragment).
///
/// # Errors
/// [`Error::Misuse`] when `did` is not a `did:web` DID with a host.
pub fn did_web_document_url(did: &str) -> Result<Url, Error> {
    let bare = did.split(['#', '?']).next().unwrap_or_default();
    let rest = bare
        .strip_prefix("did:web:")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Error::Misuse(format!("{did:?} is not a did:web DID")))?;
    let mut parts = rest.split(':');
    let host = parts.next().unwrap_or_default().replace("%3A", ":");
    let path: Vec<&str> = parts.collect();
    let document = if path.is_empty() {
        ".well-known/did.json".to_owned()
    } else {
        format!("{}/did.json", path.join("/"))
    };
    Url::parse(&format!("https://{host}/{document}"))
        .map_err(|e| Error::Misuse(format!("{did:?} does not name an https URL: {e}")))
}

/// A verification method holding a public JWK (`publicKeyJwk`), for VC-JWT keys (RS256,
/// ES256).
pub fn jwk_method(id: &str, controller: &str, jwk: &Value) -> Value {
    json!({
        "id": id,
        "type": "JsonWebKey",
        "controller": controller,
        "publicKeyJwk": jwk,
    })
}

/// A verification method holding a Multikey (`publicKeyMultibase`), for Ed25519 keys.
pub fn multikey_method(id: &str, controller: &str, public_key_multibase: &str) -> Value {
    json!({
        "id": id,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": public_key_multibase,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_map_to_dids_and_documents_both_ways() {
        for (site, did, url, path) in [
            (
                "https://lms.example.org/",
                "did:web:lms.example.org",
                "https://lms.example.org/.well-known/did.json",
                "lms.example.org/.well-known/did.json",
            ),
            (
                "https://lms.example.org/ob/",
                "did:web:lms.example.org:ob",
                "https://lms.example.org/ob/did.json",
                "lms.example.org/ob/did.json",
            ),
            (
                "https://lms.example.org:8443/issuers/7",
                "did:web:lms.example.org%3A8443:issuers:7",
                "https://lms.example.org:8443/issuers/7/did.json",
                "lms.example.org%3A8443/issuers/7/did.json",
            ),
        ] {
            let web = DidWeb::for_site(site).unwrap();
            assert_eq!(web.did(), did);
            assert_eq!(web.document_url().as_str(), url);
            assert_eq!(web.document_path(), path);
            let identity = Identity::Web(web);
            assert_eq!(
                did_web_document_url(&identity.key_id("key-1"))
                    .unwrap()
                    .as_str(),
                url
            );
            assert_eq!(
                controller_document_url(&identity.key_id("key-1"))
                    .unwrap()
                    .as_str(),
                url
            );
        }
        for bad in ["http://lms.example.org/", "https://x.org/?a=1", "not a url"] {
            assert!(DidWeb::for_site(bad).is_err(), "{bad}");
        }
        assert!(did_web_document_url("did:key:z6Mk").is_err());
    }

    #[test]
    fn the_document_names_every_method_for_assertions() {
        let web = Identity::Web(DidWeb::for_site("https://lms.example.org/ob/").unwrap());
        let method = jwk_method(&web.key_id("key-1"), web.id(), &json!({"kty": "EC"}));
        let (url, doc) = web.document(&[method]).unwrap();
        assert_eq!(url.as_str(), "https://lms.example.org/ob/did.json");
        assert_eq!(doc["id"], "did:web:lms.example.org:ob");
        assert_eq!(
            doc["assertionMethod"][0],
            "did:web:lms.example.org:ob#key-1"
        );
        assert_eq!(doc["verificationMethod"][0]["controller"], doc["id"]);
    }

    #[test]
    fn https_and_did_key_issuers_name_their_keys() {
        let https = Identity::https("https://lms.example.org/ob/issuer.json").unwrap();
        assert_eq!(
            https.key_id("key-1"),
            "https://lms.example.org/ob/issuer.json#key-1"
        );
        let (url, doc) = https.document(&[]).unwrap();
        assert_eq!(url.as_str(), doc["id"].as_str().unwrap());
        assert_eq!(
            controller_document_url(&https.key_id("key-1")).unwrap(),
            url
        );
        for bad in ["http://lms.example.org/i", "https://x.org/i#me", "urn:x"] {
            assert!(Identity::https(bad).is_err(), "{bad}");
        }

        let key =
            badgery_model::jws::SigningKey::generate(badgery_model::jws::Algorithm::EdDsa).unwrap();
        let did_key = Identity::did_key(&key.public_key()).unwrap();
        let did = did_key.id().to_owned();
        assert!(did.starts_with("did:key:z6Mk"), "{did}");
        assert_eq!(
            did_key.key_id("ignored"),
            format!("{did}#{}", &did["did:key:".len()..])
        );
        assert!(did_key.document(&[]).is_none());
        assert!(controller_document_url(&did_key.key_id("")).is_none());
        let es256 =
            badgery_model::jws::SigningKey::generate(badgery_model::jws::Algorithm::Es256).unwrap();
        assert!(Identity::did_key(&es256.public_key()).is_err());
    }
}
