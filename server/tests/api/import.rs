use std::collections::BTreeMap;

use indicatif::ProgressBar;
use verivali_core::model::*;
use verivali_server::db::DbError;
use verivali_server::import::{ImportOptions, import_targets};

use crate::helpers::TestApp;

pub(crate) const FAMILIES: &str = "\
ID Keluarga P3KE,Provinsi,Kabupaten/Kota,Kecamatan,Desa/Kelurahan,Kode Kemdagri,Desil Kesejahteraan,Alamat,Prioritas Verval,Kepala Keluarga,NIK Kepala Keluarga,Penerima PKH,Penerima BPNT
900000001,SUMATERA SELATAN,LAHAT,CONTOH,DESA A,1604012001,1,  KP. SUKAMAJU   RT 01 ,NORMAL,SITI RAHAYU,,Ya,Tidak
900000002,SUMATERA SELATAN,LAHAT,CONTOH,DESA A,1604012001,2,KP. SUKAMAJU,NORMAL,BUDI SANTOSO,,Tidak,Ya
900000003,SUMATERA SELATAN,LAHAT,CONTOH,DESA X,1604019999,1,KP. HILANG,NORMAL,JOKO,,Tidak,Tidak
,SUMATERA SELATAN,LAHAT,CONTOH,DESA A,1604012001,1,TANPA ID,NORMAL,NUR,,Tidak,Tidak
900000004,SUMATERA SELATAN,LAHAT,CONTOH,DESA B,1604012002,12,KP. BARU,NORMAL,EKO,,Tidak,Tidak
";

pub(crate) const INDIVIDUALS: &str = "\
ID Keluarga P3KE,Kode Kemdagri,ID Individu,Nama,NIK,Jenis Kelamin,Hubungan dengan Kepala Keluarga,Tanggal Lahir,Status Kawin,Pekerjaan,Pendidikan
900000001,1604012001,1,SITI RAHAYU,1.60401E+15,perempuan,KEPALA KELUARGA,1980-05-01,CERAI MATI,PETANI,TAMAT SD
900000001,1604012001,2,WATI,,PEREMPUAN,ANAK,12-08-2010,BELUM KAWIN,TIDAK/BELUM BEKERJA,MASIH SD
900000002,1604012001,3,BUDI SANTOSO,1604 0101 0175 0002,LAKI-LAKI,kepala keluarga,01/01/1975,KAWIN,NELAYAN,TAMAT SD
900000002,1604012001,4,DEWI,1604014202780003,P,ISTRI/SUAMI,1978-02-02,KAWIN,PEDAGANG,TAMAT SLTP
900000004,1604012002,5,EKO,1604010303800004,L,KEPALA KELUARGA,1980-03-03,KAWIN,GURU HONORER,TAMAT SLTA
900000077,1604012001,6,ORANG LAIN,1604010404900005,L,KEPALA KELUARGA,1990-04-04,KAWIN,PETANI,TAMAT SD
";

