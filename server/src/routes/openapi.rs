//! The OpenAPI document of the API, served at `/api/v1/openapi.json`. Written here as data; the
//! tests check that every documented call answers and that every route is documented.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::AppState;
use verivali_core::model::{Labelled, Presence, Relation, Sex, TargetStatus, VerificationStatus};

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(document()) }))
}

/// The errors any call may answer, each an ErrorBody: a bad request, no or a revoked credential,
/// outside the scope or role, not found (a household outside the scope too), too slow, a
/// conflict, too large, an encoding other than gzip, too many attempts, a fault.
fn error_responses() -> Value {
    let error = json!({"$ref": "#/components/responses/Error"});
    let codes = [
        "400", "401", "403", "404", "408", "409", "413", "415", "429", "500",
    ];
    Value::Object(
        codes
            .iter()
            .map(|c| (c.to_string(), error.clone()))
            .collect(),
    )
}

/// `responses` with every error of [`error_responses`] beside them.
fn with_errors(responses: Value) -> Value {
    let mut all = error_responses();
    if let (Value::Object(all), Value::Object(given)) = (&mut all, responses) {
        all.extend(given);
    }
    all
}

fn ok(schema: Value) -> Value {
    let mut responses = error_responses();
    responses["200"] =
        json!({"description": "OK", "content": {"application/json": {"schema": schema}}});
    responses
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn body(name: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema(name)}}})
}

/// The wire codes of an enumeration, from the code itself so that the document cannot lag it.
fn codes<T: Labelled>() -> Value {
    json!({"type": "string", "enum": T::ALL.iter().map(|v| v.code()).collect::<Vec<_>>()})
}

