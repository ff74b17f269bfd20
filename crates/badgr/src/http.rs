//! Reading Badgr's responses: bounded bodies, the v2 envelope, and what each status means.

use badgery_backend::Error;
use serde_json::Value;

/// The largest response body read, in bytes: a Badgr answer is a few kilobytes, a page of
/// assertions with their baked-image URLs well under this.
pub(crate) const MAX_BODY: usize = 4 << 20;

/// A response read whole: its status and its body as JSON (Badgr sends JSON even where it
/// labels it `text/html`, as its token errors do; a body that is not JSON is kept as a
/// string).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// Sends `request` and reads the answer, never more than [`MAX_BODY`] bytes of it.
pub(crate) async fn send(request: reqwest::RequestBuilder, what: &str) -> Result<Answer, Error> {
    let mut response = request.send().await.map_err(|e| transport(what, e))?;
    let status = response.status().as_u16();
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BODY as u64)
    {
        return Err(too_long(what));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport(what, e))? {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(too_long(what));
        }
        bytes.extend_from_slice(&chunk);
    }
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok(Answer { status, body })
}

fn transport(what: &str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout(format!("{what}: {e}"))
    } else {
        Error::unavailable_from(format!("{what}: Badgr could not be reached"), e)
    }
}

fn too_long(what: &str) -> Error {
    Error::unavailable(format!(
        "{what}: Badgr's answer is longer than {MAX_BODY} bytes"
    ))
}

impl Answer {
    /// The v2 envelope's `result` list of a 2xx answer, or the error its status means:
    /// 5xx and 429 transient, 404 not found, other 4xx a refusal with Badgr's messages.
    pub(crate) fn result(self, what: &str) -> Result<Vec<Value>, Error> {
        match self.status {
            200..=299 => match self.body.get("result") {
                Some(Value::Array(items)) => Ok(items.clone()),
                _ => Err(Error::unavailable(format!(
                    "{what}: Badgr answered {} without a result list",
                    self.status
                ))),
            },
            429 | 500..=599 => Err(Error::unavailable(format!(
                "{what}: Badgr answered {}: {}",
                self.status,
                self.messages()
            ))),
            404 => Err(Error::NotFound(format!("{what}: {}", self.messages()))),
            status => Err(Error::Rejected(format!(
                "{what}: Badgr answered {status}: {}",
                self.messages()
            ))),
        }
    }

    /// Badgr's messages, from wherever it put them: the status description,
    /// `validationErrors`, and `fieldErrors` (a list, a string or a nested object per
    /// field); an OAuth `error` and `error_description`.
    pub(crate) fn messages(&self) -> String {
        let mut messages = Vec::new();
        let body = &self.body;
        if let Some(text) = body.as_str() {
            messages.push(text.chars().take(200).collect());
        }
        for key in ["error", "error_description"] {
            if let Some(text) = body.get(key).and_then(Value::as_str) {
                messages.push(text.to_owned());
            }
        }
        if let Some(text) = body.pointer("/status/description").and_then(Value::as_str) {
            messages.push(text.to_owned());
        }
        if let Some(Value::Array(errors)) = body.get("validationErrors") {
            messages.extend(errors.iter().map(flatten));
        }
        if let Some(Value::Object(fields)) = body.get("fieldErrors") {
            for (field, errors) in fields {
                messages.push(format!("{field}: {}", flatten(errors)));
            }
        }
        if messages.is_empty() {
            "no message".to_owned()
        } else {
            messages.join("; ")
        }
    }
}

/// A field error as one line, whatever its shape.
fn flatten(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(", "),
        Value::Object(fields) => fields
            .iter()
            .map(|(field, errors)| format!("{field}: {}", flatten(errors)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> Answer {
        Answer { status, body }
    }

    #[test]
    fn field_errors_of_every_shape_are_read() {
        // As recorded: a list, a bare string, and a nested object (recipient.non_field_errors).
        let body = json!({
            "status": {"success": false, "description": "invalid"},
            "fieldErrors": {
                "name": ["This field is required."],
                "image": "Invalid image.",
                "recipient": {"non_field_errors": ["Invalid email address."]}
            },
            "validationErrors": ["A previous award of this badge already exists for this recipient."]
        });
        let e = answer(400, body).result("awarding").unwrap_err();
        let text = e.to_string();
        for part in [
            "name: This field is required.",
            "image: Invalid image.",
            "recipient: non_field_errors: Invalid email address.",
            "A previous award of this badge already exists",
        ] {
            assert!(text.contains(part), "{text}");
        }
        assert!(matches!(e, Error::Rejected(_)));
    }

    #[test]
    fn statuses_map_to_what_a_retry_can_do() {
        let envelope = json!({"status": {"success": false, "description": "x"}});
        assert!(
            answer(503, envelope.clone())
                .result("a")
                .unwrap_err()
                .is_retryable()
        );
        assert!(
            answer(429, envelope.clone())
                .result("a")
                .unwrap_err()
                .is_retryable()
        );
        assert!(matches!(
            answer(404, envelope.clone()).result("a"),
            Err(Error::NotFound(_))
        ));
        assert!(
            !answer(400, envelope)
                .result("a")
                .unwrap_err()
                .is_retryable()
        );
        let ok = answer(
            200,
            json!({"status": {"success": true}, "result": [{"a": 1}]}),
        );
        assert_eq!(ok.result("a").unwrap(), [json!({"a": 1})]);
        assert!(
            answer(200, json!("<html>"))
                .result("a")
                .unwrap_err()
                .is_retryable()
        );
    }
}
