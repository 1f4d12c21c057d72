use verivali_server::admin;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_region_list_imports_once_and_reports_bad_rows() {
    let app = TestApp::spawn().await;
    let csv = "kode,nama\n\
               16,Sumatera Selatan\n\
               16.04,Kabupaten Lahat\n\
               1604012001,\"Lubuk Pakam I,II\"\n\
               16.04.01.20X1,Desa Rusak\n\
               99.01,Bukan Provinsi\n\
               16.04.01.2003,\n";
    let path = app.dir.path().join("wilayah.csv");
    std::fs::write(&path, csv).unwrap();
    let db = app.db.clone();
    let (first, second, names) = tokio::task::spawn_blocking(move || {
        let first = admin::import_regions(&db, &path).unwrap();
        let second = admin::import_regions(&db, &path).unwrap();
        let names: Vec<(String, String)> = db
            .read_blocking(|c| {
                c.prepare("SELECT code, name FROM regions WHERE code LIKE '16%' ORDER BY code")?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
                    .map_err(verivali_server::db::DbError::from)
            })
            .unwrap();
        (first, second, names)
    })
    .await
    .unwrap();
    assert_eq!(first.stored, 3);
    assert_eq!(
        first
            .rejected
            .iter()
            .map(|(line, _)| *line)
            .collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    assert!(first.rejected[0].1.starts_with("REG-03"));
    assert_eq!(first, second, "importing again changes nothing");
    assert!(names.contains(&("16.04.01.2001".into(), "Lubuk Pakam I,II".into())));
}

#[tokio::test]
async fn areas_are_written_as_code_rw_rt() {
    let area = admin::parse_area("16.04.01.2001/2/5").unwrap();
    assert_eq!(
        (area.rw.unwrap().number(), area.rt.unwrap().number()),
        (2, 5)
    );
    assert!(admin::parse_area("16.04.01.2001/0").is_err());
    assert!(admin::parse_area("16.04.01.2001/1/2/3").is_err());
    assert!(admin::parse_area("99.01.01.2001").is_err());
}
