//! The rule set: badge classes and the rules that award them, validated as a whole.
//!
//! A [`RuleSet`] is built from a TOML document ([`RuleSet::from_toml`]) or in code
//! ([`RuleSet::new`] and the `with_*` methods). Building either succeeds with every rule valid
//! or fails with the first problem and changes nothing.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::error::Error;
use crate::names::{is_valid_course_key, is_valid_slug};

/// A badge class as the rules know it (a `[[badge_class]]` entry): its slug, and for a course
/// completion class its course and mode. The class's document (name, image, criteria text)
/// is the store's `BadgeClassRecord`, which must agree with it on course and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassRule {
    /// The class's slug: one or more of `[a-z0-9_-]`, unique in the rule set.
    pub slug: String,
    /// For a course completion badge: the course whose passing certificate awards it.
    pub course: Option<String>,
    /// For a course completion badge: the enrollment mode it is for (none: any mode without a
    /// class of its own).
    pub mode: Option<String>,
    /// Whether a learner can earn the class again each time one of its rules becomes
    /// satisfied anew (default: at most once per learner).
    pub repeatable: bool,
}

impl ClassRule {
    /// A class awarded by the threshold, group and criteria rules that name it.
    pub fn new(slug: impl Into<String>) -> Self {
        ClassRule {
            slug: slug.into(),
            course: None,
            mode: None,
            repeatable: false,
        }
    }

    /// A course completion class: awarded for a passing certificate in `course` (in `mode`,
    /// when given).
    pub fn course_completion(
        slug: impl Into<String>,
        course: impl Into<String>,
        mode: Option<&str>,
    ) -> Self {
        ClassRule {
            slug: slug.into(),
            course: Some(course.into()),
            mode: mode.map(str::to_owned),
            repeatable: false,
        }
    }

    /// Makes the class repeatable.
    pub fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }
}

/// How a list of conditions combines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Aggregation {
    /// Every condition must hold (the default).
    #[default]
    All,
    /// At least one condition must hold.
    Any,
}

/// One course of a course requirement.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CourseCondition {
    /// The course key.
    pub course: String,
    /// The lowest grade (0.0 to 1.0) the passing certificate must carry.
    #[serde(default)]
    pub min_grade: Option<f64>,
    /// The certificate must be dated at or before this instant (RFC 3339 in a rule file; an
    /// event without `at` cannot meet a deadline).
    #[serde(default, with = "crate::time::rfc3339")]
    pub by: Option<chrono::DateTime<chrono::Utc>>,
}

/// One activity of an activity requirement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ActivityCondition {
    /// The activity's id in the host platform.
    pub activity: String,
    /// The completion must be dated at or before this instant (RFC 3339 in a rule file).
    #[serde(default, with = "crate::time::rfc3339")]
    pub by: Option<chrono::DateTime<chrono::Utc>>,
}

/// One requirement of a criteria rule, with how its items combine.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Requirement {
    /// Passing certificates in courses (optionally with a minimum grade and a deadline).
    Courses {
        /// ALL or ANY of the courses.
        #[serde(default)]
        require: Aggregation,
        /// The courses.
        courses: Vec<CourseCondition>,
    },
    /// Completed activities (optionally by a deadline). A completion reported as failed does
    /// not count.
    Activities {
        /// ALL or ANY of the activities.
        #[serde(default)]
        require: Aggregation,
        /// The activities.
        activities: Vec<ActivityCondition>,
    },
    /// Other badge classes earned.
    Badges {
        /// ALL or ANY of the classes.
        #[serde(default)]
        require: Aggregation,
        /// Slugs of the classes.
        badges: Vec<String>,
    },
    /// A manual award of this class by someone holding a role.
    Manual {
        /// ALL or ANY of the roles must have awarded it.
        #[serde(default)]
        require: Aggregation,
        /// The roles.
        roles: Vec<String>,
    },
}

/// A Moodle-style criteria rule: requirements combined with ALL or ANY.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CriteriaRule {
    /// The rule's stable name, which award explanations give ([`crate::Rule::Criteria`]): one
    /// or more of `[a-z0-9_#-]`, unique in the rule set. When absent, the rule set names it
    /// after its class: `SLUG` for the class's first criteria rule, then `SLUG#2`, `SLUG#3`
    /// in file order, so that moving rules of other classes renames nothing.
    #[serde(default)]
    pub id: Option<String>,
    /// The slug of the class awarded (`badge` in a rule file).
    #[serde(rename = "badge")]
    pub slug: String,
    /// ALL or ANY of the requirements.
    #[serde(default)]
    pub require: Aggregation,
    /// The requirements.
    #[serde(rename = "requirement")]
    pub requirements: Vec<Requirement>,
}

