//! Every string of the pages, one catalogue per language (`id.rs`, `en.rs`). A catalogue is a
//! value of [`Texts`], so a string missing from either language fails to compile. The labels of
//! coded answers (statuses, assessments) come from the core's tables, in the same two languages.

mod en;
mod id;

use verivali_core::model::Labelled;

/// The language of the pages: Bahasa Indonesia unless the browser chose English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Id,
    En,
}

/// The cookie that keeps the choice.
pub const COOKIE: &str = "verivali_lang";

impl Lang {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "id" => Some(Self::Id),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::En => "en",
        }
    }

    /// The other language, which the header offers.
    pub fn other(self) -> Self {
        match self {
            Self::Id => Self::En,
            Self::En => Self::Id,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Self::Id => &id::TEXTS,
            Self::En => &en::TEXTS,
        }
    }

    /// A coded value's label in this language.
    pub fn label<T: Labelled>(self, value: T) -> &'static str {
        match self {
            Self::Id => value.label_id(),
            Self::En => value.label_en(),
        }
    }

    /// A label for a stored code, or the code itself when no value has it.
    pub fn label_of<T: Labelled>(self, code: &str) -> String {
        T::from_code(code).map_or_else(|| code.to_owned(), |v| self.label(v).to_owned())
    }

    /// An error's message in this language.
    pub fn message<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Id => id,
            Self::En => en,
        }
    }
}

/// The strings of one language.
#[derive(Debug)]
pub struct Texts {
    pub language_name: &'static str,
    pub app_tagline: &'static str,
    pub nav_dashboard: &'static str,
    pub nav_households: &'static str,
    pub nav_conflicts: &'static str,
    pub nav_duplicates: &'static str,
    pub sign_out: &'static str,

    pub sign_in_title: &'static str,
    pub login: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub bad_login: &'static str,
    pub too_many_attempts: &'static str,

    /// A banner on the dashboard when the server's free disk falls below `--disk-warn-mib`.
    pub disk_low: &'static str,
    pub dashboard_title: &'static str,
    pub targets: &'static str,
    pub visited: &'static str,
    pub found: &'static str,
    pub percent_done: &'static str,
    pub needs_review: &'static str,
    pub approved: &'static str,
    pub extreme_poor: &'static str,
    pub poor: &'static str,
    pub recommend_remove: &'static str,
    pub visits_today: &'static str,
    pub visits_this_week: &'static str,
    pub enumerators_active_today: &'static str,
    pub queues: &'static str,
    pub queue_conflicts: &'static str,
    pub queue_duplicates: &'static str,
    pub queue_flagged: &'static str,
    pub queue_proposals: &'static str,
    pub progress_by_area: &'static str,
    pub area: &'static str,
    pub total: &'static str,
    pub time_zone: &'static str,

    pub households_title: &'static str,
    pub filter: &'static str,
    pub any: &'static str,
    pub status: &'static str,
    pub assessment: &'static str,
    pub recommendation: &'static str,
    pub outcome: &'static str,
    pub flagged_only: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub head_name: &'static str,
    pub address: &'static str,
    pub rw_rt: &'static str,
    pub next_page: &'static str,
    pub no_households: &'static str,
    pub search_results: &'static str,

