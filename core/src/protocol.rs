//! Wire types of the sync API (DESIGN §7), shared by the server and the phone so that the two
//! cannot disagree on a field. JSON over HTTP under `/api/v1`.

use serde::{Deserialize, Serialize};

use crate::merge::Merged;
use crate::model::{
    DeviceId, EnumeratorId, HouseholdId, RegionCode, Review, Rt, Rw, Sha256, Timestamp, Visit,
    VisitId,
};
use crate::validate::Issue;

/// The largest number of visits in one push.
pub const MAX_PUSH_ITEMS: usize = 500;
/// The largest push body, in bytes (before gzip).
pub const MAX_PUSH_BYTES: usize = 8 * 1024 * 1024;

/// `POST /api/v1/devices/enroll`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub code: String,
    pub device_id: DeviceId,
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The bearer token for every later call. Shown once; the server keeps only its hash.
    pub token: String,
    pub enumerator_id: EnumeratorId,
    pub enumerator_name: String,
    pub areas: Vec<Area>,
}

/// Where an enumerator works: a village, optionally narrowed to an RW and an RT.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub region: RegionCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rw: Option<Rw>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rt: Option<Rt>,
}

impl Area {
    /// Whether a household at this place lies in the area.
    /// Whether a household at this place is the area's. A household whose RW or RT is not known
    /// yet (P3KE lists carry none) belongs to every RW or RT area of its village, so that RT
    /// heads see and claim it; once a visit records where it was found, it belongs to that RT's.
    pub fn covers(&self, region: &RegionCode, rw: Option<&Rw>, rt: Option<&Rt>) -> bool {
        fn fits<T: PartialEq>(area: Option<&T>, place: Option<&T>) -> bool {
            match (area, place) {
                (Some(area), Some(place)) => area == place,
                _ => true,
            }
        }
        self.region == *region && fits(self.rw.as_ref(), rw) && fits(self.rt.as_ref(), rt)
    }
}

/// One finished visit in a push, with the phone's number for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushItem {
    pub device_seq: u64,
    pub visit: Visit,
}

/// `POST /api/v1/sync/push`. The server reads `items` one by one, so that a bad item is rejected
/// alone: it decodes the body as `PushRequest<serde_json::Value>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest<T = PushItem> {
    /// The phone's clock when it sent the batch: the server measures the phone's skew from it.
    pub sent_at: Timestamp,
    pub items: Vec<T>,
    /// The highest `device_seq` finished on the phone, sent or not: completeness then shows the
    /// visits finished and never sent (a phone lost before its last batches), not only the gaps
    /// below the highest number received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_up_to: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per item, in the order sent.
    pub results: Vec<PushResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    /// Absent only when the item was too malformed to carry one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit_id: Option<VisitId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_seq: Option<u64>,
    pub status: PushStatus,
    /// For REJECTED: why, with the field and both messages. For ACCEPTED: warnings kept as flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Issue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PushStatus {
    /// Stored now.
    Accepted,
    /// Already stored (a retry, or the same content under another id): nothing changed.
    Duplicate,
    /// Not stored; `issues` say why. The phone returns the visit to the drafts.
    Rejected,
}

/// `GET /api/v1/sync/pull?cursor=C&limit=N`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Household states changed since the cursor, in the device's areas.
    pub households: Vec<Merged>,
    /// Supervisors' decisions on this enumerator's visits since the cursor.
    pub reviews: Vec<Review>,
    /// Households that left the device's areas: the phone drops them unless it holds unsent work.
    pub removed: Vec<HouseholdId>,
    pub next_cursor: String,
    /// Another page follows.
    pub more: bool,
    /// Household changes after this page, counted on the index, for a progress bar: an upper
    /// bound, as areas narrowed to an RW or RT are filtered after counting.
    #[serde(default)]
    pub remaining: u64,
    /// The highest `device_seq` of this phone the server holds, stored or rejected. A phone sends
    /// again the visits it had acknowledged above it: the server was restored from a backup taken
    /// before they arrived (`docs/backups.md`). Phones push in order, so what a server holds of a
    /// phone is always its first numbers. Absent from servers older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_up_to: Option<u64>,
}

/// `POST /api/v1/attachments/missing`: which of these photos the server lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingRequest {
    pub sha256: Vec<Sha256>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingResponse {
    /// The hashes the server does not hold complete, in the order asked.
    pub missing: Vec<Sha256>,
}

/// `PUT /api/v1/attachments/{sha256}` headers of a resumable upload: the body starts at
/// `Upload-Offset` of a file of `Upload-Length` bytes. `HEAD` answers the bytes held in
/// `Upload-Offset`, so an interrupted upload continues where it stopped.
pub const UPLOAD_OFFSET: &str = "upload-offset";
pub const UPLOAD_LENGTH: &str = "upload-length";

/// The body of every error answer: a stable code and the message in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message_id: String,
    pub message_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The header each phone request carries its app version in: a server with a minimum version
