//! Between the store's records and table columns: times as microseconds, lists and the
//! backend's data as JSON text, images as bytes.

use badgery_backend::{
    Alignment, AwardKey, AwardState, BadgeClassRecord, ClassImage, Error, EvidenceItem, Expiry,
    ImageFormat, IssuedAssertion, PendingAward, Recipient,
};
use chrono::{DateTime, Utc};

/// Binds the columns of `CLAIM` for `$award` (a `&PendingAward`), leased until
/// `$lease_until` (microseconds).
macro_rules! bind_claim {
    ($query:expr, $award:expr, $lease_until:expr) => {{
        let award: &badgery_backend::PendingAward = $award;
        let (state, outcome) = $crate::columns::state_columns(&award.state);
        $query
            .bind(&award.key.learner)
            .bind(&award.key.slug)
            .bind($crate::columns::sequence(&award.key))
            .bind(&award.recipient.email)
            .bind($crate::columns::evidence_json(&award.evidence))
            .bind(&award.reason)
            .bind($crate::columns::micros(award.created))
            .bind(state)
            .bind(outcome)
            .bind(i64::from(award.attempts))
            .bind($crate::columns::micros(award.next_attempt))
            .bind(&award.last_error)
            .bind($lease_until)
    }};
}

/// Binds the columns of `INSERT_ASSERTION` (`$1` to `$13`, which `COMPLETE_POSTGRES` takes
/// too) for `$assertion` (a `&IssuedAssertion`).
macro_rules! bind_assertion {
    ($query:expr, $assertion:expr) => {{
        let assertion: &badgery_backend::IssuedAssertion = $assertion;
        let baked = assertion.baked_image.as_ref();
        $query
            .bind(&assertion.id)
            .bind(&assertion.key.learner)
            .bind(&assertion.key.slug)
            .bind($crate::columns::sequence(&assertion.key))
            .bind(&assertion.issuing_component)
            .bind(&assertion.course)
            .bind(&assertion.backend)
            .bind($crate::columns::micros(assertion.issued_on))
            .bind(&assertion.image_url)
            .bind($crate::columns::json(&assertion.data))
            .bind(baked.map(|b| $crate::columns::format_name(b.format)))
            .bind(baked.map(|b| b.bytes.as_slice()))
            .bind(&assertion.revoked)
    }};
}

/// Reads one column of a row, naming the column when its value cannot be read.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> Result<String, Error>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, Error>;
    fn int(&self, column: &str) -> Result<i64, Error>;
    fn blob(&self, column: &str) -> Result<Vec<u8>, Error>;
    fn opt_blob(&self, column: &str) -> Result<Option<Vec<u8>>, Error>;
}

macro_rules! columns_for {
    ($row:ty) => {
        impl Columns for $row {
            fn text(&self, column: &str) -> Result<String, Error> {
                get(self, column)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, Error> {
                get(self, column)
            }
            fn int(&self, column: &str) -> Result<i64, Error> {
                get(self, column)
            }
            fn blob(&self, column: &str) -> Result<Vec<u8>, Error> {
                get(self, column)
            }
            fn opt_blob(&self, column: &str) -> Result<Option<Vec<u8>>, Error> {
                get(self, column)
            }
        }
    };
}

fn get<'r, R, T>(row: &'r R, column: &str) -> Result<T, Error>
where
    R: sqlx::Row,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(column)
        .map_err(|e| Error::storage(format!("reading column {column}"), e))
}

#[cfg(feature = "sqlite")]
columns_for!(sqlx::sqlite::SqliteRow);
#[cfg(feature = "postgres")]
columns_for!(sqlx::postgres::PgRow);

/// A stored value the store cannot make sense of (written by a later version, or edited by
/// hand).
fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Storage {
        message: format!("stored {what} is not valid: {detail}"),
        source: None,
    }
}

/// A time as stored: microseconds since the epoch (exact for every time chrono holds within
/// ±292 000 years, and ordered like the times).
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn time(column: &str, us: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| corrupt(column, us))
}

pub(crate) fn sequence(key: &AwardKey) -> i64 {
    i64::from(key.sequence)
}

fn sequence_from(us: i64) -> Result<u32, Error> {
    u32::try_from(us).map_err(|_| corrupt("award number", us))
}

