//! The catalogue of validation rules (domain.md §10): each with a stable code, a severity and the
//! message in Bahasa Indonesia and English. Codes never change meaning; a new rule gets a new code.

use crate::model::labelled_enum;

labelled_enum! {
    /// An error blocks finishing a visit; a warning needs the enumerator's reason; info is shown.
    Severity {
        Error = "ERROR", "Galat", "Error";
        Warning = "WARNING", "Peringatan", "Warning";
        Info = "INFO", "Info", "Info";
    }
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    pub message_id: &'static str,
    pub message_en: &'static str,
}

macro_rules! rules {
    ($($name:ident = $code:literal, $sev:ident, $id:literal, $en:literal;)+) => {
        $(pub const $name: Rule = Rule {
            code: $code,
            severity: Severity::$sev,
            message_id: $id,
            message_en: $en,
        };)+
        /// Every rule, for documentation and for the phone's help screen.
        pub const ALL: &[Rule] = &[$($name),+];
    };
}

rules! {
    NIK_01 = "NIK-01", Error, "NIK harus 16 digit angka.", "NIK must be exactly 16 digits.";
    NIK_02 = "NIK-02", Error, "Kode provinsi di NIK (2 digit pertama) tidak dikenal.", "Province code in NIK (first 2 digits) is unknown.";
    NIK_03 = "NIK-03", Error, "Tanggal lahir di dalam NIK (digit 7–12) tidak valid.", "Birth date encoded in NIK (digits 7–12) is invalid.";
    NIK_04 = "NIK-04", Error, "Nomor urut NIK (4 digit terakhir) tidak boleh 0000.", "NIK serial (last 4 digits) cannot be 0000.";
    NIK_05 = "NIK-05", Warning, "Jenis kelamin tidak cocok dengan NIK (perempuan: tanggal +40). Cek KTP/KK; jika memang berbeda, isi alasan.", "Sex does not match NIK (women: day +40). Check KTP/KK; if it really differs, give a reason.";
    NIK_06 = "NIK-06", Warning, "Tanggal lahir berbeda dengan yang tertulis di NIK. NIK tidak berubah walau tanggal lahir dikoreksi—pastikan sesuai KK.", "Birth date differs from the one in the NIK. NIKs are not reissued after corrections—confirm against the KK.";
    NIK_07 = "NIK-07", Info, "Kode wilayah di NIK tidak ada di daftar wilayah saat ini (mungkin wilayah lama/tempat pertama terdaftar).", "Region in NIK is not in the current list (old code or place of first registration).";
    NIK_08 = "NIK-08", Error, "NIK ini sudah dipakai anggota lain di keluarga ini.", "This NIK is already used by another member of this family.";
    NIK_09 = "NIK-09", Warning, "NIK ini juga terdaftar di keluarga lain (ID …). Tandai sebagai data ganda atau jelaskan.", "This NIK is also on another family (ID …). Mark as duplicate or explain.";
    NIK_10 = "NIK-10", Error, "Isi NIK atau pilih alasan NIK kosong.", "Enter the NIK or choose why it is missing.";
    KK_01 = "KK-01", Error, "Nomor KK harus 16 digit angka.", "Family card number must be 16 digits.";
    KK_02 = "KK-02", Error, "Nomor KK tidak valid: digit 7–12 harus tanggal pencatatan (hhbbtt).", "Invalid KK number: digits 7–12 must be a recording date (ddmmyy).";
    KK_03 = "KK-03", Warning, "Nomor KK sama dengan NIK anggota—kemungkinan salah ketik.", "KK number equals a member's NIK—likely a typo.";
    KK_04 = "KK-04", Warning, "Nomor KK berubah dari data sebelumnya. Pilih alasan: pecah KK, pindah, kepala keluarga meninggal, cerai, salah data.", "KK number changed. Choose a reason: split, moved, head died, divorce, data error.";
    REG_01 = "REG-01", Error, "Desa/kelurahan dengan kode ini tidak ada di kabupaten/kota Anda.", "No village/kelurahan with this code in your district.";
    REG_02 = "REG-02", Error, "RT dan RW harus angka 1–999.", "RT and RW must be numbers 1–999.";
    REG_03 = "REG-03", Error, "Kode wilayah harus berbentuk PP.KK.CC.DDDD dengan kode provinsi yang dikenal.", "Region code must look like PP.KK.CC.DDDD with a known province code.";
    HH_01 = "HH-01", Error, "Keluarga harus punya tepat satu Kepala Keluarga.", "A family must have exactly one head.";
    HH_02 = "HH-02", Warning, "Tidak ada anggota berusia 17 tahun ke atas—periksa kepala keluarga.", "No member aged 17+—check the head of family.";
    HH_03 = "HH-03", Warning, "Lebih dari satu Istri/Suami tercatat—pastikan sesuai KK.", "More than one spouse recorded—confirm with the KK.";
    HH_04 = "HH-04", Error, "Keluarga ditemukan tetapi tidak ada anggota yang tercatat tinggal.", "Family found but no member marked present.";
    MEM_01 = "MEM-01", Error, "Tanggal lahir tidak mungkin.", "Impossible birth date.";
    MEM_02 = "MEM-02", Warning, "Anak tercatat lebih tua dari kepala keluarga—periksa hubungan atau tanggal lahir.", "Child is older than the head—check relationship or birth date.";
    MEM_03 = "MEM-03", Warning, "Istri/suami berstatus 'Belum kawin'—periksa status perkawinan.", "Spouse marked 'never married'—check marital status.";
    MEM_04 = "MEM-04", Warning, "Anggota di bawah 19 tahun berstatus kawin—periksa kembali.", "Member under 19 marked married—please re-check.";
    MEM_05 = "MEM-05", Error, "Isi tanggal meninggal.", "Enter the date of death.";
    MEM_06 = "MEM-06", Error, "Nama anggota wajib diisi.", "The member's name is required.";
    MEM_07 = "MEM-07", Error, "Anggota ini tidak ada di keluarga ini.", "This member is not in this family.";
    VIS_01 = "VIS-01", Error, "Lengkapi kondisi rumah, daftar anggota, dan lokasi sebelum mengirim.", "Complete housing, member list and location before submitting.";
    VIS_02_DESTINATION = "VIS-02", Error, "Isi alamat tujuan pindah.", "Enter where the family moved.";
    VIS_02_OTHER_FAMILY = "VIS-02", Error, "Pilih keluarga yang merupakan data gandanya.", "Select the family this duplicates.";
    VIS_03 = "VIS-03", Warning, "Lokasi kurang akurat atau di luar desa. Ulangi pengambilan lokasi atau beri keterangan.", "Location is imprecise or outside the village. Retake or explain.";
    VIS_04 = "VIS-04", Error, "Foto rumah tampak depan wajib untuk usulan keluar/baru.", "House-front photo is required to remove or add a family.";
    VIS_05_TIME = "VIS-05", Error, "Waktu kunjungan tidak valid.", "Invalid visit time.";
    VIS_05_SHORT = "VIS-05", Warning, "Wawancara sangat singkat—pastikan data benar.", "Very short interview—confirm the data.";
    VIS_06 = "VIS-06", Error, "Responden menolak: hanya hasil kunjungan dan catatan yang boleh diisi.", "Respondent refused: only outcome and notes may be recorded.";
    VIS_07 = "VIS-07", Info, "Sudah 3 kali tidak ada responden—ajukan ke operator desa.", "No respondent after 3 visits—escalate to the village operator.";
    VIS_08 = "VIS-08", Error, "Foto ini belum tersimpan di ponsel.", "This photo is not stored on the phone.";
    VIS_09 = "VIS-09", Error, "Usulan keluarga baru perlu desa, RT/RW, alamat dan nama kepala keluarga.", "A new-household proposal needs the village, RT/RW, address and head's name.";
    VIS_10 = "VIS-10", Error, "Angka tidak wajar.", "Implausible number.";
    VIS_11 = "VIS-11", Error, "Pilih hasil kunjungan.", "Choose the visit outcome.";
    VIS_12 = "VIS-12", Error, "Waktu selesai lebih awal dari waktu mulai.", "The finishing time is before the starting time.";
    VIS_13 = "VIS-13", Warning, "RT/RW keluarga ini belum diketahui—isi RT dan RW tempat keluarga ditemukan.", "This family's RT/RW is not known yet—enter the RT and RW where the family was found.";
    SYN_01 = "SYN-01", Warning, "Data ini sudah diubah oleh petugas lain sejak draf ini dibuka. Tinjau perbedaan sebelum menimpa.", "Changed by another enumerator since this draft was opened. Review differences before overwriting.";
    TXT_01 = "TXT-01", Error, "Teks terlalu panjang.", "The text is too long.";
    HSE_01_AREA = "HSE-01", Error, "Luas lantai tidak wajar.", "Implausible floor area.";
    HSE_01_PER_CAPITA = "HSE-01", Info, "Luas lantai < 8 m² per orang (kriteria BPS 1).", "Floor area < 8 m² per person (BPS criterion 1).";
    HSE_02_POWER = "HSE-02", Error, "Daya listrik hanya untuk listrik PLN bermeteran.", "Power rating applies only to metered PLN electricity.";
    HSE_02_LAND_TITLE = "HSE-02", Error, "Sertifikat tanah hanya untuk rumah milik sendiri.", "A land title applies only to an owned house.";
    DES_01 = "DES-01", Error, "Desil harus 1–10 (P3KE: 1–4).", "Decile must be 1–10 (P3KE: 1–4).";
}
