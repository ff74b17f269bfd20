//! The store traits over SQL. Each method's statements are written once and run on the
//! dialect's own sqlx driver (the [`on_pool!`] macro expands a body once per enabled
//! database); where SQLite and PostgreSQL differ (taking due awards, beginning a transaction
//! that writes) the dialect says how.

use async_trait::async_trait;
use badgery_backend::{
    AssertionFilter, AssertionRepository, AwardKey, AwardLedger, BadgeClassRecord, BatchCommit,
    Claim, ClassCatalog, Error, IssuedAssertion, PendingAward, ProgressCommit, ProgressStore,
    ProgressUpdate, StoredProgress,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::SqlStore;
use crate::columns::{
    Columns, alignments_json, assertion_from, award_from, class_from, expiry_json, format_name,
    json, micros, sequence,
};
#[cfg(feature = "sqlite")]
use crate::group_commit::GroupCommit;

/// The connections of one database (and, for SQLite, the writer that commits claims and
/// completions in groups).
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool, GroupCommit),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Claims an award: inserted unless its key exists (the primary key decides between
/// concurrent claims).
pub(crate) const CLAIM: &str = "INSERT INTO badgery_awards (learner, badge, sequence, email, \
     evidence, reason, created, state, outcome, attempts, next_attempt, last_error, lease_until) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
     ON CONFLICT (learner, badge, sequence) DO NOTHING";

/// Stores an assertion if its award exists, unless one with its id is stored (SQLite's
/// writer, before `MARK_ISSUED`; PostgreSQL runs both inside `COMPLETE_POSTGRES`).
#[cfg(feature = "sqlite")]
pub(crate) const INSERT_ASSERTION: &str = "INSERT INTO badgery_assertions (id, learner, badge, \
     sequence, issuing_component, course, backend, issued_on, image_url, data, baked_format, \
     baked_image, revoked) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
     WHERE EXISTS (SELECT 1 FROM badgery_awards WHERE learner = $2 AND badge = $3 \
     AND sequence = $4) ON CONFLICT (id) DO NOTHING";

/// Marks an award issued as assertion `$4`, ending its lease (SQLite's writer).
#[cfg(feature = "sqlite")]
pub(crate) const MARK_ISSUED: &str = "UPDATE badgery_awards SET state = 'issued', outcome = $4, \
     attempts = attempts + 1, lease_until = NULL \
     WHERE learner = $1 AND badge = $2 AND sequence = $3";

/// Takes back an assertion `INSERT_ASSERTION` stored when `MARK_ISSUED` then failed.
#[cfg(feature = "sqlite")]
pub(crate) const UNDO_INSERT_ASSERTION: &str = "DELETE FROM badgery_assertions WHERE id = $1";

/// `MARK_ISSUED` and `INSERT_ASSERTION` as one PostgreSQL statement (data-modifying
/// common table expressions, which commit together); returns how many awards were marked.
#[cfg(feature = "postgres")]
const COMPLETE_POSTGRES: &str = "WITH issued AS (UPDATE badgery_awards SET state = 'issued', \
     outcome = $1, attempts = attempts + 1, lease_until = NULL \
     WHERE learner = $2 AND badge = $3 AND sequence = $4 RETURNING 1), \
     stored AS (INSERT INTO badgery_assertions (id, learner, badge, sequence, issuing_component, \
     course, backend, issued_on, image_url, data, baked_format, baked_image, revoked) \
     SELECT $1, $2, $3, $4, $5::TEXT, $6::TEXT, $7::TEXT, $8::BIGINT, $9::TEXT, $10::TEXT, \
     $11::TEXT, $12::BYTEA, $13::TEXT WHERE EXISTS (SELECT 1 FROM issued) \
     ON CONFLICT (id) DO NOTHING) \
     SELECT count(*) FROM issued";

/// The columns an award is read from.
macro_rules! award_columns {
    () => {
        "learner, badge, sequence, email, evidence, reason, created, state, outcome, attempts, \
         next_attempt, last_error"
    };
}

/// The database a store runs on, for the statements in which SQLite and PostgreSQL differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Dialect {
    /// The statement that opens a transaction which will write. On SQLite `BEGIN IMMEDIATE`
    /// takes the write lock up front, so a read inside the transaction cannot go stale (SQLite
    /// fails a deferred transaction's later write with `SQLITE_BUSY_SNAPSHOT`, busy timeout or
    /// not).
    fn begin(self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            #[cfg(feature = "postgres")]
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Pending awards due at `$2` whose lease has ended, oldest due first, leased until `$1`;
    /// at most `$3`. On PostgreSQL the rows are locked as they are chosen and rows another
    /// transaction holds are skipped (`FOR UPDATE SKIP LOCKED`), so concurrent callers share
    /// the due awards out instead of queueing; on SQLite the statement runs in a
    /// `BEGIN IMMEDIATE` transaction, beside which no other writer runs.
    fn take_due(self) -> &'static str {
        macro_rules! take_due {
            ($lock:literal) => {
                concat!(
                    "UPDATE badgery_awards SET lease_until = $1 \
                     WHERE (learner, badge, sequence) IN (SELECT learner, badge, sequence \
                     FROM badgery_awards WHERE state = 'pending' AND next_attempt <= $2 \
                     AND (lease_until IS NULL OR lease_until <= $2) \
                     ORDER BY next_attempt, learner, badge, sequence LIMIT $3",
                    $lock,
                    ") RETURNING ",
                    award_columns!()
                )
            };
        }
        match self {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => take_due!(""),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => take_due!(" FOR UPDATE SKIP LOCKED"),
        }
    }
}

