//! The evaluator: learner state, rules compiled into indexes, decisions.
//!
//! Each event touches only the rules that can change because of it: the course completion
//! classes of its course, the thresholds between the old and the new count (a binary search in
//! a sorted list), the groups and criteria that name its course, activity or badge. Those are
//! read from [`Lists`] keyed by the interned id, where each key's rules lie back to back with
//! what deciding them needs, so an event reads a few contiguous runs whatever the size of the
//! rule set; a criteria rule's terms are read only when the learner has passed every course
//! the rule needs (see [`CriteriaEntry`]). Nothing scans the whole rule set.

use compact_str::CompactString;
use serde::Serialize;

use crate::config::{Aggregation, Requirement, RuleSet, parse_instant};
use crate::event::{Event, Instant};
use crate::learners::{Certificate, Enrollment, Learner, Learners, course_bit, find};
use crate::lists::Lists;
use crate::names::Interner;
use crate::progress::{Progress, StoredCertificate, StoredEnrollment};

/// Which rule awarded a badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// A passing certificate in a course (and mode).
    CourseCompletion {
        /// The course key.
        course: String,
        /// The mode of the class, or `None` for the class of the course with no mode.
        mode: Option<String>,
    },
    /// The number of courses with a passing latest certificate reached a threshold.
    CoursesCompleted {
        /// The threshold N.
        threshold: u32,
    },
    /// The number of active enrollments reached a threshold.
    CoursesEnrolled {
        /// The threshold N.
        threshold: u32,
    },
    /// Every course of a group has a passing latest certificate.
    CourseGroup {
        /// The group's courses.
        courses: Vec<String>,
    },
    /// A criteria rule was met.
    Criteria {
        /// Its position among the rule set's criteria, from 0.
        index: usize,
    },
}

/// A decision: award this badge class to this learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Award {
    /// The learner's id.
    pub learner: String,
    /// The badge class slug.
    pub badge: String,
    /// Which award of this class to this learner it is: 1 for the first (always, unless the
    /// class is repeatable). With the learner and slug, it identifies the award.
    pub sequence: u32,
    /// The rule that fired.
    pub rule: Rule,
    /// Why, in words.
    pub reason: String,
    /// When the event that completed the rule happened, if known (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// What a requirement of a criteria rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequirementKind {
    Courses,
    Activities,
    Badges,
    Manual,
}

impl RequirementKind {
    fn label(self) -> &'static str {
        match self {
            RequirementKind::Courses => "courses",
            RequirementKind::Activities => "activities",
            RequirementKind::Badges => "badges",
            RequirementKind::Manual => "manual award",
        }
    }
}

/// One term of a compiled criteria rule. A rule is one run of terms in [`Compiled::terms`]: a
/// [`Term::Criteria`] header, then each requirement header followed by its `len` items. Flat
/// and 16 bytes each, so that checking a rule reads one short contiguous run; only a course
/// with both a grade and a deadline looks aside.
#[derive(Debug, Clone, Copy)]
enum Term {
    /// A criteria rule (see [`CriteriaRef`]) whose `len` terms follow.
    Criteria {
        id: u32,
        badge: u32,
        repeatable: bool,
        require: Aggregation,
        len: u32,
    },
    Requirement {
        kind: RequirementKind,
        require: Aggregation,
        len: u32,
    },
    Course(u32),
    /// A course and the lowest grade.
    CourseMinGrade(u32, f64),
    /// A course and its deadline.
    CourseBy(u32, i64),
    /// A course with both: (course, index in [`Compiled::course_conditions`]).
    CourseWith(u32, u32),
    Activity(u32),
    /// An activity and its deadline.
    ActivityBy(u32, i64),
    Badge(u32),
    Role(u32),
}

/// The conditions a course term may add to its passing certificate.
#[derive(Debug, Clone, Copy)]
struct CourseCondition {
    min_grade: Option<f64>,
    by: Option<i64>,
}

/// A criteria rule: everything needed to check it but its terms.
#[derive(Debug, Clone, Copy)]
struct CriteriaRef {
    /// Its position among the rule set's criteria.
    id: u32,
    badge: u32,
    /// Whether its class is repeatable (kept here: looking it up is a likely cache miss).
    repeatable: bool,
    require: Aggregation,
}

impl CriteriaRef {
    /// The header of the rule's run, followed by its `len` terms.
    fn header(self, len: u32) -> Term {
        let CriteriaRef {
            id,
            badge,
            repeatable,
            require,
        } = self;
        Term::Criteria {
            id,
            badge,
            repeatable,
            require,
            len,
        }
    }
}

/// A course group as the by-course index holds it.
#[derive(Debug, Clone, Copy)]
struct GroupRef {
    badge: u32,
    /// Its run in [`Compiled::group_courses`].
    courses: (u32, u32),
    /// The union of its courses' bits (see [`Learner::passing_mask`]).
    mask: u64,
}

/// A criteria rule as the index of one of the facts it names (a course, an activity, a badge,
/// a manual award) lists it.
///
/// `needs` lets an event skip the rule without reading it: a change to that fact can make the
/// rule newly hold only if these courses all have a passing certificate (bits as in
/// [`Learner::passing_mask`]). At 100 000 rules most of a course's criteria name courses the
/// learner has not passed, and their terms, a likely cache miss each, are never read.
#[derive(Debug, Clone, Copy)]
struct CriteriaEntry {
    needs: u64,
    /// Where the rule's run starts in [`Compiled::terms`].
    run: u32,
    /// Repeatable rules are always checked: a change may end their satisfaction too.
    repeatable: bool,
}

impl CriteriaEntry {
    /// Whether the rule must be checked for a learner whose passing courses are `passing`.
    fn is_due(&self, passing: u64) -> bool {
        self.repeatable || self.needs & !passing == 0
    }
}

