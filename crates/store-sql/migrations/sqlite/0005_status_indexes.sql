-- Badgery's store, version 5: the bit of an Open Badges 3.0 status list each credential holds
-- (one credential one bit, one bit one credential, per list).
CREATE TABLE badgery_status_indexes (
    list        TEXT NOT NULL,
    credential  TEXT NOT NULL,
    idx         BIGINT NOT NULL,
    PRIMARY KEY (list, credential),
    UNIQUE (list, idx)
);
