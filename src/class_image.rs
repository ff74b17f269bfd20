//! The one policy for badge class images: PNG (square, under 256 KB) or a well-formed SVG,
//! its bytes of the format it declares. The engine applies it where a class enters the store
//! (`Engine::register_classes`, auto-created classes); the hosted issuer applies it again to
//! classes it is handed directly.

use badgery_backend::ClassImage;

use crate::error::Error;

/// Checks a badge class image: PNG (square, under 256 KB) or SVG, well formed.
///
/// # Errors
/// [`Error::InvalidImage`] saying what is wrong.
pub fn check_class_image(slug: &str, image: &ClassImage) -> Result<(), Error> {
    let info = badgery_bake::ImageRules::png_or_svg()
        .check(&image.bytes)
        .map_err(|e| Error::InvalidImage(format!("badge class {slug}: {e}")))?;
    if info.format != image.format {
        return Err(Error::InvalidImage(format!(
            "badge class {slug}: the image is declared {} but its bytes are {}",
            image.format.media_type(),
            info.format.media_type()
        )));
    }
    Ok(())
}
