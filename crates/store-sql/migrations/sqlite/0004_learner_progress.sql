-- Badgery's store, version 4: learners' progress (badgery_rules::Progress bytes) with the
-- version every commit raises, the ids of the events committed per learner (an event
-- delivered twice is committed once), and how far each consumer of an event log has got.
-- WITHOUT ROWID: a learner is found and updated in one B-tree (a rowid table would search
-- the primary key's index, then the table), which matters with a million learners.
CREATE TABLE badgery_progress (
    learner   TEXT PRIMARY KEY NOT NULL,
    version   INTEGER NOT NULL,
    progress  BLOB NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE badgery_handled_events (
    learner   TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    PRIMARY KEY (learner, event_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE badgery_checkpoints (
    name      TEXT PRIMARY KEY NOT NULL,
    position  INTEGER NOT NULL
) STRICT;
