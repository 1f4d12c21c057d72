package id.verivali.demo

import id.verivali.core.HouseholdRow
import id.verivali.core.Phone

/** One line of the household list. */
data class HouseholdLine(
    val householdId: String,
    val title: String,
    val place: String,
    val status: Bilingual,
    /** Not visited yet: the list shows these first. */
    val toDo: Boolean,
)

/** The enumerator's daily list: the households of one RT, or a search by name or whole NIK. */
class Households(private val phone: Phone) {
    fun inRt(village: String, rw: String, rt: String): List<HouseholdLine> =
        phone.householdsInRt(village, rw, rt).map(::line).sortedByDescending { it.toDo }

    /** Two letters at least: fewer would list half the village. */
    fun search(query: String): List<HouseholdLine> =
        if (query.trim().length < 2) emptyList() else phone.searchHouseholds(query.trim()).map(::line)

    private fun line(row: HouseholdRow) = HouseholdLine(
        householdId = row.householdId,
        title = row.headName,
        place = listOfNotNull(row.address.ifBlank { null }, row.rw?.let { "RW $it" }, row.rt?.let { "RT $it" })
            .joinToString(", "),
        status = Bilingual(row.statusLabelId, row.statusLabelEn),
        toDo = row.status == "NOT_VISITED",
    )
}