/// answers an older (or silent) app 426 (DESIGN §7), and the phone keeps its outbox for later.
pub const APP_VERSION_HEADER: &str = "verivali-app";

/// What a phone says of itself at each sync, on its first pull page (query `app`, `unsent`,
/// `photos`, `drafts`): the admin's list of phones shows it, so that a phone holding work it has
/// not sent is seen before it is lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneReport {
    /// The app's version (at most [`PhoneReport::MAX_APP_VERSION`] characters).
    pub app: String,
    /// Finished visits not yet acknowledged by the server.
    pub unsent: u64,
    /// Photos not yet uploaded whole.
    pub photos: u64,
    /// Visits started and not finished.
    pub drafts: u64,
}

impl PhoneReport {
    pub const MAX_APP_VERSION: usize = 40;

    /// The report as query pairs of a pull.
    pub fn query(&self) -> [(&'static str, String); 4] {
        [
            ("app", self.app.clone()),
            ("unsent", self.unsent.to_string()),
            ("photos", self.photos.to_string()),
            ("drafts", self.drafts.to_string()),
        ]
    }
}

/// What an enrollment QR code carries (issue 14): the server's address and a one-time code, as
/// `verivali:enroll?server=<address>&code=<code>`. The server's `/team` page writes it; the phone
/// reads it as the camera scanned it (or the code is typed, with the address known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentPayload {
    pub server: String,
    pub code: String,
}

impl EnrollmentPayload {
    const PREFIX: &'static str = "verivali:enroll?";

    /// The payload's text, its values escaped as in a URL query.
    pub fn text(&self) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("server", &self.server)
            .append_pair("code", &self.code)
            .finish();
        format!("{}{query}", Self::PREFIX)
    }

    /// Reads a scanned payload; `None` when it is not a Verivali enrollment code (another QR
    /// code, a cut scan): the app then says so and asks for the code to be typed.
    pub fn parse(scanned: &str) -> Option<Self> {
        let query = scanned.trim().strip_prefix(Self::PREFIX)?;
        let (mut server, mut code) = (None, None);
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "server" => server = Some(value.trim().to_owned()),
                "code" => code = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let (server, code) = (server?, code?);
        let web = server.starts_with("http://") || server.starts_with("https://");
        (web && !code.is_empty()).then_some(Self { server, code })
    }
}

#[cfg(test)]
mod area_tests {
    use super::Area;
    use crate::model::{Code, RegionCode, Rt, Rw};

    #[test]
    fn an_rt_area_covers_its_rt_and_the_village_households_whose_rt_is_unknown() {
        let village = RegionCode::parse("16.04.01.2001").unwrap();
        let other = RegionCode::parse("16.04.01.2002").unwrap();
        let (rw1, rw2) = (Rw::new(1).unwrap(), Rw::new(2).unwrap());
        let (rt1, rt2) = (Rt::new(1).unwrap(), Rt::new(2).unwrap());
        let area = Area {
            region: village.clone(),
            rw: Some(rw1.clone()),
            rt: Some(rt1.clone()),
        };
        assert!(area.covers(&village, Some(&rw1), Some(&rt1)));
        assert!(area.covers(&village, None, None), "not placed yet");
        assert!(area.covers(&village, Some(&rw1), None), "RW known, RT not");
        assert!(
            !area.covers(&village, Some(&rw1), Some(&rt2)),
            "placed elsewhere"
        );
        assert!(!area.covers(&village, Some(&rw2), None), "another RW");
        assert!(!area.covers(&other, None, None), "another village");
        let whole = Area {
            region: village.clone(),
            rw: None,
            rt: None,
        };
        assert!(whole.covers(&village, Some(&rw2), Some(&rt2)));
        assert_eq!(rt1.as_str(), "001");
    }
}

#[cfg(test)]
mod enrollment_payload_tests {
    use super::EnrollmentPayload;

    #[test]
    fn a_payload_reads_back_as_written_and_anything_else_is_refused() {
        let payload = EnrollmentPayload {
            server: "https://verval.lahatkab.go.id:8443/".into(),
            code: "EJXX-CVZT".into(),
        };
        let text = payload.text();
        assert_eq!(
            text,
            "verivali:enroll?server=https%3A%2F%2Fverval.lahatkab.go.id%3A8443%2F&code=EJXX-CVZT"
        );
        assert_eq!(EnrollmentPayload::parse(&text), Some(payload.clone()));
        assert_eq!(
            EnrollmentPayload::parse(&format!(" {text}\n")),
            Some(payload)
        );
        for other in [
            "",
            "https://example.org",
            "verivali:enroll?code=EJXX-CVZT",
            "verivali:enroll?server=https%3A%2F%2Fx&code=",
            "verivali:enroll?server=javascript%3Aalert(1)&code=A",
            "verivali:enroll?server=%ZZ&code=%",
        ] {
            assert_eq!(EnrollmentPayload::parse(other), None, "{other}");
        }
    }
}
