//! The rules compiled into indexes over interned ids: what an event consults, laid out so
//! that deciding it reads a few contiguous runs (the layout BENCHMARKS.md measures).

use compact_str::CompactString;

use crate::config::{Aggregation, Requirement, RuleSet};
use crate::learners::{Learner, course_bit, find};
use crate::lists::Lists;
use crate::names::Interner;

/// What a requirement of a criteria rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RequirementKind {
    Courses,
    Activities,
    Badges,
    Manual,
}

impl RequirementKind {
    pub(super) fn label(self) -> &'static str {
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
pub(super) enum Term {
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
pub(super) struct CourseCondition {
    pub(super) min_grade: Option<f64>,
    pub(super) by: Option<i64>,
}

/// A criteria rule: everything needed to check it but its terms.
#[derive(Debug, Clone, Copy)]
pub(super) struct CriteriaRef {
    /// Its position among the rule set's criteria.
    pub(super) id: u32,
    pub(super) badge: u32,
    /// Whether its class is repeatable (kept here: looking it up is a likely cache miss).
    pub(super) repeatable: bool,
    pub(super) require: Aggregation,
}

impl CriteriaRef {
    /// The header of the rule's run, followed by its `len` terms.
    pub(super) fn header(self, len: u32) -> Term {
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
pub(super) struct GroupRef {
    pub(super) badge: u32,
    /// Its run in [`Compiled::group_courses`].
    pub(super) courses: (u32, u32),
    /// The union of its courses' bits (see [`Learner::passing_mask`]).
    pub(super) mask: u64,
}

/// A criteria rule as the index of one of the facts it names (a course, an activity, a badge,
/// a manual award) lists it.
///
/// `needs` lets an event skip the rule without reading it: a change to that fact can make the
/// rule newly hold only if these courses all have a passing certificate (bits as in
/// [`Learner::passing_mask`]). At 100 000 rules most of a course's criteria name courses the
/// learner has not passed, and their terms, a likely cache miss each, are never read.
#[derive(Debug, Clone, Copy)]
pub(super) struct CriteriaEntry {
    pub(super) needs: u64,
    /// Where the rule's run starts in [`Compiled::terms`].
    pub(super) run: u32,
    /// Repeatable rules are always checked: a change may end their satisfaction too.
    pub(super) repeatable: bool,
}

impl CriteriaEntry {
    /// Whether the rule must be checked for a learner whose passing courses are `passing`.
    pub(super) fn is_due(&self, passing: u64) -> bool {
        self.repeatable || self.needs & !passing == 0
    }
}

pub(super) fn run<T>(items: &[T], (start, len): (u32, u32)) -> &[T] {
    &items[start as usize..(start + len) as usize]
}

/// A group of at most this many courses has them copied next to the other groups of each
/// course it names; a longer group's are shared, which bounds the copies to this factor.
pub(super) const NEAR_COPY_MAX: u32 = 32;

/// Appends a copy of the run `span` of `pool` and returns the copy's span, for a short run.
///
/// Called on a [`Lists`]' items in key order, so the courses of the groups of one course end
/// up back to back: one sequential read instead of a likely cache miss per group.
pub(super) fn near_copy<T: Copy>(pool: &mut Vec<T>, span: (u32, u32)) -> (u32, u32) {
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
pub(super) struct Compiled {
    /// By badge id: the class, if the rule set has one.
    pub(super) classes: Vec<Option<Class>>,
    /// By course: its completion classes, as (mode, badge); mode `None` is the class for any
    /// mode.
    pub(super) completion: Lists<(Option<u32>, u32)>,
    pub(super) completed: Vec<(u32, u32)>,
    pub(super) enrolled: Vec<(u32, u32)>,
    /// By course: the groups that contain it.
    pub(super) groups_by_course: Lists<GroupRef>,
    pub(super) group_courses: Vec<u32>,
    /// Every criteria rule's run (see [`Term`]), one after the other.
    pub(super) terms: Vec<Term>,
    pub(super) course_conditions: Vec<CourseCondition>,
    /// Criteria rules by what they name.
    pub(super) criteria_by_course: Lists<CriteriaEntry>,
    pub(super) criteria_by_activity: Lists<CriteriaEntry>,
    pub(super) criteria_by_badge: Lists<CriteriaEntry>,
    /// By the badge a manual award is for.
    pub(super) criteria_by_manual: Lists<CriteriaEntry>,
    pub(super) auto_course_completion: bool,
    /// By criteria position: the rule's id, for award explanations.
    pub(super) criteria_ids: Vec<Box<str>>,
}

/// What an award of a class needs, in one place: awarding reads one entry (at 100 000 rules,
/// each separate table would be a likely cache miss).
#[derive(Debug, Clone)]
pub(super) struct Class {
    pub(super) slug: CompactString,
    pub(super) repeatable: bool,
    /// Whether criteria rules require this badge (earning it must re-check them).
    pub(super) has_dependents: bool,
}

/// The interned names, kept for the evaluator's lifetime so ids stay stable across rule sets.
#[derive(Debug, Clone, Default)]
pub(super) struct Names {
    pub(super) courses: Interner,
    pub(super) modes: Interner,
    pub(super) activities: Interner,
    pub(super) roles: Interner,
    pub(super) badges: Interner,
}

impl Compiled {
    pub(super) fn build(rules: &RuleSet, names: &mut Names) -> Self {
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
    pub(super) fn compile_criteria(&mut self, rules: &RuleSet, names: &mut Names) {
        const COURSE: usize = 0;
        const ACTIVITY: usize = 1;
        const BADGE: usize = 2;
        const MANUAL: usize = 3;
        let mut indexes: [Vec<(u32, CriteriaEntry)>; 4] = Default::default();
        let at = |by: &Option<chrono::DateTime<chrono::Utc>>| by.map(crate::time::seconds);
        for (id, criteria) in rules.criteria.iter().enumerate() {
            self.criteria_ids
                .push(criteria.id.as_deref().unwrap_or_default().into());
            let badge = names.badges.intern(&criteria.slug);
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

    pub(super) fn class(&self, badge: u32) -> Option<&Class> {
        self.classes.get(badge as usize).and_then(Option::as_ref)
    }

    /// The completion class for a passing certificate in `course` in `mode`: the class of the
    /// course and mode, else the class of the course with no mode; with the class's mode.
    pub(super) fn completion_class(
        &self,
        course: u32,
        mode: Option<u32>,
    ) -> Option<(u32, Option<u32>)> {
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
    pub(super) fn rule_at(&self, run: u32) -> Option<(CriteriaRef, &[Term])> {
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

    pub(super) fn criteria_met(&self, c: &CriteriaRef, mut terms: &[Term], l: &Learner) -> bool {
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
    pub(super) fn holds(&self, item: &Term, c: &CriteriaRef, l: &Learner) -> bool {
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
    pub(super) fn requirement_kinds(terms: &[Term]) -> impl Iterator<Item = &'static str> + '_ {
        terms.iter().filter_map(|t| match t {
            Term::Requirement { kind, .. } => Some(kind.label()),
            _ => None,
        })
    }
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
}
