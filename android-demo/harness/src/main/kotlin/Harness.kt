// The Android demo's logic (android-demo/shared) on the desktop JVM against a real server: what
// the app's screens do, without the screens. Run by scripts/test-bindings.sh; DemoServer.kt (from
// bindings/tests/kotlin) starts `verivali-server demo`. Compiled with PhoneTest.kt in one go, so
// its top-level names differ from that file's.

import id.verivali.core.Phone
import id.verivali.core.PhoneConfig
import id.verivali.core.SyncPhase
import id.verivali.core.newStoreKey
import id.verivali.demo.Bundles
import id.verivali.demo.Drafts
import id.verivali.demo.Gps
import id.verivali.demo.Households
import id.verivali.demo.Outbox
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
fun cameraJpeg(blue: Int = 90): ByteArray {
    val picture = java.awt.image.BufferedImage(1200, 900, java.awt.image.BufferedImage.TYPE_INT_RGB)
    for (x in 0 until 1200) for (y in 0 until 900) picture.setRGB(x, y, (x % 256 shl 16) or (y % 256 shl 8) or blue)
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

/** Fills what is left (with `overrides` in place of some answers) and finishes, giving a reason for each warning as the form would ask. */
fun complete(form: VisitForm, overrides: Map<String, String> = emptyMap()): ULong {
    (typed.toMap() + overrides).forEach { (path, value) -> check(form.answer(path, value) == null) { "$path=$value" } }
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

    val second = list[1]
    aWholeVisit(phone, background, server, second.householdId)
    aProposalRejectedFixedAndSentAgain(phone, background, server, dir, area.village, area.rw!!)
    anotherEnumeratorsWorkReachesTheInbox(phone, background, server, dir, target.householdId, correction.visitId, list[2].householdId, second.householdId)

    background.shutdown()
    dir.deleteRecursively()
}

/** A visit with everything a field day brings: no GPS point yet, then an imprecise one; a KK number mistyped, then changed; a baby born, a name corrected, one moved out, one deceased. */
fun aWholeVisit(phone: Phone, background: java.util.concurrent.ExecutorService, server: DemoServer, householdId: String) {
    check(Gps.describe(null).en.contains("cannot finish")) { "no point" }
    check(Gps.describe(9.4).id.contains("±9 m") && !Gps.describe(9.4).en.contains("retake")) { Gps.describe(9.4).toString() }
    check(Gps.describe(80.0).en.contains("retake")) { "imprecise" }

    val form = VisitForm(phone, phone.startVisit(householdId))
    check(form.householdId == householdId) { "${form.householdId}" }
    typed.forEach { (path, value) -> check(form.answer(path, value) == null) { "$path=$value" } }
    val noPoint = form.finish()
    check(noPoint is VisitForm.Finish.NeedsAttention && noPoint.errors["location"].orEmpty().any { it.code == "VIS-01" }) { "$noPoint" }
    check(form.location(-3.79, 103.54, 80.0) == null) { "imprecise point" }
    val imprecise = form.finish()
    check(imprecise is VisitForm.Finish.NeedsAttention && imprecise.warnings.any { it.code == "VIS-03" }) { "$imprecise" }

    // The KK number: as typed it is kept, and finishing names what is wrong with it.
    check(form.answer("kk_number", "16040123") == null) { "kept as typed" }
    val badKk = form.finish()
    check(badKk is VisitForm.Finish.NeedsAttention && badKk.errors["kk_number"].orEmpty().any { it.code == "KK-01" }) { "$badKk" }
    check(form.answer("kk_number", "1604012301200005") == null && form.answer("kk_change_reason", "SPLIT") == null) { "kk" }

    // The family: listed with NIKs masked; each change goes to the draft as it is made.
    val family = form.members.listed()
    check(family.size >= 3) { "$family" }
    check(family.all { m -> m.nikMasked == null || m.nikMasked!!.count { it.isDigit() } == 8 }) { "a whole NIK on screen" }
    val baby = form.members.add("Bayu Saputra", null, "MALE", "2026-11-02", "CHILD", nikMissingReason = "NOT_YET_ISSUED")
    check(baby.isSuccess) { "$baby" }
    check(form.members.add("Bayu", null, "MALE", "2 November", "CHILD").isFailure) { "a date that is no date" }
    check(form.members.correct(family[0].memberId, name = "${family[0].name} Binti Ahmad") == null) { "correct" }
    check(form.members.movedOut(family[1].memberId, "2026-10-01") == null) { "moved out" }
    check(form.members.deceased(family[2].memberId, "2026-09-15") == null) { "deceased" }
    check(form.members.movedOut("bukan-anggota") != null) { "a member id that is none" }

    // Resumed from the drafts screen (as after the app was closed), nothing typed is lost.
    val line = Drafts(phone).lines().single { it.visitId == form.visitId }
    check(!line.rejected && line.title.id == phone.household(householdId)!!.headName) { "$line" }
    val resumed = Drafts(phone).resume(line)
    check(resumed.photo("HOUSE_FRONT", cameraJpeg()) == null) { "photo" }
    complete(resumed)
    val sent = SyncRunner(phone, background).run {}
    check(sent is SyncState.Done && sent.report.accepted == 1UL && sent.report.rejected.isEmpty()) { "$sent" }
    check(Outbox(phone).lines().first().let { it.visitId == form.visitId && it.state == "ACCEPTED" }) { "outbox" }
    val onServer = server.household(householdId)
    for (seen in listOf("Bayu Saputra", "Binti Ahmad", "MOVED_OUT", "DECEASED", "1604********0005")) {
        check(onServer.contains(seen)) { "$seen not on the server: $onServer" }
    }
}

/**
 * A family on no list, proposed in a village outside the enumerator's areas: the server rejects
 * it, the outbox shows why, the drafts screen reopens it with the same reasons, and corrected it
 * goes again. While it waits, a bundle carries it for the share sheet.
 */
fun aProposalRejectedFixedAndSentAgain(phone: Phone, background: java.util.concurrent.ExecutorService, server: DemoServer, dir: File, village: String, rw: String) {
    val proposal = VisitForm.propose(phone, "16.04.02.2001", rw, "2", "Jl. Lintas Sumatera 5", "Sutrisno")
    val newHousehold = checkNotNull(proposal.householdId) { "a proposal makes its household's id" }
    val asProposed = mapOf("respondent_name" to "Sutrisno", "recommendation" to "PROPOSE_NEW")
    (typed.toMap() + asProposed).forEach { (path, value) -> check(proposal.answer(path, value) == null) { "$path=$value" } }
    check(proposal.location(-3.79, 103.54, 9.0) == null) { "location" }
    check(proposal.members.listed().isEmpty()) { "a new family has no list" }
    check(proposal.members.add("Sutrisno", "1604011503800001", "MALE", "1980-03-15", "HEAD").isSuccess) { "head" }
    val noPhoto = proposal.finish()
    check(noPhoto is VisitForm.Finish.NeedsAttention && noPhoto.errors.values.flatten().any { it.code == "VIS-04" }) { "$noPhoto" }
    // Another house: another photo, which no sync has sent yet.
    check(proposal.photo("HOUSE_FRONT", cameraJpeg(blue = 160)) == null) { "photo" }
    complete(proposal, asProposed)

    // No signal: the bundle for the share sheet holds the waiting visit; the outbox keeps it.
    val share = File(dir, "share")
    val bundle = Bundles(phone).write(share)
    check(bundle is Bundles.Outcome.Ready && bundle.file.parentFile == share && bundle.file.length() > 0 && bundle.summary.en.startsWith("1 visits and 1 photos")) { "$bundle" }
    check(phone.pendingCount() == 1UL) { "the bundle took the visit out of the outbox" }

    val rejected = SyncRunner(phone, background).run {}
    check(rejected is SyncState.Done && rejected.report.rejected.size == 1) { "$rejected" }
    check(Bundles(phone).write(share) == Bundles.Outcome.NothingToSend) { "nothing waits" }
    val out = Outbox(phone).lines().first { it.visitId == proposal.visitId }
    check(out.state == "REJECTED" && out.reasons.isNotEmpty() && out.reopenedAs != null) { "$out" }
    val reopened = Drafts(phone).lines().single { it.visitId == out.reopenedAs }
    check(reopened.rejected && reopened.reasons == out.reasons && reopened.title.en == "New family (proposal)") { "$reopened" }

    val fixed = Drafts(phone).resume(reopened)
    check(fixed.proposalPlace(village, rw, "2") == null) { "place" }
    complete(fixed, asProposed)
    val resent = SyncRunner(phone, background).run {}
    check(resent is SyncState.Done && resent.report.accepted == 1UL && resent.report.rejected.isEmpty()) { "$resent" }
    check(Drafts(phone).lines().none { it.visitId == reopened.visitId }) { "still a draft" }
    check(server.household(newHousehold).contains("Sutrisno")) { "the new family is not on the server" }
}

/**
 * A second enumerator of the same RW enrolls by scanning the QR code, and visits two households
 * of the first one's: one the first visited (a conflict a supervisor resolves), one the first has
 * a draft of (SYN-01: changed since the draft was opened). The first's inbox tells of both, and of
 * the supervisor's approval of its own visit — never of the other's.
 */
fun anotherEnumeratorsWorkReachesTheInbox(
    phone: Phone, background: java.util.concurrent.ExecutorService, server: DemoServer, dir: File,
    visited: String, myVisit: String, drafted: String, approved: String,
) {
    val hadiPhone = Phone.open(PhoneConfig(File(dir, "hadi.db").path, newStoreKey(), null))
    val hadi = Session(hadiPhone)
    val notOurs = hadi.enrollScanned("https://wa.me/6281234567890", "HP Hadi")
    check(notOurs is Session.State.NotEnrolled && notOurs.code == "PHONE-QR" && notOurs.problem!!.id.isNotEmpty()) { "$notOurs" }
    val payload = "verivali:enroll?server=${java.net.URLEncoder.encode(server.url, "UTF-8")}&code=${server.codes[3]}"
    val scanned = hadi.enrollScanned(payload, "HP Hadi")
    check(scanned is Session.State.Enrolled && scanned.enumeratorName.startsWith("Hadi")) { "$scanned" }
    check(SyncRunner(hadiPhone, background).run {} is SyncState.Done) { "Hadi's first sync" }

    val draft = VisitForm(phone, phone.startVisit(drafted))
    check(draft.answer("outcome", "FOUND") == null) { "draft" }
    Thread.sleep(5)
    complete(VisitForm(hadiPhone, hadiPhone.startVisit(visited)), mapOf("assessment" to "NOT_POOR"))
    complete(VisitForm(hadiPhone, hadiPhone.startVisit(drafted)))
    val hadiSent = SyncRunner(hadiPhone, background).run {}
    check(hadiSent is SyncState.Done && hadiSent.report.accepted == 2UL) { "$hadiSent" }

    val pulled = SyncRunner(phone, background).run {}
    check(pulled is SyncState.Done) { "$pulled" }
    val inbox = Inbox(phone)
    val notices = inbox.notices()
    val conflict = notices.single { it.line.kind == "CONFLICT" }
    check(conflict.line.householdId == visited && conflict.message.en.contains("assessment")) { "$conflict" }
    val changed = notices.single { it.line.kind == "CHANGED" }
    check(changed.line.householdId == drafted && changed.line.code == "SYN-01" && changed.message.id.startsWith("Data ini sudah diubah")) { "$changed" }
    check(inbox.act(changed)?.visitId == draft.visitId) { "the draft reopens" }
    check(inbox.act(conflict) == null) { "a conflict waits for the supervisor" }

    // The supervisor keeps this phone's answer and approves its other visit.
    server.review("""{"household_id": "$visited", "visit_id": "$myVisit", "decision": "RESOLVE_CONFLICT", "comment": "Sesuai foto"}""")
    val approval = phone.outbox(50u).first { it.householdId == approved && it.state == "ACCEPTED" }
    server.review("""{"household_id": "$approved", "visit_id": "${approval.visitId}", "decision": "APPROVE"}""")
    val decided = SyncRunner(phone, background).run {}
    check(decided is SyncState.Done && decided.report.reviewsPulled == 2UL) { "$decided" }
    val titles = inbox.entries().filter { it.unread }.map { it.title.en }
    check(titles.any { it.startsWith("Conflict resolved, your visit chosen") } && titles.any { it.startsWith("Visit approved") }) { "$titles" }
    check(inbox.notices().none { it.line.kind == "CONFLICT" }) { "a resolved conflict still told" }
    // Hadi hears the conflict resolved against him; Ani's approval is none of his business.
    check(SyncRunner(hadiPhone, background).run {} is SyncState.Done) { "Hadi's sync" }
    val hadiTitles = Inbox(hadiPhone).entries().map { it.title.en }
    check(hadiTitles.any { it.startsWith("Conflict resolved, another enumerator's visit chosen") } && hadiTitles.none { it.startsWith("Visit approved") }) { "$hadiTitles" }
}

// Takes `args` only to differ from PhoneTest.kt's `main()`: the two are compiled together.
fun main(@Suppress("UNUSED_PARAMETER") args: Array<String>) = withDemoServer("Android demo logic on the JVM", ::runDemoApp)