/// A validated set of badge classes and award rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSet {
    pub(crate) classes: Vec<ClassRule>,
    pub(crate) courses_completed: Vec<(u32, String)>,
    pub(crate) courses_enrolled: Vec<(u32, String)>,
    pub(crate) course_groups: Vec<(String, Vec<String>)>,
    pub(crate) criteria: Vec<CriteriaRule>,
    pub(crate) auto_course_completion: bool,
}

impl RuleSet {
    /// Also decides course completion awards for courses with no configured class (Open edX
    /// use case 4: badges enabled on a course, no class created): a passing certificate awards
    /// the class whose slug is [`crate::course_slug`] of the course and mode, which the host
    /// creates on first award. Off by default. Back-fill does not create such awards.
    pub fn with_auto_course_completion(mut self) -> Self {
        self.auto_course_completion = true;
        self
    }

    /// A rule set with these badge classes and no other rules.
    ///
    /// # Errors
    /// [`Error::Rules`] when a slug is invalid or repeated, a course key is malformed,
    /// a mode is given without a course, or two classes share a course and mode.
    pub fn new(classes: Vec<ClassRule>) -> Result<Self, Error> {
        check_classes(&classes, &|_| None)?;
        Ok(RuleSet {
            classes,
            ..RuleSet::default()
        })
    }

    /// Sets the three Open edX course event fields, verbatim (see [`crate::openedx`]).
    ///
    /// # Errors
    /// [`Error::Field`] naming the field, the line and what was expected. On error the rule
    /// set is unchanged.
    pub fn with_openedx_fields(
        mut self,
        courses_completed: &str,
        courses_enrolled: &str,
        course_groups: &str,
    ) -> Result<Self, Error> {
        let slugs = slug_set(&self.classes);
        let known = |slug: &str| slugs.contains(slug);
        let completed =
            crate::openedx::parse_counts("courses_completed", courses_completed, &known)?;
        let enrolled = crate::openedx::parse_counts("courses_enrolled", courses_enrolled, &known)?;
        let groups = crate::openedx::parse_groups(course_groups, &known)?;
        self.courses_completed = completed;
        self.courses_enrolled = enrolled;
        self.course_groups = groups;
        Ok(self)
    }

    /// Adds a criteria rule.
    ///
    /// # Errors
    /// [`Error::Rules`] when the criteria names an unknown class, has an empty
    /// requirement, a malformed course key, a grade outside 0..=1 or a deadline that is not
    /// RFC 3339.
    pub fn with_criteria(mut self, criteria: CriteriaRule) -> Result<Self, Error> {
        check_criteria(&criteria, &slug_set(&self.classes))
            .map_err(|problem| Error::Rules { problem })?;
        let criteria = CriteriaIds::of(&self.criteria)
            .name(criteria)
            .map_err(|problem| Error::Rules { problem })?;
        self.criteria.push(criteria);
        check_badge_cycles(&self.criteria, &|_| None)?;
        Ok(self)
    }

    /// The largest TOML rule set accepted, in bytes (16 MiB: four times a 100 000-rule set),
    /// so that loading one takes bounded memory (BENCHMARKS.md measures the peak for the
    /// largest shapes this lets through).
    pub const MAX_TOML_BYTES: usize = 16 << 20;

