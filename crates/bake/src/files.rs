//! Files: reading untrusted input up to a limit, and writing a baked image safely.
//!
//! Input is read only from regular files (a FIFO with no writer would hang, a device such as
//! `/dev/zero` would never end), and never past its limit, whatever the file claims its size
//! is. Output goes to a temporary file created exclusively (never following a link) in the
//! output's folder, then renamed over the output: a link planted at a predictable name cannot
//! redirect the write, and a failed bake leaves neither output nor temporary file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Limit};
use crate::limits::check_len;

fn file_error(path: &Path, source: std::io::Error) -> Error {
    Error::File {
        path: path.to_owned(),
        source,
    }
}

fn not_regular(path: &Path, what: &str, kind: std::fs::FileType) -> Error {
    let found = if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a device, FIFO or socket"
    };
    file_error(
        path,
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{what} must be a regular file, not {found}"),
        ),
    )
}

/// Reads the regular file at `path`, refusing it once it holds more than `limit` bytes (what
/// is read never exceeds `limit + 1`). `which` and `what` name the limit in the error.
///
/// # Errors
/// [`Error::File`] when the file cannot be read or is not a regular file;
/// [`Error::LimitExceeded`] past the limit.
pub(crate) fn read_limited(
    path: &Path,
    limit: u64,
    which: Limit,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    // Checked before opening: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(|e| file_error(path, e))?;
    if !meta.is_file() {
        return Err(not_regular(path, "the input", meta.file_type()));
    }
    let file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let opened = file.metadata().map_err(|e| file_error(path, e))?;
    if !opened.is_file() {
        return Err(not_regular(path, "the input", opened.file_type()));
    }
    check_len(which, what, opened.len(), limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| file_error(path, e))?;
    // The file may have grown since its size was read.
    check_len(which, what, bytes.len() as u64, limit)?;
    Ok(bytes)
}

/// Reads any regular file up to `limit` bytes (the bound for untrusted input of other kinds:
/// rule sets, event logs, JSON documents).
///
/// # Errors
/// As [`read_image`].
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    read_limited(path, limit, Limit::Input, "file")
}

/// Reads an image file: a regular file only, never more than [`crate::Limits::max_input`]
/// bytes read.
///
/// # Errors
/// [`Error::File`] when the file cannot be read or is not a regular file (a device, FIFO,
/// folder); [`Error::LimitExceeded`] when it is larger than the limit.
pub fn read_image(path: &Path, limits: &crate::Limits) -> Result<Vec<u8>, Error> {
    read_limited(path, limits.max_input, Limit::Input, "image")
}

/// Reads a payload file up to [`crate::Limits::max_payload`].
///
/// # Errors
/// As [`read_image`].
pub fn read_payload(path: &Path, limits: &crate::Limits) -> Result<Vec<u8>, Error> {
    read_limited(path, limits.max_payload as u64, Limit::Payload, "payload")
}

/// Writes `bytes` to `output` through an exclusively created temporary file in its folder.
/// An existing output must be a regular file; its permissions are kept.
pub(crate) fn write_replacing(output: &Path, bytes: &[u8]) -> Result<(), Error> {
    let existing = match std::fs::symlink_metadata(output) {
        Ok(meta) if meta.file_type().is_file() => Some(meta.permissions()),
        Ok(meta) => return Err(not_regular(output, "the output", meta.file_type())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(file_error(output, e)),
    };
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(file_error(
                output,
                std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    format!("{} is not a folder", dir.display()),
                ),
            ));
        }
        Err(e) => {
            return Err(file_error(
                output,
                std::io::Error::new(
                    e.kind(),
                    format!("the output's folder {}: {e}", dir.display()),
                ),
            ));
        }
    }
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".baking");
    // A new output gets the usual mode for a new file (the umask applies); tempfile's own
    // default, owner-only, would surprise whoever serves the image.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // Created with O_EXCL under a random name: an attacker's link at the name is refused.
    let mut temp = builder
        .tempfile_in(&dir)
        .map_err(|e| file_error(output, e))?;
    let written = temp
        .write_all(bytes)
        .and_then(|()| match &existing {
            Some(permissions) => temp.as_file().set_permissions(permissions.clone()),
            None => Ok(()),
        })
        .and_then(|()| temp.as_file().sync_all());
    // On any error `temp` is dropped, which removes the temporary file.
    written.map_err(|e| file_error(output, e))?;
    temp.persist(output)
        .map_err(|e| file_error(output, e.error))?;
    Ok(())
}
