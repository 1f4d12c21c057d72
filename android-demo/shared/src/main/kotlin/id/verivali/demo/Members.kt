package id.verivali.demo

import id.verivali.core.Phone
import id.verivali.core.PhoneException
import id.verivali.core.choices
import java.util.UUID

/**
 * The members part of a visit: the family as pulled, and what the enumerator found — a member
 * added (born, married in, missing from the list), corrected (name, NIK, birth date, relation),
 * moved out or deceased. Each change goes to the draft as it is made (`member_changes`), so a
 * draft resumed later keeps it; validation (NIK, KK, relations) speaks when the visit finishes.
 */
class Members(private val phone: Phone, private val visitId: String, private val householdId: String?) {
    data class Line(val memberId: String, val name: String, val nikMasked: String?, val relation: Bilingual?, val presence: Bilingual)

    /** The family as the phone last pulled it; screens show a NIK masked, never whole. */
    fun listed(): List<Line> = householdId?.let { phone.household(it) }?.members.orEmpty().map { m ->
        Line(
            memberId = m.memberId,
            name = m.name,
            nikMasked = m.nikMasked,
            relation = m.relation?.let { label("member.relation", it) },
            presence = label("member.presence", m.presence) ?: Bilingual(m.presence, m.presence),
        )
    }

    /**
     * A member not on the list; returns the new member's id, or the message of what was refused.
     * Without a NIK, `nikMissingReason` says why (NIK-10), such as `NOT_YET_ISSUED` for a baby.
     */
    fun add(name: String, nik: String?, sex: String, birthDate: String?, relation: String, nikMissingReason: String? = null): Result<String> {
        val memberId = UUID.randomUUID().toString()
        val details = details(name, nik, sex, birthDate, relation, nikMissingReason)
        val problem = change("""{"op": "ADD", "member": {"member_id": "$memberId", "details": $details, "presence": "NEW"}}""")
        return if (problem == null) Result.success(memberId) else Result.failure(Refused(problem))
    }

    /** What the enumerator corrected of a listed member; a field left null keeps its value. */
    fun correct(memberId: String, name: String? = null, nik: String? = null, birthDate: String? = null, relation: String? = null): Bilingual? =
        change("""{"op": "UPDATE", "member_id": ${jsonString(memberId)}, "details": ${details(name, nik, null, birthDate, relation, null)}}""")

    /** Moved out of the family, on `date` (`YYYY-MM-DD`) when known. */
    fun movedOut(memberId: String, date: String? = null): Bilingual? = change(presence("MARK_MOVED", memberId, date))

    /** Died, on `date` (`YYYY-MM-DD`) when known. */
    fun deceased(memberId: String, date: String? = null): Bilingual? = change(presence("MARK_DECEASED", memberId, date))

    class Refused(val text: Bilingual) : Exception(text.en)

    private fun presence(op: String, memberId: String, date: String?) =
        """{"op": "$op", "member_id": ${jsonString(memberId)}${date?.let { ", \"date\": ${jsonString(it.trim())}" } ?: ""}}"""

    private fun details(name: String?, nik: String?, sex: String?, birthDate: String?, relation: String?, nikMissingReason: String?): String =
        listOfNotNull(
            name?.trim()?.let { "\"name\": ${jsonString(it)}" },
            nik?.trim()?.ifEmpty { null }?.let { "\"nik\": ${jsonString(it)}" },
            sex?.let { "\"sex\": ${jsonString(it)}" },
            birthDate?.trim()?.ifEmpty { null }?.let { "\"birth_date\": ${jsonString(it)}" },
            relation?.let { "\"relation\": ${jsonString(it)}" },
            nikMissingReason?.let { "\"nik_missing_reason\": ${jsonString(it)}" },
        ).joinToString(", ", "{", "}")

    private fun change(json: String): Bilingual? = try {
        phone.addToAnswer(visitId, "member_changes", json)
        null
    } catch (e: PhoneException) {
        e.text
    }

    private fun label(path: String, code: String): Bilingual? =
        choices(path).firstOrNull { it.code == code }?.let { Bilingual(it.labelId, it.labelEn) }
}
