//! The class image and hosted issuer that the engine's tests and benchmark share.

use badgery::backend::{ClassImage, ImageFormat};
use badgery::{HostedIssuer, IssuerProfile, UrlScheme};

/// The example badge image (a 128×128 PNG).
pub(crate) fn png() -> ClassImage {
    ClassImage {
        format: ImageFormat::Png,
        bytes: include_bytes!("../../examples/images/rust.png").to_vec(),
    }
}

/// A hosted issuer serving its documents under `https://lms.example.org/ob/`.
pub(crate) fn issuer() -> HostedIssuer {
    HostedIssuer::new(
        UrlScheme::new("https://lms.example.org/ob/").unwrap(),
        IssuerProfile::new(
            "LMS",
            "https://lms.example.org".parse().unwrap(),
            "badges@lms.example.org",
        ),
    )
    .unwrap()
}
