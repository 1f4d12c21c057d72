// The Android demo's logic (android-demo/shared) on the desktop JVM against a real server: what
// the app's screens do, without the screens. Run by scripts/test-bindings.sh; DemoServer.kt (from
// bindings/tests/kotlin) starts `verivali-server demo`. Compiled with PhoneTest.kt in one go, so
// its top-level names differ from that file's.

import id.verivali.core.Phone
import id.verivali.core.PhoneConfig
import id.verivali.core.SyncPhase
import id.verivali.demo.Households
import id.verivali.demo.KeyVault
import id.verivali.demo.StoreKeys
import id.verivali.demo.Inbox
import id.verivali.demo.Session
import id.verivali.demo.SyncRunner
import id.verivali.demo.SyncState
import id.verivali.demo.VisitForm
import java.io.File
import java.nio.file.Files
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/** A photo as a phone camera writes it: a JPEG from ImageIO with an EXIF segment naming the phone. */
fun cameraJpeg(): ByteArray {
    val picture = java.awt.image.BufferedImage(1200, 900, java.awt.image.BufferedImage.TYPE_INT_RGB)
    for (x in 0 until 1200) for (y in 0 until 900) picture.setRGB(x, y, (x % 256 shl 16) or (y % 256 shl 8) or 90)
    val plain = java.io.ByteArrayOutputStream().also { javax.imageio.ImageIO.write(picture, "jpg", it) }.toByteArray()
    val exif = "Exif\u0000\u0000MM\u0000*\u0000\u0000\u0000\u0008\u0000\u0000HP Kader 01".toByteArray(Charsets.ISO_8859_1)
    val length = exif.size + 2
    return byteArrayOf(0xFF.toByte(), 0xD8.toByte(), 0xFF.toByte(), 0xE1.toByte(), (length shr 8).toByte(), length.toByte()) +
        exif + plain.copyOfRange(2, plain.size)
}

/** The JVM's stand-in for the Android Keystore: an AES key that stays in this process. */
class JvmVault : KeyVault {
    private val secret: SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

    override fun wrap(key: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, secret) }
        return cipher.iv + cipher.doFinal(key)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, secret, GCMParameterSpec(128, wrapped, 0, 12))
        return cipher.doFinal(wrapped, 12, wrapped.size - 12)
    }
}

/** The answers an enumerator gives at a found household, as typed or picked on the form. */
val typed = listOf(
    "outcome" to "FOUND", "consent" to "INFORMED", "respondent_relation" to "HEAD",
    "members_reviewed" to "ya", "housing.tenure" to "OWNED", "housing.floor_area_m2" to "24,5",
    "housing.floor" to "EARTH", "housing.wall" to "BAMBOO", "housing.roof" to "ASBESTOS_ZINC",
    "housing.lighting" to "PLN_METERED", "housing.power_rating" to "W450",
    "housing.cooking_fuel" to "FIREWOOD", "housing.drinking_water" to "PROTECTED_WELL",
    "housing.sanitation" to "SHARED", "welfare.monthly_expenditure_rp" to "950.000",
    "assessment" to "EXTREME_POOR", "recommendation" to "KEEP",
)

/** Fills what is left and finishes, giving a reason for each warning as the form would ask. */
fun complete(form: VisitForm): ULong {
    typed.forEach { (path, value) -> check(form.answer(path, value) == null) { "$path=$value" } }
    check(form.location(-3.79, 103.54, 9.0) == null) { "location" }
    repeat(3) {
        when (val end = form.finish()) {
            is VisitForm.Finish.Done -> return end.deviceSeq
            is VisitForm.Finish.NeedsAttention -> {
                check(end.errors.isEmpty()) { "errors left: ${end.errors}" }
                end.warnings.forEach { form.reason(it, "Sudah dicek bersama ketua RT \"Pak Darto\"") }
            }
        }
    }
    throw AssertionError("the visit never finished")
}