/// Runs `$body` with `$pool` bound to the store's sqlx pool and `$dialect` to its
/// [`Dialect`]: the body is written once and compiled for each enabled driver.
macro_rules! on_pool {
    ($store:expr, |$pool:ident, $dialect:ident| $body:expr) => {
        match &$store.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite($pool, _) => {
                #[allow(unused_variables)]
                let $dialect = Dialect::Sqlite;
                $body
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres($pool) => {
                #[allow(unused_variables)]
                let $dialect = Dialect::Postgres;
                $body
            }
        }
    };
}

/// Wraps a database error with what the store was doing.
fn db(doing: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let doing = doing.into();
    move |e| Error::storage(doing, e)
}

fn not_claimed(key: &AwardKey) -> Error {
    Error::NotFound(format!("no claimed award for {key}"))
}

#[async_trait]
impl ClassCatalog for SqlStore {
    async fn get_or_create_class(
        &self,
        class: BadgeClassRecord,
    ) -> Result<(BadgeClassRecord, bool), Error> {
        class.check()?;
        let doing = format!("storing badge class {}", class.slug);
        on_pool!(self, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await.map_err(db(&doing))?;
            // Any unique index may refuse the row: the slug's (then the class exists) or one of
            // the course indexes (then another class has the course and mode).
            let inserted = sqlx::query(
                "INSERT INTO badgery_classes (slug, issuing_component, course, mode, name, \
                 description, criteria_url, criteria_narrative, image_format, image, expiry, \
                 alignments, backend_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&class.slug)
            .bind(&class.issuing_component)
            .bind(&class.course)
            .bind(&class.mode)
            .bind(&class.name)
            .bind(&class.description)
            .bind(&class.criteria_url)
            .bind(&class.criteria_narrative)
            .bind(format_name(class.image.format))
            .bind(&class.image.bytes)
            .bind(expiry_json(class.expiry.as_ref()))
            .bind(alignments_json(&class.alignments))
            .bind(&class.backend_id)
            .execute(&mut *tx)
            .await
            .map_err(db(&doing))?
            .rows_affected()
                == 1;
            let result = if inserted {
                Ok((class, true))
            } else if let Some(row) = sqlx::query("SELECT * FROM badgery_classes WHERE slug = $1")
                .bind(&class.slug)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db(&doing))?
            {
                Ok((class_from(&row)?, false))
            } else {
                let other: Option<String> = sqlx::query_scalar(
                    "SELECT slug FROM badgery_classes WHERE course = $1 \
                     AND (mode = $2 OR (mode IS NULL AND $2 IS NULL))",
                )
                .bind(&class.course)
                .bind(&class.mode)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db(&doing))?;
                Err(Error::Conflict(format!(
                    "badge class {} is for course {} and mode {}, which class {} already has",
                    class.slug,
                    class.course.as_deref().unwrap_or("(none)"),
                    class.mode.as_deref().unwrap_or("(any)"),
                    other.as_deref().unwrap_or("(another)"),
                )))
            };
            tx.commit().await.map_err(db(&doing))?;
            result
        })
    }

    async fn class(&self, slug: &str) -> Result<Option<BadgeClassRecord>, Error> {
        on_pool!(self, |pool, dialect| {
            sqlx::query("SELECT * FROM badgery_classes WHERE slug = $1")
                .bind(slug)
                .fetch_optional(pool)
                .await
                .map_err(db(format!("reading badge class {slug}")))?
                .map(|row| class_from(&row))
                .transpose()
        })
    }

    async fn set_backend_id(&self, slug: &str, backend_id: &str) -> Result<(), Error> {
        let updated = on_pool!(self, |pool, dialect| {
            sqlx::query("UPDATE badgery_classes SET backend_id = $1 WHERE slug = $2")
                .bind(backend_id)
                .bind(slug)
                .execute(pool)
                .await
                .map_err(db(format!("recording the backend id of class {slug}")))?
                .rows_affected()
        });
        if updated == 0 {
            return Err(Error::NotFound(format!("badge class {slug}")));
        }
        Ok(())
    }

    async fn classes(&self) -> Result<Vec<BadgeClassRecord>, Error> {
        on_pool!(self, |pool, dialect| {
            sqlx::query("SELECT * FROM badgery_classes ORDER BY slug")
                .fetch_all(pool)
                .await
                .map_err(db("listing badge classes"))?
                .iter()
                .map(class_from)
                .collect()
        })
    }
}

