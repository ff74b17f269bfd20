-- Badgery's store, version 4: learners' progress (badgery_rules::Progress bytes) with the
-- version every commit raises, the ids of the events committed per learner (an event
-- delivered twice is committed once), and how far each consumer of an event log has got.
CREATE TABLE badgery_progress (
    learner   TEXT PRIMARY KEY NOT NULL,
    version   BIGINT NOT NULL,
    progress  BYTEA NOT NULL
);

CREATE TABLE badgery_handled_events (
    learner   TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    PRIMARY KEY (learner, event_id)
);

CREATE TABLE badgery_checkpoints (
    name      TEXT PRIMARY KEY NOT NULL,
    position  BIGINT NOT NULL
);
