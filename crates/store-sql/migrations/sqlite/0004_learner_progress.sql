-- Badgery's store, version 4: learners' progress (badgery_rules::Progress bytes) with the
-- version every commit raises, and the ids of the events committed per learner (an event
-- delivered twice is committed once).
CREATE TABLE badgery_progress (
    learner   TEXT PRIMARY KEY NOT NULL,
    version   INTEGER NOT NULL,
    progress  BLOB NOT NULL
) STRICT;

CREATE TABLE badgery_handled_events (
    learner   TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    PRIMARY KEY (learner, event_id)
) STRICT, WITHOUT ROWID;
