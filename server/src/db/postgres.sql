-- The server's schema on PostgreSQL, at the version `schema::VERSION` names (db/schema.rs has the
-- SQLite one, with the comments on each table). The same tables and columns, so that the store's
-- statements read both; every integer is BIGINT (the store reads them as i64), every real
-- DOUBLE PRECISION. Until issue 16 is closed no PostgreSQL database exists in the field, so this
-- file changes in place; after, it changes by migrations as SQLite's does.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The change sequence's counter: every transaction that takes a number locks this row until it
-- commits, so numbers commit in their order (store::households::next_change_seq).
INSERT INTO meta (key, value) VALUES ('change_seq', '0');

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE boundaries (
    region TEXT PRIMARY KEY,
    geometry TEXT NOT NULL
);

-- Households, visits and reviews are kept by province (declarative partitions by range of the
-- region code, one province each, below): a query of a region's range reads one partition. A
-- key therefore holds the region, and no other table may reference one of them by its id alone
-- (SQLite's references stay; docs/storage.md).
CREATE SEQUENCE households_row_id;
CREATE TABLE households (
    household_id TEXT NOT NULL,
    -- The row's own number, as SQLite's rowid: a pull page finds its changes in the index and
    -- then reads only the page's rows by it.
    row_id BIGINT NOT NULL DEFAULT nextval('households_row_id'),
    region TEXT NOT NULL,
    rw TEXT,
    rt TEXT,
    source TEXT NOT NULL,
    source_id TEXT,
    head_name TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    state_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    assessment TEXT,
    recommendation TEXT,
    keys_digest TEXT NOT NULL DEFAULT '',
    target_status TEXT NOT NULL DEFAULT 'ACTIVE',
    merged_into TEXT,
    change_seq BIGINT NOT NULL,
    PRIMARY KEY (household_id, region)
) PARTITION BY RANGE (region);
CREATE TABLE baselines (
    household_id TEXT PRIMARY KEY,
    baseline TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT ''
);
CREATE INDEX households_by_row ON households (row_id);
CREATE UNIQUE INDEX households_by_source ON households (source, source_id, region)
    WHERE source_id IS NOT NULL;
CREATE INDEX households_by_place ON households (region, rw, rt);
CREATE INDEX households_by_change ON households (region, change_seq) INCLUDE (row_id);
CREATE INDEX households_absorbed ON households (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX households_by_verdict ON households
    (region, target_status, status, outcome, assessment, recommendation, rw, rt);

CREATE TABLE visits (
    visit_id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    enumerator_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_seq BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    skew_ms BIGINT NOT NULL,
    order_time BIGINT NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]',
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    region TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (visit_id, region)
) PARTITION BY RANGE (region);
CREATE INDEX visits_by_household ON visits (household_id, content_hash);
CREATE INDEX visits_by_device ON visits (device_id, device_seq);
CREATE INDEX visits_flagged ON visits (household_id) WHERE flags <> '[]';
CREATE INDEX visits_by_place ON visits (lat, lon) WHERE lat IS NOT NULL;

CREATE FUNCTION visits_immutable() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an accepted visit never changes';
END $$;
CREATE TRIGGER visits_immutable BEFORE UPDATE ON visits
    FOR EACH ROW EXECUTE FUNCTION visits_immutable();

CREATE TABLE visit_days (
    region TEXT NOT NULL,
    day BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    PRIMARY KEY (region, day)
);
CREATE TABLE enumerator_days (
    region TEXT NOT NULL,
    day BIGINT NOT NULL,
    enumerator_id TEXT NOT NULL,
    PRIMARY KEY (region, day, enumerator_id)
);
CREATE TABLE flagged_waiting (
    region TEXT PRIMARY KEY,
    visits BIGINT NOT NULL
);
CREATE TABLE visit_cells (
    region TEXT NOT NULL,
    cy BIGINT NOT NULL,
    cx BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    flagged BIGINT NOT NULL,
    lat_sum DOUBLE PRECISION NOT NULL,
    lon_sum DOUBLE PRECISION NOT NULL,
    household_id TEXT NOT NULL,
    PRIMARY KEY (region, cy, cx)
);

CREATE TABLE reviews (
    review_id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    region TEXT NOT NULL,
    visit_id TEXT,
    enumerator_id TEXT,
    body TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    change_seq BIGINT NOT NULL,
    PRIMARY KEY (review_id, region)
) PARTITION BY RANGE (region);
CREATE INDEX reviews_by_household ON reviews (household_id);
CREATE INDEX reviews_by_enumerator ON reviews (enumerator_id, change_seq);
CREATE INDEX reviews_by_visit ON reviews (visit_id) WHERE visit_id IS NOT NULL;
-- The first decision on a flagged visit takes it out of its village's tally of flagged visits
-- waiting, as SQLite's trigger of the same name.
CREATE FUNCTION reviews_decide_flagged() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM visits WHERE visit_id = NEW.visit_id AND flags <> '[]')
        AND NOT EXISTS (SELECT 1 FROM reviews
                        WHERE visit_id = NEW.visit_id AND review_id <> NEW.review_id) THEN
        UPDATE flagged_waiting SET visits = visits - 1 WHERE region =
            (SELECT h.region FROM visits v JOIN households h ON h.household_id = v.household_id
             WHERE v.visit_id = NEW.visit_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reviews_decide_flagged AFTER INSERT ON reviews
    FOR EACH ROW WHEN (NEW.visit_id IS NOT NULL) EXECUTE FUNCTION reviews_decide_flagged();
CREATE TABLE review_recipients (
    enumerator_id TEXT NOT NULL,
    change_seq BIGINT NOT NULL,
    review_id TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (enumerator_id, change_seq)
);

CREATE TABLE enumerators (
    enumerator_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE areas (
    enumerator_id TEXT NOT NULL REFERENCES enumerators (enumerator_id),
    region TEXT NOT NULL,
    rw TEXT,
    rt TEXT,
    added_at BIGINT NOT NULL,
    removed_at BIGINT,
    removed_seq BIGINT
);
CREATE INDEX areas_by_enumerator ON areas (enumerator_id);

CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    enumerator_id TEXT NOT NULL REFERENCES enumerators (enumerator_id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    device_id TEXT
);

CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    enumerator_id TEXT NOT NULL REFERENCES enumerators (enumerator_id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    enrolled_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_seen_at BIGINT,
    app_version TEXT,
    unsent_visits BIGINT,
    unsent_photos BIGINT,
    drafts BIGINT,
    reported_at BIGINT,
    finished_seq BIGINT
);

CREATE TABLE household_keys (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    household_id TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, key, household_id)
);

CREATE TABLE supervisors (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL DEFAULT 'REVIEWER'
        CHECK (role IN ('VIEWER', 'REVIEWER', 'DATA_OFFICER', 'ADMIN')),
    login TEXT UNIQUE,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES supervisors (user_id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);

CREATE TABLE audit_log (
    seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    region TEXT
);
CREATE INDEX audit_log_by_region ON audit_log (region, seq) WHERE region IS NOT NULL;
CREATE FUNCTION audit_log_append_only() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE attachment_holders (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (sha256, device_id)
);

CREATE TABLE rejected_seqs (
    device_id TEXT NOT NULL,
    device_seq BIGINT NOT NULL,
    visit_id TEXT,
    codes TEXT NOT NULL,
    rejected_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, device_seq)
);

CREATE TABLE duplicates (
    household_a TEXT NOT NULL,
    household_b TEXT NOT NULL,
    kind TEXT NOT NULL,
    found_at BIGINT NOT NULL,
    dismissed_at BIGINT,
    PRIMARY KEY (household_a, household_b, kind)
);

CREATE TABLE target_imports (
    import_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    files TEXT NOT NULL,
    at BIGINT NOT NULL,
    report TEXT,
    error TEXT
);
CREATE INDEX target_imports_by_region ON target_imports (region, at);

CREATE TABLE removal_candidates (
    household_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    import_id TEXT NOT NULL,
    listed_at BIGINT NOT NULL,
    decision TEXT CHECK (decision IN ('REMOVED', 'KEPT')),
    decided_by TEXT,
    decided_at BIGINT
);
CREATE INDEX removal_candidates_waiting ON removal_candidates (region) WHERE decision IS NULL;

CREATE TABLE campaigns (
    campaign_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL CHECK (ends_on >= starts_on),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE campaign_households (
    campaign_id TEXT NOT NULL,
    household_id TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (campaign_id, household_id)
);
CREATE TABLE campaign_villages (
    campaign_id TEXT NOT NULL,
    region TEXT NOT NULL,
    households BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, region)
);

CREATE TABLE attempts (
    key TEXT PRIMARY KEY,
    ends_at BIGINT NOT NULL,
    used BIGINT NOT NULL
);
CREATE INDEX attempts_ending ON attempts (ends_at);

CREATE TABLE running_imports (
    import_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    done BIGINT NOT NULL,
    total BIGINT NOT NULL,
    beat_at BIGINT NOT NULL
);

-- One partition of households, visits and reviews per province (the 38 of Kemendagri's list):
-- '16' to '16/' holds '16' and every code under it ('.' sorts before '/' bytewise), and no
-- other province's. A region outside the list goes to the default partition.
DO $$
DECLARE
    province TEXT;
    kept TEXT;
BEGIN
    FOREACH province IN ARRAY ARRAY['11', '12', '13', '14', '15', '16', '17', '18', '19', '21',
        '31', '32', '33', '34', '35', '36', '51', '52', '53', '61', '62', '63', '64', '65', '71',
        '72', '73', '74', '75', '76', '81', '82', '91', '92', '93', '94', '95', '96'] LOOP
        FOREACH kept IN ARRAY ARRAY['households', 'visits', 'reviews'] LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                kept || '_' || province, kept, province, province || '/');
        END LOOP;
    END LOOP;
END $$;
CREATE TABLE households_other PARTITION OF households DEFAULT;
CREATE TABLE visits_other PARTITION OF visits DEFAULT;
CREATE TABLE reviews_other PARTITION OF reviews DEFAULT;
