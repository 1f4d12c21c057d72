// The generated Kotlin bindings on the desktop JVM (JNA), against a real server process: enroll,
// pull, record visits (one with validation errors, which come back as data), sync, and check the
// merged state on the server. Run by scripts/test-bindings.sh with the server binary's path;
// DemoServer.kt starts the server.

import id.verivali.core.*
import java.io.File
import java.nio.file.Files

class Recorder : SyncProgress {
    val seen = mutableListOf<Triple<SyncPhase, ULong, ULong>>()
    override fun onProgress(phase: SyncPhase, done: ULong, total: ULong) {
        seen += Triple(phase, done, total)
    }
}

val foundAnswers = mapOf(
    "outcome" to "\"FOUND\"",
    "consent" to "\"INFORMED\"",
    "respondent_relation" to "\"HEAD\"",
    "members_reviewed" to "true",
    "location" to """{"lat": -3.79, "lon": 103.54, "accuracy_m": 9.0, "source": "GPS"}""",
    "housing.tenure" to "\"OWNED\"",
    "housing.floor_area_m2" to "24.0",
    "housing.floor" to "\"EARTH\"",
    "housing.wall" to "\"BAMBOO\"",
    "housing.roof" to "\"ASBESTOS_ZINC\"",
    "housing.lighting" to "\"PLN_METERED\"",
    "housing.power_rating" to "\"W450\"",
    "housing.cooking_fuel" to "\"FIREWOOD\"",
    "housing.drinking_water" to "\"PROTECTED_WELL\"",
    "housing.sanitation" to "\"SHARED\"",
    "welfare.monthly_expenditure_rp" to "950000",
    "assessment" to "\"EXTREME_POOR\"",
    "recommendation" to "\"KEEP\"",
)

fun run(server: DemoServer) {
    val phoneDir = Files.createTempDirectory("verivali-kt-phone-").toFile()
    val phone = Phone.open(PhoneConfig(File(phoneDir, "phone.db").path, newStoreKey(), null))

    // A wrong code: one sealed exception type, a stable code, both languages.
    try {
        phone.enroll(server.url, "SALAH-KODE", "HP Budi")
        throw AssertionError("a wrong code enrolled")
    } catch (e: PhoneException.Sync) {
        check(e.code == "ENR-01") { e.code }
        check(e.messageId.isNotEmpty() && e.messageEn.isNotEmpty()) { "messages" }
    }

    // The second demo code: Budi, the whole of Desa Harapan Jaya (340 households).
    val enrollment = phone.enroll(server.url, server.codes[1], "HP Budi")
    check(enrollment.areas == listOf("16.04.01.2002")) { enrollment.areas.toString() }
    val progress = Recorder()
    val first = phone.sync(progress)
    check(first.householdsPulled == 340UL) { first.toString() }
    check(progress.seen.last() == Triple(SyncPhase.PULL, 340UL, 340UL)) { progress.seen.toString() }

    val rows = phone.householdsInRt("16.04.01.2002", "2", "1")
    check(rows.size > 3) { "RT list: ${rows.size}" }

    // Validation errors come back as data; nothing is queued.
    val visit = phone.startVisit(rows[0].householdId)
    phone.setText(visit, "outcome", "FOUND")
    val blocked = phone.finishVisit(visit)
    check(!blocked.finished) { "finished without answers" }
    check(blocked.issues.any { it.code == "VIS-01" && it.severity == "ERROR" }) { blocked.issues.toString() }
    check(phone.pendingCount() == 0UL) { "queued while blocked" }

    foundAnswers.forEach { (path, value) -> phone.setAnswer(visit, path, value) }
    var result = phone.finishVisit(visit)
    if (!result.finished) {
        val reasons = result.issues.filter { it.severity == "WARNING" }
            .joinToString(",", "{", "}") { "\"${it.key}\": \"Sudah dicek bersama ketua RT\"" }
        phone.setAnswer(visit, "warning_reasons", reasons)
        result = phone.finishVisit(visit)
    }
    check(result.finished) { result.issues.toString() }

    // The same visit in a bundle file for a phone without signal; the outbox still waits.
    val bundle = File(phoneDir, "hp-budi.bundle")
    val written = phone.exportBundle(bundle.path)
    check(written.visits == 1UL && bundle.length().toULong() == written.bytes) { written.toString() }
    check(phone.pendingCount() == 1UL) { "the bundle emptied the outbox" }

    val report = phone.sync(Recorder())
    check(report.accepted == 1UL && report.rejected.isEmpty()) { report.toString() }
    check(phone.pendingCount() == 0UL) { "outbox not empty" }
    check(phone.outbox(5u).single().state == "ACCEPTED") { phone.outbox(5u).toString() }

    val onServer = server.household(rows[0].householdId)
    check(onServer.contains("\"visits_used\":[\"$visit\"]")) { onServer }
    check(onServer.contains(phone.household(rows[0].householdId)!!.stateHash)) { "state hash differs" }
    phoneDir.deleteRecursively()
}

fun main() = withDemoServer("Kotlin bindings", ::run)
