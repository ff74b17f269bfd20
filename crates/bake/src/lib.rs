//! Bake an Open Badges payload (assertion JSON, hosted assertion URL or signed JWS) into a PNG
//! or SVG badge image, and read it back.
//!
//! ```
//! use badgery_bake::{bake, unbake, Limits, Payload, PayloadKind};
//!
//! # let image = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/badge.png"))?;
//! let payload = Payload::new(r#"{"id": "https://lms.example.org/ob/assertions/1"}"#)?;
//! let baked = bake(&image, &payload, &Limits::default())?;
//!
//! let found = unbake(&baked, &Limits::default())?.expect("a baked image holds a payload");
//! assert_eq!(found, payload);
//! assert_eq!(found.kind(), PayloadKind::Json);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! PNG baking splices chunks (see [`png`]): one uncompressed `iTXt` chunk with keyword
//! `openbadges` goes right after `IHDR`, earlier `openbadges` chunks are dropped, and every
//! other byte is copied unchanged; pixels are never decoded. SVG baking (see [`svg`]) inserts
//! an `<openbadges:assertion>` element after the root start tag and leaves the rest of the
//! document byte for byte. Untrusted input is bounded by [`Limits`], never panics, and nothing
//! is allocated from a length field before it is checked against the limits and the bytes
//! present. [`bake_file`] writes through a temporary file, so a failed bake leaves no output.

#![forbid(unsafe_code)]

mod error;
mod files;
mod limits;
mod payload;
pub mod png;
pub mod svg;

use std::path::Path;

pub use error::{ChunkType, Error, Limit};
pub use files::{read_file, read_image, read_payload};
pub use limits::Limits;
pub use payload::{Payload, PayloadKind, Version};

/// The image formats a badge can be baked into: the one image-format type of the Badgery
/// crates (a badge class image in `badgery-backend` declares one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ImageFormat {
    /// PNG (`image/png`).
    Png,
    /// SVG (`image/svg+xml`).
    Svg,
}

impl ImageFormat {
    /// Tells the format from the first bytes of an image (not from a file name): the PNG
    /// signature, or an XML document whose first markup is `<` (after an optional BOM and white
    /// space).
    pub fn detect(image: &[u8]) -> Option<Self> {
        if image.starts_with(&png::SIGNATURE) {
            return Some(ImageFormat::Png);
        }
        let text = image.strip_prefix("\u{feff}".as_bytes()).unwrap_or(image);
        let first = text.iter().find(|b| !b.is_ascii_whitespace())?;
        (*first == b'<').then_some(ImageFormat::Svg)
    }

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Svg => "image/svg+xml",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }
}

/// Bakes `payload` into `image`, PNG or SVG as detected from its bytes.
///
/// # Errors
/// [`Error::UnknownFormat`] when the image is neither; otherwise as [`png::bake`] and
/// [`svg::bake`].
pub fn bake(image: &[u8], payload: &Payload, limits: &Limits) -> Result<Vec<u8>, Error> {
    match ImageFormat::detect(image) {
        Some(ImageFormat::Png) => png::bake(image, payload, limits),
        Some(ImageFormat::Svg) => svg::bake(image, payload, limits),
        None => Err(Error::UnknownFormat),
    }
}

/// Reads the payload of `image`, PNG or SVG as detected from its bytes; `Ok(None)` when the
/// image holds none.
///
/// # Errors
/// [`Error::UnknownFormat`] when the image is neither; otherwise as [`png::unbake`] and
/// [`svg::unbake`].
pub fn unbake(image: &[u8], limits: &Limits) -> Result<Option<Payload>, Error> {
    match ImageFormat::detect(image) {
        Some(ImageFormat::Png) => png::unbake(image, limits),
        Some(ImageFormat::Svg) => svg::unbake(image, limits),
        None => Err(Error::UnknownFormat),
    }
}

/// Every payload of `image`, PNG or SVG as detected from its bytes, of either version, in the
/// order the image holds them.
///
/// # Errors
/// As [`unbake`].
pub fn unbake_all(image: &[u8], limits: &Limits) -> Result<Vec<Payload>, Error> {
    match ImageFormat::detect(image) {
        Some(ImageFormat::Png) => png::unbake_all(image, limits),
        Some(ImageFormat::Svg) => svg::unbake_all(image, limits),
        None => Err(Error::UnknownFormat),
    }
}