async fn import(
    app: &TestApp,
    family: &std::path::Path,
    individuals: Option<&std::path::Path>,
    columns: BTreeMap<String, String>,
) -> verivali_server::import::ImportReport {
    let options = ImportOptions {
        family_file: family.to_path_buf(),
        individual_file: individuals.map(|p| p.to_path_buf()),
        source: Source::P3ke,
        columns,
        scope: None,
        actor: "admin".into(),
        import_id: uuid::Uuid::new_v4(),
    };
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        import_targets(&db, &options, &ProgressBar::hidden()).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_messy_p3ke_file_imports_flags_and_leaves_out_with_reasons_and_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let (family, people) = (
        app.dir.path().join("keluarga.csv"),
        app.dir.path().join("individu.csv"),
    );
    std::fs::write(&family, FAMILIES).unwrap();
    std::fs::write(&people, INDIVIDUALS).unwrap();
    let report = import(&app, &family, Some(&people), BTreeMap::new()).await;

    assert_eq!((report.added, report.updated, report.unchanged), (3, 0, 0));
    let left_out: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|n| (n.line, n.code.as_str()))
        .collect();
    assert_eq!(left_out, vec![(4, "REG-01"), (5, "IMP-04"), (7, "IMP-06")]);
    let flagged: Vec<(&str, u64, &str)> = report
        .flagged
        .iter()
        .map(|n| (n.file.as_str(), n.line, n.code.as_str()))
        .collect();
    assert!(
        flagged.contains(&("keluarga.csv", 6, "DES-01")),
        "{flagged:?}"
    );
    assert!(
        flagged.contains(&("individu.csv", 2, "IMP-03")),
        "{flagged:?}"
    );
    assert!(
        flagged.contains(&("individu.csv", 3, "NIK-10")),
        "{flagged:?}"
    );
    assert!(
        flagged.contains(&("individu.csv", 6, "IMP-07")),
        "GURU HONORER is no known occupation: {flagged:?}"
    );

    // The family with a spreadsheet-mangled NIK is on the list, with the text kept for the field.
    let siti = households_by_source(&app, "900000001").await;
    assert_eq!(siti.address, "KP. SUKAMAJU RT 01");
    assert_eq!(
        siti.programs.iter().copied().collect::<Vec<_>>(),
        vec![SourceProgram::Pkh]
    );
    let head = siti
        .members
        .iter()
        .find(|m| m.details.relation == Some(Relation::Head))
        .unwrap();
    assert_eq!(head.details.nik.as_ref().unwrap().as_str(), "1.60401E+15");
    assert_eq!(
        head.details.sex,
        Some(Sex::Female),
        "lower case is understood"
    );
    let budi = households_by_source(&app, "900000002").await;
    assert_eq!(
        budi.members[0].nik().map(Nik::as_str),
        Some("1604010101750002")
    );
    assert_eq!(
        budi.members[0].details.birth_date,
        Some(time::macros::date!(1975 - 01 - 01))
    );
    // On the wire the date is an ISO 8601 string, as the OpenAPI document says.
    let token = app.supervisor(budi.region.as_str()).await;
    let detail: serde_json::Value = app
        .get_as(&token, &format!("/api/v1/households/{}", budi.household_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["state"]["household"]["members"][0]["details"]["birth_date"],
        "1975-01-01"
    );

    let again = import(&app, &family, Some(&people), BTreeMap::new()).await;
    assert_eq!(
        (
            again.added,
            again.updated,
            again.unchanged,
            again.removal_candidates
        ),
        (0, 0, 3, 0),
        "importing again changes nothing"
    );
}

