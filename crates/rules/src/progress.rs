//! A learner's progress as a value a store can keep: everything the rules know about one
//! learner, by name (not by this process's ids), in a compact versioned encoding.

use crate::error::Error;

/// What the rules know about one learner: enrollments, latest certificates, completed
/// activities, badges earned, manual awards and the repeatable criteria currently met.
///
/// [`Evaluator::apply_to`](crate::Evaluator::apply_to) applies an event to it; a store keeps
/// [`Progress::to_bytes`] and reads it back with [`Progress::from_bytes`]. Names, not ids, are
/// kept, so any process (with any rule set) reads what another wrote, and the bytes written
/// for the same progress are always the same (items are sorted by name).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    pub(crate) enrollments: Vec<StoredEnrollment>,
    pub(crate) certificates: Vec<StoredCertificate>,
    /// (activity, earliest completion).
    pub(crate) activities: Vec<(String, Option<i64>)>,
    pub(crate) earned: Vec<String>,
    /// Repeatable classes earned more than once: (badge, times).
    pub(crate) repeats: Vec<(String, u32)>,
    /// (badge, role).
    pub(crate) manual: Vec<(String, String)>,
    /// Repeatable criteria currently met: (badge, which of that badge's criteria, from 0).
    pub(crate) satisfied: Vec<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredEnrollment {
    pub(crate) course: String,
    pub(crate) mode: String,
    pub(crate) active: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredCertificate {
    pub(crate) course: String,
    pub(crate) mode: Option<String>,
    pub(crate) passed: bool,
    pub(crate) grade: Option<f64>,
    pub(crate) at: Option<i64>,
}

/// The encoding's first bytes: a tag, then the version.
const MAGIC: &[u8; 3] = b"bgp";
/// The version this crate writes. Later versions read every earlier one.
const VERSION: u8 = 1;

impl Progress {
    /// The largest encoded progress read (1 MiB): a learner's record is a few hundred bytes.
    pub const MAX_BYTES: usize = 1 << 20;

    /// The badge classes earned, by slug, sorted.
    pub fn earned(&self) -> &[String] {
        &self.earned
    }

    /// The encoding: `bgp`, the version byte, then each list as a count and its items
    /// (counts and lengths as LEB128, strings as UTF-8 after their length, grades as
    /// little-endian `f64`, times as little-endian `i64` Unix seconds).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Writer(Vec::with_capacity(64));
        out.0.extend_from_slice(MAGIC);
        out.0.push(VERSION);
        out.count(self.enrollments.len());
        for e in &self.enrollments {
            out.str(&e.course);
            out.str(&e.mode);
            out.0.push(u8::from(e.active));
        }
        out.count(self.certificates.len());
        for c in &self.certificates {
            out.str(&c.course);
            let flags = u8::from(c.passed)
                | u8::from(c.mode.is_some()) << 1
                | u8::from(c.grade.is_some()) << 2
                | u8::from(c.at.is_some()) << 3;
            out.0.push(flags);
            if let Some(mode) = &c.mode {
                out.str(mode);
            }
            if let Some(grade) = c.grade {
                out.0.extend_from_slice(&grade.to_le_bytes());
            }
            if let Some(at) = c.at {
                out.0.extend_from_slice(&at.to_le_bytes());
            }
        }
        out.count(self.activities.len());
        for (activity, at) in &self.activities {
            out.str(activity);
            out.0.push(u8::from(at.is_some()));
            if let Some(at) = at {
                out.0.extend_from_slice(&at.to_le_bytes());
            }
        }
        out.count(self.earned.len());
        for badge in &self.earned {
            out.str(badge);
        }
        out.count(self.repeats.len());
        for (badge, times) in &self.repeats {
            out.str(badge);
            out.varint(u64::from(*times));
        }
        out.count(self.manual.len());
        for (badge, role) in &self.manual {
            out.str(badge);
            out.str(role);
        }
        out.count(self.satisfied.len());
        for (badge, ordinal) in &self.satisfied {
            out.str(badge);
            out.varint(u64::from(*ordinal));
        }
        out.0
    }

    /// Reads what [`Progress::to_bytes`] wrote (this version or an earlier one).
    ///
    /// # Errors
    /// [`Error::Progress`] with the byte offset and what is wrong: not this encoding, a
    /// version from the future, a truncated or overlong item, text that is not UTF-8, more
    /// than [`Progress::MAX_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > Self::MAX_BYTES {
            return Err(Error::Progress {
                offset: Self::MAX_BYTES,
                problem: format!(
                    "{} bytes, over the limit of {} bytes",
                    bytes.len(),
                    Self::MAX_BYTES
                ),
            });
        }
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(r.error(0, "not a learner's progress (no \"bgp\" tag)"));
        }
        let version = r.byte()?;
        if version == 0 || version > VERSION {
            return Err(r.error(
                3,
                &format!("version {version}; this build reads versions 1 to {VERSION}"),
            ));
        }
        let mut p = Progress::default();
        for _ in 0..r.count()? {
            p.enrollments.push(StoredEnrollment {
                course: r.str()?,
                mode: r.str()?,
                active: r.flag()?,
            });
        }
        for _ in 0..r.count()? {
            let course = r.str()?;
            let flags_at = r.at;
            let flags = r.byte()?;
            if flags > 0b1111 {
                return Err(r.error(flags_at, &format!("certificate flags {flags:#x}")));
            }
            let mode = if flags & 2 != 0 { Some(r.str()?) } else { None };
            let grade = if flags & 4 != 0 {
                let grade_at = r.at;
                let grade = f64::from_le_bytes(r.array()?);
                // What an event can carry (and NaN, which equals nothing, never).
                if !(0.0..=1.0).contains(&grade) {
                    return Err(r.error(grade_at, &format!("grade {grade} is not between 0 and 1")));
                }
                Some(grade)
            } else {
                None
            };
            let at = if flags & 8 != 0 {
                Some(r.time()?)
            } else {
                None
            };
            p.certificates.push(StoredCertificate {
                course,
                mode,
                passed: flags & 1 != 0,
                grade,
                at,
            });
        }
        for _ in 0..r.count()? {
            let activity = r.str()?;
            let at = if r.flag()? { Some(r.time()?) } else { None };
            p.activities.push((activity, at));
        }
        for _ in 0..r.count()? {
            p.earned.push(r.str()?);
        }
        for _ in 0..r.count()? {
            let badge = r.str()?;
            let times_at = r.at;
            let times = r.u32()?;
            if times < 2 {
                return Err(r.error(
                    times_at,
                    &format!("{badge} repeated {times} times (at least 2)"),
                ));
            }
            p.repeats.push((badge, times));
        }
        for _ in 0..r.count()? {
            p.manual.push((r.str()?, r.str()?));
        }
        for _ in 0..r.count()? {
            p.satisfied.push((r.str()?, r.u32()?));
        }
        if r.at != bytes.len() {
            return Err(r.error(r.at, "bytes after the last list"));
        }
        Ok(p)
    }

    /// Sorts every list by name: the canonical form, so that equal progress encodes equally.
    pub(crate) fn sort(&mut self) {
        self.enrollments
            .sort_by(|a, b| (&a.course, &a.mode).cmp(&(&b.course, &b.mode)));
        self.certificates.sort_by(|a, b| a.course.cmp(&b.course));
        self.activities.sort();
        self.earned.sort();
        self.repeats.sort();
        self.manual.sort();
        self.satisfied.sort();
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn varint(&mut self, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn count(&mut self, n: usize) {
        self.varint(n as u64);
    }

    fn str(&mut self, s: &str) {
        self.count(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, offset: usize, problem: &str) -> Error {
        Error::Progress {
            offset,
            problem: problem.to_owned(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| {
                self.error(
                    self.at,
                    &format!("{n} bytes expected, {} left", self.bytes.len() - self.at),
                )
            })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn flag(&mut self) -> Result<bool, Error> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.error(self.at - 1, &format!("flag {other}, not 0 or 1"))),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    /// A time: Unix seconds within the years RFC 3339 can write (0 to 9999), what an event
    /// can carry.
    fn time(&mut self) -> Result<i64, Error> {
        const YEAR_0: i64 = -62_167_219_200;
        const YEAR_10000: i64 = 253_402_300_800;
        let start = self.at;
        let at = i64::from_le_bytes(self.array()?);
        if (YEAR_0..YEAR_10000).contains(&at) {
            Ok(at)
        } else {
            Err(self.error(start, &format!("time {at} is outside years 0 to 9999")))
        }
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let start = self.at;
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(self.error(start, "a number longer than 64 bits"))
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let start = self.at;
        u32::try_from(self.varint()?).map_err(|_| self.error(start, "a number over 32 bits"))
    }

    /// A count of items that follow: each takes at least one byte, so a count over the bytes
    /// left is refused before anything is allocated for it.
    fn count(&mut self) -> Result<usize, Error> {
        let start = self.at;
        let n = self.varint()?;
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return Err(self.error(start, &format!("{n} items, {left} bytes left")));
        }
        Ok(n as usize)
    }

    fn str(&mut self) -> Result<String, Error> {
        let len = self.count()?;
        let start = self.at;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            self.error(
                start + e.utf8_error().valid_up_to(),
                "a name that is not UTF-8",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Progress {
        let mut p = Progress {
            enrollments: vec![StoredEnrollment {
                course: "course-v1:O+A+1".into(),
                mode: "verified".into(),
                active: true,
            }],
            certificates: vec![StoredCertificate {
                course: "course-v1:O+A+1".into(),
                mode: Some("verified".into()),
                passed: true,
                grade: Some(0.875),
                at: Some(1_767_225_600),
            }],
            activities: vec![("quiz-1".into(), None), ("lab-2".into(), Some(-5))],
            earned: vec!["b".into(), "a".into()],
            repeats: vec![("a".into(), 3)],
            manual: vec![("a".into(), "teacher".into())],
            satisfied: vec![("a".into(), 300)],
        };
        p.sort();
        p
    }

    /// The bytes this version writes for `sample()`, committed: a store's record written by
    /// this version must be read by every later one (`BADGERY_BLESS=1` rewrites the file, for
    /// a deliberate new version only).
    #[test]
    fn version_1_bytes_are_read_as_written() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/progress-v1.bin");
        if std::env::var_os("BADGERY_BLESS").is_some() {
            std::fs::write(path, sample().to_bytes()).unwrap();
        }
        let golden = std::fs::read(path).unwrap();
        assert_eq!(Progress::from_bytes(&golden).unwrap(), sample());
        assert_eq!(
            sample().to_bytes(),
            golden,
            "version 1 writes the same bytes"
        );
    }

    #[test]
    fn round_trips_and_refuses_every_truncation() {
        let p = sample();
        let bytes = p.to_bytes();
        assert_eq!(Progress::from_bytes(&bytes).unwrap(), p);
        for len in 0..bytes.len() {
            assert!(Progress::from_bytes(&bytes[..len]).is_err(), "cut at {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            Progress::from_bytes(&longer),
            Err(Error::Progress { problem, .. }) if problem.contains("after the last list")
        ));
        let mut future = bytes;
        future[3] = 2;
        assert!(matches!(
            Progress::from_bytes(&future),
            Err(Error::Progress { offset: 3, .. })
        ));
        assert_eq!(
            Progress::from_bytes(&Progress::default().to_bytes()).unwrap(),
            Progress::default()
        );
    }

    /// Found by fuzzing (`progress_bytes`): a NaN grade read back unequal to itself (and a
    /// NaN is the record's "no grade"), so values no event can carry are refused.
    #[test]
    fn values_no_event_carries_are_refused() {
        let with = |edit: &dyn Fn(&mut Progress)| {
            let mut p = sample();
            edit(&mut p);
            Progress::from_bytes(&p.to_bytes())
        };
        for bad in [f64::NAN, -0.5, 1.5, f64::INFINITY] {
            assert!(
                with(&|p| p.certificates[0].grade = Some(bad)).is_err(),
                "{bad}"
            );
        }
        assert!(with(&|p| p.certificates[0].at = Some(i64::MIN)).is_err());
        assert!(with(&|p| p.activities[0].1 = Some(i64::MAX)).is_err());
        assert!(with(&|p| p.repeats[0].1 = 1).is_err());
        assert!(with(&|p| p.certificates[0].grade = Some(0.0)).is_ok());
    }

    #[test]
    fn a_huge_count_is_refused_before_allocating() {
        // "bgp", version 1, then 2^63 enrollments.
        let mut bytes = b"bgp\x01".to_vec();
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert!(matches!(
            Progress::from_bytes(&bytes),
            Err(Error::Progress { offset: 4, .. })
        ));
    }
}
