package id.verivali.demo

import id.verivali.core.Choice
import id.verivali.core.IssueInfo
import id.verivali.core.Phone
import id.verivali.core.PhoneException
import id.verivali.core.choices

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

    private val reasons = linkedMapOf<String, String>()
    private val photos = mutableListOf<Pair<String, String>>()

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

    /** Where the phone's GPS placed the house. */
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
        photos += sha to kind
        val json = photos.joinToString(",", "[", "]") { (s, k) -> """{"sha256": ${jsonString(s)}, "kind": ${jsonString(k)}}""" }
        return store { phone.setAnswer(visitId, "photos", json) }
    }

    /** The enumerator's reason to go on despite a warning (the issue's `key`). */
    fun reason(issue: IssueInfo, reason: String): Bilingual? {
        reasons[issue.key] = reason
        val json = reasons.entries.joinToString(",", "{", "}") { (k, v) -> "${jsonString(k)}: ${jsonString(v)}" }
        return store { phone.setAnswer(visitId, "warning_reasons", json) }
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
