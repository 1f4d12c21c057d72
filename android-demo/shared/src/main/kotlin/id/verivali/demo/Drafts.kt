package id.verivali.demo

import id.verivali.core.IssueInfo
import id.verivali.core.Phone

/** A validation finding or a server's reason as a screen shows it, with its code for support calls. */
fun IssueInfo.text(): Bilingual = Bilingual("$messageId ($code)", "$messageEn ($code)")

/**
 * The drafts screen: visits begun and not finished, newest first. A visit the server rejected
 * comes back here as a draft with the server's reasons; fixed and finished, it goes out again as
 * a new visit that supersedes the rejected one.
 */
class Drafts(private val phone: Phone) {
    data class Line(val visitId: String, val title: Bilingual, val rejected: Boolean, val reasons: List<Bilingual>)

    fun lines(): List<Line> = phone.drafts().map { d ->
        val family = d.householdId?.let { phone.household(it)?.headName }
        Line(
            visitId = d.visitId,
            title = if (family != null) Bilingual(family, family) else Bilingual("Keluarga baru (usulan)", "New family (proposal)"),
            rejected = d.rejection.isNotEmpty(),
            reasons = d.rejection.map { it.text() },
        )
    }

    fun resume(line: Line): VisitForm = VisitForm(phone, line.visitId)

    /** Throws a draft away (what was typed in it is gone: the screen asks first). */
    fun discard(line: Line) = phone.discardDraft(line.visitId)
}

/**
 * The outbox screen: finished visits and what the server said of each, newest first — waiting,
 * received, already there, or rejected with the server's reasons and the draft it reopened as.
 */
class Outbox(private val phone: Phone) {
    data class Line(val deviceSeq: ULong, val visitId: String, val state: String, val label: Bilingual, val reasons: List<Bilingual>, val reopenedAs: String?)

    fun lines(limit: UInt = 200u): List<Line> = phone.outbox(limit).map { o ->
        Line(
            deviceSeq = o.deviceSeq,
            visitId = o.visitId,
            state = o.state,
            label = when (o.state) {
                "PENDING" -> Bilingual("Menunggu dikirim", "Waiting to be sent")
                "ACCEPTED" -> Bilingual("Diterima server", "Received by the server")
                "DUPLICATE" -> Bilingual("Sudah ada di server", "Already on the server")
                else -> Bilingual("Ditolak server — perbaiki di Draf", "Rejected by the server — fix it in Drafts")
            },
            reasons = o.issues.map { it.text() },
            reopenedAs = o.reopenedAs,
        )
    }
}