#[tokio::test]
async fn a_newer_list_queues_the_families_it_leaves_out_and_deletes_none() {
    let app = TestApp::spawn().await;
    let (first, newer) = (
        app.dir.path().join("keluarga-2024.csv"),
        app.dir.path().join("keluarga-2025.csv"),
    );
    std::fs::write(&first, FAMILIES).unwrap();
    // The newer list no longer holds BUDI SANTOSO's family (900000002).
    let without_budi: String = FAMILIES
        .lines()
        .filter(|l| !l.starts_with("900000002"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&newer, without_budi).unwrap();
    // The test district's own households (of P3KE, kabupaten 16.04) are not in this file.
    let seeded = import(&app, &first, None, BTreeMap::new()).await;
    assert_eq!(seeded.added, 3);
    let waiting_now = || async {
        app.db
            .read(|c| {
                c.values::<String>(
                    "SELECT household_id FROM removal_candidates WHERE decision IS NULL",
                    &[],
                )
            })
            .await
            .unwrap()
    };
    assert_eq!(waiting_now().await.len(), seeded.removal_candidates);

    let report = import(&app, &newer, None, BTreeMap::new()).await;
    assert_eq!(
        (report.added, report.unchanged, report.removal_candidates),
        (0, 2, 1)
    );
    let again = import(&app, &newer, None, BTreeMap::new()).await;
    assert_eq!(
        again.removal_candidates, 0,
        "the same list twice queues nothing more"
    );
    let budi = households_by_source(&app, "900000002").await;
    assert_eq!(
        budi.target_status,
        TargetStatus::Active,
        "nothing is deleted or removed"
    );
    let waiting = waiting_now().await;
    assert!(waiting.contains(&budi.household_id.to_string()));
    assert_eq!(waiting.len(), seeded.removal_candidates + 1);

    // Listed again, the family leaves the queue.
    let report = import(&app, &first, None, BTreeMap::new()).await;
    assert_eq!((report.unchanged, report.removal_candidates), (3, 0));
    let waiting = waiting_now().await;
    assert!(!waiting.contains(&budi.household_id.to_string()));
    assert_eq!(waiting.len(), seeded.removal_candidates);
}

#[tokio::test]
async fn another_layout_imports_through_a_column_mapping_from_xlsx() {
    let app = TestApp::spawn().await;
    let path = app.dir.path().join("dtks.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["IDDTKS", "KODE_DESA", "NAMA_KRT", "NIK_KRT", "ALAMAT"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "DTKS-1").unwrap();
    sheet.write_string(1, 1, "16.04.01.2001").unwrap();
    sheet.write_string(1, 2, "Slamet").unwrap();
    // Excel stores a long number as a number: the digits must survive.
    sheet.write_number(1, 3, 1604010505600006.0).unwrap();
    sheet.write_string(1, 4, "Dusun 2").unwrap();
    book.save(&path).unwrap();

    let columns: BTreeMap<String, String> = [
        ("family_id", "IDDTKS"),
        ("region", "KODE_DESA"),
        ("head_name", "NAMA_KRT"),
        ("head_nik", "NIK_KRT"),
    ]
    .into_iter()
    .map(|(f, h)| (f.to_owned(), h.to_owned()))
    .collect();
    let report = import(&app, &path, None, columns).await;
    assert_eq!(report.added, 1, "{report:?}");
    assert!(report.rejected.is_empty());
    let h = households_by_source(&app, "DTKS-1").await;
    assert_eq!(
        h.members[0].nik().map(Nik::as_str),
        Some("1604010505600006")
    );
    assert_eq!(h.address, "Dusun 2");
}

pub(crate) async fn households_by_source(app: &TestApp, source_id: &'static str) -> Household {
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        db.read_blocking(|c| {
            let json: String = c.value(
                "SELECT baseline FROM baselines JOIN households USING (household_id)
                 WHERE source_id = ?1",
                &[&source_id],
            )?;
            Ok::<_, DbError>(serde_json::from_str(&json)?)
        })
        .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn every_clerical_fault_of_a_p3ke_pair_is_reported_at_its_line() {
    let app = TestApp::spawn().await;
    let (family, people) = (
        app.dir.path().join("keluarga.csv"),
        app.dir.path().join("individu.csv"),
    );
    // As Excel saves a CSV: CRLF line ends, and here a blank line left in the middle.
    let families = [
        "ID Keluarga P3KE,Kode Kemdagri,Desil Kesejahteraan,Alamat,Kepala Keluarga,NIK Kepala Keluarga",
        "900000011,1604012001,3,KP. A,  SITI   AMINAH ,",
        "",
        "900000012,1604012001,5,KP. B,budi,1.60401E+15",
        "900000013,1604012001,2,KP. C,EKO,1604010303800004",
        "",
    ]
    .join("\r\n");
    let individuals = [
        "ID Keluarga P3KE,ID Individu,Nama,NIK,Jenis Kelamin,Hubungan dengan Kepala Keluarga,Tanggal Lahir",
        "900000011,1,SITI AMINAH,1604014505800001,PEREMPUAN,KEPALA KELUARGA,1980-05-05",
        "900000012,2,budi,1604010101750002,LAKI-LAKI,KEPALA KELUARGA,1975-01-01",
        "900000013,3,EKO,1604010303800009,LAKI-LAKI,KEPALA KELUARGA,1980-03-03",
        "900000013,4,  ani ,1604014404100005,PEREMPUAN,ANAK,2010-04-04",
        "",
    ]
    .join("\r\n");
    std::fs::write(&family, families).unwrap();
    std::fs::write(&people, individuals).unwrap();
    let report = import(&app, &family, Some(&people), BTreeMap::new()).await;
    assert_eq!(report.added, 3, "{report:?}");
    let mut flagged: Vec<(&str, u64, &str)> = report
        .flagged
        .iter()
        .map(|n| (n.file.as_str(), n.line, n.code.as_str()))
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        [
            ("individu.csv", 3, "IMP-09"),
            ("individu.csv", 5, "IMP-08"),
            ("individu.csv", 5, "IMP-09"),
            // The head's NIK of the family file: empty, mangled by a spreadsheet, or not the
            // individual file's head's.
            ("keluarga.csv", 2, "IMP-08"),
            ("keluarga.csv", 2, "NIK-10"),
            ("keluarga.csv", 4, "DES-01"),
            ("keluarga.csv", 4, "IMP-03"),
            ("keluarga.csv", 4, "IMP-09"),
            ("keluarga.csv", 5, "IMP-10"),
        ]
    );
    // Flagged rows are on the list: the decile kept, the name tidied, the lower case as written.
    let budi = households_by_source(&app, "900000012").await;
    assert_eq!((budi.decile, budi.head_name.as_str()), (Some(5), "budi"));
    assert_eq!(
        households_by_source(&app, "900000011").await.head_name,
        "SITI AMINAH"
    );
}
