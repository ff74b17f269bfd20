//! Learner state: what is known about each learner, found by name.

use std::mem::size_of;

use compact_str::CompactString;
use smallvec::SmallVec;

use crate::names::{IdIndex, NameStore, next_id};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Enrollment {
    pub(crate) course: u32,
    pub(crate) mode: u32,
    pub(crate) active: bool,
}

/// A learner's latest certificate in a course, in 32 bytes: the optional fields are stored
/// with a value no event can carry meaning "absent" (`Option`s would make it 48 bytes, and
/// several certificates live inline in the learner's record).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Certificate {
    pub(crate) course: u32,
    mode: u32,
    pub(crate) passed: bool,
    grade: f64,
    at: i64,
}

impl Certificate {
    const NO_MODE: u32 = u32::MAX;

    pub(crate) fn new(
        course: u32,
        mode: Option<u32>,
        passed: bool,
        grade: Option<f64>,
        at: Option<i64>,
    ) -> Self {
        Certificate {
            course,
            // Ids are dense from 0 and never reach u32::MAX; grades are numbers (JSON has no
            // NaN); an RFC 3339 instant lies within years 0 to 9999, far from i64::MIN.
            mode: mode.unwrap_or(Self::NO_MODE),
            passed,
            grade: grade.unwrap_or(f64::NAN),
            at: at.unwrap_or(i64::MIN),
        }
    }

    pub(crate) fn mode(&self) -> Option<u32> {
        (self.mode != Self::NO_MODE).then_some(self.mode)
    }

    pub(crate) fn grade(&self) -> Option<f64> {
        (!self.grade.is_nan()).then_some(self.grade)
    }

    pub(crate) fn at(&self) -> Option<i64> {
        (self.at != i64::MIN).then_some(self.at)
    }
}

/// Everything known about one learner, in sorted vectors (small and cache friendly; a learner
/// has few courses).
///
/// The vectors an event reads hold their first few items inline, in the record itself: an
/// event then reads one record (a few adjacent cache lines, fetched together) instead of
/// chasing a pointer per vector, and a learner's first enrollments, certificates and badges
/// cost no allocation (BENCHMARKS.md, "Award rules", says what that saved).
#[derive(Debug, Clone, Default)]
pub(crate) struct Learner {
    /// The learner's id, kept here because finding a learner compares it: the record is read
    /// anyway, so the comparison costs no extra cache miss (a name of up to 24 bytes is inline).
    pub(crate) name: CompactString,
    pub(crate) enrollments: SmallVec<[Enrollment; 4]>,
    pub(crate) certificates: SmallVec<[Certificate; 4]>,
    /// Counted activity completions, with the earliest time.
    pub(crate) activities: SmallVec<[(u32, Option<i64>); 2]>,
    /// Badges earned, sorted (how many times, for the few repeatable classes earned more than
    /// once, is in [`Rare::repeats`]): 16 inline, so that learners with many badges still
    /// find theirs in the record.
    pub(crate) earned: SmallVec<[u32; 16]>,
    /// What few learners have, allocated for those who do (8 bytes in the record).
    rare: Option<Box<Rare>>,
    pub(crate) active_enrollments: u32,
    pub(crate) passing_courses: u32,
    /// Bit `course % 64` is set for every course with a passing latest certificate: a group
    /// with a course whose bit is clear cannot be complete, which one AND tells.
    pub(crate) passing_mask: u64,
}

/// The part of a learner's state that most learners never have.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rare {
    /// Manual awards: (badge, role).
    pub(crate) manual: Vec<(u32, u32)>,
    /// Criteria of repeatable classes currently satisfied (to award on each new satisfaction).
    pub(crate) satisfied: Vec<u32>,
    /// Repeatable classes earned more than once: (badge, times), sorted.
    pub(crate) repeats: Vec<(u32, u32)>,
}

/// The bit of `course` in [`Learner::passing_mask`].
pub(crate) fn course_bit(course: u32) -> u64 {
    1 << (course % 64)
}

/// Binary search of a sorted slice by a key of its items.
pub(crate) fn find<T, K: Ord>(v: &[T], key: K, of: impl Fn(&T) -> K) -> Result<usize, usize> {
    v.binary_search_by(|item| of(item).cmp(&key))
}

impl Learner {
    /// A learner with no state yet.
    pub(crate) fn named(name: &str) -> Self {
        Learner {
            name: name.into(),
            ..Learner::default()
        }
    }

    pub(crate) fn certificate(&self, course: u32) -> Option<&Certificate> {
        find(&self.certificates, course, |c| c.course)
            .ok()
            .map(|i| &self.certificates[i])
    }

    pub(crate) fn passing(&self, course: u32) -> bool {
        self.certificate(course).is_some_and(|c| c.passed)
    }

    pub(crate) fn earned(&self, badge: u32) -> bool {
        self.earned.binary_search(&badge).is_ok()
    }