/// Bakes the image file `input` into the file `output`.
///
/// The input is read only if it is a regular file no larger than [`Limits::max_input`]. The
/// baked image is written to a temporary file created exclusively in `output`'s folder and
/// renamed over `output` only when the bake succeeded: on any error neither an output nor a
/// temporary file is left behind, and an existing output is untouched. An existing output
/// must be a regular file (never a link, device or FIFO); its permissions are kept.
///
/// # Errors
/// [`Error::File`] naming the file that cannot be read or written; otherwise as [`bake`].
pub fn bake_file(
    input: &Path,
    payload: &Payload,
    output: &Path,
    limits: &Limits,
) -> Result<(), Error> {
    let image = read_image(input, limits)?;
    let baked = bake(&image, payload, limits)?;
    files::write_replacing(output, &baked)
}

/// What an image is: format, size in pixels and bytes, and for PNG its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageInfo {
    /// PNG or SVG.
    pub format: ImageFormat,
    /// Size of the file in bytes.
    pub bytes: usize,
    /// The PNG header (width, height, colour type, bit depth, interlacing); `None` for SVG.
    pub png: Option<png::PngHeader>,
}

/// Describes `image`.
///
/// # Errors
/// [`Error::UnknownFormat`], or [`Error::Malformed`] when a PNG header is malformed.
pub fn image_info(image: &[u8]) -> Result<ImageInfo, Error> {
    let format = ImageFormat::detect(image).ok_or(Error::UnknownFormat)?;
    let png = match format {
        ImageFormat::Png => Some(png::header(image)?),
        ImageFormat::Svg => None,
    };
    Ok(ImageInfo {
        format,
        bytes: image.len(),
        png,
    })
}

/// Rules a platform applies to badge class images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageRules {
    /// Accept SVG images (otherwise PNG only).
    pub allow_svg: bool,
    /// Require a square PNG (width equal to height).
    pub square: bool,
    /// The largest image, in bytes.
    pub max_bytes: usize,
}

impl ImageRules {
    /// Open edX's rule: a square PNG smaller than 256 KB (it keeps 6 KB of headroom, at 250 KB,
    /// for the baked chunk).
    pub fn open_edx() -> Self {
        ImageRules {
            allow_svg: false,
            square: true,
            max_bytes: 250 * 1024,
        }
    }

    /// PNG (square, under 256 KB) or SVG.
    pub fn png_or_svg() -> Self {
        ImageRules {
            allow_svg: true,
            square: true,
            max_bytes: 256 * 1024,
        }
    }

    /// Checks `image` against the rules; a PNG is also checked for well-formedness, an SVG for
    /// safety to serve from the issuer's origin ([`svg::check_safe`]).
    ///
    /// # Errors
    /// [`Error::Misuse`] naming the rule broken, or the errors of [`png::check`] and
    /// [`svg::check_safe`].
    pub fn check(&self, image: &[u8]) -> Result<ImageInfo, Error> {
        let info = image_info(image)?;
        let reject =
            |why: String| Err(Error::Misuse(format!("the badge image is rejected: {why}")));
        if info.bytes > self.max_bytes {
            return reject(format!(
                "{} bytes is over the limit of {} bytes",
                info.bytes, self.max_bytes
            ));
        }
        match (info.format, info.png) {
            (ImageFormat::Svg, _) if !self.allow_svg => reject("it must be a PNG".to_owned()),
            (ImageFormat::Svg, _) => {
                // The image is served from the issuer's own origin: it must run no code and
                // load nothing.
                svg::check_safe(image, &Limits::default())?;
                Ok(info)
            }
            (ImageFormat::Png, Some(h)) if self.square && h.width != h.height => reject(format!(
                "it must be square, and it is {}x{}",
                h.width, h.height
            )),
            (ImageFormat::Png, _) => {
                png::check(image)?;
                Ok(info)
            }
        }
    }
}