#[async_trait]
impl AwardLedger for SqlStore {
    async fn claim(&self, award: PendingAward, lease_until: DateTime<Utc>) -> Result<Claim, Error> {
        award.key.check()?;
        // The primary key decides: of concurrent claims, one inserts.
        let won = match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_, writer) => writer.claim(award.clone(), micros(lease_until)).await?,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                bind_claim!(sqlx::query(CLAIM), &award, micros(lease_until))
                    .execute(pool)
                    .await
                    .map_err(db(format!("claiming {}", award.key)))?
                    .rows_affected()
                    == 1
            }
        };
        if won {
            return Ok(Claim::Won(award));
        }
        let existing = self.award(&award.key).await?;
        existing
            .map(Claim::Exists)
            .ok_or_else(|| not_claimed(&award.key))
    }

    async fn take_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PendingAward>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut due = on_pool!(self, |pool, dialect| {
            let mut tx = pool
                .begin_with(dialect.begin())
                .await
                .map_err(db("taking due awards"))?;
            let rows = sqlx::query(dialect.take_due())
                .bind(micros(lease_until))
                .bind(micros(now))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await
                .map_err(db("taking due awards"))?;
            let due = rows.iter().map(award_from).collect::<Result<Vec<_>, _>>()?;
            tx.commit().await.map_err(db("taking due awards"))?;
            due
        });
        due.sort_by(|a, b| (a.next_attempt, &a.key).cmp(&(b.next_attempt, &b.key)));
        Ok(due)
    }

    async fn release(&self, key: &AwardKey) -> Result<(), Error> {
        let updated = on_pool!(self, |pool, dialect| {
            sqlx::query(
                "UPDATE badgery_awards SET lease_until = NULL \
                 WHERE learner = $1 AND badge = $2 AND sequence = $3",
            )
            .bind(&key.learner)
            .bind(&key.slug)
            .bind(sequence(key))
            .execute(pool)
            .await
            .map_err(db(format!("releasing {key}")))?
            .rows_affected()
        });
        if updated == 0 {
            return Err(not_claimed(key));
        }
        Ok(())
    }

    async fn unissued(&self) -> Result<Vec<PendingAward>, Error> {
        on_pool!(self, |pool, dialect| {
            sqlx::query(concat!(
                "SELECT ",
                award_columns!(),
                " FROM badgery_awards WHERE state <> 'issued' \
                 ORDER BY learner, badge, sequence"
            ))
            .fetch_all(pool)
            .await
            .map_err(db("listing unissued awards"))?
            .iter()
            .map(award_from)
            .collect()
        })
    }

    async fn reopen(
        &self,
        key: &AwardKey,
        lease_until: DateTime<Utc>,
    ) -> Result<PendingAward, Error> {
        let doing = format!("reopening {key}");
        let reopened = on_pool!(self, |pool, dialect| {
            sqlx::query(concat!(
                "UPDATE badgery_awards SET state = 'pending', last_error = outcome, \
                 outcome = NULL, attempts = 0, lease_until = $4 \
                 WHERE learner = $1 AND badge = $2 AND sequence = $3 AND state = 'failed' \
                 RETURNING ",
                award_columns!(),
                ""
            ))
            .bind(&key.learner)
            .bind(&key.slug)
            .bind(sequence(key))
            .bind(micros(lease_until))
            .fetch_optional(pool)
            .await
            .map_err(db(&doing))?
            .map(|row| award_from(&row))
            .transpose()?
        });
        match reopened {
            Some(award) => Ok(award),
            None => match self.award(key).await? {
                None => Err(not_claimed(key)),
                Some(_) => Err(Error::Conflict(format!("the award {} has not failed", key))),
            },
        }
    }

    async fn awards(
        &self,
        after: Option<&AwardKey>,
        limit: usize,
    ) -> Result<Vec<PendingAward>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Row-value comparison: the keys after `after` in the primary key's order.
        let (learner, badge, number) = match after {
            Some(key) => (
                Some(key.learner.as_str()),
                Some(key.slug.as_str()),
                sequence(key),
            ),
            None => (None, None, 0),
        };
        on_pool!(self, |pool, dialect| {
            sqlx::query(concat!(
                "SELECT ",
                award_columns!(),
                " FROM badgery_awards WHERE $1 IS NULL OR (learner, badge, sequence) > ($1, $2, $3) \
                 ORDER BY learner, badge, sequence LIMIT $4"
            ))
            .bind(learner)
            .bind(badge)
            .bind(number)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(db("listing awards"))?
            .iter()
            .map(award_from)
            .collect()
        })
    }

    async fn latest_award(&self, learner: &str, slug: &str) -> Result<Option<PendingAward>, Error> {
        on_pool!(self, |pool, dialect| {
            sqlx::query(concat!(
                "SELECT ",
                award_columns!(),
                " FROM badgery_awards WHERE learner = $1 AND badge = $2 \
                 ORDER BY sequence DESC LIMIT 1"
            ))
            .bind(learner)
            .bind(slug)
            .fetch_optional(pool)
            .await
            .map_err(db(format!(
                "reading the latest award of {slug} to {learner}"
            )))?
            .map(|row| award_from(&row))
            .transpose()
        })
    }

    async fn complete(&self, assertion: IssuedAssertion) -> Result<(), Error> {
        // The award is issued if and only if its assertion is stored: SQLite's writer takes
        // back the assertion when marking the award fails, PostgreSQL runs both as one
        // statement (one round trip).
        let key = assertion.key.clone();
        let marked = match &self.pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_, writer) => writer.complete(assertion).await?,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                let updated: i64 =
                    bind_assertion!(sqlx::query_scalar(COMPLETE_POSTGRES), &assertion)
                        .fetch_one(pool)
                        .await
                        .map_err(db(format!(
                            "recording assertion {} for {key}",
                            assertion.id
                        )))?;
                updated > 0
            }
        };
        if marked {
            Ok(())
        } else {
            Err(not_claimed(&key))
        }
    }

    async fn retry_later(
        &self,
        key: &AwardKey,
        error: &str,
        next_attempt: DateTime<Utc>,
    ) -> Result<(), Error> {
        let updated = on_pool!(self, |pool, dialect| {
            sqlx::query(
                "UPDATE badgery_awards SET attempts = attempts + 1, next_attempt = $4, \
                 last_error = $5, lease_until = NULL \
                 WHERE learner = $1 AND badge = $2 AND sequence = $3 AND state = 'pending'",
            )
            .bind(&key.learner)
            .bind(&key.slug)
            .bind(sequence(key))
            .bind(micros(next_attempt))
            .bind(error)
            .execute(pool)
            .await
            .map_err(db(format!("deferring {key}")))?
            .rows_affected()
        });
        self.updated_or_claimed(updated, key).await
    }

    async fn fail(&self, key: &AwardKey, reason: &str) -> Result<(), Error> {
        let updated = on_pool!(self, |pool, dialect| {
            sqlx::query(
                "UPDATE badgery_awards SET attempts = attempts + 1, state = 'failed', \
                 outcome = $4, lease_until = NULL \
                 WHERE learner = $1 AND badge = $2 AND sequence = $3 AND state = 'pending'",
            )
            .bind(&key.learner)
            .bind(&key.slug)
            .bind(sequence(key))
            .bind(reason)
            .execute(pool)
            .await
            .map_err(db(format!("failing {key}")))?
            .rows_affected()
        });
        self.updated_or_claimed(updated, key).await
    }
}