fn run<T>(items: &[T], (start, len): (u32, u32)) -> &[T] {
    &items[start as usize..(start + len) as usize]
}

/// A group of at most this many courses has them copied next to the other groups of each
/// course it names; a longer group's are shared, which bounds the copies to this factor.
const NEAR_COPY_MAX: u32 = 32;

/// Appends a copy of the run `span` of `pool` and returns the copy's span, for a short run.
///
/// Called on a [`Lists`]' items in key order, so the courses of the groups of one course end
/// up back to back: one sequential read instead of a likely cache miss per group.
fn near_copy<T: Copy>(pool: &mut Vec<T>, span: (u32, u32)) -> (u32, u32) {
    if span.1 > NEAR_COPY_MAX {
        return span;
    }
    let start = pool.len() as u32;
    pool.extend_from_within(span.0 as usize..(span.0 + span.1) as usize);
    (start, span.1)
}

/// The rules as indexes over interned ids. Every index an event consults is a [`Lists`] keyed
/// by course, activity or badge id, whose entries carry what the check needs.
#[derive(Debug, Clone, Default)]
struct Compiled {
    /// By badge id: the class, if the rule set has one.
    classes: Vec<Option<Class>>,
    /// By course: its completion classes, as (mode, badge); mode `None` is the class for any
    /// mode.
    completion: Lists<(Option<u32>, u32)>,
    completed: Vec<(u32, u32)>,
    enrolled: Vec<(u32, u32)>,
    /// By course: the groups that contain it.
    groups_by_course: Lists<GroupRef>,
    group_courses: Vec<u32>,
    /// Every criteria rule's run (see [`Term`]), one after the other.
    terms: Vec<Term>,
    course_conditions: Vec<CourseCondition>,
    /// Criteria rules by what they name.
    criteria_by_course: Lists<CriteriaEntry>,
    criteria_by_activity: Lists<CriteriaEntry>,
    criteria_by_badge: Lists<CriteriaEntry>,
    /// By the badge a manual award is for.
    criteria_by_manual: Lists<CriteriaEntry>,
    auto_course_completion: bool,
}

/// What an award of a class needs, in one place: awarding reads one entry (at 100 000 rules,
/// each separate table would be a likely cache miss).
#[derive(Debug, Clone)]
struct Class {
    slug: CompactString,
    repeatable: bool,
    /// Whether criteria rules require this badge (earning it must re-check them).
    has_dependents: bool,
}

/// The interned names, kept for the evaluator's lifetime so ids stay stable across rule sets.
#[derive(Debug, Clone, Default)]
struct Names {
    courses: Interner,
    modes: Interner,
    activities: Interner,
    roles: Interner,
    badges: Interner,
}

impl Compiled {
    fn build(rules: &RuleSet, names: &mut Names) -> Self {
        let mut c = Compiled {
            auto_course_completion: rules.auto_course_completion,
            ..Compiled::default()
        };
        let mut completion = Vec::new();
        for class in &rules.classes {
            let badge = names.badges.intern(&class.slug) as usize;
            if c.classes.len() <= badge {
                c.classes.resize(badge + 1, None);
            }
            c.classes[badge] = Some(Class {
                slug: class.slug.as_str().into(),
                repeatable: class.repeatable,
                has_dependents: false,
            });
            if let Some(course) = &class.course {
                let mode = class.mode.as_deref().map(|m| names.modes.intern(m));
                completion.push((names.courses.intern(course), (mode, badge as u32)));
            }
        }
        c.completion = Lists::from_pairs(completion);
        let thresholds = |list: &[(u32, String)], names: &mut Names| {
            let mut v: Vec<(u32, u32)> = list
                .iter()
                .map(|(n, slug)| (*n, names.badges.intern(slug)))
                .collect();
            v.sort_unstable();
            v
        };
        c.completed = thresholds(&rules.courses_completed, names);
        c.enrolled = thresholds(&rules.courses_enrolled, names);
        let mut groups = Vec::new();
        for (slug, courses) in &rules.course_groups {
            let start = c.group_courses.len();
            c.group_courses
                .extend(courses.iter().map(|k| names.courses.intern(k)));
            let ids = &c.group_courses[start..];
            let group = GroupRef {
                badge: names.badges.intern(slug),
                courses: (start as u32, ids.len() as u32),
                mask: ids.iter().fold(0, |mask, &id| mask | course_bit(id)),
            };
            groups.extend(ids.iter().map(|&course| (course, group)));
        }
        c.groups_by_course = Lists::from_pairs(groups);
        for group in c.groups_by_course.items_mut() {
            group.courses = near_copy(&mut c.group_courses, group.courses);
        }
        c.compile_criteria(rules, names);
        for (badge, class) in c.classes.iter_mut().enumerate() {
            if let Some(class) = class {
                class.has_dependents = !c.criteria_by_badge.get(badge as u32).is_empty();
            }
        }
        c
    }