/// A calendar date: an ISO 8601 string (the pattern makes a validator check it as well).
fn date() -> Value {
    json!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn region_param() -> Value {
    json!({"name": "region", "in": "query", "required": false, "schema": {"type": "string"},
           "description": "A region code inside the supervisor's scope (default: the whole scope)"})
}

/// The document.
pub fn document() -> Value {
    let device = json!([{"device": []}]);
    let supervisor = json!([{"supervisor": []}]);
    let decided = ok(schema("ReviewResponse"));
    let uuid = json!({"type": "string", "format": "uuid"});
    let date_time = json!({"type": "string", "format": "date-time"});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Verivali API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Sync for enumerators' phones and review for district supervisors. Every error answers with ErrorBody: a stable code and the message in Bahasa Indonesia and English."
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/devices/enroll": {"post": {
                "summary": "Enroll a phone with a one-time code",
                "requestBody": body("EnrollRequest"), "responses": ok(schema("EnrollResponse"))}},
            "/sync/push": {"post": {
                "summary": "Send finished visits (at most 500); one result per visit",
                "security": device, "requestBody": body("PushRequest"), "responses": ok(schema("PushResponse"))}},
            "/sync/pull": {"get": {
                "summary": "Household states and reviews changed since the cursor, in the device's areas",
                "security": device,
                "parameters": [
                    {"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "app", "in": "query", "required": false, "description": "the phone's app version (PhoneReport), on the first page of a sync", "schema": {"type": "string", "maxLength": 40, "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*$"}},
                    {"name": "unsent", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 1000000000}},
                    {"name": "photos", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 1000000000}},
                    {"name": "drafts", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 1000000000}}
                ],
                "responses": ok(schema("PullResponse"))}},
            "/attachments/missing": {"post": {
                "summary": "Which of these sha256 the server lacks", "security": device,
                "requestBody": body("MissingRequest"), "responses": ok(schema("MissingResponse"))}},
            "/attachments/{sha256}": {
                "parameters": [{"name": "sha256", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
                "put": {"summary": "Upload (or continue uploading) an attachment; the hash is checked", "security": device,
                    "parameters": [
                        {"name": "Upload-Offset", "in": "header", "required": false, "schema": {"type": "integer"}},
                        {"name": "Upload-Length", "in": "header", "required": false, "schema": {"type": "integer"}}
                    ],
                    "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": with_errors(json!({"201": {"description": "Complete"}, "202": {"description": "Partial; Upload-Offset says how much is held"},
                                  "507": {"$ref": "#/components/responses/Error"}}))},
                "head": {"summary": "200 if this device sent all of it, else 404 with Upload-Offset", "security": device,
                    "responses": with_errors(json!({"200": {"description": "Held"}, "404": {"description": "Not held (Upload-Offset: bytes held)"}}))}
            },
            "/bundles": {"post": {
                "summary": "Import a phone's bundle (its unsent visits and photos, sealed); an altered bundle stores nothing. Admins only (403 AUTH-04 otherwise)",
                "security": supervisor,
                "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": with_errors(json!({"200": {"description": "Imported: visits stored, already held, rejected one by one; photos",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}))}},
            "/exports/households": {"get": {
                "summary": "A region's households as CSV, XLSX or GeoJSON; NIK and KK masked unless nik=full by a data officer or admin. Reviewers and above (403 AUTH-04 for a viewer)",
                "security": supervisor,
                "parameters": [region_param(),
                    {"name": "status", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["csv", "xlsx", "geojson"]}},
                    {"name": "nik", "in": "query", "required": false, "schema": {"type": "string", "enum": ["masked", "full"]}}],
                "responses": with_errors(json!({"200": {"description": "The file (Content-Disposition: attachment)"}}))}},
            "/session": {
                "post": {"summary": "Sign in from the browser: login name and password → session cookie (HttpOnly, Secure, SameSite=Strict)",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                        "required": ["login", "password"], "properties": {"login": {"type": "string"}, "password": {"type": "string"}}}}}},
                    "responses": with_errors(json!({"200": {"description": "Signed in; Set-Cookie carries the session"}}))},
                "delete": {"summary": "Sign out: the session cookie stops working",
                    "responses": with_errors(json!({"204": {"description": "Signed out"}}))}
            },
            "/households": {"get": {
                "summary": "Households of a region", "security": supervisor,
                "parameters": [region_param(),
                    {"name": "status", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "assessment", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "recommendation", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "flagged", "in": "query", "required": false, "schema": {"type": "boolean"}},
                    {"name": "after", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer"}}],
                "responses": ok(schema("HouseholdList"))}},
            "/households/search": {"post": {
                "summary": "Households of a region found by a NIK (16 digits) or part of the head's name; the text travels in the body, never in a URL",
                "security": supervisor,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["q"],
                    "properties": {"q": {"type": "string"}, "region": {"type": "string"}, "status": {"type": "string"},
                        "after": {"type": "string"}, "limit": {"type": "integer"}}}}}},
                "responses": ok(schema("HouseholdList"))}},
            "/households/{household_id}": {"get": {
                "summary": "One household: merged state (NIK masked unless nik=full by a role allowed whole numbers), visits with flags, reviews, suspected duplicates; audited",
                "security": supervisor,
                "parameters": [{"name": "household_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
                    {"name": "nik", "in": "query", "required": false, "schema": {"type": "string", "enum": ["masked", "full"]}}],
                "responses": ok(schema("HouseholdDetail"))}},
            "/households/{household_id}/photos/{sha256}": {"get": {
                "summary": "A photo of one of the household's visits (or of a household merged into it), to a supervisor of its region; size=thumb for a 320 px JPEG. The full photo is audited",
                "security": supervisor,
                "parameters": [{"name": "household_id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
                    {"name": "sha256", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                    {"name": "size", "in": "query", "required": false, "schema": {"type": "string", "enum": ["full", "thumb"]}}],
                "responses": with_errors(json!({"200": {"description": "The photo", "content": {"image/jpeg": {}}},
                    "404": {"description": "Not this household's photo (API-03), or not yet uploaded (ATT-04)"},
                    "422": {"description": "Not readable as a JPEG (ATT-05)"}}))}},
            "/queues/conflicts": {"get": {"summary": "Households whose enumerators disagree", "security": supervisor,
                "parameters": [region_param()], "responses": ok(json!({"type": "array", "items": {"type": "object"}}))}},
            "/queues/duplicates": {"get": {"summary": "Suspected duplicates not dismissed or merged (same NIK, KK, or name and birth date; or an enumerator's DUPLICATE_OF or PART_OF_OTHER_FAMILY)", "security": supervisor,
                "parameters": [region_param()], "responses": ok(json!({"type": "array", "items": {"type": "object"}}))}},
            "/queues/visits": {"get": {"summary": "Visits no supervisor has approved or returned yet, paged by visit id; flagged=true for the flagged ones only; audited", "security": supervisor,
                "parameters": [region_param(),
                    {"name": "flagged", "in": "query", "required": false, "schema": {"type": "boolean"}},
                    {"name": "after", "in": "query", "required": false, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "maximum": 200}}],
                "responses": ok(json!({"type": "object"}))}},
            "/queues/proposals": {"get": {"summary": "Households enumerators proposed, waiting to be accepted (APPROVE their visit) or rejected (RETURN it with a reason)", "security": supervisor,
                "parameters": [region_param()], "responses": ok(json!({"type": "array", "items": {"type": "object"}}))}},
            "/reviews": {"post": {"summary": "A supervisor's decision; merged into the household and sent to phones. Reviewers and above (403 AUTH-04 for a viewer)",
                "security": supervisor, "requestBody": body("ReviewRequest"), "responses": decided}},
            "/reviews/approve": {"post": {"summary": "Approves up to 200 visits at once, each its own decision (stored, sent to its phone, audited); the visits refused are listed with their errors. Reviewers and above (403 AUTH-04 for a viewer)",
                "security": supervisor,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["visits"],
                    "properties": {"visits": {"type": "array", "maxItems": 200, "items": {"type": "object", "required": ["household_id", "visit_id"],
                        "properties": {"household_id": {"type": "string", "format": "uuid"}, "visit_id": {"type": "string", "format": "uuid"}}}}}}}}},
                "responses": ok(json!({"type": "object"}))}},
            "/map/clusters": {"get": {"summary": "Visits inside a view (bbox=west,south,east,north) clustered for its zoom on a grid of 64 px cells; a cluster of one visit names its household",
                "security": supervisor,
                "parameters": [region_param(),
                    {"name": "bbox", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "zoom", "in": "query", "required": true, "schema": {"type": "integer", "minimum": 0, "maximum": 20}}],
                "responses": ok(json!({"type": "object"}))}},
            "/map/boundaries": {"get": {"summary": "Imported village outlines of the region (GeoJSON), each with targets, visited and percent_visited",
                "security": supervisor, "parameters": [region_param()],
                "responses": ok(json!({"type": "object", "description": "A GeoJSON FeatureCollection"}))}},
            "/reports/progress": {"get": {"summary": "Targets, visited, found and assessments per child region",
                "security": supervisor, "parameters": [region_param()], "responses": ok(json!({"type": "object"}))}},
            "/reports/overview": {"get": {"summary": "The dashboard's figures: progress, visits today and this week (the district's own day), enumerators active today, queue counts",
                "security": supervisor, "parameters": [region_param()], "responses": ok(json!({"type": "object"}))}},
            "/reports/completeness": {"get": {"summary": "Per device: which device_seq never arrived",
                "security": supervisor, "parameters": [region_param()], "responses": ok(json!({"type": "array", "items": {"type": "object"}}))}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OK"}}}}
        },
        "components": {
            "securitySchemes": {
                "device": {"type": "http", "scheme": "bearer", "description": "The token a phone receives at enrollment"},
                "supervisor": {"type": "http", "scheme": "bearer", "description": "A supervisor's API token"}
            },
            "responses": {
                "Error": {"description": "An error", "content": {"application/json": {"schema": schema("ErrorBody")}}}
            },
            "schemas": {
                "ErrorBody": {"type": "object", "required": ["code", "message_id", "message_en"], "properties": {
                    "code": {"type": "string"}, "message_id": {"type": "string"}, "message_en": {"type": "string"}, "field": {"type": "string"}}},
                "Issue": {"type": "object", "required": ["code", "severity", "field", "message_id", "message_en"], "properties": {
                    "code": {"type": "string"}, "severity": {"enum": ["ERROR", "WARNING", "INFO"]}, "field": {"type": "string"},
                    "message_id": {"type": "string"}, "message_en": {"type": "string"}, "reason": {"type": "string"}}},
                "EnrollRequest": {"type": "object", "required": ["code", "device_id", "device_name"], "properties": {
                    "code": {"type": "string"}, "device_id": {"type": "string", "format": "uuid"}, "device_name": {"type": "string"}}},
                "EnrollResponse": {"type": "object", "required": ["token", "enumerator_id", "enumerator_name", "areas"], "properties": {
                    "token": {"type": "string"}, "enumerator_id": {"type": "string", "format": "uuid"}, "enumerator_name": {"type": "string"},
                    "areas": {"type": "array", "items": {"type": "object", "properties": {"region": {"type": "string"}, "rw": {"type": "string"}, "rt": {"type": "string"}}}}}},
                "Visit": {"type": "object", "required": ["visit_id", "enumerator_id", "device_id", "started_at"],
                    "description": "A household visit (core::model::Visit): ids, times (RFC 3339), the RW and RT where the household was found, outcome, member changes, housing, welfare, assessment, recommendation, photos, supersedes.",
                    "properties": {"visit_id": uuid, "household_id": uuid, "enumerator_id": uuid, "device_id": uuid,
                        "started_at": date_time, "finished_at": date_time,
                        "rw": {"type": "string", "description": "As entered (REG-02 when not 1–999)"},
                        "rt": {"type": "string", "description": "As entered (REG-02 when not 1–999)"},
                        "member_changes": {"type": "array", "items": schema("MemberChange")}}},
                "MemberChange": {"type": "object", "required": ["op"], "properties": {
                    "op": {"enum": ["ADD", "UPDATE", "MARK_PRESENT", "MARK_MOVED", "MARK_DECEASED"]},
                    "member_id": uuid, "member": schema("Member"), "details": schema("MemberDetails"),
                    "date": date()}},
                "Member": {"type": "object", "required": ["member_id", "details", "presence"], "properties": {
                    "member_id": uuid, "source_member_id": {"type": "string"}, "details": schema("MemberDetails"),
                    "presence": codes::<Presence>(), "presence_date": date()}},
                "MemberDetails": {"type": "object", "description": "What a visit observed of a member; NIK masked (1604********0001) unless the role sees whole numbers",
                    "properties": {"name": {"type": "string"}, "nik": {"type": "string"}, "sex": codes::<Sex>(),
                        "birth_place": {"type": "string"}, "birth_date": date(), "relation": codes::<Relation>()}},
                "Household": {"type": "object", "required": ["household_id", "source", "region", "head_name", "target_status"], "properties": {
                    "household_id": uuid, "source": {"type": "string"}, "source_id": {"type": "string"}, "kk_number": {"type": "string"},
                    "region": {"type": "string"}, "rw": {"type": "string"}, "rt": {"type": "string"}, "address": {"type": "string"},
                    "head_name": {"type": "string"}, "target_status": codes::<TargetStatus>(),
                    "members": {"type": "array", "items": schema("Member")}}},
                "HouseholdState": {"type": "object", "required": ["household", "status"], "description": "A household merged from its list entry, its visits and the reviews",
                    "properties": {"household": schema("Household"), "status": codes::<VerificationStatus>(),
                        "outcome": {"type": "string"}, "assessment": {"type": "string"}, "recommendation": {"type": "string"},
                        "merged_into": uuid, "visits_used": {"type": "array", "items": uuid},
                        "conflicts": {"type": "array", "items": {"type": "object", "required": ["field", "visits"], "properties": {
                            "field": {"enum": ["OUTCOME", "ASSESSMENT", "RECOMMENDATION"]}, "visits": {"type": "array", "items": uuid}}}},
                        "last_visit_at": date_time}},
                "HouseholdLine": {"type": "object", "required": ["household_id", "region", "head_name", "address", "status"], "properties": {
                    "household_id": uuid, "region": {"type": "string"}, "rw": nullable_string(), "rt": nullable_string(),
                    "head_name": {"type": "string"}, "address": {"type": "string"}, "status": codes::<VerificationStatus>(),
                    "outcome": nullable_string(), "assessment": nullable_string(), "recommendation": nullable_string()}},
                "VisitLine": {"type": "object", "required": ["visit_id", "enumerator_id", "device_id", "device_seq", "received_at", "order_time", "flags"], "properties": {
                    "visit_id": uuid, "enumerator_id": uuid, "device_id": uuid, "device_seq": {"type": "integer", "minimum": 1},
                    "received_at": date_time, "order_time": date_time, "skew_ms": {"type": "integer"},
                    "duplicate_of": nullable_string(), "flags": {"type": "array", "items": {"type": "string"}},
                    "outcome": nullable_string(), "assessment": nullable_string(), "recommendation": nullable_string()}},
                "PushRequest": {"type": "object", "required": ["sent_at", "items"], "properties": {
                    "sent_at": {"type": "string", "format": "date-time"},
                    "items": {"type": "array", "maxItems": 500, "items": {"type": "object", "required": ["device_seq", "visit"],
                        "properties": {"device_seq": {"type": "integer", "minimum": 1}, "visit": schema("Visit")}}},
                    "finished_up_to": {"type": "integer", "minimum": 0, "description": "the highest device_seq finished on the phone, sent or not"}}},
                "PushResponse": {"type": "object", "required": ["results"], "properties": {"results": {"type": "array", "items": {
                    "type": "object", "required": ["status"], "properties": {
                        "visit_id": {"type": "string"}, "device_seq": {"type": "integer"},
                        "status": {"enum": ["ACCEPTED", "DUPLICATE", "REJECTED"]},
                        "issues": {"type": "array", "items": schema("Issue")}}}}}},
                "PullResponse": {"type": "object", "required": ["households", "reviews", "removed", "next_cursor", "more"], "properties": {
                    "households": {"type": "array", "items": {"type": "object", "required": ["state", "state_hash"], "properties": {"state": schema("HouseholdState"), "state_hash": {"type": "string"}}}},
                    "reviews": {"type": "array", "items": {"type": "object"}}, "removed": {"type": "array", "items": {"type": "string"}},
                    "next_cursor": {"type": "string"}, "more": {"type": "boolean"}, "remaining": {"type": "integer", "minimum": 0},
                    "stored_up_to": {"type": "integer", "minimum": 0, "description": "The highest device_seq of this phone the server holds: the phone sends again what it had acknowledged above it (a server restored from a backup)."}}},
                "MissingRequest": {"type": "object", "required": ["sha256"], "properties": {"sha256": {"type": "array", "items": {"type": "string"}}}},
                "MissingResponse": {"type": "object", "required": ["missing"], "properties": {"missing": {"type": "array", "items": {"type": "string"}}}},
                "HouseholdList": {"type": "object", "required": ["households", "next_after"], "properties": {"households": {"type": "array", "items": schema("HouseholdLine")}, "next_after": nullable_string()}},
                "HouseholdDetail": {"type": "object", "required": ["state", "state_hash", "visits", "reviews", "duplicates"], "properties": {"state": schema("HouseholdState"), "state_hash": {"type": "string"},
                    "visits": {"type": "array", "items": schema("VisitLine")}, "reviews": {"type": "array", "items": {"type": "object"}},
                    "duplicates": {"type": "array", "items": {"type": "object"}}}},
                "ReviewRequest": {"type": "object", "required": ["household_id", "decision"], "properties": {
                    "review_id": {"type": "string", "format": "uuid", "description": "Made by the client so that a decision sent twice is stored once (another decision under a used id: 409, SUP-05)"},
                    "household_id": {"type": "string", "format": "uuid"}, "visit_id": {"type": "string", "format": "uuid"},
                    "decision": {"enum": ["APPROVE", "RETURN", "REQUEST_REVISIT", "RESOLVE_CONFLICT", "MERGE_HOUSEHOLDS", "DISMISS_DUPLICATE"]},
                    "other_household_id": {"type": "string", "format": "uuid"}, "comment": {"type": "string"}}},
                "ReviewResponse": {"type": "object", "properties": {"review_id": {"type": "string"}, "status": {"type": "string"}, "state_hash": {"type": "string"}}}
            }
        }
    })
}
