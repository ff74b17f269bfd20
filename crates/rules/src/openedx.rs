//! The three Open edX course event fields, parsed verbatim and strictly.
//!
//! - `courses_completed` and `courses_enrolled`: one rule per line, `N,slug`.
//! - `course_groups`: one group per line, `slug,course_key,course_key,…`.
//!
//! Lines may end in `\n`, `\r\n` or `\r`; blank lines and spaces around commas are ignored.
//! Unlike Open edX, which silently keeps the last of two lines with the same count and accepts
//! keys it cannot resolve, every problem is an error naming the field, the line and what was
//! expected: a count that is not a positive integer, a repeated count, a slug outside
//! `[a-z0-9_-]` or naming no known badge class, a slug used twice, a malformed course key, a
//! course repeated in a group, a group with no course.

use std::collections::HashMap;

use crate::error::Error;
use crate::names::{is_valid_course_key, is_valid_slug};

/// The lines of a field, numbered from 1, with `\r\n` and `\r` read as `\n`, blank ones skipped.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text;
    let mut number = 0;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            number += 1;
            let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            let line = &rest[..end];
            let skip = if rest[end..].starts_with("\r\n") {
                2
            } else {
                usize::from(end < rest.len())
            };
            rest = &rest[end + skip..];
            if !line.trim().is_empty() {
                return Some((number, line));
            }
        }
    })
}

fn check_slug(
    field: &'static str,
    line: usize,
    slug: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<(), Error> {
    let fail = |problem: String| {
        Err(Error::Field {
            field,
            line,
            problem,
        })
    };
    if !is_valid_slug(slug) {
        return fail(format!("slug {slug:?} must be 1 to 255 of [a-z0-9_-]"));
    }
    if !known(slug) {
        return fail(format!("slug {slug:?} names no known badge class"));
    }
    Ok(())
}

/// Parses `courses_completed` or `courses_enrolled`: `N,slug` lines.
///
/// # Errors
/// [`Error::Field`] for the first bad line.
pub fn parse_counts(
    field: &'static str,
    text: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<(u32, String)>, Error> {
    let mut rules: Vec<(u32, String)> = Vec::new();
    // The line each count and slug was first used on.
    let mut counts: HashMap<u32, usize> = HashMap::new();
    let mut slugs: HashMap<String, usize> = HashMap::new();
    for (line, content) in lines(text) {
        let fail = |problem: String| {
            Err(Error::Field {
                field,
                line,
                problem,
            })
        };
        let parts: Vec<&str> = content.split(',').map(str::trim).collect();
        let [count, slug] = parts.as_slice() else {
            return fail(format!(
                "expected `N,slug` with one comma, found {} fields",
                parts.len()
            ));
        };
        let n = match count.parse::<u32>() {
            Ok(n) if n > 0 && count.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return fail(format!("count {count:?} is not a positive integer")),
        };
        check_slug(field, line, slug, known)?;
        if let Some(first) = counts.get(&n) {
            return fail(format!(
                "count {n} is already used on line {first} (Open edX would silently keep only the last)"
            ));
        }
        if let Some(first) = slugs.get(*slug) {
            return fail(format!("slug {slug:?} is already used on line {first}"));
        }
        counts.insert(n, line);
        slugs.insert((*slug).to_owned(), line);
        rules.push((n, (*slug).to_owned()));
    }
    Ok(rules)
}

/// Parses `course_groups`: `slug,course_key,course_key,…` lines.
///
/// # Errors
/// [`Error::Field`] for the first bad line.
pub fn parse_groups(
    text: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<(String, Vec<String>)>, Error> {
    const FIELD: &str = "course_groups";
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut slugs: HashMap<String, usize> = HashMap::new();
    for (line, content) in lines(text) {
        let fail = |problem: String| {
            Err(Error::Field {
                field: FIELD,
                line,
                problem,
            })
        };
        let mut parts = content.split(',').map(str::trim);
        let slug = parts.next().unwrap_or("");
        check_slug(FIELD, line, slug, known)?;
        if let Some(first) = slugs.get(slug) {
            return fail(format!("slug {slug:?} is already used on line {first}"));
        }
        let mut courses: Vec<String> = Vec::new();
        for key in parts {
            if !is_valid_course_key(key) {
                return fail(format!(
                    "{key:?} is not a course key (course-v1:Org+Course+Run or Org/Course/Run)"
                ));
            }
            if courses.iter().any(|c| c == key) {
                return fail(format!(
                    "course {key} is repeated in the group (the group could never be completed in Open edX)"
                ));
            }
            courses.push(key.to_owned());
        }
        if courses.is_empty() {
            return fail(format!(
                "group {slug:?} has no course: expected `slug,course_key,…`"
            ));
        }
        slugs.insert(slug.to_owned(), line);
        groups.push((slug.to_owned(), courses));
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(slug: &str) -> bool {
        slug != "unknown"
    }

    fn counts(text: &str) -> Result<Vec<(u32, String)>, Error> {
        parse_counts("courses_completed", text, &known)
    }

    fn problem(r: Result<impl std::fmt::Debug, Error>) -> (usize, String) {
        match r {
            Err(Error::Field { line, problem, .. }) => (line, problem),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_every_line_ending_blank_lines_and_spaces() {
        let parsed = counts("3,three\r\n\r\n 5 , five \r8,eight\n").unwrap();
        assert_eq!(
            parsed,
            vec![(3, "three".into()), (5, "five".into()), (8, "eight".into())]
        );
        assert!(counts("").unwrap().is_empty());
        assert!(counts("\n \r\n").unwrap().is_empty());
    }

    #[test]
    fn line_numbers_count_crlf_once() {
        assert_eq!(problem(counts("1,a\r\n2,b\r\nx,c")).0, 3);
        assert_eq!(problem(counts("1,a\r2,b\r\r0,c")).0, 4);
    }

    #[test]
    fn rejections() {
        for (text, expected) in [
            ("0,a", "positive integer"),
            ("-1,a", "positive integer"),
            ("+3,a", "positive integer"),
            ("1.5,a", "positive integer"),
            ("99999999999,a", "positive integer"),
            ("3", "one comma"),
            ("3,a,b", "one comma"),
            ("3,Foo", "[a-z0-9_-]"),
            ("3,", "[a-z0-9_-]"),
            ("3,unknown", "no known badge class"),
            ("3,a\n3,b", "already used on line 1"),
            ("3,a\n4,a", "already used on line 1"),
        ] {
            let (_, p) = problem(counts(text));
            assert!(p.contains(expected), "{text:?}: {p}");
        }
    }

    #[test]
    fn groups() {
        let g = parse_groups(
            "cs, course-v1:A+B+C ,course-v1:A+D+C\r\nlegacy,Org/Course/Run",
            &known,
        )
        .unwrap();
        assert_eq!(g[0].1, vec!["course-v1:A+B+C", "course-v1:A+D+C"]);
        assert_eq!(g[1], ("legacy".into(), vec!["Org/Course/Run".into()]));
        for (text, expected) in [
            ("cs", "has no course"),
            ("cs,", "is not a course key"),
            ("cs,course-v1:A+B", "is not a course key"),
            (
                "cs,course-v1:A+B+C,course-v1:A+B+C",
                "repeated in the group",
            ),
            (
                "cs,course-v1:A+B+C\ncs,course-v1:A+B+D",
                "already used on line 1",
            ),
            ("unknown,course-v1:A+B+C", "no known badge class"),
        ] {
            let (_, p) = problem(parse_groups(text, &known));
            assert!(p.contains(expected), "{text:?}: {p}");
        }
    }
}
