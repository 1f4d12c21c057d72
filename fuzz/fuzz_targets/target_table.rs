//! A target list (P3KE, DTKS) as the importer reads it: the first byte chooses CSV or a
//! workbook (XLSX, XLS, ODS), the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verivali_server::import::table::parse_table;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, file)) = data.split_first() else {
        return;
    };
    if let Ok(table) = parse_table(file, kind % 2 == 1) {
        for (_, cells) in &table.rows {
            let _ = cells.len().min(table.headers.len());
        }
    }
});
