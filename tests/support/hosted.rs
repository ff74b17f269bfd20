//! The class image and hosted issuer that the engine's tests and benchmark share.

use badgery::backend::{ClassImage, ImageFormat};
use badgery::{HostedIssuer, IdSecret, IssuerProfile, UrlScheme};

/// The example badge image (a 128×128 PNG).
pub(crate) fn png() -> ClassImage {
    ClassImage {
        format: ImageFormat::Png,
        bytes: include_bytes!("../../examples/images/rust.png").to_vec(),
    }
}

/// A hosted issuer serving its documents under `https://lms.example.org/ob/`, naming
/// assertions with a fixed test secret.
pub(crate) fn issuer() -> HostedIssuer {
    issuer_with_secret(b"a test secret of the hosted issuer")
}

/// The same issuer naming assertions with `secret`.
#[allow(dead_code)] // Not every test crate that shares this module uses it.
pub(crate) fn issuer_with_secret(secret: &[u8]) -> HostedIssuer {
    HostedIssuer::new(
        UrlScheme::new("https://lms.example.org/ob/").unwrap(),
        IssuerProfile::new(
            "LMS",
            "https://lms.example.org".parse().unwrap(),
            "badges@lms.example.org",
        ),
        IdSecret::new(secret).unwrap(),
    )
    .unwrap()
}
