//! The evaluator: learner state, rules compiled into indexes, decisions.
//!
//! Each event touches only the rules that can change because of it: the course completion
//! classes of its course, the thresholds between the old and the new count (a binary search in
//! a sorted list), the groups and criteria that name its course, activity or badge. Those are
//! read from [`Lists`](crate::lists::Lists) keyed by the interned id, where each key's rules
//! lie back to back with what deciding them needs, so an event reads a few contiguous runs
//! whatever the size of the rule set; a criteria rule's terms are read only when the learner has passed every course
//! the rule needs (see [`compiled::CriteriaEntry`]). Nothing scans the whole rule set.
//!
//! Modules: [`award`] (what is decided and why), [`compiled`] (the rule indexes), [`decide`](mod@decide)
//! (checking rules against a learner); this file holds the evaluator and each learner's record.

mod award;
mod compiled;
mod decide;

pub use award::{Award, Rule};
use compiled::{Compiled, Names};
use decide::{backfill, decide};

use crate::config::RuleSet;
use crate::event::Event;
use crate::learners::{Certificate, Enrollment, Learner, Learners, course_bit, find};
use crate::progress::{Progress, StoredCertificate, StoredEnrollment};

/// Decides awards from events, one learner state at a time.
///
/// ```
/// use badgery_rules::{ClassRule, Evaluator, Event, RuleSet};
/// let rules = RuleSet::new(vec![ClassRule::new("three-courses")])?
///     .with_openedx_fields("3,three-courses", "", "")?;
/// let mut evaluator = Evaluator::new(rules);
/// let mut awards = Vec::new();
/// for course in ["course-v1:A+B+1", "course-v1:A+B+2", "course-v1:A+B+3"] {
///     awards.extend(evaluator.apply(&Event::from_json(&format!(
///         r#"{{"event":"certificate","learner":"ada","course":"{course}","passed":true}}"#))?));
/// }
/// assert_eq!(awards.len(), 1);
/// assert_eq!((awards[0].learner.as_str(), awards[0].slug.as_str()), ("ada", "three-courses"));
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
                let ordinal = seen.entry(c.slug.as_str()).or_insert(0);
                *ordinal += 1;
                (c.slug.clone(), *ordinal - 1)
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
            let cert =
                Certificate::new(course, mode, *passed, *grade, at.map(crate::time::seconds));
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
            let at = at.map(crate::time::seconds);
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
        Event::ManualAward { slug, role, .. } => {
            let (badge, role) = (names.badges.intern(slug), names.roles.intern(role));
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