pub(crate) fn format_name(format: ImageFormat) -> &'static str {
    format.extension()
}

fn format_from(name: &str) -> Result<ImageFormat, Error> {
    match name {
        "png" => Ok(ImageFormat::Png),
        "svg" => Ok(ImageFormat::Svg),
        other => Err(corrupt("image format", other)),
    }
}

pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // The values written are the backend crate's own types and serde_json::Value: they always
    // serialise.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

pub(crate) fn expiry_json(expiry: Option<&Expiry>) -> Option<String> {
    expiry.map(json)
}

pub(crate) fn alignments_json(alignments: &[Alignment]) -> Option<String> {
    (!alignments.is_empty()).then(|| json(alignments))
}

pub(crate) fn class_from(row: &impl Columns) -> Result<BadgeClassRecord, Error> {
    let image = ClassImage {
        format: format_from(&row.text("image_format")?)?,
        bytes: row.blob("image")?,
    };
    let mut class = BadgeClassRecord::new(
        row.text("slug")?,
        row.text("name")?,
        row.text("description")?,
        String::new(),
        image,
    )
    .with_issuing_component(row.text("issuing_component")?);
    class.course = row.opt_text("course")?;
    class.mode = row.opt_text("mode")?;
    class.criteria_url = row.opt_text("criteria_url")?;
    class.criteria_narrative = row.opt_text("criteria_narrative")?;
    class.expiry = row
        .opt_text("expiry")?
        .map(|e| from_json("class expiry", &e))
        .transpose()?;
    class.alignments = row
        .opt_text("alignments")?
        .map(|a| from_json("class alignments", &a))
        .transpose()?
        .unwrap_or_default();
    class.backend_id = row.opt_text("backend_id")?;
    Ok(class)
}

/// The `state` and `outcome` columns of an award.
pub(crate) fn state_columns(state: &AwardState) -> (&'static str, Option<&str>) {
    match state {
        AwardState::Issued { assertion } => ("issued", Some(assertion)),
        AwardState::Failed { reason } => ("failed", Some(reason)),
        _ => ("pending", None),
    }
}

pub(crate) fn award_from(row: &impl Columns) -> Result<PendingAward, Error> {
    let key = AwardKey::new(
        row.text("learner")?,
        row.text("badge")?,
        sequence_from(row.int("sequence")?)?,
    );
    let mut award = PendingAward::new(
        key,
        Recipient::new(row.text("learner")?, row.text("email")?),
        from_json("award evidence", &row.text("evidence")?)?,
        row.text("reason")?,
        time("created", row.int("created")?)?,
    );
    let outcome = row.opt_text("outcome")?.unwrap_or_default();
    award.state = match row.text("state")?.as_str() {
        "pending" => AwardState::Pending,
        "issued" => AwardState::Issued { assertion: outcome },
        "failed" => AwardState::Failed { reason: outcome },
        other => return Err(corrupt("award state", other)),
    };
    award.attempts = u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX);
    award.next_attempt = time("next_attempt", row.int("next_attempt")?)?;
    award.last_error = row.opt_text("last_error")?;
    Ok(award)
}

pub(crate) fn evidence_json(evidence: &[EvidenceItem]) -> String {
    json(evidence)
}

pub(crate) fn assertion_from(row: &impl Columns) -> Result<IssuedAssertion, Error> {
    let baked_image = match (row.opt_text("baked_format")?, row.opt_blob("baked_image")?) {
        (Some(format), Some(bytes)) => Some(ClassImage {
            format: format_from(&format)?,
            bytes,
        }),
        _ => None,
    };
    Ok(IssuedAssertion {
        id: row.text("id")?,
        key: AwardKey::new(
            row.text("learner")?,
            row.text("badge")?,
            sequence_from(row.int("sequence")?)?,
        ),
        issuing_component: row.text("issuing_component")?,
        course: row.opt_text("course")?,
        backend: row.text("backend")?,
        issued_on: time("issued_on", row.int("issued_on")?)?,
        image_url: row.opt_text("image_url")?,
        data: from_json("assertion data", &row.text("data")?)?,
        baked_image,
        revoked: row.opt_text("revoked")?,
    })
}