fun runDemoApp(server: DemoServer) {
    val dir = Files.createTempDirectory("verivali-demo-app-").toFile()
    // The store's key: made and wrapped at the first start, the same key unwrapped at the next;
    // the wrapped file holds the key's bytes only wrapped.
    val vault = JvmVault()
    val keyFile = File(dir, "store-key.wrapped")
    val key = StoreKeys(keyFile, vault).key()
    check(key.size == 32 && StoreKeys(keyFile, vault).key().contentEquals(key)) { "the key is kept" }
    check(!keyFile.readBytes().asList().windowed(32).any { it == key.asList() }) { "the key lies clear" }
    val phone = Phone.open(PhoneConfig(File(dir, "phone.db").path, key, null))
    val background = Executors.newSingleThreadExecutor()

    // Enrolling: a wrong code is a state with both messages, then the right one.
    val session = Session(phone)
    check(session.state() is Session.State.NotEnrolled) { "enrolled before enrolling" }
    val wrong = session.enroll(server.url, "SALAH-KODE", "HP Ani")
    check(wrong is Session.State.NotEnrolled && wrong.code == "ENR-01" && wrong.problem!!.id.isNotEmpty()) { "$wrong" }
    val enrolled = session.enroll(server.url, " ${server.codes[0]} ", "HP Ani")
    check(enrolled is Session.State.Enrolled && enrolled.areas.single().rw == "001") { "$enrolled" }

    // The sync button, on a background thread as on the phone: progress, then the summary.
    val seen = java.util.Collections.synchronizedList(mutableListOf<SyncState>())
    SyncRunner(phone, background).start { seen += it }
    background.submit {}.get(60, TimeUnit.SECONDS)
    val first = seen.last()
    check(first is SyncState.Done && first.report.householdsPulled == 34UL) { "$first" }
    check(seen.any { it is SyncState.Running && it.phase == SyncPhase.PULL && it.percent == 100 }) { "$seen" }

    // The RT list, not-yet-visited first; search by name.
    val households = Households(phone)
    val area = (enrolled as Session.State.Enrolled).areas.single()
    val list = households.inRt(area.village, area.rw!!, "1")
    check(list.isNotEmpty() && list.all { it.toDo && it.status.id == "Belum dikunjungi" }) { "$list" }
    val target = list.first()
    check(households.search(target.title.take(5)).any { it.householdId == target.householdId }) { "search" }
    check(households.search("a").isEmpty()) { "one letter listed households" }

    // The form: a wrong kind of answer is refused with a message; finishing too early names
    // the questions still open; completed, it finishes.
    val form = VisitForm(phone, phone.startVisit(target.householdId))
    check(form.answer("housing.floor_area_m2", "dua puluh")!!.en.contains("number")) { "a word for a number" }
    check(form.answer("outcome", "KETEMU") != null) { "a code not on the list" }
    check(form.answer("outcome", "FOUND") == null) { "outcome" }
    check(form.answer("rt", "1") == null && form.answer("rw", "1") == null) { "where found" }
    // A photo: what is not a JPEG is refused with both messages; the camera's is kept.
    check(form.photo("HOUSE_FRONT", "bukan foto".toByteArray())!!.en.contains("photo")) { "not a photo" }
    check(form.photo("HOUSE_FRONT", cameraJpeg()) == null) { "house front" }
    val early = form.finish()
    check(early is VisitForm.Finish.NeedsAttention && early.errors.keys.any { it.startsWith("housing") }) { "$early" }
    complete(form)
    check(phone.pendingCount() == 1UL) { "not queued" }
    val sent = SyncRunner(phone, background).run {}
    check(sent is SyncState.Done && sent.report.accepted == 1UL && sent.report.photosSent == 1UL) { "$sent" }
    check(households.inRt(area.village, area.rw!!, "1").first { it.householdId == target.householdId }.status.id != "Belum dikunjungi") { "status" }

    // The supervisor returns the visit with a comment: it arrives in the inbox on the next sync,
    // and acting on it opens a correction that goes back to the server.
    server.review("""{"household_id": "${target.householdId}", "visit_id": "${form.visitId}", "decision": "RETURN", "comment": "Foto rumah belum ada"}""")
    val pulled = SyncRunner(phone, background).run {}
    check(pulled is SyncState.Done && pulled.report.reviewsPulled == 1UL) { "$pulled" }
    val inbox = Inbox(phone)
    val entry = inbox.entries().single()
    check(entry.unread && entry.comment == "Foto rumah belum ada" && entry.title.id.startsWith("Kembalikan")) { "$entry" }
    val correction = checkNotNull(inbox.act(entry)) { "a return opens a correction" }
    check(inbox.unread() == 0) { "still unread" }
    check(correction.answer("notes", "Foto menyusul; rumah di belakang masjid") == null) { "notes" }
    complete(correction)
    val resent = SyncRunner(phone, background).run {}
    check(resent is SyncState.Done && resent.report.accepted == 1UL) { "$resent" }
    val onServer = server.household(target.householdId)
    check(onServer.contains(correction.visitId)) { onServer }

    background.shutdown()
    dir.deleteRecursively()
}

// Takes `args` only to differ from PhoneTest.kt's `main()`: the two are compiled together.
fun main(@Suppress("UNUSED_PARAMETER") args: Array<String>) = withDemoServer("Android demo logic on the JVM", ::runDemoApp)
