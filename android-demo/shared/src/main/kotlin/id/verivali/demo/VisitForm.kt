package id.verivali.demo

import id.verivali.core.Choice
import id.verivali.core.IssueInfo
import id.verivali.core.Phone
import id.verivali.core.PhoneException
import id.verivali.core.choices
import id.verivali.core.preciseGpsAccuracyM

/** How a question is answered on the form. */
enum class Kind { CHOICE, WHOLE_NUMBER, DECIMAL, YES_NO, TEXT }

/** A question of the form, named by its wire path: validation issues name the same path. */
data class Question(val path: String, val label: Bilingual, val kind: Kind) {
    /** The pick list with both labels, from the core (so the app never spells a code itself). */
    val choices: List<Choice> by lazy { if (kind == Kind.CHOICE) choices(path) else emptyList() }
}

/** The verification form, in the order an enumerator asks at the door. */
object Questions {
    val all = listOf(
        Question("outcome", Bilingual("Hasil kunjungan", "Visit outcome"), Kind.CHOICE),
        // Where the family was found: P3KE lists carry no RW/RT (VIS-13 asks when still unknown).
        Question("rw", Bilingual("RW tempat keluarga ditemukan", "RW where the family was found"), Kind.TEXT),
        Question("rt", Bilingual("RT tempat keluarga ditemukan", "RT where the family was found"), Kind.TEXT),
        Question("consent", Bilingual("Persetujuan", "Consent"), Kind.CHOICE),
        Question("respondent_name", Bilingual("Nama responden", "Respondent's name"), Kind.TEXT),
        Question("respondent_relation", Bilingual("Hubungan dengan kepala keluarga", "Relation to the head"), Kind.CHOICE),
        Question("members_reviewed", Bilingual("Anggota keluarga sudah dicek", "Members reviewed"), Kind.YES_NO),
        // As on the family card; a number that differs from the list asks why (KK-04).
        Question("kk_number", Bilingual("Nomor KK", "Family card (KK) number"), Kind.TEXT),
        Question("kk_change_reason", Bilingual("Alasan nomor KK berubah", "Why the KK number changed"), Kind.CHOICE),
        Question("housing.tenure", Bilingual("Status rumah", "Tenure"), Kind.CHOICE),
        Question("housing.floor_area_m2", Bilingual("Luas lantai (m²)", "Floor area (m²)"), Kind.DECIMAL),
        Question("housing.floor", Bilingual("Jenis lantai", "Floor"), Kind.CHOICE),
        Question("housing.wall", Bilingual("Jenis dinding", "Wall"), Kind.CHOICE),
        Question("housing.roof", Bilingual("Jenis atap", "Roof"), Kind.CHOICE),
        Question("housing.lighting", Bilingual("Sumber penerangan", "Lighting"), Kind.CHOICE),
        Question("housing.power_rating", Bilingual("Daya listrik", "Power rating"), Kind.CHOICE),
        Question("housing.cooking_fuel", Bilingual("Bahan bakar memasak", "Cooking fuel"), Kind.CHOICE),
        Question("housing.drinking_water", Bilingual("Sumber air minum", "Drinking water"), Kind.CHOICE),
        Question("housing.sanitation", Bilingual("Fasilitas BAB", "Sanitation"), Kind.CHOICE),
        Question("welfare.monthly_expenditure_rp", Bilingual("Pengeluaran per bulan (Rp)", "Monthly expenditure (Rp)"), Kind.WHOLE_NUMBER),
        Question("assessment", Bilingual("Penilaian", "Assessment"), Kind.CHOICE),
        Question("recommendation", Bilingual("Rekomendasi", "Recommendation"), Kind.CHOICE),
        Question("notes", Bilingual("Catatan", "Notes"), Kind.TEXT),
    )
    val byPath = all.associateBy { it.path }
}

/** A draft visit on the form: answers go to the store as they are given, so nothing typed is lost. */
class VisitForm(private val phone: Phone, val visitId: String) {
    sealed interface Finish {
        data class Done(val deviceSeq: ULong) : Finish
        /** Errors to fix, by question; warnings that need a reason before the visit can finish. */
        data class NeedsAttention(
            val errors: Map<String, List<IssueInfo>>,
            val warnings: List<IssueInfo>,
        ) : Finish
    }

    companion object {
        /**
         * A family found in the field that is on no list: a visit that proposes a new household in
         * the enumerator's village, RW and RT (VIS-09 asks for each; a house-front photo is
         * required, VIS-04). The phone makes the new household's id.
         */
        fun propose(phone: Phone, village: String, rw: String, rt: String, address: String, headName: String): VisitForm {
            val form = VisitForm(phone, phone.startVisit(null))
            val proposal = listOf("region" to village, "rw" to rw, "rt" to rt, "address" to address, "head_name" to headName)
                .joinToString(", ", "{", "}") { (k, v) -> "\"$k\": ${jsonString(v.trim())}" }
            phone.setAnswer(form.visitId, "proposal", proposal)
            return form
        }
    }