    /// Compiles each criteria rule into its run of terms, and lists it under every course,
    /// activity and badge it names (and under its own badge when it takes manual awards),
    /// with what the entry's fact needs (see [`CriteriaEntry`]).
    fn compile_criteria(&mut self, rules: &RuleSet, names: &mut Names) {
        const COURSE: usize = 0;
        const ACTIVITY: usize = 1;
        const BADGE: usize = 2;
        const MANUAL: usize = 3;
        let mut indexes: [Vec<(u32, CriteriaEntry)>; 4] = Default::default();
        let at = |by: &Option<String>| by.as_deref().and_then(parse_instant);
        for (id, criteria) in rules.criteria.iter().enumerate() {
            let badge = names.badges.intern(&criteria.badge);
            let rule = CriteriaRef {
                id: id as u32,
                badge,
                repeatable: self.class(badge).is_some_and(|class| class.repeatable),
                require: criteria.require,
            };
            let start = self.terms.len();
            self.terms.push(rule.header(0)); // its length is set below
            // Each fact a requirement names: (index, key, courses the requirement needs
            // passing to hold through that fact).
            let mut named: Vec<(usize, u32, u64)> = Vec::new();
            // For an ALL rule, every requirement must hold: all of these are needed.
            let mut needed_by_every = 0;
            for r in &criteria.requirements {
                let header = |kind, require: &Aggregation, len: usize| Term::Requirement {
                    kind,
                    require: *require,
                    len: len as u32,
                };
                match r {
                    Requirement::Courses { require, courses } => {
                        self.terms
                            .push(header(RequirementKind::Courses, require, courses.len()));
                        let named_from = named.len();
                        for x in courses {
                            let course = names.courses.intern(&x.course);
                            self.terms.push(match (x.min_grade, at(&x.by)) {
                                (None, None) => Term::Course(course),
                                (Some(grade), None) => Term::CourseMinGrade(course, grade),
                                (None, Some(by)) => Term::CourseBy(course, by),
                                (min_grade, by) => {
                                    let condition = self.course_conditions.len() as u32;
                                    self.course_conditions
                                        .push(CourseCondition { min_grade, by });
                                    Term::CourseWith(course, condition)
                                }
                            });
                            named.push((COURSE, course, 0));
                        }
                        // A course term holds only with its course passing; with ALL (or a
                        // single course), the requirement needs every course passing.
                        let these = &mut named[named_from..];
                        let every = these.iter().fold(0, |m, n| m | course_bit(n.1));
                        let needs = if *require == Aggregation::All || these.len() == 1 {
                            every
                        } else {
                            0
                        };
                        needed_by_every |= needs;
                        for n in these {
                            n.2 = needs | course_bit(n.1);
                        }
                    }
                    Requirement::Activities {
                        require,
                        activities,
                    } => {
                        self.terms.push(header(
                            RequirementKind::Activities,
                            require,
                            activities.len(),
                        ));
                        for x in activities {
                            let activity = names.activities.intern(&x.activity);
                            named.push((ACTIVITY, activity, 0));
                            self.terms.push(match at(&x.by) {
                                None => Term::Activity(activity),
                                Some(by) => Term::ActivityBy(activity, by),
                            });
                        }
                    }
                    Requirement::Badges { require, badges } => {
                        self.terms
                            .push(header(RequirementKind::Badges, require, badges.len()));
                        for b in badges {
                            let b = names.badges.intern(b);
                            named.push((BADGE, b, 0));
                            self.terms.push(Term::Badge(b));
                        }
                    }
                    Requirement::Manual { require, roles } => {
                        self.terms
                            .push(header(RequirementKind::Manual, require, roles.len()));
                        named.push((MANUAL, badge, 0));
                        for r in roles {
                            self.terms.push(Term::Role(names.roles.intern(r)));
                        }
                    }
                }
            }
            self.terms[start] = rule.header((self.terms.len() - start - 1) as u32);
            // A change to one fact can make the rule newly hold only through a requirement
            // that names it (the others are as they were, and did not make it hold): one of
            // those must hold now, so their common needs are needed. A fact named twice is
            // listed once.
            let every = if rule.require == Aggregation::All {
                needed_by_every
            } else {
                0
            };
            named.sort_unstable_by_key(|n| (n.0, n.1));
            for same in named.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
                let through = same.iter().fold(u64::MAX, |m, n| m & n.2);
                let entry = CriteriaEntry {
                    needs: through | every,
                    run: start as u32,
                    repeatable: rule.repeatable,
                };
                indexes[same[0].0].push((same[0].1, entry));
            }
        }
        let [course, activity, badge, manual] = indexes.map(Lists::from_pairs);
        self.criteria_by_course = course;
        self.criteria_by_activity = activity;
        self.criteria_by_badge = badge;
        self.criteria_by_manual = manual;
    }

    fn class(&self, badge: u32) -> Option<&Class> {
        self.classes.get(badge as usize).and_then(Option::as_ref)
    }

    /// The completion class for a passing certificate in `course` in `mode`: the class of the
    /// course and mode, else the class of the course with no mode; with the class's mode.
    fn completion_class(&self, course: u32, mode: Option<u32>) -> Option<(u32, Option<u32>)> {
        let classes = self.completion.get(course);
        let of = |wanted: Option<u32>| {
            classes
                .iter()
                .find(|c| c.0 == wanted)
                .map(|&(m, badge)| (badge, m))
        };
        mode.and_then(|m| of(Some(m))).or_else(|| of(None))
    }

    /// The criteria rule whose run starts at `run` in [`Compiled::terms`], with its terms.
    fn rule_at(&self, run: u32) -> Option<(CriteriaRef, &[Term])> {
        let (head, tail) = self.terms.get(run as usize..)?.split_first()?;
        let Term::Criteria {
            id,
            badge,
            repeatable,
            require,
            len,
        } = *head
        else {
            return None; // not a rule header: the builder never points elsewhere
        };
        let rule = CriteriaRef {
            id,
            badge,
            repeatable,
            require,
        };
        Some((rule, tail.get(..len as usize)?))
    }

    fn criteria_met(&self, c: &CriteriaRef, mut terms: &[Term], l: &Learner) -> bool {
        // With ALL, the first requirement that fails decides; with ANY, the first that holds.
        let any = c.require == Aggregation::Any;
        while let Some((&Term::Requirement { require, len, .. }, rest)) = terms.split_first() {
            let Some((items, next)) = rest.split_at_checked(len as usize) else {
                return false;
            };
            let holds = match require {
                Aggregation::All => items.iter().all(|item| self.holds(item, c, l)),
                Aggregation::Any => items.iter().any(|item| self.holds(item, c, l)),
            };
            if holds == any {
                return any;
            }
            terms = next;
        }
        !any
    }

    /// Whether one item of a requirement holds for the learner.
    #[inline]
    fn holds(&self, item: &Term, c: &CriteriaRef, l: &Learner) -> bool {
        match *item {
            Term::Course(course) => l.passing(course),
            Term::CourseMinGrade(course, min) => l
                .certificate(course)
                .is_some_and(|cert| cert.passed && cert.grade().is_some_and(|g| g >= min)),
            Term::CourseBy(course, by) => l
                .certificate(course)
                .is_some_and(|cert| cert.passed && cert.at().is_some_and(|t| t <= by)),
            Term::CourseWith(course, condition) => l.certificate(course).is_some_and(|cert| {
                let CourseCondition { min_grade, by } = self.course_conditions[condition as usize];
                cert.passed
                    && min_grade.is_none_or(|m| cert.grade().is_some_and(|g| g >= m))
                    && by.is_none_or(|by| cert.at().is_some_and(|t| t <= by))
            }),
            Term::Activity(activity) => find(&l.activities, activity, |a| a.0).is_ok(),
            Term::ActivityBy(activity, by) => find(&l.activities, activity, |a| a.0)
                .ok()
                .is_some_and(|i| l.activities[i].1.is_some_and(|t| t <= by)),
            Term::Badge(b) => l.earned(b),
            Term::Role(role) => find(l.manual(), (c.badge, role), |m| *m).is_ok(),
            Term::Requirement { .. } | Term::Criteria { .. } => false,
        }
    }

    /// The kinds of a criteria rule's requirements, for its award's reason.
    fn requirement_kinds(terms: &[Term]) -> impl Iterator<Item = &'static str> + '_ {
        terms.iter().filter_map(|t| match t {
            Term::Requirement { kind, .. } => Some(kind.label()),
            _ => None,
        })
    }
}

