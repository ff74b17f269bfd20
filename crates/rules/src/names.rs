//! Names: badge class slugs, course keys, and the interner that maps names to small ids.

use std::hash::BuildHasher;
use std::mem::size_of;

use hashbrown::HashTable;

/// Whether `slug` is a valid badge class slug: 1 to 255 of `[a-z0-9_-]`, the grammar the
/// stores hold slugs to (`badgery_backend::check_slug`; the facade's tests check that the two
/// agree), so that a rule set never names a class no store can keep.
pub fn is_valid_slug(slug: &str) -> bool {
    (1..=255).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Whether `key` is an Open edX course key: `course-v1:Org+Course+Run` or the legacy
/// `Org/Course/Run`, each part one or more of `[A-Za-z0-9_.~-]`.
pub fn is_valid_course_key(key: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'~' | b'-'))
    };
    let parts: Vec<&str> = match key.strip_prefix("course-v1:") {
        Some(rest) => rest.split('+').collect(),
        None => key.split('/').collect(),
    };
    parts.len() == 3 && parts.into_iter().all(part)
}

/// The slug Open edX derives for a course completion class: `slugify(course + "_" + mode +
/// "_")` cut to 248 characters, then the first 7 hex digits of `sha256(course + mode)`
/// (`course-v1:edX+DemoX+2026` in mode `honor` → `course-v1edxdemox2026_honor_` + 7 hex).
/// Deterministic, and within Badgr's 255-character limit.
pub fn course_slug(course: &str, mode: &str) -> String {
    use sha2::{Digest, Sha256};
    // Django's slugify: drop what is not a word character, space or hyphen; lowercase;
    // spaces and hyphen runs become one hyphen.
    let raw = format!("{course}_{mode}_");
    let kept: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '))
        .collect::<String>()
        .to_lowercase();
    let mut slug = String::with_capacity(kept.len());
    for c in kept.trim().chars() {
        let c = if c == ' ' { '-' } else { c };
        if !(c == '-' && slug.ends_with('-')) {
            slug.push(c);
        }
    }
    slug.truncate(248);
    let digest = Sha256::digest(format!("{course}{mode}").as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    slug + &hex[..7]
}

/// Names stored by dense id, wherever they live: what an [`IdIndex`] compares and hashes.
pub(crate) trait NameStore {
    /// The name of `id`.
    fn name_of(&self, id: u32) -> &str;
    /// Stores `name` under the next id and returns that id.
    fn push(&mut self, name: &str) -> u32;
}

/// The id the next name of a store holding `len` names gets.
pub(crate) fn next_id(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// An index from names to dense ids that holds only the ids (5 bytes a name, so it stays in
/// the cache); the names it compares are in a [`NameStore`] the caller keeps beside it.
#[derive(Debug, Default, Clone)]
pub(crate) struct IdIndex {
    ids: HashTable<u32>,
    /// A randomly seeded hasher: names come from outside, and the seed keeps an adversary from
    /// choosing colliding ones.
    hasher: foldhash::fast::RandomState,
}

impl IdIndex {
    pub(crate) fn get(&self, store: &impl NameStore, name: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(name);
        self.ids
            .find(hash, |&id| store.name_of(id) == name)
            .copied()
    }

    /// The id of `name`, pushed onto `store` first if new.
    pub(crate) fn id_or_insert(&mut self, store: &mut impl NameStore, name: &str) -> u32 {
        if let Some(id) = self.get(store, name) {
            return id;
        }
        let id = store.push(name);
        let hasher = &self.hasher;
        let hash = hasher.hash_one(name);
        self.ids
            .insert_unique(hash, id, |&id| hasher.hash_one(store.name_of(id)));
        id
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.ids.capacity() * (size_of::<u32>() + 1)
    }
}

/// Names back to back in one buffer: a few dense arrays instead of an allocation per name
/// somewhere in the heap (with those, each lookup was a likely cache and TLB miss).
#[derive(Debug, Default, Clone)]
struct NameBuffer {
    /// Every name, concatenated in id order.
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<usize>,
}

impl NameStore for NameBuffer {
    fn name_of(&self, id: u32) -> &str {
        let id = id as usize;
        match self.ends.get(id) {
            Some(&end) => &self.text[if id == 0 { 0 } else { self.ends[id - 1] }..end],
            None => "",
        }
    }

    fn push(&mut self, name: &str) -> u32 {
        let id = next_id(self.ends.len());
        self.text.push_str(name);
        self.ends.push(self.text.len());
        id
    }
}

/// Maps names to dense `u32` ids and back. Ids never change once given.
#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    index: IdIndex,
    names: NameBuffer,
}

impl Interner {
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.index.get(&self.names, name)
    }

    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        self.index.id_or_insert(&mut self.names, name)
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.name_of(id)
    }

    /// How many names have an id.
    pub(crate) fn len(&self) -> usize {
        self.names.ends.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_ids_are_dense_stable_and_named() {
        let mut names = Interner::default();
        let words: Vec<String> = (0..3000)
            .map(|i| format!("n{i}"))
            .chain([String::new()])
            .collect();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(names.intern(w), i as u32);
        }
        for (i, w) in words.iter().enumerate().rev() {
            assert_eq!(names.intern(w), i as u32);
            assert_eq!(names.get(w), Some(i as u32));
            assert_eq!(names.name(i as u32), w);
        }
        assert_eq!(names.get("absent"), None);
        assert_eq!(names.name(u32::MAX), "");
    }

    #[test]
    fn course_slug_matches_open_edx() {
        // From Open edX's tests (lms/djangoapps/badges/events/tests/test_course_complete.py).
        let slug = course_slug("course-v1:testorg+run1+refundable_course", "honor");
        assert_eq!(slug, "course-v1testorgrun1refundable_course_honor_927f3ad");
        assert!(is_valid_slug(&course_slug(
            "course-v1:TestOrg+Run1+Refundable_Course",
            "verified"
        )));
    }

    #[test]
    fn slugs_and_course_keys() {
        assert!(is_valid_slug("enrolled_3-courses"));
        assert!(!is_valid_slug("Enrolled"));
        assert!(!is_valid_slug(""));
        assert!(is_valid_slug(&"a".repeat(255)));
        assert!(!is_valid_slug(&"a".repeat(256)));
        assert!(!is_valid_slug("a b"));
        assert!(is_valid_course_key("course-v1:edX+DemoX+2024_T1"));
        assert!(is_valid_course_key("edX/DemoX/2014"));
        assert!(!is_valid_course_key("course-v1:edX+DemoX"));
        assert!(!is_valid_course_key("course-v1:edX++2024"));
        assert!(!is_valid_course_key("edX/Demo X/2014"));
        assert!(!is_valid_course_key("DemoX"));
    }
}
