//! Baking a credential into a badge image (OB 3.0 §5.3): PNG `iTXt` keyword
//! `openbadgecredential`, uncompressed, once; SVG `<openbadges:credential>` in the namespace
//! `https://purl.imsglobal.org/ob/v3p0`, a VC-JWT in its `verify` attribute or a JSON
//! credential as its CDATA body. The image's other bytes, and an Open Badges 2.0 assertion
//! baked beside it, are kept.

use badgery_bake::{Limits, Payload};

use crate::error::Error;

/// Bakes `credential` (a VC-JWT, or the JSON of a credential with an embedded proof) into
/// `image` (PNG or SVG).
///
/// # Errors
/// [`Error::Bake`] when the image cannot be baked (see [`badgery_bake::bake`]).
pub fn bake(image: &[u8], credential: &str) -> Result<Vec<u8>, Error> {
    let payload = Payload::credential(credential)
        .map_err(|e| Error::bake("preparing the credential for baking", e))?;
    badgery_bake::bake(image, &payload, &Limits::default())
        .map_err(|e| Error::bake("baking the credential", e))
}

/// The Open Badges 3.0 credentials baked in `image`, in the order it holds them (one, in a
/// well-made image).
///
/// # Errors
/// [`Error::Bake`] when the image cannot be read.
pub fn unbake(image: &[u8]) -> Result<Vec<String>, Error> {
    let all = badgery_bake::unbake_all(image, &Limits::default())
        .map_err(|e| Error::bake("reading the baked image", e))?;
    Ok(all
        .into_iter()
        .filter(|p| p.version() == badgery_bake::Version::Ob3)
        .map(Payload::into_string)
        .collect())
}
