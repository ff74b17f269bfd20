-- Badgery's store, version 2: the revoked assertions, which an issuer's revocation list
-- (signed badges) lists, found without reading every assertion.
CREATE INDEX badgery_assertions_revoked ON badgery_assertions (id) WHERE revoked IS NOT NULL;
