//! Names: badge class slugs, course keys, and the interner that maps names to small ids.

use std::collections::HashMap;

/// A hash map with a fast, randomly seeded hasher (names come from outside: the seed keeps an
/// adversary from choosing colliding keys).
pub(crate) type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Whether `slug` is a valid badge class slug: one or more of `[a-z0-9_-]`.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
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

/// Maps names to dense `u32` ids and back. Ids never change once given.
#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    ids: Map<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(!is_valid_slug("a b"));
        assert!(is_valid_course_key("course-v1:edX+DemoX+2024_T1"));
        assert!(is_valid_course_key("edX/DemoX/2014"));
        assert!(!is_valid_course_key("course-v1:edX+DemoX"));
        assert!(!is_valid_course_key("course-v1:edX++2024"));
        assert!(!is_valid_course_key("edX/Demo X/2014"));
        assert!(!is_valid_course_key("DemoX"));
    }
}
