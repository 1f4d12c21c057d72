//! The store answers the same on both engines: one day's calls of the moved use cases run on a
//! SQLite database and on a PostgreSQL one, and every answer is compared; and on PostgreSQL, where
//! writes commit side by side, a pull that follows the change sequence never skips a change.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use verivali_core::model::{Code, RegionCode, RegionLookup};

use super::{
    Conn, attempts, audit, campaigns, devices, enumerators, household_pages, households, imports,
    map, photos, pull, push, queues, regions, removals, reports, reviews, running_imports,
    supervisors,
};
use crate::db::DbError;
use crate::db::postgres::{Postgres, testing};

/// Runs the calls on `conn` and writes down every answer, one line each.
fn a_day_of_calls(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    conn.execute(
        "INSERT INTO enumerators (enumerator_id, name, created_at) VALUES ('e1', 'Sri Wahyuni', 0)",
        &[],
    )?;
    conn.execute(
        "INSERT INTO areas (enumerator_id, region, rw, rt, added_at) VALUES
             ('e1', '16.04.01.2001', '001', NULL, 0), ('e1', '16.04.01.2002', NULL, NULL, 0)",
        &[],
    )?;
    devices::insert(
        conn,
        &devices::NewDevice {
            device_id: "d1",
            enumerator_id: "e1",
            name: "Samsung A05",
            token_hash: "t1",
            enrolled_at: 10,
        },
    )?;
    said.push(format!("{:?}", devices::by_token(conn, "t1")?));
    said.push(format!("{:?}", devices::by_token(conn, "t2")?));
    said.push(format!("{:?}", devices::areas(conn, "e1")?));
    said.push(format!("{:?}", devices::enumerator_name(conn, "e1")?));
    said.push(format!(
        "renewed {}",
        devices::renew_unused_token(conn, "d1", "t2")?
    ));
    devices::seen(conn, "d1", 1_000)?;
    said.push(format!(
        "renewed after a call {}",
        devices::renew_unused_token(conn, "d1", "t3")?
    ));
    devices::record_finished(conn, "d1", 7)?;
    devices::record_finished(conn, "d1", 5)?;
    said.push(format!(
        "finished {:?}",
        conn.value::<i64>(
            "SELECT finished_seq FROM devices WHERE device_id = 'd1'",
            &[]
        )?
    ));
    said.push(format!("seen since {}", devices::seen_since(conn, 500)?));
    said.push(format!(
        "belongs {}",
        devices::belongs_to(conn, "d1", "e1")?
    ));

    for (id, rw, rt) in [
        ("h1", Some("001"), Some("002")),
        ("h2", None, None),
        ("h3", Some("002"), Some("001")),
    ] {
        households::write_baseline(
            conn,
            &households::Listing {
                household_id: id,
                region: "16.04.01.2001",
                rw,
                rt,
                source: "P3KE",
                source_id: Some(id),
                baseline: r#"{"head":"Sutrisno"}"#,
            },
        )?;
        let seq = households::next_change_seq(conn)?;
        households::set_change_seq(conn, (id, "16.04.01.2001"), seq)?;
    }
    said.push(format!(
        "{:?}",
        households::in_area(conn, "16.04.01.2001", Some("001"), None)?
    ));
    said.push(format!("{:?}", households::baseline(conn, "h1")?));
    said.push(format!(
        "{:?}",
        households::version(conn, ("h2", "16.04.01.2001"))?
    ));
    // Named in another region, a household is not found there.
    said.push(format!(
        "{:?}",
        households::version(conn, ("h2", "16.04.01.2002"))?
    ));
    said.push(format!("{:?}", households::region_of(conn, "h2")?));
    said.push(format!("{:?}", households::change_seq(conn, "h9")?));

    let seq = households::next_change_seq(conn)?;
    households::write_merged(
        conn,
        &households::MergedRow {
            household_id: "h3",
            region: "16.04.01.2001",
            state: r#"{"status":"VISITED"}"#,
            state_hash: "s3",
            status: "VISITED",
            outcome: Some("FOUND"),
            assessment: None,
            recommendation: Some("KEEP"),
            change_seq: seq,
            head_name: "Sutrisno",
            address: "Jl. Merdeka 1",
            target_status: "MERGED_INTO",
            merged_into: Some("h1".into()),
            keys_digest: "k3",
            rw: Some("002"),
            rt: Some("001"),
        },
    )?;
    said.push(format!(
        "{:?}",
        households::state_and_keys_digest(conn, ("h3", "16.04.01.2001"))?
    ));
    said.push(format!("{:?}", households::absorbed_baselines(conn, "h1")?));
    said.push(format!("{:?}", households::absorbed_baselines(conn, "h2")?));

    let nik = ("NIK".to_owned(), "digest-of-a-nik".to_owned());
    let kk = ("KK".to_owned(), "digest-of-a-kk".to_owned());
    said.push(format!(
        "{:?}",
        households::replace_keys(conn, ("h1", "16.04.01.2001"), [], [&nik, &kk])?
    ));
    said.push(format!(
        "{:?}",
        households::replace_keys(conn, ("h2", "16.04.01.2001"), [], [&nik, &nik])?
    ));
    said.push(format!(
        "{:?}",
        households::replace_keys(conn, ("h1", "16.04.01.2001"), [&kk], [])?
    ));
    let mut keys = households::keys_of(conn, "h1")?;
    keys.sort();
    said.push(format!("{keys:?}"));
    said.push(format!(
        "{:?}",
        households::holders_of_key(conn, "NIK", "digest-of-a-nik", "h1", 10)?
    ));
    households::record_duplicate(conn, "h1", "h2", "NIK", 5)?;
    households::record_duplicate(conn, "h1", "h2", "NIK", 6)?;
    push::record_same_family(conn, ("h1", "h9"), "SAME_FAMILY", 7, "h9")?;
    push::record_same_family(conn, ("h1", "h3"), "SAME_FAMILY", 7, "h3")?;
    said.push(format!(
        "{:?}",
        conn.rows(
            "SELECT household_a, household_b, kind, found_at FROM duplicates
             ORDER BY household_a, household_b, kind",
            &[],
            |r| Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<i64>(3)?
            )),
        )?
    ));

    push::insert_visits(
        conn,
        [
            push::NewVisit {
                visit_id: "v1",
                household_id: "h1",
                region: "16.04.01.2001",
                enumerator_id: "e1",
                device_id: "d1",
                device_seq: 3,
                content_hash: "c1",
                body: "{}",
                received_at: 100,
                skew_ms: -20,
                order_time: 90,
                flags: "[]",
                point: Some((-3.8, 103.5)),
            },
            push::NewVisit {
                visit_id: "v2",
                household_id: "h1",
                region: "16.04.01.2001",
                enumerator_id: "e1",
                device_id: "d1",
                device_seq: 4,
                content_hash: "c2",
                body: "{}",
                received_at: 101,
                skew_ms: 0,
                order_time: 95,
                flags: r#"["VIS-03"]"#,
                point: None,
            },
        ],
    )?;
    said.push(format!(
        "{:?}",
        push::content_hashes(conn, ["v2", "v9", "v1"])?
    ));
    said.push(format!("{:?}", push::device_of(conn, "v1")?));
    said.push(format!("{:?}", push::any_stored(conn, ["v8", "v9"])?));
    said.push(format!("{:?}", push::any_stored(conn, ["v8", "v2"])?));
    said.push(format!(
        "{:?}",
        households::visits_and_decisions(conn, "h1")?
    ));
    push::record_rejection(conn, "d1", 6, Some("v6"), r#"["VIS-01"]"#, 110)?;
    push::record_rejection(conn, "d1", 6, None, r#"["NIK-01"]"#, 120)?;
    said.push(format!(
        "{:?}",
        conn.row(
            "SELECT visit_id, codes, rejected_at FROM rejected_seqs WHERE device_id = 'd1'",
            &[],
            |r| Ok((
                r.get::<Option<String>>(0)?,
                r.get::<String>(1)?,
                r.get::<i64>(2)?
            )),
        )?
    ));
    said.push(format!("stored up to {}", pull::stored_up_to(conn, "d1")?));
    said.extend(decisions(conn)?);
    said.extend(household_pages_read(conn)?);
    said.extend(review_queues(conn)?);
    said.extend(imports_and_removals(conn)?);
    said.extend(photos_known(conn)?);
    said.extend(tallies_and_campaigns(conn)?);
    said.extend(supervisors_and_their_log(conn)?);
    said.extend(shared_state(conn)?);
    said.extend(the_data_team(conn)?);
    said.extend(the_map(conn)?);
    said.extend(what_reports_count(conn)?);
    said.push(format!("stored up to {}", pull::stored_up_to(conn, "d2")?));

    let regions = ["16.04.01.2001".to_owned(), "16.04.01.2002".to_owned()];
    let changes = pull::changes_after(conn, &regions, 1, 10)?;
    said.push(format!(
        "{:?}",
        changes.iter().map(|c| c.seq).collect::<Vec<_>>()
    ));
    said.push(format!(
        "{:?}",
        pull::changed_households(conn, &regions, &changes)?
    ));
    said.push(format!(
        "remaining {}",
        pull::changes_remaining(conn, &regions, 2)?
    ));
    said.push(format!(
        "{:?}",
        pull::households_of(conn, "16.04.01.2001")?
            .into_iter()
            .map(|p| p.household_id)
            .collect::<BTreeSet<_>>()
    ));
    Ok(said)
}

/// Supervisors' decisions, and what pulls and merges read of them.
fn decisions(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    said.push(format!("{:?}", reviews::latest_decided_at(conn, "h1")?));
    for (id, visit, enumerator, at) in
        [("r1", Some("v1"), Some("e1"), 500), ("r2", None, None, 600)]
    {
        let seq = households::next_change_seq(conn)?;
        reviews::insert(
            conn,
            &reviews::NewReview {
                review_id: id,
                household_id: "h1",
                region: "16.04.01.2001",
                visit_id: visit,
                enumerator_id: enumerator,
                body: &format!(r#"{{"review_id":"{id}"}}"#),
                decided_at: at,
                change_seq: seq,
            },
            enumerator.into_iter().chain(["e2"]),
        )?;
    }
    said.push(format!("{:?}", reviews::latest_decided_at(conn, "h1")?));
    said.push(format!("{:?}", reviews::body(conn, "r2")?));
    said.push(format!("{:?}", reviews::visit_owner(conn, "v1", "h1")?));
    said.push(format!("{:?}", reviews::visit_owner(conn, "v1", "h2")?));
    said.push(format!("{:?}", reviews::enumerator_of_visit(conn, "v2")?));
    said.push(format!("{:?}", pull::decisions_for(conn, "e2", 0, 100)?));
    said.push(format!("{:?}", pull::decisions_for(conn, "e1", 0, 100)?));
    said.push(format!(
        "{:?}",
        pull::decisions_on_households(conn, 0, 100)?
    ));
    reviews::dismiss_duplicate(conn, ("h1", "h2"), 700)?;
    said.push(format!(
        "{:?}",
        conn.values::<Option<i64>>(
            "SELECT dismissed_at FROM duplicates ORDER BY household_a, household_b, kind",
            &[]
        )?
    ));
    said.push(format!("{:?}", households::region_of(conn, "h2")?));
    said.push(format!("{:?}", households::region_of(conn, "h9")?));
    said.push(format!(
        "{} {}",
        households::is_merged(conn, "h3")?,
        households::is_merged(conn, "h1")?
    ));
    said.push(format!("{:?}", households::status_and_hash(conn, "h3")?));
    said.push(households::state(conn, "h3")?);
    Ok(said)
}

/// What reports count.
fn what_reports_count(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    let villages = ("16.04", "16.04/");
    for (child_len, by_place) in [(8, false), (64, false), (64, true)] {
        // Groups come in no promised order nor split: the report adds them up.
        let mut groups = std::collections::BTreeMap::<String, u64>::new();
        for mut g in reports::households_by_verdict(conn, villages, child_len, by_place)? {
            let n = std::mem::take(&mut g.households);
            *groups.entry(format!("{g:?}")).or_default() += n;
        }
        said.push(format!("{groups:?}"));
    }
    said.push(format!(
        "{:?} {:?}",
        reports::region_name(conn, "16.04")?,
        reports::region_name(conn, "16.09")?
    ));
    for rw in ["001", "-"] {
        said.push(format!(
            "{:?}",
            reports::rw_work_since(conn, "16.04.01.2001", rw, (92, 0))?
        ));
    }
    said.push(format!(
        "pairs {} {} {}",
        reports::duplicates_waiting(conn, villages, None)?,
        reports::duplicates_waiting(conn, villages, Some("-"))?,
        reports::duplicates_waiting(conn, villages, Some("007"))?
    ));
    said.push(format!("{:?}", reports::phones_of_region(conn, villages)?));
    said.push(format!(
        "{:?} {:?}",
        reports::numbers_received(conn, "d1")?,
        reports::numbers_rejected(conn, "d1")?
    ));
    Ok(said)
}

/// The map's clusters counted from visits, and the villages' outlines.
fn the_map(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    let villages = ("16.04", "16.04/");
    // v1 lies at (-3.8, 103.5); one cell of 0.01° holds it, one of 10° too.
    for cell in [0.01, 10.0] {
        said.push(format!(
            "{:?}",
            map::clusters(conn, villages, (-4.0, -3.0, 103.0, 104.0), cell)?
        ));
    }
    said.push(format!(
        "{:?}",
        map::clusters(conn, villages, (0.0, 1.0, 103.0, 104.0), 0.01)?
    ));
    said.push(format!(
        "known {} {}",
        enumerators::region_known(conn, "16.04.01.2001")?,
        enumerators::region_known(conn, "16.04.01.2009")?
    ));
    map::put_outline(
        conn,
        "16.04.01.2001",
        r#"{"type":"Polygon","coordinates":[]}"#,
    )?;
    map::put_outline(
        conn,
        "16.04.01.2001",
        r#"{"type":"Polygon","coordinates":[[]]}"#,
    )?;
    said.push(format!("{:?}", map::outlines(conn, villages)?));
    Ok(said)
}

/// Which phones sent a photo's bytes, and which household a photo belongs to.
fn photos_known(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    photos::record_holder(conn, "abc", "d1")?;
    photos::record_holder(conn, "abc", "d1")?;
    said.push(format!(
        "holds {} {}",
        photos::holds(conn, "abc", "d1")?,
        photos::holds(conn, "abc", "d2")?
    ));
    // A photo of a visit to h3, which was merged into h1: h1's page shows it.
    push::insert_visits(
        conn,
        [push::NewVisit {
            visit_id: "v4",
            household_id: "h3",
            region: "16.04.01.2001",
            enumerator_id: "e1",
            device_id: "d1",
            device_seq: 6,
            content_hash: "c4",
            body: r#"{"photos":[{"sha256":"abc","kind":"HOUSE_FRONT"}]}"#,
            received_at: 103,
            skew_ms: 0,
            order_time: 97,
            flags: "[]",
            point: None,
        }],
    )?;
    said.push(format!(
        "photo of {:?} {:?} {:?}",
        photos::region_of_photo(conn, "h1", "abc")?,
        photos::region_of_photo(conn, "h2", "abc")?,
        photos::region_of_photo(conn, "h1", "abd")?
    ));
    Ok(said)
}

/// Target lists imported, and the families a newer list no longer holds.
fn imports_and_removals(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    said.push(format!("{:?}", enumerators::village_codes(conn)?));
    for (id, region, at) in [("i1", "16.04", 10), ("i2", "16.04.01", 20), ("i3", "", 30)] {
        imports::insert(
            conn,
            &imports::StoredImport {
                import_id: id.into(),
                region: region.into(),
                actor: "supervisor:u1".into(),
                source: "P3KE".into(),
                files: "keluarga.xlsx".into(),
                at,
                report: Some("{}".into()),
                error: None,
            },
        )?;
    }
    said.push(format!("{:?}", imports::by_id(conn, "i2")?));
    said.push(format!("{:?}", imports::by_id(conn, "i9")?));
    said.push(format!(
        "{:?}",
        imports::latest_in(conn, "16.04", 10)?
            .iter()
            .map(|i| &i.import_id)
            .collect::<Vec<_>>()
    ));
    said.push(format!(
        "{:?}",
        removals::listed_of_source(conn, "16.04", "P3KE")?
    ));
    said.push(format!(
        "queued {} {}",
        removals::queue(conn, "h2", "16.04.01.2001", "i1", 40)?,
        removals::queue(conn, "h2", "16.04.01.2001", "i2", 41)?
    ));
    removals::queue(conn, "h1", "16.04.01.2001", "i1", 40)?;
    removals::listed_again(conn, "h1")?;
    said.push(format!("{:?}", removals::waiting(conn, "16.04", 10)?));
    said.push(format!("{:?}", removals::waiting_region(conn, "h2")?));
    removals::decide(conn, "h2", "KEPT", ("supervisor:u1", 50))?;
    said.push(format!("{:?}", removals::waiting_region(conn, "h2")?));
    said.push(format!("{:?}", removals::waiting(conn, "16.04", 10)?));
    Ok(said)
}

/// The review queues.
fn review_queues(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    households::record_duplicate(conn, "h1", "h2", "KK", 8)?;
    push::insert_visits(
        conn,
        [push::NewVisit {
            visit_id: "v3",
            household_id: "h2",
            region: "16.04.01.2001",
            enumerator_id: "e1",
            device_id: "d1",
            device_seq: 5,
            content_hash: "c3",
            body: r#"{"outcome":"FOUND","assessment":"POOR"}"#,
            received_at: 102,
            skew_ms: 0,
            order_time: 96,
            flags: "[]",
            point: None,
        }],
    )?;
    let villages = ("16.04", "16.04/");
    said.push(format!("{:?}", queues::conflicts(conn, villages)?));
    said.push(format!("{:?}", queues::duplicates(conn, villages)?));
    said.push(format!(
        "{:?}",
        queues::undecided_visits(conn, villages, false, "", 10)?
    ));
    said.push(format!(
        "{:?}",
        queues::undecided_visits(conn, villages, true, "", 10)?
    ));
    said.push(format!(
        "{:?}",
        queues::undecided_visits(conn, villages, false, "v2", 10)?
    ));
    said.push(format!("{:?}", queues::proposals(conn, villages)?));
    Ok(said)
}

/// What the supervisors' household pages read.
fn household_pages_read(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    let everything = household_pages::Listed {
        villages: ("16.04", "16.04/"),
        after: "",
        status: None,
        assessment: None,
        recommendation: None,
        flagged: false,
        nik_key: None,
        name_like: None,
        limit: 10,
    };
    let ids = |lines: Vec<household_pages::HouseholdLine>| -> Vec<String> {
        lines.into_iter().map(|l| l.household_id).collect()
    };
    said.push(format!("{:?}", household_pages::page(conn, &everything)?));
    for asked in [
        household_pages::Listed {
            after: "h1",
            limit: 1,
            ..everything
        },
        household_pages::Listed {
            status: Some("VISITED"),
            ..everything
        },
        household_pages::Listed {
            recommendation: Some("KEEP"),
            ..everything
        },
        household_pages::Listed {
            flagged: true,
            ..everything
        },
        household_pages::Listed {
            nik_key: Some("digest-of-a-nik"),
            ..everything
        },
        household_pages::Listed {
            name_like: Some("%sutris%"),
            ..everything
        },
        household_pages::Listed {
            name_like: Some("%tris\\_%"),
            ..everything
        },
        household_pages::Listed {
            villages: ("16.05", "16.05/"),
            ..everything
        },
    ] {
        said.push(format!("{:?}", ids(household_pages::page(conn, &asked)?)));
    }
    for status in [None, Some("VISITED")] {
        let mut exported = Vec::new();
        household_pages::exported::<DbError>(conn, ("16.04", "16.04/"), status, |h| {
            exported.push(h);
            Ok(())
        })?;
        said.push(format!("{exported:?}"));
        said.push(format!(
            "{:?}",
            household_pages::count_exported(conn, ("16.04", "16.04/"), status)?
        ));
    }
    said.push(format!("{:?}", household_pages::placed_state(conn, "h3")?));
    said.push(format!("{:?}", household_pages::placed_state(conn, "h9")?));
    said.push(format!(
        "{:?}",
        household_pages::visits_of_group(conn, "h1")?
    ));
    said.push(format!(
        "{:?}",
        household_pages::visits_of_group(conn, "h2")?
    ));
    said.push(format!("{:?}", household_pages::decisions_on(conn, "h1")?));
    said.push(format!(
        "{:?}",
        household_pages::duplicates_of(conn, "h2", ("16.04", "16.04/"))?
    ));
    said.push(format!(
        "{:?}",
        household_pages::duplicates_of(conn, "h1", ("16.05", "16.05/"))?
    ));
    Ok(said)
}

/// What a push adds to the tallies and campaigns, and what pages read of them.
fn tallies_and_campaigns(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    said.push(format!(
        "regions {:?}",
        regions::RegionList::of(conn)?.is_some()
    ));
    conn.execute(
        "INSERT INTO regions (code, name) VALUES ('16.04.01.2001', 'Desa Tanjung Sakti')",
        &[],
    )?;
    let village = RegionCode::parse("16.04.01.2001").unwrap();
    let list = regions::RegionList::of(conn)?.unwrap();
    said.push(format!(
        "holds {} {}",
        list.contains(&village),
        list.contains(&RegionCode::parse("16.04.01.2002").unwrap())
    ));
    campaigns::insert(
        conn,
        &campaigns::NewCampaign {
            campaign_id: "c1",
            region: "16.04",
            name: "Verval 2026",
            starts_on: "2026-12-01",
            ends_on: "2026-12-31",
            created_by: "admin",
            created_at: 0,
        },
    )?;
    let visit = |household_id, enumerator_id, flagged, point| crate::tallies::TalliedVisit {
        region: "16.04.01.2001",
        enumerator_id,
        household_id,
        campaign_id: Some("c1"),
        order_time: 1_796_144_400_000,
        flagged,
        point,
    };
    for _ in 0..2 {
        crate::tallies::add(
            conn,
            &[
                visit("h1", "e1", true, Some((-3.81, 103.52))),
                visit("h1", "e2", false, Some((-3.81, 103.52))),
                visit("h2", "e1", false, None),
            ],
        )?;
    }
    let day = crate::tallies::local_day(1_796_144_400_000, 7);
    said.push(format!(
        "{:?}",
        crate::tallies::work_since(conn, &RegionCode::parse("16.04").unwrap(), day, day - 6)?
    ));
    said.push(format!(
        "visits {}",
        crate::tallies::visits_between(conn, &village, day - 1, day)?
    ));
    let (cy, cx) = crate::tallies::cell_of(-3.81, 103.52);
    said.push(format!(
        "{:?}",
        crate::tallies::cells(conn, &village, (cy - 1, cy + 1), (cx - 1, cx + 1), 2)?
    ));
    said.push(format!("{:?}", campaigns::all(conn)?));
    said.push(format!(
        "{:?}",
        campaigns::visited_between(conn, "16.04", 0, i64::MAX)?
    ));
    said.push(format!(
        "{:?}",
        campaigns::shared_households(conn, "16.04")?
    ));
    said.push(format!("targets {}", campaigns::targets_in(conn, "16.04")?));
    said.push(format!(
        "visited {}",
        campaigns::visited_in(conn, "c1", ("16.04", "16.04/"))?
    ));
    Ok(said)
}

/// The data team's work on regions, enumerators, areas, phones and supervisors.
fn the_data_team(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    enumerators::put_region(conn, "16.04", "Lahat")?;
    enumerators::put_region(conn, "16.04.01", "Tanjung Sakti")?;
    enumerators::put_region(conn, "16.04", "Kabupaten Lahat")?;
    said.push(format!("{:?}", enumerators::regions_in(conn, "16.04")?));
    enumerators::insert(conn, "e2", "Agus", 5)?;
    said.push(format!(
        "{} {}",
        enumerators::exists(conn, "e2")?,
        enumerators::exists(conn, "e9")?
    ));
    let rt = enumerators::AreaRow {
        region: "16.04.01.2001",
        rw: Some("001"),
        rt: Some("002"),
    };
    let village = enumerators::AreaRow {
        region: "16.04.01.2003",
        rw: None,
        rt: None,
    };
    enumerators::add_area(conn, "e2", rt, 10)?;
    enumerators::add_area(conn, "e2", village, 11)?;
    said.push(format!(
        "removed {} {}",
        enumerators::remove_area(conn, "e2", village, (20, 90))?,
        enumerators::remove_area(conn, "e2", village, (21, 91))?
    ));
    said.push(format!("{:?}", enumerators::area_regions(conn, "e2")?));
    said.push(format!("{:?}", enumerators::areas_held(conn, "e2")?));
    said.push(format!("{:?}", enumerators::working_in(conn, "16.04.01")?));
    said.push(format!("{:?}", pull::areas_taken(conn, "e2", 0, 100)?));
    devices::issue_code(conn, "code1", "e2", 1_000)?;
    said.push(format!("{:?}", devices::code(conn, "code1")?));
    devices::use_code(conn, "code1", "d1", 50)?;
    said.push(format!("{:?}", devices::code(conn, "code1")?));
    devices::record_report(
        conn,
        "d1",
        &devices::Report {
            app_version: "1.4.0",
            unsent_visits: 3,
            unsent_photos: 1,
            drafts: 2,
            at: 60,
        },
    )?;
    said.push(format!("{:?}", devices::of_enumerator(conn, "e1")?));
    said.push(format!(
        "revoked {} {}",
        devices::revoke(conn, "d1", 70)?,
        devices::revoke(conn, "d1", 71)?
    ));
    said.push(format!("{:?}", devices::by_token(conn, "t2")?));
    said.push(format!("{:?}", devices::by_id(conn, "d1")?));
    devices::reenroll(conn, "d1", "t4", "Samsung A15")?;
    said.push(format!("{:?}", devices::by_token(conn, "t4")?));
    supervisors::insert(
        conn,
        &supervisors::NewSupervisor {
            user_id: "u3",
            name: "Rina",
            region: "16.04.01",
            token_hash: "api3",
            role: "VIEWER",
            created_at: 0,
        },
    )?;
    said.push(format!(
        "{} {} {}",
        supervisors::set_role(conn, "u3", "REVIEWER")?,
        supervisors::set_token_hash(conn, "u3", "api4")?,
        supervisors::set_token_hash(conn, "u9", "api5")?
    ));
    supervisors::set_login(conn, "u3", "rina", "hash3")?;
    said.push(format!(
        "{} {}",
        supervisors::release_login(conn, "rina")?,
        supervisors::release_login(conn, "rina")?
    ));
    said.push(format!("{:?}", supervisors::in_region(conn, "16.04.01")?));
    said.push(format!("{:?}", supervisors::region_and_login(conn, "u3")?));
    said.push(format!("households {}", households::count(conn)?));
    said.push(format!(
        "{:?} {:?}",
        households::ids_in(conn, "16.04.01.2001", Some("002"))?,
        households::ids_in(conn, "16.04.01.2001", None)?
    ));
    Ok(said)
}

/// Supervisors signing in and out, and what the audit log shows of it.
fn supervisors_and_their_log(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    conn.execute(
        "INSERT INTO supervisors (user_id, name, region, token_hash, role, created_at) VALUES
             ('u1', 'Dewi Lestari', '16.04', 'api1', 'ADMIN', 0),
             ('u2', 'Bambang', '16.04.01', 'api2', 'REVIEWER', 0)",
        &[],
    )?;
    said.push(format!(
        "set {}",
        supervisors::set_login(conn, "u1", "dewi", "hash1")?
    ));
    said.push(format!(
        "set {}",
        supervisors::set_login(conn, "u9", "nobody", "hash9")?
    ));
    said.push(format!("{:?}", supervisors::holder_of_login(conn, "dewi")?));
    said.push(format!("{:?}", supervisors::password_of(conn, "dewi")?));
    said.push(format!("{:?}", supervisors::password_of(conn, "bambang")?));
    said.push(format!("{:?}", supervisors::name_and_region(conn, "u2")?));
    supervisors::start_session(conn, "s1", "u1", (100, 200))?;
    supervisors::start_session(conn, "s2", "u1", (100, 200))?;
    said.push(format!("{:?}", supervisors::by_session(conn, "s1", 150)?));
    said.push(format!("{:?}", supervisors::by_session(conn, "s1", 250)?));
    supervisors::end_session(conn, "s1", 160)?;
    said.push(format!("{:?}", supervisors::by_session(conn, "s1", 170)?));
    said.push(format!("{:?}", supervisors::by_session(conn, "s2", 170)?));
    supervisors::end_sessions_of(conn, "u1", 180)?;
    said.push(format!("{:?}", supervisors::by_session(conn, "s2", 190)?));
    said.push(format!("{:?}", supervisors::by_token(conn, "api2")?));
    for (at, actor, action, region) in [
        (1, "supervisor:u1", "session:start", None),
        (2, "supervisor:u2", "household:read", Some("16.04.01.2001")),
        (3, "supervisor:u2", "review:approve", Some("16.04.01.2001")),
        (4, "cli", "import", Some("16.05")),
    ] {
        audit::record(
            conn,
            &audit::NewEntry {
                at,
                actor,
                action,
                target: Some("h1"),
                detail: None,
                region,
            },
        )?;
    }
    let everything = audit::Selected {
        region: "16.04",
        with_regionless: true,
        actor: None,
        name_part: None,
        action: None,
        before: None,
        limit: 10,
    };
    let seqs = |entries: Vec<audit::AuditEntry>| -> Vec<(i64, String)> {
        entries
            .into_iter()
            .map(|e| (e.at.unix_millis(), e.actor))
            .collect()
    };
    said.push(format!("{:?}", seqs(audit::entries(conn, &everything)?)));
    said.push(format!(
        "{:?}",
        seqs(audit::entries(
            conn,
            &audit::Selected {
                with_regionless: false,
                actor: Some("bambang"),
                name_part: Some("%BAMBANG%"),
                ..everything
            }
        )?)
    ));
    let newest_first = audit::entries(conn, &everything)?;
    said.push(format!(
        "{:?}",
        seqs(audit::entries(
            conn,
            &audit::Selected {
                action: Some("review:approve"),
                before: newest_first.first().map(|e| e.seq),
                limit: 1,
                ..everything
            }
        )?)
    ));
    said.push(format!("{:?}", audit::actions(conn)?));
    Ok(said)
}

/// State every server process shares: attempts against guessing, imports running.
fn shared_state(conn: Conn<'_>) -> Result<Vec<String>, DbError> {
    let mut said = Vec::new();
    let take = |key, now| attempts::take(conn, key, 2, now, 60);
    said.push(format!(
        "attempts {} {} {}",
        take("ip:a", 0)?,
        take("ip:a", 1)?,
        take("ip:a", 2)?
    ));
    attempts::give_back(conn, "ip:a")?;
    said.push(format!(
        "given back {} {}",
        take("ip:a", 3)?,
        take("ip:a", 4)?
    ));
    said.push(format!("window ended {}", take("ip:a", 60)?));
    let begin = |now, stale_before| running_imports::begin(conn, "i1", "16.04", now, stale_before);
    said.push(format!("begun {} {}", begin(0, -30)?, begin(5, -25)?));
    running_imports::beat(conn, "i1", 40, 100, 10)?;
    said.push(format!("{:?}", running_imports::progress(conn, "i1", -20)?));
    said.push(format!("{:?}", running_imports::progress(conn, "i1", 11)?));
    said.push(format!("taken over {}", begin(50, 11)?));
    running_imports::end(conn, "i1")?;
    said.push(format!("{:?}", running_imports::progress(conn, "i1", 0)?));
    Ok(said)
}

fn on_sqlite() -> Vec<String> {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    crate::db::schema::migrate(&mut conn).unwrap();
    a_day_of_calls((&conn).into()).unwrap()
}

#[test]
fn both_engines_answer_every_call_the_same() {
    let sqlite = on_sqlite();
    // Not a comparison of two empty answers: the day's answers are what the calls mean.
    assert!(sqlite.contains(&"renewed true".to_owned()), "{sqlite:#?}");
    assert!(sqlite.contains(&"renewed after a call false".to_owned()));
    assert!(sqlite.contains(&"finished 7".to_owned()));
    assert!(sqlite.contains(&"stored up to 6".to_owned()));
    assert!(sqlite.contains(&r#"(None, "[\"NIK-01\"]", 120)"#.to_owned()));
    assert!(sqlite.contains(&r#"[Some("c2"), None, Some("c1")]"#.to_owned()));
    assert!(sqlite.contains(&"visits 6".to_owned()));
    assert!(sqlite.contains(&"Some(600)".to_owned()), "{sqlite:#?}");
    assert!(sqlite.contains(&"true false".to_owned()));
    assert!(sqlite.contains(&"removed true false".to_owned()));
    assert!(sqlite.contains(&"queued true false".to_owned()));
    assert!(sqlite.contains(&"holds true false".to_owned()));
    assert!(sqlite.contains(&"known true false".to_owned()));
    assert!(sqlite.contains(&"pairs 1 1 0".to_owned()), "{sqlite:#?}");
    assert!(
        sqlite
            .iter()
            .any(|line| line.contains(r#"visits: 1, flagged: 0, household_id: Some("h1")"#)),
        "a cluster of one visit names its household"
    );
    assert!(sqlite.contains(&r#"photo of Some("16.04.01.2001") None None"#.to_owned()));
    assert!(
        sqlite
            .iter()
            .any(|line| line.contains(r#"outcome: Some("FOUND")"#)),
        "verdicts read from a visit's body"
    );
    assert!(sqlite.contains(&"revoked true false".to_owned()));
    assert!(sqlite.contains(&r#"["h2"]"#.to_owned()), "a page after h1");
    assert!(sqlite.contains(&"visited 2".to_owned()));
    assert!(sqlite.contains(&"attempts true true false".to_owned()));
    assert!(sqlite.contains(&"given back true false".to_owned()));
    assert!(sqlite.contains(&"window ended true".to_owned()));
    assert!(sqlite.contains(&"begun true false".to_owned()));
    assert!(sqlite.contains(&r#"Some(("16.04", 40, 100))"#.to_owned()));
    assert!(sqlite.contains(&"taken over true".to_owned()));
    assert!(
        sqlite.contains(&r#"[(3, "supervisor:u2"), (2, "supervisor:u2")]"#.to_owned()),
        "a name matches whatever its case"
    );
    let Some(db) = testing::fresh() else { return };
    let postgres = db.write_blocking(a_day_of_calls).unwrap();
    assert_eq!(sqlite, postgres);
}

/// Writers take change numbers and commit side by side, each holding its transaction open a
/// moment after taking its number; a puller follows the sequence with a cursor meanwhile, as a
/// phone does. Every number taken must reach it: a change committed after a later-numbered one
/// was seen would be skipped for ever.
#[test]
fn a_pull_following_the_change_sequence_skips_no_change_committed_late() {
    let Some(db) = testing::fresh() else { return };
    const WRITERS: usize = 6;
    const EACH: usize = 40;
    let region = "16.04.01.2001";
    let writing_done = AtomicBool::new(false);
    let (taken, pulled) = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let db = &db;
                scope.spawn(move || write_households(db, w, EACH, region))
            })
            .collect();
        let puller = scope.spawn(|| {
            let mut cursor = 0;
            let mut pulled = Vec::new();
            loop {
                let done = writing_done.load(Ordering::SeqCst);
                let page = db
                    .read_blocking(|conn| {
                        pull::changes_after(conn, &[region.to_owned()], cursor, 1_000)
                    })
                    .unwrap();
                if let Some(last) = page.last() {
                    cursor = last.seq;
                }
                pulled.extend(page.iter().map(|c| c.seq));
                if done {
                    return pulled;
                }
            }
        });
        let taken: Vec<i64> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        writing_done.store(true, Ordering::SeqCst);
        (taken, puller.join().unwrap())
    });
    let taken: BTreeSet<i64> = taken.into_iter().collect();
    assert_eq!(taken.len(), WRITERS * EACH, "every number is taken once");
    let pulled_set: BTreeSet<i64> = pulled.iter().copied().collect();
    assert_eq!(pulled.len(), pulled_set.len(), "no change is pulled twice");
    let missed: Vec<_> = taken.difference(&pulled_set).collect();
    assert!(missed.is_empty(), "changes the pull skipped: {missed:?}");
}

/// `count` households of `region`, each written in a transaction of its own that takes a change
/// number and then waits a moment before it commits; the numbers taken.
fn write_households(db: &Postgres, writer: usize, count: usize, region: &str) -> Vec<i64> {
    (0..count)
        .map(|i| {
            let id = format!("h-{writer}-{i}");
            db.write_blocking(|conn| {
                households::write_baseline(
                    conn,
                    &households::Listing {
                        household_id: &id,
                        region,
                        rw: None,
                        rt: None,
                        source: "P3KE",
                        source_id: None,
                        baseline: "{}",
                    },
                )?;
                let seq = households::next_change_seq(conn)?;
                households::set_change_seq(conn, (&id, region), seq)?;
                std::thread::sleep(std::time::Duration::from_micros(
                    200 + 300 * ((writer + i) % 4) as u64,
                ));
                Ok::<_, DbError>(seq)
            })
            .unwrap()
        })
        .collect()
}