/// Decides awards from events, one learner state at a time.
///
/// ```
/// use badgery_rules::{BadgeClass, Evaluator, Event, RuleSet};
/// let rules = RuleSet::new(vec![BadgeClass::new("three-courses")])?
///     .with_openedx_fields("3,three-courses", "", "")?;
/// let mut evaluator = Evaluator::new(rules);
/// let mut awards = Vec::new();
/// for course in ["course-v1:A+B+1", "course-v1:A+B+2", "course-v1:A+B+3"] {
///     awards.extend(evaluator.apply(&Event::from_json(&format!(
///         r#"{{"event":"certificate","learner":"ada","course":"{course}","passed":true}}"#))?));
/// }
/// assert_eq!(awards.len(), 1);
/// assert_eq!((awards[0].learner.as_str(), awards[0].badge.as_str()), ("ada", "three-courses"));
/// # Ok::<(), badgery_rules::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Evaluator {
    rules: RuleSet,
    compiled: Compiled,
    names: Names,
    learners: Learners,
    criteria_keys: CriteriaKeys,
}

/// How stored progress names a criteria rule: by its badge and its place among that badge's
/// criteria (stable when other badges' rules are added or removed), and back to its position
/// in the rule set; computed once per rule set, not per event.
#[derive(Debug, Clone, Default)]
struct CriteriaKeys {
    /// By position: (badge, ordinal).
    keys: Vec<(String, u32)>,
    positions: std::collections::HashMap<(String, u32), u32>,
}

impl CriteriaKeys {
    fn of(rules: &RuleSet) -> Self {
        let mut seen: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let keys: Vec<(String, u32)> = rules
            .criteria()
            .iter()
            .map(|c| {
                let ordinal = seen.entry(c.badge.as_str()).or_insert(0);
                *ordinal += 1;
                (c.badge.clone(), *ordinal - 1)
            })
            .collect();
        let positions = keys
            .iter()
            .enumerate()
            .map(|(i, key)| (key.clone(), i as u32))
            .collect();
        CriteriaKeys { keys, positions }
    }
}

/// What an event changed that rules may depend on.
enum Change {
    None,
    Enrolled {
        before: u32,
    },
    Certificate {
        course: u32,
        mode: Option<u32>,
        was_passing: bool,
        passing_before: u32,
        /// The class to create for this course and mode, when none is configured and
        /// automatic course classes are on.
        auto_badge: Option<u32>,
    },
    Activity(u32),
    Manual(u32),
}

