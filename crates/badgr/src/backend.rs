//! The `BadgeBackend` over Badgr: classes created once, awards issued once per award key.

use async_trait::async_trait;
use badgery_backend::{
    AwardRequest, BadgeBackend, BadgeClassRecord, Error, Expiry, IssuedAssertion,
};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::session::Session;

/// Badgr's answer to a second award of a class to a recipient with `allowDuplicateAwards`
/// false (exchange 21).
const DUPLICATE: &str = "A previous award of this badge already exists for this recipient";
/// Badgr's answer to a second revocation (exchange 43).
const ALREADY_REVOKED: &str = "Assertion is already revoked";

/// Awards to Badgr (or Canvas Credentials) as one issuer.
#[derive(Debug)]
pub struct BadgrBackend {
    session: Session,
    issuer: String,
    notify: bool,
}

impl BadgrBackend {
    /// Issues as the Badgr issuer `issuer` (its `entityId`) through `session`. Learners are
    /// not notified by Badgr (`notify: false`; Badgr still mails a first award to an address
    /// it has never seen) unless [`BadgrBackend::notifying`] says so.
    pub fn new(session: Session, issuer: impl Into<String>) -> Self {
        BadgrBackend {
            session,
            issuer: issuer.into(),
            notify: false,
        }
    }

    /// Whether Badgr emails each learner their award.
    pub fn notifying(mut self, notify: bool) -> Self {
        self.notify = notify;
        self
    }

    /// The session (for its counts).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The tag that marks a class Badgery created, so that a class created by a call whose
    /// answer was lost is found rather than created twice.
    fn slug_tag(class: &BadgeClassRecord) -> String {
        format!("badgery:{}", class.slug)
    }

    /// The entityId of the first-created class of this issuer tagged `tag`.
    async fn tagged_class(&self, tag: &str) -> Result<Option<String>, Error> {
        let classes = self
            .session
            .get(&format!("/v2/issuers/{}/badgeclasses", self.issuer))
            .await?;
        let mut tagged: Vec<&Value> = classes
            .iter()
            .filter(|c| {
                c.get("tags")
                    .and_then(Value::as_array)
                    .is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(tag)))
            })
            .collect();
        tagged.sort_by_key(|c| {
            (
                c["createdAt"].as_str().map(str::to_owned),
                c["entityId"].as_str().map(str::to_owned),
            )
        });
        tagged
            .first()
            .map(|c| entity_id(c, "finding the class"))
            .transpose()
    }

    /// The recipient's awards of Badgr class `class_id`, revoked and expired included.
    async fn awards_of(&self, class_id: &str, email: &str) -> Result<Vec<Value>, Error> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("recipient", email)
            .append_pair("include_revoked", "true")
            .append_pair("include_expired", "true")
            .finish();
        let path = format!("/v2/badgeclasses/{class_id}/assertions?{query}");
        self.session.get(&path).await
    }
}

