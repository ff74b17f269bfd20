//! Deciding: the rules an event's change can make hold, checked against one learner's record.

use crate::config::Aggregation;
use crate::event::Event;
use crate::learners::{Learner, find};

use super::Change;
use super::award::{Award, Rule};
use super::compiled::{Compiled, CriteriaEntry, CriteriaRef, Names, Term, run};

/// Appends to `awards` what the rules award `learner` that no event triggered.
pub(super) fn backfill(
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
pub(super) fn decide(
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
pub(super) struct Decide<'a> {
    pub(super) compiled: &'a Compiled,
    pub(super) names: &'a Names,
    pub(super) learner: &'a mut Learner,
    /// The learner's name: the event's own text when there is one (already in the cache;
    /// the interner's copy would be a likely miss).
    pub(super) learner_name: &'a str,
    pub(super) at: Option<chrono::DateTime<chrono::Utc>>,
    /// While back-filling, repeatable classes are awarded only to learners who never earned them.
    pub(super) backfilling: bool,
    /// The automatic course class for the certificate being handled (not repeatable).
    pub(super) auto_badge: Option<u32>,
    pub(super) awards: &'a mut Vec<Award>,
    /// Badges earned for the first time, whose dependent criteria are still to check.
    pub(super) queue: Vec<u32>,
}

impl Decide<'_> {
    pub(super) fn enrollment_thresholds(&mut self, before: u32) {
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
    pub(super) fn count_thresholds(
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

    pub(super) fn certificate_rules(
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
    pub(super) fn check_due(&mut self, entries: &[CriteriaEntry], repeatable_only: bool) {
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
    pub(super) fn check_criteria<'r>(
        &mut self,
        rules: impl Iterator<Item = (CriteriaRef, &'r [Term])>,
    ) {
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
                    let id = compiled.criteria_ids.get(id as usize).map_or("", |id| id);
                    let mut reason = String::with_capacity(64);
                    for piece in ["criteria ", id, " met (", how] {
                        reason.push_str(piece);
                    }
                    for (i, kind) in Compiled::requirement_kinds(terms).enumerate() {
                        reason.push_str(if i == 0 { " of: " } else { ", " });
                        reason.push_str(kind);
                    }
                    reason.push(')');
                    (Rule::Criteria { id: id.to_owned() }, reason)
                });
            }
        }
    }

    /// Awards `badge` unless the learner holds it already (non-repeatable classes) or the rule
    /// did not newly become satisfied (repeatable classes). `explain` gives the rule and the
    /// reason; it runs only for an award, as a rule already awarded is met again and again.
    pub(super) fn award(
        &mut self,
        badge: u32,
        newly: bool,
        explain: impl FnOnce() -> (Rule, String),
    ) {
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
            slug: class
                .map_or_else(|| self.names.badges.name(badge), |c| &c.slug)
                .to_owned(),
            sequence,
            rule,
            reason,
            at: self.at,
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
    pub(super) fn cascade(&mut self) {
        while let Some(badge) = self.queue.pop() {
            let compiled = self.compiled;
            self.check_due(compiled.criteria_by_badge.get(badge), false);
        }
    }

    /// Every rule the learner's state meets, as if each fact had just been reported.
    pub(super) fn backfill(&mut self) {
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
pub(super) fn crossed(thresholds: &[(u32, u32)], before: u32, now: u32) -> &[(u32, u32)] {
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

    #[test]
    fn crossed_thresholds() {
        let t = [(1, 0), (3, 1), (5, 2)];
        assert_eq!(crossed(&t, 0, 1), &[(1, 0)]);
        assert_eq!(crossed(&t, 1, 5), &[(3, 1), (5, 2)]);
        assert_eq!(crossed(&t, 3, 4), &[]);
        assert_eq!(crossed(&t, 4, 2), &[]);
    }
}
