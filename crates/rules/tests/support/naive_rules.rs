//! A deliberately naive award evaluator: string-keyed state, and after every event it scans
//! every rule of the rule set until nothing changes. It is written independently of
//! `badgery-rules`' indexed evaluator, from the rule definitions alone, so it serves both as
//! the benchmark baseline and as the oracle the property tests compare against. It supports
//! non-repeatable classes only.

use std::collections::{BTreeSet, HashMap, HashSet};

use badgery_rules::{Aggregation, Event, Requirement, RuleSet};

/// A course's latest certificate: passed, mode, grade, time.
type Certificate = (bool, Option<String>, Option<f64>, Option<i64>);

#[derive(Default)]
struct LearnerState {
    enrollments: HashMap<String, (String, bool)>,
    /// course → (passed, mode, grade, at)
    certificates: HashMap<String, Certificate>,
    activities: HashMap<String, Option<i64>>,
    manual: HashSet<(String, String)>,
    earned: BTreeSet<String>,
}

pub(crate) struct Naive {
    rules: RuleSet,
    learners: HashMap<String, LearnerState>,
}

fn deadline(by: &Option<chrono::DateTime<chrono::Utc>>) -> Option<i64> {
    by.map(|t| t.timestamp())
}

fn combine(require: Aggregation, items: Vec<bool>) -> bool {
    match require {
        Aggregation::Any => items.into_iter().any(|x| x),
        _ => items.into_iter().all(|x| x),
    }
}

impl Naive {
    pub(crate) fn new(rules: RuleSet) -> Self {
        Naive {
            rules,
            learners: HashMap::new(),
        }
    }

    /// Applies an event; returns the (learner, badge) pairs awarded.
    pub(crate) fn apply(&mut self, event: &Event) -> Vec<(String, String)> {
        let learner_id = event.learner().to_owned();
        let l = self.learners.entry(learner_id.clone()).or_default();
        let at = event.at().map(|a| a.timestamp());
        match event {
            Event::Enrolled { course, mode, .. } => {
                l.enrollments.insert(course.clone(), (mode.clone(), true));
            }
            Event::Unenrolled { course, .. } => {
                if let Some(e) = l.enrollments.get_mut(course) {
                    e.1 = false;
                }
            }
            Event::Certificate {
                course,
                passed,
                mode,
                grade,
                ..
            } => {
                let mode = mode
                    .clone()
                    .or_else(|| l.enrollments.get(course).map(|e| e.0.clone()));
                // A certificate older than the one recorded for the course, with the other
                // result, is stale.
                let stale = l.certificates.get(course).is_some_and(|c| {
                    c.0 != *passed && c.3.zip(at).is_some_and(|(recorded, new)| new < recorded)
                });
                if stale {
                    return Vec::new();
                }
                l.certificates
                    .insert(course.clone(), (*passed, mode, *grade, at));
            }
            Event::ActivityCompleted {
                activity, passed, ..
            } if *passed != Some(false) => {
                let entry = l.activities.entry(activity.clone()).or_insert(at);
                *entry = match (*entry, at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            Event::ManualAward { slug, role, .. } => {
                l.manual.insert((slug.clone(), role.clone()));
            }
            _ => {}
        }
        let mut awarded = Vec::new();
        loop {
            let due: Vec<String> = self.due(&learner_id);
            if due.is_empty() {
                return awarded;
            }
            let l = self.learners.get_mut(&learner_id).unwrap();
            for badge in due {
                if l.earned.insert(badge.clone()) {
                    awarded.push((learner_id.clone(), badge));
                }
            }
        }
    }

    /// Every badge whose rule the learner meets and has not earned: a scan of every rule.
    fn due(&self, learner: &str) -> Vec<String> {
        let l = &self.learners[learner];
        let passing = |c: &str| l.certificates.get(c).is_some_and(|x| x.0);
        let passing_count = l.certificates.values().filter(|x| x.0).count() as u32;
        let active_count = l.enrollments.values().filter(|e| e.1).count() as u32;
        let mut due = Vec::new();
        for class in self.rules.classes() {
            let Some(course) = &class.course else {
                continue;
            };
            let Some((true, mode, ..)) = l.certificates.get(course) else {
                continue;
            };
            let has_own = |m: &String| {
                self.rules
                    .classes()
                    .iter()
                    .any(|c| c.course.as_ref() == Some(course) && c.mode.as_ref() == Some(m))
            };
            let resolved = match mode {
                Some(m) if has_own(m) => Some(m.clone()),
                _ => None,
            };
            if class.mode == resolved {
                due.push(class.slug.clone());
            }
        }
        for (n, slug) in self.rules.courses_completed() {
            if passing_count >= *n {
                due.push(slug.clone());
            }
        }
        for (n, slug) in self.rules.courses_enrolled() {
            if active_count >= *n {
                due.push(slug.clone());
            }
        }
        for (slug, courses) in self.rules.course_groups() {
            if courses.iter().all(|c| passing(c)) {
                due.push(slug.clone());
            }
        }
        for criteria in self.rules.criteria() {
            let met = criteria
                .requirements
                .iter()
                .map(|r| match r {
                    Requirement::Courses { require, courses } => combine(
                        *require,
                        courses
                            .iter()
                            .map(|c| {
                                l.certificates.get(&c.course).is_some_and(
                                    |(passed, _, grade, cat)| {
                                        *passed
                                            && c.min_grade
                                                .is_none_or(|m| grade.is_some_and(|g| g >= m))
                                            && deadline(&c.by)
                                                .is_none_or(|by| cat.is_some_and(|t| t <= by))
                                    },
                                )
                            })
                            .collect(),
                    ),
                    Requirement::Activities {
                        require,
                        activities,
                    } => combine(
                        *require,
                        activities
                            .iter()
                            .map(|a| {
                                l.activities.get(&a.activity).is_some_and(|t| {
                                    deadline(&a.by).is_none_or(|by| t.is_some_and(|t| t <= by))
                                })
                            })
                            .collect(),
                    ),
                    Requirement::Badges { require, badges } => combine(
                        *require,
                        badges.iter().map(|b| l.earned.contains(b)).collect(),
                    ),
                    Requirement::Manual { require, roles } => combine(
                        *require,
                        roles
                            .iter()
                            .map(|r| l.manual.contains(&(criteria.slug.clone(), r.clone())))
                            .collect(),
                    ),
                    _ => false,
                })
                .collect();
            if combine(criteria.require, met) {
                due.push(criteria.slug.clone());
            }
        }
        due.retain(|b| !l.earned.contains(b));
        due.sort();
        due.dedup();
        due
    }
}
