-- Badgery's store, version 1 (SQLite). Times are microseconds since 1970-01-01 UTC.

CREATE TABLE badgery_classes (
    slug               TEXT PRIMARY KEY NOT NULL,
    issuing_component  TEXT NOT NULL,
    course             TEXT,
    mode               TEXT,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    criteria_url       TEXT,
    criteria_narrative TEXT,
    image_format       TEXT NOT NULL,
    image              BLOB NOT NULL,
    expiry             TEXT,           -- JSON, as badgery_backend::Expiry serialises
    backend_id         TEXT
) STRICT;

-- One class per course and mode, and one mode-less (fallback) class per course. Two partial
-- indexes, because a unique index over (course, mode) lets any number of NULL modes through.
CREATE UNIQUE INDEX badgery_classes_course_mode ON badgery_classes (course, mode)
    WHERE course IS NOT NULL AND mode IS NOT NULL;
CREATE UNIQUE INDEX badgery_classes_course_fallback ON badgery_classes (course)
    WHERE course IS NOT NULL AND mode IS NULL;

CREATE TABLE badgery_awards (
    learner       TEXT NOT NULL,
    badge         TEXT NOT NULL,
    sequence      INTEGER NOT NULL,
    email         TEXT NOT NULL,
    evidence      TEXT NOT NULL,       -- JSON array of badgery_backend::EvidenceItem
    reason        TEXT NOT NULL,
    created       INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'issued', 'failed')),
    outcome       TEXT,                -- issued: the assertion's id; failed: the reason
    attempts      INTEGER NOT NULL,
    next_attempt  INTEGER NOT NULL,
    last_error    TEXT,
    lease_until   INTEGER,             -- NULL: not leased
    PRIMARY KEY (learner, badge, sequence)
) STRICT;

-- take_due: the pending awards, by when they are due.
CREATE INDEX badgery_awards_due ON badgery_awards (next_attempt) WHERE state = 'pending';

CREATE TABLE badgery_assertions (
    id                 TEXT PRIMARY KEY NOT NULL,
    learner            TEXT NOT NULL,
    badge              TEXT NOT NULL,
    sequence           INTEGER NOT NULL,
    issuing_component  TEXT NOT NULL,
    course             TEXT,
    backend            TEXT NOT NULL,
    issued_on          INTEGER NOT NULL,
    image_url          TEXT,
    data               TEXT NOT NULL,  -- JSON, the backend's data
    baked_format       TEXT,
    baked_image        BLOB,
    revoked            TEXT
) STRICT;

CREATE INDEX badgery_assertions_learner ON badgery_assertions (learner);