    /** The household the visit is to (for a new family, the id its proposal made). */
    val householdId: String? by lazy { phone.visitHousehold(visitId) }

    /** The family's members and what the enumerator changes of them. */
    val members: Members by lazy { Members(phone, visitId, householdId) }

    /** Stores an answer as typed or picked; a value the question cannot take comes back as its message. */
    fun answer(path: String, input: String): Bilingual? {
        val question = Questions.byPath[path] ?: return Bilingual("Pertanyaan tidak dikenal.", "Unknown question.")
        val value = input.trim()
        val json = when (question.kind) {
            Kind.TEXT -> return store { phone.setText(visitId, path, value) }
            Kind.CHOICE -> if (question.choices.any { it.code == value }) jsonString(value)
                else return Bilingual("Pilih salah satu jawaban.", "Pick one of the answers.")
            Kind.WHOLE_NUMBER -> value.replace(".", "").toLongOrNull()?.toString()
                ?: return Bilingual("Isi dengan bilangan bulat.", "Enter a whole number.")
            Kind.DECIMAL -> value.replace(',', '.').toDoubleOrNull()?.toString()
                ?: return Bilingual("Isi dengan angka, mis. 24,5.", "Enter a number, e.g. 24.5.")
            Kind.YES_NO -> when (value.lowercase()) {
                "ya", "yes", "true" -> "true"
                "tidak", "no", "false" -> "false"
                else -> return Bilingual("Jawab ya atau tidak.", "Answer yes or no.")
            }
        }
        return store { phone.setAnswer(visitId, path, json) }
    }

    /** Where a proposed family lives, corrected (as after a rejection for a place outside the areas). */
    fun proposalPlace(village: String, rw: String, rt: String): Bilingual? = store {
        phone.setText(visitId, "proposal.region", village.trim())
        phone.setText(visitId, "proposal.rw", rw.trim())
        phone.setText(visitId, "proposal.rt", rt.trim())
    }

    /**
     * Where the phone's GPS placed the house; [Gps.describe] says what the screen shows of it.
     * With no point, a FOUND visit cannot finish (VIS-01 names `location`).
     */
    fun location(lat: Double, lon: Double, accuracyM: Double): Bilingual? = store {
        phone.setAnswer(visitId, "location", """{"lat": $lat, "lon": $lon, "accuracy_m": $accuracyM, "source": "GPS"}""")
    }

    /**
     * A photo from the camera (JPEG) of a kind such as `HOUSE_FRONT`: the core stores it upright,
     * shrunk and without the camera's metadata (its GPS position among them), then the visit names it.
     */
    fun photo(kind: String, cameraJpeg: ByteArray): Bilingual? {
        val sha = try {
            phone.putPhoto(cameraJpeg)
        } catch (e: PhoneException) {
            return e.text
        }
        return store { phone.addToAnswer(visitId, "photos", """{"sha256": ${jsonString(sha)}, "kind": ${jsonString(kind)}}""") }
    }

    /** The enumerator's reason to go on despite a warning (the issue's `key`). */
    fun reason(issue: IssueInfo, reason: String): Bilingual? {
        return store { phone.setWarningReason(visitId, issue.key, reason) }
    }

    fun finish(): Finish {
        val result = phone.finishVisit(visitId)
        val deviceSeq = result.deviceSeq
        if (result.finished && deviceSeq != null) return Finish.Done(deviceSeq)
        return Finish.NeedsAttention(
            errors = result.issues.filter { it.severity == "ERROR" }.groupBy { it.field },
            warnings = result.issues.filter { it.severity == "WARNING" },
        )
    }

    private fun store(call: () -> Unit): Bilingual? = try {
        call()
        null
    } catch (e: PhoneException) {
        e.text
    }
}

/** The GPS line of the form: the fix's accuracy, and whether validation will take it. */
object Gps {
    fun describe(accuracyM: Double?): Bilingual = when {
        accuracyM == null -> Bilingual("Belum ada titik GPS — kunjungan belum bisa selesai.", "No GPS point yet — the visit cannot finish.")
        accuracyM <= preciseGpsAccuracyM() -> Bilingual("Titik GPS, akurasi ±${accuracyM.toInt()} m", "GPS point, accuracy ±${accuracyM.toInt()} m")
        else -> Bilingual(
            "Titik GPS kurang akurat (±${accuracyM.toInt()} m): ulangi di luar rumah, atau beri alasan.",
            "Imprecise GPS point (±${accuracyM.toInt()} m): retake outdoors, or give a reason.",
        )
    }
}