    pub household_title: &'static str,
    pub region: &'static str,
    pub source: &'static str,
    pub kk_number: &'static str,
    pub members: &'static str,
    pub name: &'static str,
    pub nik: &'static str,
    pub relation: &'static str,
    pub sex: &'static str,
    pub birth_date: &'static str,
    pub presence: &'static str,
    pub show_whole_nik: &'static str,
    pub show_masked_nik: &'static str,
    pub verdict: &'static str,
    pub last_visit: &'static str,
    pub conflicts: &'static str,
    pub conflict_field: &'static str,
    pub visits: &'static str,
    pub no_visits: &'static str,
    pub enumerator: &'static str,
    pub device: &'static str,
    pub finished_corrected: &'static str,
    pub received: &'static str,
    pub clock_skew: &'static str,
    pub flags: &'static str,
    pub duplicate_of: &'static str,
    pub location: &'static str,
    pub minimap_note: &'static str,
    pub recap_title: &'static str,
    pub recap_heading: &'static str,
    pub recap_subheading: &'static str,
    pub recap_to: &'static str,
    pub recap_made_at: &'static str,
    pub recap_summary: &'static str,
    pub recap_not_found: &'static str,
    pub recap_vulnerable: &'static str,
    pub recap_not_poor: &'static str,
    pub recap_not_assessed: &'static str,
    pub recap_print: &'static str,
    pub recap_print_note: &'static str,
    pub recap_to_district: &'static str,
    pub recap_to_regency: &'static str,
    pub recap_to_province: &'static str,
    pub recap_to_nation: &'static str,
    pub recap_signed_village: &'static str,
    pub recap_signed_district: &'static str,
    pub recap_signed_regency: &'static str,
    pub recap_signed_province: &'static str,
    pub exports_title: &'static str,
    pub export_csv: &'static str,
    pub export_xlsx: &'static str,
    pub export_geojson: &'static str,
    pub export_whole_nik: &'static str,
    pub completeness_title: &'static str,
    pub completeness_note: &'static str,
    pub no_devices: &'static str,
    pub last_sync: &'static str,
    pub visits_received: &'static str,
    pub highest_seq: &'static str,
    pub missing_seqs: &'static str,
    pub rejected_seqs: &'static str,
    pub revoked: &'static str,
    pub nav_completeness: &'static str,
    pub nav_audit: &'static str,
    pub nav_team: &'static str,
    pub team_title: &'static str,
    pub team_saved: &'static str,
    pub team_add_title: &'static str,
    pub team_name: &'static str,
    pub team_area: &'static str,
    pub team_add: &'static str,
    pub team_areas: &'static str,
    pub team_devices: &'static str,
    pub team_add_area: &'static str,
    pub team_move_to: &'static str,
    pub team_move: &'static str,
    pub team_remove: &'static str,
    pub team_code: &'static str,
    pub team_revoke: &'static str,
    pub team_enrolled: &'static str,
    pub team_last_seen: &'static str,
    pub team_never: &'static str,
    pub team_empty: &'static str,
    pub code_title: &'static str,
    pub code_note: &'static str,
    pub audit_title: &'static str,
    pub audit_note: &'static str,
    pub audit_who: &'static str,
    pub audit_action: &'static str,
    pub audit_any: &'static str,
    pub audit_time: &'static str,
    pub audit_target: &'static str,
    pub audit_detail: &'static str,
    pub audit_filter: &'static str,
    pub audit_download: &'static str,
    pub audit_empty: &'static str,
    pub map_title: &'static str,
    pub map_note: &'static str,
    pub map_needs_script: &'static str,
    pub map_visits: &'static str,
    pub map_flagged: &'static str,
    pub excluded: &'static str,
    pub reviews: &'static str,
    pub no_reviews: &'static str,
    pub reviewer: &'static str,
    pub comment: &'static str,
    pub return_reason: &'static str,
    pub choose_this_visit: &'static str,
    pub decision_saved: &'static str,
    pub duplicates: &'static str,
    pub dismissed: &'static str,

    pub conflicts_title: &'static str,
    pub duplicates_title: &'static str,
    pub matched_key: &'static str,
    pub queue_empty: &'static str,
    pub compare_note: &'static str,
    pub visits_title: &'static str,
    pub flagged_title: &'static str,
    pub proposals_title: &'static str,
    pub select: &'static str,
    pub approve_selected: &'static str,
    pub bulk_approved: &'static str,
    pub bulk_refused: &'static str,
    pub accept_proposal: &'static str,
    pub reject_proposal: &'static str,
    pub reject_reason: &'static str,
    pub nav_visits: &'static str,
    pub nav_proposals: &'static str,
    pub duplicate_pair_title: &'static str,
    pub shared_member: &'static str,
    pub shared_member_note: &'static str,
    pub keep_left: &'static str,
    pub keep_right: &'static str,
    pub not_duplicate: &'static str,
    pub merge_note: &'static str,
    pub compare: &'static str,
    pub merged_into_note: &'static str,
    pub merged_from: &'static str,
    pub key_nik: &'static str,
    pub key_kk: &'static str,
    pub key_name_birth: &'static str,
    pub key_duplicate_of: &'static str,
    pub key_part_of_other_family: &'static str,

    pub flag_left_area: &'static str,
    pub flag_clock_skew: &'static str,
    pub flag_future_time: &'static str,