fn entity_id(item: &Value, what: &str) -> Result<String, Error> {
    item.get("entityId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::unavailable(format!("{what}: Badgr's answer has no entityId")))
}

#[async_trait]
impl BadgeBackend for BadgrBackend {
    fn name(&self) -> &str {
        "badgr"
    }

    async fn ensure_class(&self, class: &BadgeClassRecord) -> Result<String, Error> {
        if let Some(id) = &class.backend_id {
            // Set by an admin (a class made in Badgr's own interface), or by an earlier call.
            return Ok(id.clone());
        }
        let tag = Self::slug_tag(class);
        if let Some(found) = self.tagged_class(&tag).await? {
            return Ok(found);
        }
        let image = format!(
            "data:{};base64,{}",
            class.image.format.media_type(),
            base64::engine::general_purpose::STANDARD.encode(&class.image.bytes)
        );
        let mut tags = vec![tag.clone()];
        if !class.issuing_component.is_empty() {
            tags.push(class.issuing_component.clone());
        }
        let mut body = json!({
            "name": class.name, "description": class.description, "image": image, "tags": tags,
        });
        if let Some(url) = &class.criteria_url {
            body["criteriaUrl"] = json!(url);
        }
        if let Some(narrative) = &class.criteria_narrative {
            body["criteriaNarrative"] = json!(narrative);
        }
        if !class.alignments.is_empty() {
            body["alignments"] = class
                .alignments
                .iter()
                .map(|a| {
                    let mut item = json!({"targetName": a.target_name, "targetUrl": a.target_url});
                    for (field, value) in [
                        ("targetDescription", &a.target_description),
                        ("targetFramework", &a.target_framework),
                        ("targetCode", &a.target_code),
                    ] {
                        if let Some(value) = value {
                            item[field] = json!(value);
                        }
                    }
                    item
                })
                .collect();
        }
        if let Some(Expiry::AfterDays(days)) = class.expiry {
            // Shown in Badgr's interface; Badgr does not apply it to awards (see `award`).
            body["expires"] = json!({"amount": days, "duration": "days"});
        }
        self.session
            .call(
                Method::POST,
                &format!("/v2/issuers/{}/badgeclasses", self.issuer),
                Some(&body),
            )
            .await?;
        // Two app servers creating the class at once both succeed (Badgr has no unique
        // key for it): both then take the first one created, so every award goes to one.
        self.tagged_class(&tag).await?.ok_or_else(|| {
            Error::unavailable(format!("creating a class: Badgr does not list {tag}"))
        })
    }

    async fn award(&self, request: &AwardRequest) -> Result<IssuedAssertion, Error> {
        let class = &request.class;
        let class_id = class.backend_id.clone().ok_or_else(|| {
            Error::Rejected(format!("class {} has no Badgr entityId yet", class.slug))
        })?;
        let email = &request.recipient.email;
        // A repeated award (number 2 and on) is allowed to duplicate; it is found again by
        // counting the recipient's awards of the class.
        let repeat = request.key.sequence > 1;
        if repeat {
            let mut awards = self.awards_of(&class_id, email).await?;
            awards.sort_by(|a, b| a["createdAt"].as_str().cmp(&b["createdAt"].as_str()));
            if let Some(found) = awards.get(request.key.sequence as usize - 1) {
                return issued(request, found);
            }
        }
        let evidence: Vec<Value> = request
            .evidence
            .iter()
            .filter(|e| e.url.is_some() || e.narrative.is_some())
            .map(|e| {
                // Never a null URL: Badgr stores it as "None" (the proposal's bug list).
                let mut item = serde_json::Map::new();
                if let Some(url) = &e.url {
                    item.insert("url".into(), json!(url));
                }
                if let Some(narrative) = &e.narrative {
                    item.insert("narrative".into(), json!(narrative));
                }
                Value::Object(item)
            })
            .collect();
        let mut body = json!({
            "recipient": {"identity": email, "type": "email", "hashed": true},
            "issuedOn": request.issued_on.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "notify": self.notify,
            "allowDuplicateAwards": repeat,
            "evidence": evidence,
        });
        if let Some(narrative) = &request.narrative {
            body["narrative"] = json!(narrative);
        }
        // Badgr does not apply a class's expiry to awards: each award carries its own.
        let expires = match class.expiry {
            Some(Expiry::At(date)) => Some(date),
            Some(Expiry::AfterDays(days)) => request
                .issued_on
                .checked_add_signed(chrono::Duration::days(i64::from(days))),
            _ => None,
        };
        if let Some(expires) = expires {
            body["expires"] = json!(expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        let path = format!("/v2/badgeclasses/{class_id}/assertions");
        match self.session.call(Method::POST, &path, Some(&body)).await {
            Ok(result) => match result.first() {
                Some(found) => issued(request, found),
                None => Err(Error::unavailable("awarding: Badgr's result is empty")),
            },
            // An earlier call for this award reached Badgr and its answer was lost: adopt it.
            Err(Error::Rejected(message)) if message.contains(DUPLICATE) => {
                let awards = self.awards_of(&class_id, email).await?;
                let live = awards
                    .iter()
                    .find(|a| a.get("revoked").and_then(Value::as_bool) != Some(true));
                match live {
                    Some(found) => issued(request, found),
                    None => Err(Error::unavailable(format!(
                        "awarding: Badgr says {email} holds class {class_id} but lists no award"
                    ))),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn revoke(
        &self,
        assertion: &IssuedAssertion,
        reason: &str,
    ) -> Result<IssuedAssertion, Error> {
        let entity = assertion
            .data
            .get("entityId")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Rejected(format!("{} has no Badgr entityId", assertion.id)))?;
        let body = json!({"revocation_reason": reason});
        match self
            .session
            .call(
                Method::DELETE,
                &format!("/v2/assertions/{entity}"),
                Some(&body),
            )
            .await
        {
            Ok(_) => {}
            // Exchange 43: revoked already (an earlier call's answer was lost) is done.
            Err(Error::Rejected(message)) if message.contains(ALREADY_REVOKED) => {}
            Err(e) => return Err(e),
        }
        let mut revoked = assertion.clone();
        revoked.revoked = Some(reason.to_owned());
        revoked.baked_image = None;
        Ok(revoked)
    }
}

/// The issued assertion for `request` from Badgr's assertion object, keeping its `entityId`
/// and `openBadgeId`.
fn issued(request: &AwardRequest, found: &Value) -> Result<IssuedAssertion, Error> {
    let entity = entity_id(found, "awarding")?;
    let open_badge_id = found
        .get("openBadgeId")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::unavailable("awarding: Badgr's answer has no openBadgeId"))?;
    Ok(IssuedAssertion {
        id: open_badge_id.to_owned(),
        key: request.key.clone(),
        issuing_component: request.class.issuing_component.clone(),
        course: request.class.course.clone(),
        backend: "badgr".to_owned(),
        issued_on: request.issued_on,
        image_url: found
            .get("image")
            .and_then(Value::as_str)
            .map(str::to_owned),
        data: json!({"entityId": entity, "openBadgeId": open_badge_id}),
        baked_image: None,
        revoked: None,
    })
}