impl SqlStore {
    /// One award by key, in any state.
    pub(crate) async fn award(&self, key: &AwardKey) -> Result<Option<PendingAward>, Error> {
        on_pool!(self, |pool, dialect| {
            sqlx::query(concat!(
                "SELECT ",
                award_columns!(),
                " FROM badgery_awards \
                 WHERE learner = $1 AND badge = $2 AND sequence = $3"
            ))
            .bind(&key.learner)
            .bind(&key.slug)
            .bind(sequence(key))
            .fetch_optional(pool)
            .await
            .map_err(db(format!("reading {key}")))?
            .map(|row| award_from(&row))
            .transpose()
        })
    }

    /// After an update of a pending award: none updated is fine when the award exists in
    /// another state (the update changes nothing then), and not found when it was never
    /// claimed.
    async fn updated_or_claimed(&self, updated: u64, key: &AwardKey) -> Result<(), Error> {
        if updated == 0 && self.award(key).await?.is_none() {
            return Err(not_claimed(key));
        }
        Ok(())
    }
}

#[async_trait]
impl AssertionRepository for SqlStore {
    async fn assertion(&self, id: &str) -> Result<Option<IssuedAssertion>, Error> {
        on_pool!(self, |pool, dialect| {
            sqlx::query("SELECT * FROM badgery_assertions WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db(format!("reading assertion {id}")))?
                .map(|row| assertion_from(&row))
                .transpose()
        })
    }

    async fn assertions_for(
        &self,
        learner: &str,
        filter: &AssertionFilter,
    ) -> Result<Vec<IssuedAssertion>, Error> {
        let rows: Vec<IssuedAssertion> = on_pool!(self, |pool, dialect| {
            sqlx::query(
                "SELECT * FROM badgery_assertions WHERE learner = $1 \
                 ORDER BY issued_on DESC, id DESC",
            )
            .bind(learner)
            .fetch_all(pool)
            .await
            .map_err(db(format!("listing the assertions of {learner}")))?
            .iter()
            .map(assertion_from)
            .collect::<Result<_, _>>()?
        });
        Ok(rows.into_iter().filter(|a| filter.matches(a)).collect())
    }

    async fn store_revoked(&self, assertion: IssuedAssertion) -> Result<(), Error> {
        let baked = assertion.baked_image.as_ref();
        let updated = on_pool!(self, |pool, dialect| {
            sqlx::query(
                "UPDATE badgery_assertions SET revoked = $2, data = $3, image_url = $4, \
                 baked_format = $5, baked_image = $6 WHERE id = $1",
            )
            .bind(&assertion.id)
            .bind(&assertion.revoked)
            .bind(json(&assertion.data))
            .bind(&assertion.image_url)
            .bind(baked.map(|b| format_name(b.format)))
            .bind(baked.map(|b| b.bytes.as_slice()))
            .execute(pool)
            .await
            .map_err(db(format!("recording the revocation of {}", assertion.id)))?
            .rows_affected()
        });
        if updated == 0 {
            return Err(Error::NotFound(format!("assertion {}", assertion.id)));
        }
        Ok(())
    }

    async fn revoked_assertions(&self) -> Result<Vec<IssuedAssertion>, Error> {
        on_pool!(self, |pool, dialect| {
            sqlx::query("SELECT * FROM badgery_assertions WHERE revoked IS NOT NULL ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(db("listing the revoked assertions".to_owned()))?
                .iter()
                .map(assertion_from)
                .collect()
        })
    }

    async fn status_index(
        &self,
        list: &str,
        credential: &str,
        candidates: &[u64],
    ) -> Result<Option<u64>, Error> {
        let doing = format!("giving {credential} a bit of status list {list}");
        // One statement each, no transaction: the insert is atomic, and a lost race (the
        // credential given a bit by another writer, or the candidate taken) shows in the
        // next read or insert.
        for candidate in candidates.iter().map(Some).chain([None]) {
            let given: Option<i64> = on_pool!(self, |pool, dialect| {
                sqlx::query_scalar(
                    "SELECT idx FROM badgery_status_indexes WHERE list = $1 AND credential = $2",
                )
                .bind(list)
                .bind(credential)
                .fetch_optional(pool)
                .await
                .map_err(db(&doing))?
            });
            if let Some(index) = given {
                return Ok(Some(index.unsigned_abs()));
            }
            let Some(&candidate) = candidate else {
                return Ok(None);
            };
            let index = i64::try_from(candidate)
                .map_err(|_| Error::Rejected(format!("{doing}: index {candidate} is too large")))?;
            let inserted = on_pool!(self, |pool, dialect| {
                sqlx::query(
                    "INSERT INTO badgery_status_indexes (list, credential, idx) \
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(list)
                .bind(credential)
                .bind(index)
                .execute(pool)
                .await
                .map_err(db(&doing))?
                .rows_affected()
            });
            if inserted == 1 {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }
}

/// Claims `$award` (a `&PendingAward`) in the transaction `$tx`, leased until
/// `$lease_until`: `Claim::Won`, or the award as it stands when it was claimed before.
macro_rules! claim_in {
    ($tx:expr, $award:expr, $lease_until:expr, $doing:expr) => {
        async {
            let award: &PendingAward = $award;
            let won = bind_claim!(sqlx::query(CLAIM), award, micros($lease_until))
                .execute(&mut *$tx)
                .await
                .map_err(db($doing))?
                .rows_affected()
                == 1;
            if won {
                return Ok::<_, Error>(Claim::Won(award.clone()));
            }
            let row = sqlx::query(concat!(
                "SELECT ",
                award_columns!(),
                " FROM badgery_awards WHERE learner = $1 AND badge = $2 AND sequence = $3"
            ))
            .bind(&award.key.learner)
            .bind(&award.key.slug)
            .bind(sequence(&award.key))
            .fetch_one(&mut *$tx)
            .await
            .map_err(db($doing))?;
            Ok(Claim::Exists(award_from(&row)?))
        }
        .await
    };
}

#[async_trait]
impl ProgressStore for SqlStore {
    async fn progress(&self, learner: &str) -> Result<Option<StoredProgress>, Error> {
        on_pool!(self, |pool, dialect| {
            let row =
                sqlx::query("SELECT version, progress FROM badgery_progress WHERE learner = $1")
                    .bind(learner)
                    .fetch_optional(pool)
                    .await
                    .map_err(db(format!("reading the progress of {learner}")))?;
            row.map(|row| progress_from(&row)).transpose()
        })
    }

    async fn commit_progress(&self, update: ProgressUpdate) -> Result<ProgressCommit, Error> {
        // A batch of one: one way of writing an update. A conflict is told apart from an
        // event committed before afterwards (only on that path).
        let version = update.expected.unwrap_or(0) + 1;
        let events: Vec<(String, String)> = update
            .event_ids
            .iter()
            .map(|id| (update.learner.clone(), id.clone()))
            .collect();
        match self.commit_progress_batch(vec![update]).await? {
            BatchCommit::Committed(mut claims) => Ok(ProgressCommit::Committed {
                version,
                claims: claims.pop().unwrap_or_default(),
            }),
            _ if self.handled(&events).await?.contains(&true) => Ok(ProgressCommit::AlreadyHandled),
            _ => Ok(ProgressCommit::Conflict),
        }
    }

    async fn progress_of(&self, learners: &[String]) -> Result<Vec<Option<StoredProgress>>, Error> {
        let mut found = std::collections::HashMap::with_capacity(learners.len());
        on_pool!(self, |pool, dialect| {
            if matches!(dialect, Dialect::Sqlite) {
                // One bound parameter (the learners as a JSON list) and one result row: the
                // statement is the same for every batch (prepared once, then cached), and the
                // rows do not cross to sqlx's SQLite thread one message each. Four times
                // faster than a list of parameters (BENCHMARKS.md).
                let doing = "reading learners' progress";
                let list = serde_json::to_string(learners).map_err(|e| Error::storage(doing, e))?;
                let rows: Option<String> = sqlx::query_scalar(SQLITE_PROGRESS_OF)
                    .bind(list)
                    .fetch_one(pool)
                    .await
                    .map_err(db(doing))?;
                let rows: Vec<(String, i64, String)> =
                    serde_json::from_str(rows.as_deref().unwrap_or("[]"))
                        .map_err(|e| Error::storage(doing, e))?;
                for (learner, version, progress) in rows {
                    let stored = StoredProgress::new(
                        u64::try_from(version).map_err(|_| {
                            Error::storage(doing, std::io::Error::other("a negative version"))
                        })?,
                        from_hex(&progress).ok_or_else(|| {
                            Error::storage(doing, std::io::Error::other("progress is not hex"))
                        })?,
                    );
                    found.insert(learner, stored);
                }
                return Ok(learners.iter().map(|l| found.remove(l)).collect());
            }
            // In chunks, within every database's limit on bound parameters.
            for chunk in learners.chunks(500) {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT learner, version, progress FROM badgery_progress WHERE learner IN (",
                );
                let mut list = query.separated(", ");
                for learner in chunk {
                    list.push_bind(learner);
                }
                query.push(")");
                for row in query
                    .build()
                    .fetch_all(pool)
                    .await
                    .map_err(db("reading learners' progress"))?
                {
                    found.insert(row.text("learner")?, progress_from(&row)?);
                }
            }
        });
        Ok(learners.iter().map(|l| found.remove(l)).collect())
    }

    async fn handled(&self, events: &[(String, String)]) -> Result<Vec<bool>, Error> {
        let mut found = std::collections::HashSet::new();
        on_pool!(self, |pool, dialect| {
            for chunk in events.chunks(250) {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT learner, event_id FROM badgery_handled_events WHERE (learner, event_id) IN (",
                );
                let mut list = query.separated(", ");
                for (learner, id) in chunk {
                    list.push("(");
                    list.push_bind_unseparated(learner);
                    list.push_unseparated(", ");
                    list.push_bind_unseparated(id);
                    list.push_unseparated(")");
                }
                query.push(")");
                for row in query
                    .build()
                    .fetch_all(pool)
                    .await
                    .map_err(db("reading handled events"))?
                {
                    found.insert((row.text("learner")?, row.text("event_id")?));
                }
            }
        });
        Ok(events.iter().map(|e| found.contains(e)).collect())
    }

    async fn commit_progress_batch(
        &self,
        updates: Vec<ProgressUpdate>,
    ) -> Result<BatchCommit, Error> {
        ProgressUpdate::check_all(&updates)?;
        let doing = format!("committing the progress of {} learners", updates.len());
        let count = updates.len();
        // In learner order, so that concurrent batches lock rows in one order and never
        // deadlock (PostgreSQL found two batches of overlapping learners doing so).
        let mut sorted: Vec<(usize, ProgressUpdate)> = updates.into_iter().enumerate().collect();
        sorted.sort_by(|a, b| a.1.learner.cmp(&b.1.learner));
        let mut events: Vec<(&str, &str)> = sorted
            .iter()
            .flat_map(|(_, u)| {
                u.event_ids
                    .iter()
                    .map(|id| (u.learner.as_str(), id.as_str()))
            })
            .collect();
        events.sort_unstable();
        events.dedup();
        let fresh: Vec<&ProgressUpdate> = sorted
            .iter()
            .map(|(_, u)| u)
            .filter(|u| u.expected.is_none())
            .collect();
        let mut known: Vec<(&ProgressUpdate, i64)> = Vec::new();
        for (_, update) in &sorted {
            if let Some(version) = update.expected {
                let next = i64::try_from(version)
                    .ok()
                    .and_then(|v| v.checked_add(1))
                    .ok_or_else(|| Error::Rejected(format!("{doing}: version too large")))?;
                known.push((update, next));
            }
        }
        let written = on_pool!(self, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await.map_err(db(&doing))?;
            // A few statements for the whole batch, each many rows: one round trip each
            // rather than one per learner. Each must write every row it names, else another
            // writer came first and the whole batch is rolled back (the transaction dropped).
            let mut all_written = true;
            #[cfg(feature = "postgres")]
            if matches!(dialect, Dialect::Postgres) && !known.is_empty() {
                // Lock the rows to update in learner order first (an UPDATE … FROM locks them
                // in its plan's order).
                let names: Vec<&str> = known.iter().map(|(u, _)| u.learner.as_str()).collect();
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT learner FROM badgery_progress WHERE learner IN (",
                );
                let mut list = query.separated(", ");
                for name in &names {
                    list.push_bind(*name);
                }
                query.push(") ORDER BY learner FOR UPDATE");
                query.build().execute(&mut *tx).await.map_err(db(&doing))?;
            }
            for chunk in events.chunks(300) {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO badgery_handled_events (learner, event_id) ",
                );
                query.push_values(chunk, |mut row, (learner, id)| {
                    row.push_bind(*learner).push_bind(*id);
                });
                query.push(" ON CONFLICT DO NOTHING");
                let rows = query.build().execute(&mut *tx).await.map_err(db(&doing))?;
                all_written &= rows.rows_affected() == chunk.len() as u64;
            }
            for chunk in fresh.chunks(300) {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO badgery_progress (learner, version, progress) ",
                );
                query.push_values(chunk, |mut row, update| {
                    row.push_bind(&update.learner)
                        .push_bind(1_i64)
                        .push_bind(&update.bytes);
                });
                query.push(" ON CONFLICT DO NOTHING");
                let rows = query.build().execute(&mut *tx).await.map_err(db(&doing))?;
                all_written &= rows.rows_affected() == chunk.len() as u64;
            }
            if matches!(dialect, Dialect::Sqlite) && !known.is_empty() {
                // One statement for the whole batch, the same text every time (see
                // SQLITE_PROGRESS_OF), the rows as one JSON parameter.
                let rows: Vec<Value> = known
                    .iter()
                    .map(|(update, next)| json!([update.learner, next, to_hex(&update.bytes)]))
                    .collect();
                let rows = sqlx::query(SQLITE_UPDATE_PROGRESS)
                    .bind(Value::Array(rows).to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(db(&doing))?;
                all_written &= rows.rows_affected() == known.len() as u64;
            }
            for chunk in known
                .chunks(300)
                .filter(|_| !matches!(dialect, Dialect::Sqlite))
            {
                // VALUES columns are column1, column2, … in both databases.
                let mut query = sqlx::QueryBuilder::new(
                    "UPDATE badgery_progress SET version = v.column2, progress = v.column3 FROM (",
                );
                query.push_values(chunk, |mut row, (update, next)| {
                    row.push_bind(&update.learner)
                        .push_bind(*next)
                        .push_bind(&update.bytes);
                });
                query.push(
                    ") AS v WHERE badgery_progress.learner = v.column1 \
                     AND badgery_progress.version = v.column2 - 1",
                );
                let rows = query.build().execute(&mut *tx).await.map_err(db(&doing))?;
                all_written &= rows.rows_affected() == chunk.len() as u64;
            }
            if !all_written {
                return Ok(BatchCommit::Conflict);
            }
            let mut claims = vec![Vec::new(); count];
            for (position, update) in &sorted {
                for award in &update.awards {
                    claims[*position].push(claim_in!(tx, award, update.lease_until, &doing)?);
                }
            }
            tx.commit().await.map_err(db(&doing))?;
            claims
        });
        Ok(BatchCommit::Committed(written))
    }

    async fn learners(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        on_pool!(self, |pool, dialect| {
            sqlx::query_scalar(
                "SELECT learner FROM badgery_progress WHERE $1 IS NULL OR learner > $1 \
                 ORDER BY learner LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(db("listing learners with progress"))
        })
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<u64>, Error> {
        let position: Option<i64> = on_pool!(self, |pool, dialect| {
            sqlx::query_scalar("SELECT position FROM badgery_checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await
                .map_err(db(format!("reading checkpoint {name}")))?
        });
        Ok(position.map(i64::unsigned_abs))
    }

    async fn set_checkpoint(&self, name: &str, position: u64) -> Result<(), Error> {
        let position = i64::try_from(position).map_err(|_| {
            Error::Rejected(format!(
                "checkpoint {name}: position {position} is too large"
            ))
        })?;
        on_pool!(self, |pool, dialect| {
            sqlx::query(
                "INSERT INTO badgery_checkpoints (name, position) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET position = excluded.position \
                 WHERE badgery_checkpoints.position < excluded.position",
            )
            .bind(name)
            .bind(position)
            .execute(pool)
            .await
            .map_err(db(format!("recording checkpoint {name}")))?;
        });
        Ok(())
    }
}

/// Learners' progress by a JSON list of names, as one JSON row (SQLite).
const SQLITE_PROGRESS_OF: &str = "SELECT json_group_array(json_array(learner, version, \
     hex(progress))) FROM badgery_progress WHERE learner IN (SELECT value FROM json_each($1))";

/// The compare and swap of a batch's progress, the rows as a JSON list of
/// `[learner, next version, hex progress]` (SQLite).
const SQLITE_UPDATE_PROGRESS: &str = "UPDATE badgery_progress \
     SET version = json_extract(v.value, '$[1]'), progress = unhex(json_extract(v.value, '$[2]')) \
     FROM json_each($1) AS v \
     WHERE badgery_progress.learner = json_extract(v.value, '$[0]') \
     AND badgery_progress.version = json_extract(v.value, '$[1]') - 1";

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    if bytes.len() % 2 != 0 {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

fn progress_from(row: &impl Columns) -> Result<StoredProgress, Error> {
    let version = row.int("version")?;
    let version = u64::try_from(version).map_err(|_| {
        Error::storage(
            "reading progress",
            std::io::Error::other(format!("version {version} is negative")),
        )
    })?;
    Ok(StoredProgress::new(version, row.blob("progress")?))
}
