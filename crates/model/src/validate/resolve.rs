//! How linked documents are found: the [`Resolver`] trait and a set of documents keyed by id.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::Error;

/// Finds the document an IRI names, as the validator fetches it over HTTP.
///
/// The host implements this over its own storage (or HTTP client); [`DocumentSet`] serves
/// documents held in memory or read from a directory. Closures `Fn(&str) -> Result<Value,
/// Error>` are resolvers too.
pub trait Resolver {
    /// The document at `iri`.
    ///
    /// # Errors
    /// Any error: it becomes an [`super::Code::Unresolved`] finding with the error's message.
    fn resolve(&self, iri: &str) -> Result<Value, Error>;
}

impl<F: Fn(&str) -> Result<Value, Error>> Resolver for F {
    fn resolve(&self, iri: &str) -> Result<Value, Error> {
        self(iri)
    }
}

/// Documents keyed by their `id`, looked up ignoring a trailing `/` and a `#fragment`.
#[derive(Debug, Clone, Default)]
pub struct DocumentSet {
    by_id: HashMap<String, Value>,
}

fn key(iri: &str) -> &str {
    let without_fragment = iri.split_once('#').map_or(iri, |(base, _)| base);
    without_fragment.trim_end_matches('/')
}

impl DocumentSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every `*.json` file under `dir` (recursively, not following links to directories) that
    /// is a JSON object with a string `id`. Other files are skipped.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory or a file in it cannot be read.
    pub fn from_dir(dir: &Path) -> Result<Self, Error> {
        let mut set = DocumentSet::new();
        set.add_dir(dir)?;
        Ok(set)
    }

    /// The largest document file read from a folder (16 MiB: far beyond any badge document).
    pub const MAX_DOCUMENT: u64 = 16 << 20;

    fn add_dir(&mut self, dir: &Path) -> Result<(), Error> {
        let io = |source| Error::Io {
            path: dir.to_owned(),
            source,
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort_by_key(std::fs::DirEntry::path);
        for entry in entries {
            let path = entry.path();
            // Symbolic links to directories are not followed (a link loop would never end).
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                self.add_dir(&path)?;
            } else if path.extension().is_some_and(|e| e == "json") && path.is_file() {
                let text = read_document(&path)?;
                if let Ok(value) = serde_json::from_str::<Value>(&text) {
                    self.insert(value);
                }
            }
        }
        Ok(())
    }

    /// Adds a document under its `id` (replacing one with the same id). Returns whether it had
    /// a string `id`; a document without one is not added.
    pub fn insert(&mut self, document: Value) -> bool {
        let Some(id) = document.get("id").and_then(Value::as_str) else {
            return false;
        };
        self.by_id.insert(key(id).to_owned(), document);
        true
    }

    /// Adds a document under a given IRI, whatever its `id` (like serving a file at a URL).
    pub fn insert_at(&mut self, iri: &str, document: Value) {
        self.by_id.insert(key(iri).to_owned(), document);
    }

    /// The number of documents.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl Resolver for DocumentSet {
    fn resolve(&self, iri: &str) -> Result<Value, Error> {
        self.by_id
            .get(key(iri))
            .cloned()
            .ok_or_else(|| Error::Unresolved {
                iri: iri.to_owned(),
                message: "no document with this id".to_owned(),
            })
    }
}

/// Reads a document file, never more than [`DocumentSet::MAX_DOCUMENT`] bytes.
fn read_document(path: &Path) -> Result<String, Error> {
    use std::io::Read;
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(DocumentSet::MAX_DOCUMENT + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > DocumentSet::MAX_DOCUMENT {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than the {} bytes a document may have",
                DocumentSet::MAX_DOCUMENT
            ),
        )));
    }
    Ok(text)
}