impl Evaluator {
    /// An evaluator with these rules and no learners yet.
    pub fn new(rules: RuleSet) -> Self {
        let mut names = Names::default();
        let compiled = Compiled::build(&rules, &mut names);
        Evaluator {
            criteria_keys: CriteriaKeys::of(&rules),
            rules,
            compiled,
            names,
            learners: Learners::default(),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Applies one event and returns the awards it causes, in decision order.
    pub fn apply(&mut self, event: &Event) -> Vec<Award> {
        let mut awards = Vec::new();
        self.apply_into(event, &mut awards);
        awards
    }

    /// Applies one event, appending the awards it causes to `awards`.
    pub fn apply_into(&mut self, event: &Event, awards: &mut Vec<Award>) {
        let id = self.learners.id_or_insert(event.learner());
        let learner = self.learners.get_mut(id);
        let change = record(&self.compiled, &mut self.names, learner, event);
        decide(&self.compiled, &self.names, learner, event, change, awards);
    }

    /// Applies one event to a learner's progress kept outside the evaluator (in a store):
    /// the new progress, and the awards the event causes, exactly as [`Evaluator::apply`]
    /// would decide them for a learner with that progress. The evaluator keeps nothing of the
    /// learner (its memory grows with the names of courses, modes, activities and roles it
    /// meets, not with learners).
    pub fn apply_to(&mut self, progress: &Progress, event: &Event) -> (Progress, Vec<Award>) {
        let mut learner = self.learner_from(progress, event.learner());
        let mut awards = Vec::new();
        let change = record(&self.compiled, &mut self.names, &mut learner, event);
        decide(
            &self.compiled,
            &self.names,
            &mut learner,
            event,
            change,
            &mut awards,
        );
        (self.progress_from(&learner), awards)
    }

    /// The awards due under the current rules to a learner with `progress` that no event
    /// triggered (as [`Evaluator::backfill`] does for the learners in memory), and the
    /// progress after them.
    pub fn backfill_progress(
        &mut self,
        learner: &str,
        progress: &Progress,
    ) -> (Progress, Vec<Award>) {
        let mut record = self.learner_from(progress, learner);
        let mut awards = Vec::new();
        backfill(
            &self.compiled,
            &self.names,
            &mut record,
            learner,
            &mut awards,
        );
        (self.progress_from(&record), awards)
    }

    /// The progress of a learner this evaluator holds in memory (`None` for one it has not
    /// seen): what [`Evaluator::apply_to`] would carry for them.
    pub fn progress(&self, learner: &str) -> Option<Progress> {
        self.learners
            .get(learner)
            .map(|record| self.progress_from(record))
    }

    /// A learner's record from stored progress, under this evaluator's ids.
    fn learner_from(&mut self, progress: &Progress, name: &str) -> Learner {
        let names = &mut self.names;
        let mut l = Learner::named(name);
        for e in &progress.enrollments {
            l.enrollments.push(Enrollment {
                course: names.courses.intern(&e.course),
                mode: names.modes.intern(&e.mode),
                active: e.active,
            });
        }
        l.enrollments.sort_by_key(|e| e.course);
        l.enrollments.dedup_by_key(|e| e.course);
        l.active_enrollments = l.enrollments.iter().filter(|e| e.active).count() as u32;
        for c in &progress.certificates {
            let course = names.courses.intern(&c.course);
            let mode = c.mode.as_deref().map(|m| names.modes.intern(m));
            l.certificates
                .push(Certificate::new(course, mode, c.passed, c.grade, c.at));
        }
        l.certificates.sort_by_key(|c| c.course);
        l.certificates.dedup_by_key(|c| c.course);
        for c in l.certificates.iter().filter(|c| c.passed) {
            l.passing_courses += 1;
            l.passing_mask |= course_bit(c.course);
        }
        for (activity, at) in &progress.activities {
            l.activities.push((names.activities.intern(activity), *at));
        }
        l.activities.sort_by_key(|a| a.0);
        l.activities.dedup_by_key(|a| a.0);
        for badge in &progress.earned {
            l.earned.push(names.badges.intern(badge));
        }
        l.earned.sort_unstable();
        l.earned.dedup();
        if !(progress.repeats.is_empty()
            && progress.manual.is_empty()
            && progress.satisfied.is_empty())
        {
            let positions = &self.criteria_keys.positions;
            let rare = l.rare_mut();
            for (badge, times) in &progress.repeats {
                rare.repeats.push((names.badges.intern(badge), *times));
            }
            rare.repeats.sort_unstable();
            rare.repeats.dedup_by_key(|r| r.0);
            for (badge, role) in &progress.manual {
                rare.manual
                    .push((names.badges.intern(badge), names.roles.intern(role)));
            }
            rare.manual.sort_unstable();
            rare.manual.dedup();
            // A criteria the rules no longer have is dropped.
            for key in &progress.satisfied {
                rare.satisfied.extend(positions.get(key));
            }
            rare.satisfied.sort_unstable();
            rare.satisfied.dedup();
        }
        l
    }

    /// A learner's record as stored progress, by name.
    fn progress_from(&self, l: &Learner) -> Progress {
        let names = &self.names;
        let mut progress = Progress {
            enrollments: l
                .enrollments
                .iter()
                .map(|e| StoredEnrollment {
                    course: names.courses.name(e.course).to_owned(),
                    mode: names.modes.name(e.mode).to_owned(),
                    active: e.active,
                })
                .collect(),
            certificates: l
                .certificates
                .iter()
                .map(|c| StoredCertificate {
                    course: names.courses.name(c.course).to_owned(),
                    mode: c.mode().map(|m| names.modes.name(m).to_owned()),
                    passed: c.passed,
                    grade: c.grade(),
                    at: c.at(),
                })
                .collect(),
            activities: l
                .activities
                .iter()
                .map(|(a, at)| (names.activities.name(*a).to_owned(), *at))
                .collect(),
            earned: l
                .earned
                .iter()
                .map(|b| names.badges.name(*b).to_owned())
                .collect(),
            repeats: l
                .repeats()
                .iter()
                .map(|(b, times)| (names.badges.name(*b).to_owned(), *times))
                .collect(),
            manual: l
                .manual()
                .iter()
                .map(|(b, r)| {
                    (
                        names.badges.name(*b).to_owned(),
                        names.roles.name(*r).to_owned(),
                    )
                })
                .collect(),
            satisfied: l
                .satisfied()
                .iter()
                .filter_map(|&position| self.criteria_keys.keys.get(position as usize).cloned())
                .collect(),
        };
        progress.sort();
        progress
    }

    /// Replaces the rules and returns the awards now due to learners who already meet them
    /// (back-fill: a rule added after learners passed its threshold still awards them).
    pub fn set_rules(&mut self, rules: RuleSet) -> Vec<Award> {
        self.compiled = Compiled::build(&rules, &mut self.names);
        self.criteria_keys = CriteriaKeys::of(&rules);
        self.rules = rules;
        self.backfill()
    }

    /// Awards due under the current rules that no event has triggered: every rule each
    /// learner meets for a class not yet earned. (Repeatable classes are back-filled once.)
    pub fn backfill(&mut self) -> Vec<Award> {
        let mut awards = Vec::new();
        for learner in self.learners.records_mut() {
            // The name is copied out: the learner's state is borrowed mutably below.
            let name = learner.name.clone();
            backfill(&self.compiled, &self.names, learner, &name, &mut awards);
        }
        awards
    }

    /// The number of learners seen.
    pub fn learner_count(&self) -> usize {
        self.learners.len()
    }

    /// How many distinct names (courses, modes, activities, roles and badges) the evaluator
    /// has met: what its memory grows with when learners' progress is kept in a store.
    pub fn names_known(&self) -> usize {
        let n = &self.names;
        n.courses.len() + n.modes.len() + n.activities.len() + n.roles.len() + n.badges.len()
    }

    /// Approximate heap bytes of learner state (ids, names and per-learner vectors), divided by
    /// the number of learners.
    pub fn memory_per_learner(&self) -> usize {
        self.learners.heap_bytes() / self.learners.len().max(1)
    }
}

/// Updates a learner's record with an event; says what changed.
fn record(compiled: &Compiled, names: &mut Names, l: &mut Learner, event: &Event) -> Change {
    match event {
        Event::Enrolled { course, mode, .. } => {
            let (course, mode) = (names.courses.intern(course), names.modes.intern(mode));
            let before = l.active_enrollments;
            match find(&l.enrollments, course, |e| e.course) {
                Ok(i) => {
                    let e = &mut l.enrollments[i];
                    e.mode = mode;
                    if e.active {
                        return Change::None;
                    }
                    e.active = true;
                }
                Err(i) => l.enrollments.insert(
                    i,
                    Enrollment {
                        course,
                        mode,
                        active: true,
                    },
                ),
            }
            l.active_enrollments += 1;
            Change::Enrolled { before }
        }
        Event::Unenrolled { course, .. } => {
            if let Some(course) = names.courses.get(course) {
                if let Ok(i) = find(&l.enrollments, course, |e| e.course) {
                    if l.enrollments[i].active {
                        l.enrollments[i].active = false;
                        l.active_enrollments -= 1;
                    }
                }
            }
            Change::None
        }
        Event::Certificate {
            course,
            passed,
            mode,
            grade,
            at,
            ..
        } => {
            let course = names.courses.intern(course);
            let enrollment_mode = find(&l.enrollments, course, |e| e.course)
                .ok()
                .map(|i| l.enrollments[i].mode);
            let mode = mode
                .as_deref()
                .map(|m| names.modes.intern(m))
                .or(enrollment_mode);
            let cert = Certificate::new(course, mode, *passed, *grade, at.map(|a| a.0));
            let recorded = find(&l.certificates, course, |c| c.course).ok();
            if let (Some(i), Some(new)) = (recorded, cert.at()) {
                // A certificate older (by `at`) than the one recorded for the course, with
                // the other result, is stale: a late delivery must not undo a newer result,
                // nor make a course passing anew and so re-award a repeatable class. With
                // the same result it is taken as before (an earlier date can meet a deadline).
                let recorded = &l.certificates[i];
                if recorded.passed != *passed && recorded.at().is_some_and(|r| new < r) {
                    return Change::None;
                }
            }
            let passing_before = l.passing_courses;
            let was_passing = match find(&l.certificates, course, |c| c.course) {
                Ok(i) => std::mem::replace(&mut l.certificates[i], cert).passed,
                Err(i) => {
                    l.certificates.insert(i, cert);
                    false
                }
            };
            match (was_passing, *passed) {
                (false, true) => {
                    l.passing_courses += 1;
                    l.passing_mask |= course_bit(course);
                }
                (true, false) => {
                    l.passing_courses -= 1;
                    l.passing_mask = l
                        .certificates
                        .iter()
                        .filter(|c| c.passed)
                        .fold(0, |mask, c| mask | course_bit(c.course));
                }
                _ => {}
            }
            // Only with automatic classes on: the lookup is otherwise certificate_rules' own.
            let auto_badge = (compiled.auto_course_completion
                && *passed
                && compiled.completion_class(course, mode).is_none())
            .then(|| {
                let mode_name = mode.map_or("", |m| names.modes.name(m));
                let slug = crate::names::course_slug(names.courses.name(course), mode_name);
                names.badges.intern(&slug)
            });
            Change::Certificate {
                course,
                mode,
                was_passing,
                passing_before,
                auto_badge,
            }
        }
        Event::ActivityCompleted {
            activity,
            passed,
            at,
            ..
        } => {
            if *passed == Some(false) {
                return Change::None;
            }
            let activity = names.activities.intern(activity);
            let at = at.map(|a| a.0);
            match find(&l.activities, activity, |a| a.0) {
                Ok(i) => {
                    let earliest = match (l.activities[i].1, at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    if earliest == l.activities[i].1 {
                        return Change::None;
                    }
                    l.activities[i].1 = earliest;
                }
                Err(i) => l.activities.insert(i, (activity, at)),
            }
            Change::Activity(activity)
        }
        Event::ManualAward { badge, role, .. } => {
            let (badge, role) = (names.badges.intern(badge), names.roles.intern(role));
            match find(l.manual(), (badge, role), |m| *m) {
                Ok(_) => Change::None,
                Err(i) => {
                    l.rare_mut().manual.insert(i, (badge, role));
                    Change::Manual(badge)
                }
            }
        }
    }
}

/// Appends to `awards` what the rules award `learner` that no event triggered.
fn backfill(
    compiled: &Compiled,
    names: &Names,
    learner: &mut Learner,
    learner_name: &str,
    awards: &mut Vec<Award>,
) {
    Decide {
        compiled,
        names,
        learner,
        learner_name,
        at: None,
        backfilling: true,
        auto_badge: None,
        awards,
        queue: Vec::new(),
    }
    .backfill();
}

/// Runs the rules for what `change` says an event changed in `learner`'s record.
fn decide(
    compiled: &Compiled,
    names: &Names,
    learner: &mut Learner,
    event: &Event,
    change: Change,
    awards: &mut Vec<Award>,
) {
    let mut decide = Decide {
        compiled,
        names,
        learner,
        learner_name: event.learner(),
        at: event.at(),
        backfilling: false,
        auto_badge: None,
        awards,
        queue: Vec::new(),
    };
    match change {
        Change::None => {}
        Change::Enrolled { before } => decide.enrollment_thresholds(before),
        Change::Certificate {
            course,
            mode,
            was_passing,
            passing_before,
            auto_badge,
        } => {
            decide.auto_badge = auto_badge;
            decide.certificate_rules(course, mode, was_passing, passing_before);
        }
        Change::Activity(activity) => {
            decide.check_due(decide.compiled.criteria_by_activity.get(activity), false)
        }
        Change::Manual(badge) => {
            decide.check_due(decide.compiled.criteria_by_manual.get(badge), false)
        }
    }
    decide.cascade();
}

/// Rule evaluation for one learner: the compiled rules and names are read, only the learner's
/// state changes.
struct Decide<'a> {
    compiled: &'a Compiled,
    names: &'a Names,
    learner: &'a mut Learner,
    /// The learner's name: the event's own text when there is one (already in the cache;
    /// the interner's copy would be a likely miss).
    learner_name: &'a str,
    at: Option<Instant>,
    /// While back-filling, repeatable classes are awarded only to learners who never earned them.
    backfilling: bool,
    /// The automatic course class for the certificate being handled (not repeatable).
    auto_badge: Option<u32>,
    awards: &'a mut Vec<Award>,
    /// Badges earned for the first time, whose dependent criteria are still to check.
    queue: Vec<u32>,
}

impl Decide<'_> {
    fn enrollment_thresholds(&mut self, before: u32) {
        let now = self.learner.active_enrollments;
        self.count_thresholds(
            &self.compiled.enrolled,
            before,
            now,
            " active enrollments",
            |n| Rule::CoursesEnrolled { threshold: n },
        );
    }

    /// Awards the classes of the `thresholds` a count crossed going from `before` to `now`.
    fn count_thresholds(
        &mut self,
        thresholds: &[(u32, u32)],
        before: u32,
        now: u32,
        counted: &str,
        rule: impl Fn(u32) -> Rule,
    ) {
        for &(n, badge) in crossed(thresholds, before, now) {
            self.award(badge, true, || {
                let (mut count, mut threshold) = (itoa::Buffer::new(), itoa::Buffer::new());
                let reason = [
                    count.format(now),
                    counted,
                    ", threshold ",
                    threshold.format(n),
                ]
                .concat();
                (rule(n), reason)
            });
        }
    }

    fn certificate_rules(
        &mut self,
        course: u32,
        mode: Option<u32>,
        was_passing: bool,
        passing_before: u32,
    ) {
        let compiled = self.compiled;
        let names = self.names;
        let passing = self.learner.passing(course);
        if passing {
            let class = compiled
                .completion_class(course, mode)
                .or_else(|| self.auto_badge.map(|b| (b, mode)));
            if let Some((badge, class_mode)) = class {
                self.award(badge, !was_passing, || {
                    let course_name = names.courses.name(course);
                    let reason = match (class_mode, mode) {
                        (Some(m), _) => [
                            "passing certificate in ",
                            course_name,
                            " in mode ",
                            names.modes.name(m),
                        ]
                        .concat(),
                        (None, Some(m)) => [
                            "passing certificate in ",
                            course_name,
                            " (mode ",
                            names.modes.name(m),
                            ", no class of its own)",
                        ]
                        .concat(),
                        (None, None) => ["passing certificate in ", course_name].concat(),
                    };
                    let rule = Rule::CourseCompletion {
                        course: course_name.to_owned(),
                        mode: class_mode.map(|m| names.modes.name(m).to_owned()),
                    };
                    (rule, reason)
                });
            }
        }
        let now = self.learner.passing_courses;
        self.count_thresholds(
            &compiled.completed,
            passing_before,
            now,
            " courses completed",
            |n| Rule::CoursesCompleted { threshold: n },
        );
        if passing {
            for group in compiled.groups_by_course.get(course) {
                if group.mask & !self.learner.passing_mask != 0 {
                    continue; // a course of the group is not passed
                }
                let courses = run(&compiled.group_courses, group.courses);
                if courses.iter().all(|&c| self.learner.passing(c)) {
                    self.award(group.badge, !was_passing, || {
                        let rule = Rule::CourseGroup {
                            courses: courses
                                .iter()
                                .map(|&c| names.courses.name(c).to_owned())
                                .collect(),
                        };
                        let reason = [
                            "passing certificates in all ",
                            itoa::Buffer::new().format(courses.len()),
                            " courses of the group",
                        ]
                        .concat();
                        (rule, reason)
                    });
                }
            }
        }
        // Requirements only ask for passing certificates: one that does not pass can make a
        // rule stop holding but never newly hold, which matters only to repeatable classes
        // (they award again on the next satisfaction).
        self.check_due(compiled.criteria_by_course.get(course), !passing);
    }

    /// Checks the rules an index lists for a changed fact, but those that change cannot make
    /// newly hold (see [`CriteriaEntry`]); with `repeatable_only`, only the rules of repeatable
    /// classes (for a change that cannot make any rule newly hold).
    fn check_due(&mut self, entries: &[CriteriaEntry], repeatable_only: bool) {
        let compiled = self.compiled;
        let passing = self.learner.passing_mask;
        let due = entries.iter().filter(|e| {
            if repeatable_only {
                e.repeatable
            } else {
                e.is_due(passing)
            }
        });
        self.check_criteria(due.filter_map(|e| compiled.rule_at(e.run)));
    }

    /// Checks criteria rules, awarding those met.
    fn check_criteria<'r>(&mut self, rules: impl Iterator<Item = (CriteriaRef, &'r [Term])>) {
        let compiled = self.compiled;
        for (criteria, terms) in rules {
            if !criteria.repeatable && self.learner.earned(criteria.badge) {
                continue; // awarded already, and only once
            }
            let id = criteria.id;
            let met = compiled.criteria_met(&criteria, terms, self.learner);
            let newly = if criteria.repeatable {
                match (find(self.learner.satisfied(), id, |s| *s), met) {
                    (Err(i), true) => {
                        self.learner.rare_mut().satisfied.insert(i, id);
                        true
                    }
                    (Ok(i), false) => {
                        self.learner.rare_mut().satisfied.remove(i);
                        false
                    }
                    _ => false,
                }
            } else {
                true
            };
            if met {
                self.award(criteria.badge, newly, || {
                    let how = if criteria.require == Aggregation::All {
                        "all"
                    } else {
                        "any"
                    };
                    let mut reason = String::with_capacity(64);
                    for piece in ["criteria #", itoa::Buffer::new().format(id), " met (", how] {
                        reason.push_str(piece);
                    }
                    for (i, kind) in Compiled::requirement_kinds(terms).enumerate() {
                        reason.push_str(if i == 0 { " of: " } else { ", " });
                        reason.push_str(kind);
                    }
                    reason.push(')');
                    (Rule::Criteria { index: id as usize }, reason)
                });
            }
        }
    }

    /// Awards `badge` unless the learner holds it already (non-repeatable classes) or the rule
    /// did not newly become satisfied (repeatable classes). `explain` gives the rule and the
    /// reason; it runs only for an award, as a rule already awarded is met again and again.
    fn award(&mut self, badge: u32, newly: bool, explain: impl FnOnce() -> (Rule, String)) {
        let class = self.compiled.class(badge);
        let repeatable = match class {
            Some(class) => class.repeatable,
            None if self.auto_badge == Some(badge) => false,
            None => return,
        };
        let newly = newly && !self.backfilling;
        let (first, sequence) = match self.learner.earned.binary_search(&badge) {
            Ok(_) if repeatable && newly => (false, self.learner.award_again(badge)),
            Ok(_) => return,
            Err(i) => {
                self.learner.earned.insert(i, badge);
                (true, 1)
            }
        };
        let (rule, reason) = explain();
        self.awards.push(Award {
            learner: self.learner_name.to_owned(),
            badge: class
                .map_or_else(|| self.names.badges.name(badge), |c| &c.slug)
                .to_owned(),
            sequence,
            rule,
            reason,
            at: self.at.map(Instant::to_rfc3339),
        });
        let has_dependents = class.map_or_else(
            || !self.compiled.criteria_by_badge.get(badge).is_empty(),
            |c| c.has_dependents,
        );
        if first && has_dependents {
            self.queue.push(badge);
        }
    }

    /// Criteria that require badges just earned.
    fn cascade(&mut self) {
        while let Some(badge) = self.queue.pop() {
            let compiled = self.compiled;
            self.check_due(compiled.criteria_by_badge.get(badge), false);
        }
    }

    /// Every rule the learner's state meets, as if each fact had just been reported.
    fn backfill(&mut self) {
        let passing: Vec<(u32, Option<u32>)> = self
            .learner
            .certificates
            .iter()
            .filter(|c| c.passed)
            .map(|c| (c.course, c.mode()))
            .collect();
        for &(course, mode) in &passing {
            self.certificate_rules(course, mode, false, 0);
        }
        self.enrollment_thresholds(0);
        let compiled = self.compiled;
        let learner = &*self.learner;
        let lists = (learner.activities.iter())
            .map(|a| compiled.criteria_by_activity.get(a.0))
            .chain((learner.manual().iter()).map(|m| compiled.criteria_by_manual.get(m.0)))
            .chain((learner.earned.iter()).map(|&b| compiled.criteria_by_badge.get(b)));
        let mut runs: Vec<u32> = lists.flatten().map(|e| e.run).collect();
        runs.sort_unstable();
        runs.dedup();
        self.check_criteria(runs.iter().filter_map(|&run| compiled.rule_at(run)));
        self.cascade();
    }
}

/// The thresholds `n` with `before < n <= now` (those an increase from `before` to `now`
/// crosses), from a list sorted by threshold.
fn crossed(thresholds: &[(u32, u32)], before: u32, now: u32) -> &[(u32, u32)] {
    if now <= before {
        return &[];
    }
    let start = thresholds.partition_point(|t| t.0 <= before);
    let end = thresholds.partition_point(|t| t.0 <= now);
    &thresholds[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn compiled_entries_stay_small() {
        // The layout is what keeps an event within a few cache lines at 100 000 rules.
        assert!(size_of::<Term>() <= 16);
        assert!(size_of::<CriteriaRef>() <= 24);
        assert!(size_of::<CriteriaEntry>() <= 16);
        assert!(size_of::<GroupRef>() <= 24);
    }

    #[test]
    fn crossed_thresholds() {
        let t = [(1, 0), (3, 1), (5, 2)];
        assert_eq!(crossed(&t, 0, 1), &[(1, 0)]);
        assert_eq!(crossed(&t, 1, 5), &[(3, 1), (5, 2)]);
        assert_eq!(crossed(&t, 3, 4), &[]);
        assert_eq!(crossed(&t, 4, 2), &[]);
    }
}
