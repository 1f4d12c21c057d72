package id.verivali.demo

import id.verivali.core.InboxLine
import id.verivali.core.Phone

/**
 * Supervisors' returns, re-visit requests and resolved conflicts, and what the enumerator does
 * about each.
 */
class Inbox(private val phone: Phone) {
    data class Entry(val line: InboxLine, val title: Bilingual, val comment: String?, val unread: Boolean)

    fun entries(): List<Entry> = phone.inbox().map {
        Entry(
            line = it,
            title = when (it.chosenVisitIsMine) {
                true -> Bilingual(
                    "Konflik diselesaikan, kunjungan Anda dipilih: ${it.headName ?: "keluarga"}",
                    "Conflict resolved, your visit chosen: ${it.headName ?: "household"}",
                )
                false -> Bilingual(
                    "Konflik diselesaikan, kunjungan petugas lain dipilih: ${it.headName ?: "keluarga"}",
                    "Conflict resolved, another enumerator's visit chosen: ${it.headName ?: "household"}",
                )
                null -> Bilingual(
                    "${it.decisionLabelId}: ${it.headName ?: "keluarga"}",
                    "${it.decisionLabelEn}: ${it.headName ?: "household"}",
                )
            },
            comment = it.comment,
            unread = !it.read,
        )
    }

    fun unread(): Int = entries().count { it.unread }

    /**
     * Acts on an entry: marks it read and opens the form for it. A returned visit opens as a
     * correction of that visit (its answers prefilled); a re-visit request as a new visit; a
     * resolved conflict asks for nothing, so no form opens.
     */
    fun act(entry: Entry): VisitForm? {
        phone.markRead(entry.line.reviewId)
        if (entry.line.decision == "RESOLVE_CONFLICT") return null
        val returned = entry.line.visitId
        val draft = if (entry.line.decision == "RETURN" && returned != null) {
            phone.startCorrection(returned)
        } else {
            phone.startVisit(entry.line.householdId)
        }
        return VisitForm(phone, draft)
    }
}