    /// Counts one more award of an earned repeatable class; returns which award it is.
    pub(crate) fn award_again(&mut self, badge: u32) -> u32 {
        let repeats = &mut self.rare_mut().repeats;
        match find(repeats, badge, |r| r.0) {
            Ok(i) => {
                repeats[i].1 += 1;
                repeats[i].1
            }
            Err(i) => {
                repeats.insert(i, (badge, 2));
                2
            }
        }
    }

    /// Manual awards: (badge, role), sorted.
    pub(crate) fn manual(&self) -> &[(u32, u32)] {
        self.rare.as_ref().map_or(&[], |r| &r.manual)
    }

    /// Repeatable classes earned more than once: (badge, times), sorted.
    pub(crate) fn repeats(&self) -> &[(u32, u32)] {
        self.rare.as_ref().map_or(&[], |r| &r.repeats)
    }

    /// Criteria of repeatable classes currently satisfied, sorted.
    pub(crate) fn satisfied(&self) -> &[u32] {
        self.rare.as_ref().map_or(&[], |r| &r.satisfied)
    }

    /// The rarely used state, allocated on first use.
    pub(crate) fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Bytes allocated outside the record.
    fn heap_bytes(&self) -> usize {
        fn spilled<A: smallvec::Array>(v: &SmallVec<A>) -> usize {
            if v.spilled() {
                v.capacity() * size_of::<A::Item>()
            } else {
                0
            }
        }
        let name = if self.name.is_heap_allocated() {
            self.name.capacity()
        } else {
            0
        };
        name + spilled(&self.enrollments)
            + spilled(&self.certificates)
            + spilled(&self.activities)
            + spilled(&self.earned)
            + self.rare.as_ref().map_or(0, |r| {
                size_of::<Rare>()
                    + r.manual.capacity() * size_of::<(u32, u32)>()
                    + r.satisfied.capacity() * size_of::<u32>()
                    + r.repeats.capacity() * size_of::<(u32, u32)>()
            })
    }
}

/// Every learner's state, by dense id, and the index from names to ids.
///
/// The index holds only ids; the names it compares are in the records. Finding a learner thus
/// reads the index (it stays in the cache with 100 000 learners) and the record, which the
/// event needs anyway, and no separately allocated name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Learners {
    index: IdIndex,
    records: Vec<Learner>,
}

impl NameStore for Vec<Learner> {
    fn name_of(&self, id: u32) -> &str {
        self.get(id as usize).map_or("", |l| &l.name)
    }

    fn push(&mut self, name: &str) -> u32 {
        let id = next_id(self.len());
        Vec::push(self, Learner::named(name));
        id
    }
}

impl Learners {
    /// The id of the learner named `name`, added with no state if new.
    pub(crate) fn id_or_insert(&mut self, name: &str) -> u32 {
        self.index.id_or_insert(&mut self.records, name)
    }

    /// The learner named `name`, if seen.
    pub(crate) fn get(&self, name: &str) -> Option<&Learner> {
        self.index
            .get(&self.records, name)
            .map(|id| &self.records[id as usize])
    }

    pub(crate) fn get_mut(&mut self, id: u32) -> &mut Learner {
        &mut self.records[id as usize]
    }

    pub(crate) fn records_mut(&mut self) -> &mut [Learner] {
        &mut self.records
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Heap bytes of all learner state, the index included.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.records.iter().map(Learner::heap_bytes).sum::<usize>()
            + self.records.capacity() * size_of::<Learner>()
            + self.index.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learners_are_found_by_name_across_growth() {
        let mut learners = Learners::default();
        let long = "a-learner-id-longer-than-twenty-four-bytes";
        let names: Vec<String> = (0..5000)
            .map(|i| format!("learner-{i}"))
            .chain([long.to_owned(), String::new()])
            .collect();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(learners.id_or_insert(name), i as u32);
        }
        // After the index grew many times, every name still finds its own record.
        for (i, name) in names.iter().enumerate().rev() {
            assert_eq!(learners.id_or_insert(name), i as u32);
            assert_eq!(learners.get_mut(i as u32).name, name.as_str());
        }
        assert_eq!(learners.len(), names.len());
        assert!(learners.heap_bytes() >= long.len() + names.len() * size_of::<Learner>());
    }

    #[test]
    fn certificate_keeps_absent_fields_absent() {
        let full = Certificate::new(7, Some(0), true, Some(0.0), Some(-1));
        assert_eq!(
            (full.mode(), full.grade(), full.at()),
            (Some(0), Some(0.0), Some(-1))
        );
        let bare = Certificate::new(7, None, false, None, None);
        assert_eq!((bare.mode(), bare.grade(), bare.at()), (None, None, None));
        assert_eq!(size_of::<Certificate>(), 32);
    }

    #[test]
    fn a_record_stays_within_six_cache_lines() {
        // An event reads a learner's record whole; its lines are adjacent and fetched together.
        let size = size_of::<Learner>();
        assert!(size <= 6 * 64, "{size} bytes");
    }
}