    pub error_title: &'static str,
    pub back: &'static str,
    pub team_village: &'static str,
    pub team_find: &'static str,
    pub team_find_button: &'static str,
    pub flag_before_campaign: &'static str,
    pub nav_campaigns: &'static str,
    pub campaigns_title: &'static str,
    pub campaigns_note: &'static str,
    pub campaigns_add_title: &'static str,
    pub campaigns_name: &'static str,
    pub campaigns_starts: &'static str,
    pub campaigns_ends: &'static str,
    pub campaigns_create: &'static str,
    pub campaigns_empty: &'static str,
    pub campaigns_under_way: &'static str,
    pub campaigns_visited: &'static str,
    pub campaigns_visits: &'static str,
    pub campaigns_targets: &'static str,
    pub team_app: &'static str,
    pub team_unsent: &'static str,
    pub team_unsent_visits: &'static str,
    pub team_unsent_photos: &'static str,
    pub team_drafts: &'static str,
    pub sheet_title: &'static str,
    pub sheet_note: &'static str,
    pub sheet_empty: &'static str,
    pub sheet_make: &'static str,
    pub sheet_make_note: &'static str,
    pub nav_people: &'static str,
    pub people_title: &'static str,
    pub people_note: &'static str,
    pub people_saved: &'static str,
    pub people_add_title: &'static str,
    pub people_login: &'static str,
    pub people_role: &'static str,
    pub people_password: &'static str,
    pub people_save: &'static str,
    pub people_reset: &'static str,
    pub nav_imports: &'static str,
    pub imports_title: &'static str,
    pub imports_note: &'static str,
    pub imports_source: &'static str,
    pub imports_family_file: &'static str,
    pub imports_individual_file: &'static str,
    pub imports_upload: &'static str,
    pub imports_recent: &'static str,
    pub imports_none: &'static str,
    pub imports_columns_title: &'static str,
    pub imports_columns_note: &'static str,
    pub imports_field: &'static str,
    pub imports_column: &'static str,
    pub imports_not_in_file: &'static str,
    pub imports_start: &'static str,
    pub import_title: &'static str,
    pub import_running: &'static str,
    pub import_rows: &'static str,
    pub import_reload: &'static str,
    pub import_added: &'static str,
    pub import_updated: &'static str,
    pub import_unchanged: &'static str,
    pub import_candidates: &'static str,
    pub import_left_out: &'static str,
    pub import_flagged: &'static str,
    pub import_download: &'static str,
    pub import_failed: &'static str,
    pub import_file: &'static str,
    pub import_line: &'static str,
    pub import_family: &'static str,
    pub import_code: &'static str,
    pub import_reason: &'static str,
    pub import_by: &'static str,
    pub import_outcome: &'static str,
    pub nav_removals: &'static str,
    pub removals_title: &'static str,
    pub removals_note: &'static str,
    pub removals_empty: &'static str,
    pub removals_remove: &'static str,
    pub removals_keep: &'static str,
    pub removals_visits: &'static str,
    pub removals_since: &'static str,
    pub removals_waiting: &'static str,
    pub nav_bundles: &'static str,
    pub bundles_title: &'static str,
    pub bundles_note: &'static str,
    pub bundles_file: &'static str,
    pub bundles_upload: &'static str,
    pub bundles_device: &'static str,
    pub bundles_visits: &'static str,
    pub bundles_stored: &'static str,
    pub bundles_held: &'static str,
    pub bundles_rejected: &'static str,
    pub bundles_photos: &'static str,
    pub bundles_field: &'static str,
}

impl Texts {
    /// What a suspected duplicate pair shares (its `kind` in the duplicates table).
    pub fn matched_by(&self, kind: &str) -> &'static str {
        match kind {
            "NIK" => self.key_nik,
            "KK" => self.key_kk,
            "NAME_BIRTH" => self.key_name_birth,
            "DUPLICATE_OF" => self.key_duplicate_of,
            "PART_OF_OTHER_FAMILY" => self.key_part_of_other_family,
            _ => self.matched_key,
        }
    }

    /// What a visit's flag means, or `None` for a validation code (its rule says).
    pub fn flag(&self, flag: &str) -> Option<&'static str> {
        match flag {
            "LEFT_AREA" => Some(self.flag_left_area),
            "CLOCK_SKEW" => Some(self.flag_clock_skew),
            "FUTURE_TIME" => Some(self.flag_future_time),
            "BEFORE_CAMPAIGN" => Some(self.flag_before_campaign),
            _ => None,
        }
    }
}
