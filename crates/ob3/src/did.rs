//! Issuer identity: `did:web`, the DID method whose document is a file on the issuer's own web
//! site (W3C CCG did:web §3.2).
//!
//! `did:web:lms.example.org` is resolved at `https://lms.example.org/.well-known/did.json`;
//! `did:web:lms.example.org:ob` at `https://lms.example.org/ob/did.json`; a port is written
//! percent-encoded (`lms.example.org%3A8443`). The document lists the issuer's public keys as
//! verification methods, each also named under `assertionMethod` (the purpose a credential
//! proof is made for).

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

    /// The id of the verification method named `fragment` (`DID#fragment`).
    pub fn key_id(&self, fragment: &str) -> String {
        format!("{}#{fragment}", self.did)
    }

    /// The DID document listing `methods` (each made by [`jwk_method`] or
    /// [`multikey_method`]), every one also an `assertionMethod`.
    pub fn document(&self, methods: &[Value]) -> Value {
        let ids: Vec<&Value> = methods.iter().filter_map(|m| m.get("id")).collect();
        json!({
            "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
            "id": self.did,
            "verificationMethod": methods,
            "assertionMethod": ids,
        })
    }
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
            assert_eq!(
                did_web_document_url(&web.key_id("key-1")).unwrap().as_str(),
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
        let web = DidWeb::for_site("https://lms.example.org/ob/").unwrap();
        let method = jwk_method(&web.key_id("key-1"), web.did(), &json!({"kty": "EC"}));
        let doc = web.document(&[method]);
        assert_eq!(doc["id"], "did:web:lms.example.org:ob");
        assert_eq!(
            doc["assertionMethod"][0],
            "did:web:lms.example.org:ob#key-1"
        );
        assert_eq!(doc["verificationMethod"][0]["controller"], doc["id"]);
    }
}
