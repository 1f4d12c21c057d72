package id.verivali.demo

import id.verivali.core.InboxLine
import id.verivali.core.NoticeLine
import id.verivali.core.Phone

/**
 * The inbox: supervisors' decisions on the enumerator's work — returns, re-visit requests,
 * approvals, resolved conflicts — and what changed on the server about the households the
 * enumerator works on: a conflict with another enumerator's visit waiting for a supervisor, or a
 * household changed by another enumerator since a draft of it was opened here (SYN-01).
 */
class Inbox(private val phone: Phone) {
    data class Entry(val line: InboxLine, val title: Bilingual, val comment: String?, val unread: Boolean)

    /** A household that needs a look; it stays until the conflict is resolved or the draft is done. */
    data class Notice(val line: NoticeLine, val title: Bilingual, val message: Bilingual)

    fun entries(): List<Entry> = phone.inbox().map {
        val family = Bilingual(it.headName ?: "keluarga", it.headName ?: "household")
        Entry(
            line = it,
            title = when {
                it.chosenVisitIsMine == true -> Bilingual(
                    "Konflik diselesaikan, kunjungan Anda dipilih: ${family.id}",
                    "Conflict resolved, your visit chosen: ${family.en}",
                )
                it.chosenVisitIsMine == false -> Bilingual(
                    "Konflik diselesaikan, kunjungan petugas lain dipilih: ${family.id}",
                    "Conflict resolved, another enumerator's visit chosen: ${family.en}",
                )
                it.decision == "APPROVE" -> Bilingual("Kunjungan disetujui: ${family.id}", "Visit approved: ${family.en}")
                else -> Bilingual("${it.decisionLabelId}: ${family.id}", "${it.decisionLabelEn}: ${family.en}")
            },
            comment = it.comment,
            unread = !it.read,
        )
    }

    fun notices(): List<Notice> = phone.notices().map {
        Notice(
            line = it,
            title = when (it.kind) {
                "CONFLICT" -> Bilingual("Konflik data: ${it.headName}", "Data conflict: ${it.headName}")
                else -> Bilingual("Diubah petugas lain: ${it.headName}", "Changed by another enumerator: ${it.headName}")
            },
            message = Bilingual("${it.messageId} (${it.code})", "${it.messageEn} (${it.code})"),
        )
    }

    /** What the home screen counts: unread decisions and households that need a look. */
    fun unread(): Int = entries().count { it.unread } + notices().size

    /**
     * Acts on an entry: marks it read and opens the form for it. A returned visit opens as a
     * correction of that visit (its answers prefilled); a re-visit request as a new visit; a
     * resolved conflict or an approval asks for nothing, so no form opens.
     */
    fun act(entry: Entry): VisitForm? {
        phone.markRead(entry.line.reviewId)
        if (entry.line.decision == "RESOLVE_CONFLICT" || entry.line.decision == "APPROVE") return null
        val returned = entry.line.visitId
        val draft = if (entry.line.decision == "RETURN" && returned != null) {
            phone.startCorrection(returned)
        } else {
            phone.startVisit(entry.line.householdId)
        }
        return VisitForm(phone, draft)
    }

    /**
     * Acts on a notice: a household changed since the draft was opened reopens that draft, for the
     * enumerator to compare with what the household now holds before finishing; a conflict waits
     * for the supervisor, so no form opens.
     */
    fun act(notice: Notice): VisitForm? = notice.line.draftId?.let { VisitForm(phone, it) }
}