    /// Parses a TOML rule set (format in the crate docs).
    ///
    /// # Errors
    /// [`Error::Toml`] with the TOML line and the problem.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        if text.len() > Self::MAX_TOML_BYTES {
            return Err(Error::Toml {
                line: 1,
                problem: format!(
                    "the rule set has {} bytes, over the limit of {} bytes",
                    text.len(),
                    Self::MAX_TOML_BYTES
                ),
            });
        }
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let file: RulesFile = toml::from_str(text).map_err(|e| Error::Toml {
            line: e.span().map_or(0, |s| line_of(s.start)),
            problem: e.message().to_owned(),
        })?;
        let classes: Vec<ClassRule> = file
            .badge_class
            .iter()
            .map(|c| ClassRule {
                slug: c.slug.get_ref().clone(),
                course: c.course.clone(),
                mode: c.mode.clone(),
                repeatable: c.repeatable,
            })
            .collect();
        check_classes(&classes, &|i| {
            Some(line_of(file.badge_class[i].slug.span().start))
        })?;
        let mut rules = RuleSet {
            classes,
            auto_course_completion: file.auto_course_completion,
            ..RuleSet::default()
        };
        if let Some(fields) = &file.course_events {
            // The TOML line of a field's line: in a multi-line string the field's lines are
            // the document's lines (after the newline TOML trims); in a one-line string with
            // escaped line breaks they all sit on the string's line.
            let wrap = |field: &Option<toml::Spanned<String>>, e: Error| match (field, e) {
                (
                    Some(f),
                    Error::Field {
                        field,
                        line,
                        problem,
                    },
                ) => {
                    let raw = &text[f.span().start..];
                    let multi_line = ["\"\"\"\n", "\"\"\"\r\n", "'''\n", "'''\r\n"]
                        .iter()
                        .any(|p| raw.starts_with(p));
                    let start = line_of(f.span().start);
                    Error::Toml {
                        line: if multi_line { start + line } else { start },
                        problem: format!("{field}, line {line} of the field: {problem}"),
                    }
                }
                (_, e) => e,
            };
            let text = |f: &Option<toml::Spanned<String>>| {
                f.as_ref().map_or(String::new(), |s| s.get_ref().clone())
            };
            let slugs = slug_set(&rules.classes);
            let known = |slug: &str| slugs.contains(slug);
            rules.courses_completed = crate::openedx::parse_counts(
                "courses_completed",
                &text(&fields.courses_completed),
                &known,
            )
            .map_err(|e| wrap(&fields.courses_completed, e))?;
            rules.courses_enrolled = crate::openedx::parse_counts(
                "courses_enrolled",
                &text(&fields.courses_enrolled),
                &known,
            )
            .map_err(|e| wrap(&fields.courses_enrolled, e))?;
            rules.course_groups =
                crate::openedx::parse_groups(&text(&fields.course_groups), &known)
                    .map_err(|e| wrap(&fields.course_groups, e))?;
        }
        let slugs: HashSet<String> = rules.classes.iter().map(|c| c.slug.clone()).collect();
        let slugs: HashSet<&str> = slugs.iter().map(String::as_str).collect();
        let mut starts = Vec::with_capacity(file.criteria.len());
        let mut ids = CriteriaIds::default();
        for criteria in file.criteria {
            // Line numbers are counted only for an error: counting them for every rule made
            // loading a large rule set quadratic.
            let start = criteria.span().start;
            let criteria = criteria.into_inner();
            check_criteria(&criteria, &slugs).map_err(|problem| Error::Toml {
                line: line_of(start),
                problem,
            })?;
            let criteria = ids.name(criteria).map_err(|problem| Error::Toml {
                line: line_of(start),
                problem,
            })?;
            rules.criteria.push(criteria);
            starts.push(start);
        }
        check_badge_cycles(&rules.criteria, &|i| Some(line_of(starts[i])))?;
        Ok(rules)
    }

    /// The badge classes.
    pub fn classes(&self) -> &[ClassRule] {
        &self.classes
    }

    /// The `courses_completed` rules: (N, slug).
    pub fn courses_completed(&self) -> &[(u32, String)] {
        &self.courses_completed
    }

    /// The `courses_enrolled` rules: (N, slug).
    pub fn courses_enrolled(&self) -> &[(u32, String)] {
        &self.courses_enrolled
    }

    /// The course groups: (slug, course keys).
    pub fn course_groups(&self) -> &[(String, Vec<String>)] {
        &self.course_groups
    }

    /// The criteria rules.
    pub fn criteria(&self) -> &[CriteriaRule] {
        &self.criteria
    }

    /// The number of award rules: course completion classes, thresholds, groups and criteria.
    pub fn rule_count(&self) -> usize {
        self.classes.iter().filter(|c| c.course.is_some()).count()
            + self.courses_completed.len()
            + self.courses_enrolled.len()
            + self.course_groups.len()
            + self.criteria.len()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    auto_course_completion: bool,
    #[serde(default)]
    badge_class: Vec<ClassToml>,
    #[serde(default)]
    course_events: Option<CourseEventsToml>,
    #[serde(default)]
    criteria: Vec<toml::Spanned<CriteriaRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassToml {
    slug: toml::Spanned<String>,
    #[serde(default)]
    course: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    repeatable: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CourseEventsToml {
    #[serde(default)]
    courses_completed: Option<toml::Spanned<String>>,
    #[serde(default)]
    courses_enrolled: Option<toml::Spanned<String>>,
    #[serde(default)]
    course_groups: Option<toml::Spanned<String>>,
}

/// The slugs of `classes`, for membership tests in constant time.
fn slug_set(classes: &[ClassRule]) -> HashSet<&str> {
    classes.iter().map(|c| c.slug.as_str()).collect()
}

/// An error at `line` of a rule file, or in a rule set built in code (`None`).
fn rule_error(line: Option<usize>, problem: String) -> Error {
    match line {
        Some(line) => Error::Toml { line, problem },
        None => Error::Rules { problem },
    }
}

fn check_classes(
    classes: &[ClassRule],
    line: &dyn Fn(usize) -> Option<usize>,
) -> Result<(), Error> {
    // Where each slug and each (course, mode) was first seen: hash lookups, so that a rule set
    // of 100 000 classes loads in linear time.
    let mut slugs: HashMap<&str, usize> = HashMap::with_capacity(classes.len());
    let mut course_modes: HashMap<(&str, Option<&str>), usize> = HashMap::new();
    for (i, class) in classes.iter().enumerate() {
        let fail = |problem: String| Err(rule_error(line(i), problem));
        if !is_valid_slug(&class.slug) {
            return fail(format!(
                "badge class slug {:?} must be 1 to 255 of [a-z0-9_-]",
                class.slug
            ));
        }
        if let Some(&j) = slugs.get(class.slug.as_str()) {
            return fail(format!(
                "badge class slug {:?} is already used ({})",
                class.slug,
                // A line in a file, a position (from 1) in code.
                line(j).map_or_else(
                    || format!("class number {}", j + 1),
                    |l| format!("line {l}")
                )
            ));
        }
        match &class.course {
            Some(course) if !is_valid_course_key(course) => {
                return fail(format!(
                    "course {course:?} is not a course key (course-v1:Org+Course+Run or Org/Course/Run)"
                ));
            }
            None if class.mode.is_some() => {
                return fail(format!(
                    "badge class {:?} has a mode but no course",
                    class.slug
                ));
            }
            Some(course) => {
                if let Some(&j) = course_modes.get(&(course.as_str(), class.mode.as_deref())) {
                    return fail(format!(
                        "badge classes {:?} and {:?} are both for course {} and mode {}: one class per course and mode",
                        classes[j].slug,
                        class.slug,
                        class.course.as_deref().unwrap_or(""),
                        class.mode.as_deref().unwrap_or("(any)")
                    ));
                }
            }
            None => {}
        }
        if class.mode.as_deref().is_some_and(|m| m.trim().is_empty()) {
            return fail(format!("badge class {:?} has an empty mode", class.slug));
        }
        slugs.insert(&class.slug, i);
        if let Some(course) = &class.course {
            course_modes.insert((course, class.mode.as_deref()), i);
        }
    }
    Ok(())
}

/// The ids of a rule set's criteria rules, as they are named one after the other: each its own
/// id (checked) or the next free `SLUG`, `SLUG#2`, … of its class. Hash lookups, so that a rule
/// set of 100 000 criteria loads in linear time.
#[derive(Default)]
struct CriteriaIds {
    taken: HashSet<String>,
    /// By class: the number the next default id tries first.
    next: HashMap<String, u32>,
}

impl CriteriaIds {
    fn of(criteria: &[CriteriaRule]) -> Self {
        let taken = criteria.iter().filter_map(|c| c.id.clone()).collect();
        CriteriaIds {
            taken,
            next: HashMap::new(),
        }
    }

    /// `criteria` with its id.
    fn name(&mut self, mut criteria: CriteriaRule) -> Result<CriteriaRule, String> {
        let id = match criteria.id.take() {
            Some(id) => {
                if id.len() > 255 || !id.split('#').all(is_valid_slug) {
                    return Err(format!(
                        "criteria id {id:?} must be 1 to 255 bytes: slugs ([a-z0-9_-]) joined by '#'"
                    ));
                }
                if self.taken.contains(&id) {
                    return Err(format!("criteria id {id:?} names two criteria rules"));
                }
                id
            }
            None => {
                let n = self.next.entry(criteria.slug.clone()).or_insert(1);
                loop {
                    let id = match *n {
                        1 => criteria.slug.clone(),
                        k => format!("{}#{k}", criteria.slug),
                    };
                    *n += 1;
                    if !self.taken.contains(&id) {
                        break id;
                    }
                }
            }
        };
        self.taken.insert(id.clone());
        criteria.id = Some(id);
        Ok(criteria)
    }
}

fn check_criteria(criteria: &CriteriaRule, slugs: &HashSet<&str>) -> Result<(), String> {
    let known = |slug: &str| slugs.contains(slug);
    if !known(&criteria.slug) {
        return Err(format!(
            "criteria badge {:?} names no known badge class",
            criteria.slug
        ));
    }
    if criteria.requirements.is_empty() {
        return Err(format!(
            "criteria for {:?} has no requirement",
            criteria.slug
        ));
    }
    for requirement in &criteria.requirements {
        let empty = |what: &str| {
            Err(format!(
                "a {what} requirement of {:?} lists nothing",
                criteria.slug
            ))
        };
        match requirement {
            Requirement::Courses { courses, .. } => {
                if courses.is_empty() {
                    return empty("courses");
                }
                for c in courses {
                    if !is_valid_course_key(&c.course) {
                        return Err(format!(
                            "course {:?} is not a course key (course-v1:Org+Course+Run or Org/Course/Run)",
                            c.course
                        ));
                    }
                    if c.min_grade.is_some_and(|g| !(0.0..=1.0).contains(&g)) {
                        return Err(format!(
                            "min_grade of {} must be between 0.0 and 1.0",
                            c.course
                        ));
                    }
                }
            }
            Requirement::Activities { activities, .. } => {
                if activities.is_empty() {
                    return empty("activities");
                }
                for a in activities {
                    if a.activity.trim().is_empty() {
                        return Err("an activity id is empty".to_owned());
                    }
                }
            }
            Requirement::Badges { badges, .. } => {
                if badges.is_empty() {
                    return empty("badges");
                }
                if let Some(b) = badges.iter().find(|b| !known(b)) {
                    return Err(format!("required badge {b:?} names no known badge class"));
                }
            }
            Requirement::Manual { roles, .. } => {
                if roles.is_empty() {
                    return empty("manual");
                }
                if roles.iter().any(|r| r.trim().is_empty()) {
                    return Err(format!(
                        "a manual requirement of {:?} names an empty role",
                        criteria.slug
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A badge on the search path of [`check_badge_cycles`]: the badge, the criteria index whose
/// requirement led to it, and the (badge, criteria index) edges still to follow from it.
type Step<'a> = (&'a str, Option<usize>, Vec<(&'a str, usize)>);

/// Refuses criteria whose badge requirements form a cycle (a badge that requires itself,
/// directly or through others): such a badge could never be awarded. The error names the
/// badges of the cycle and the lines of their criteria (`line` of a criteria index).
fn check_badge_cycles(
    criteria: &[CriteriaRule],
    line: &dyn Fn(usize) -> Option<usize>,
) -> Result<(), Error> {
    // badge → the criteria that award it.
    let mut awarding: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in criteria.iter().enumerate() {
        awarding.entry(c.slug.as_str()).or_default().push(i);
    }
    let required = |i: usize| {
        criteria[i].requirements.iter().flat_map(|r| match r {
            Requirement::Badges { badges, .. } => badges.as_slice(),
            _ => &[],
        })
    };
    // Iterative depth-first search over badges (a million criteria must not overflow the
    // stack). 1: on the current path, 2: done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    for start in criteria.iter().map(|c| c.slug.as_str()) {
        if state.contains_key(start) {
            continue;
        }
        let mut path: Vec<Step<'_>> = Vec::new();
        let successors = |badge: &str| -> Vec<(&str, usize)> {
            awarding.get(badge).map_or_else(Vec::new, |list| {
                list.iter()
                    .flat_map(|&i| required(i).map(move |b| (b.as_str(), i)))
                    .collect()
            })
        };
        state.insert(start, 1);
        path.push((start, None, successors(start)));
        while let Some((_, _, next)) = path.last_mut() {
            let Some((badge, via)) = next.pop() else {
                let (done, ..) = path.pop().unwrap_or_default();
                state.insert(done, 2);
                continue;
            };
            match state.get(badge) {
                Some(2) => {}
                Some(_) => {
                    let from = path.iter().position(|(b, ..)| *b == badge).unwrap_or(0);
                    let mut lines: Vec<usize> =
                        path[from + 1..].iter().filter_map(|(_, v, _)| *v).collect();
                    lines.push(via);
                    let mut names: Vec<&str> = path[from..].iter().map(|(b, ..)| *b).collect();
                    names.push(badge);
                    // Lines in a file, positions (from 1) in code.
                    let (kind, places): (&str, Vec<String>) = match line(via) {
                        Some(_) => (
                            "lines",
                            lines
                                .iter()
                                .filter_map(|&i| line(i))
                                .map(|l| l.to_string())
                                .collect(),
                        ),
                        None => (
                            "numbers",
                            lines.iter().map(|&i| (i + 1).to_string()).collect(),
                        ),
                    };
                    return Err(rule_error(
                        line(via),
                        format!(
                            "badge requirements form a cycle: {} (criteria at {kind} {}); none of these badges could be awarded",
                            names.join(" requires "),
                            places.join(", ")
                        ),
                    ));
                }
                None => {
                    state.insert(badge, 1);
                    let succ = successors(badge);
                    path.push((badge, Some(via), succ));
                }
            }
        }
    }
    Ok(())
}
