package id.verivali.demo

import id.verivali.core.EnrollmentInfo
import id.verivali.core.Phone
import id.verivali.core.PhoneException

/** One of the enumerator's areas: a village, optionally one RW, optionally one RT. */
data class Area(val village: String, val rw: String?, val rt: String?) {
    companion object {
        /** `16.04.01.2001`, `16.04.01.2001/001` or `16.04.01.2001/001/002`, as enrollment gives it. */
        fun parse(text: String): Area {
            val parts = text.split('/')
            return Area(parts[0], parts.getOrNull(1), parts.getOrNull(2))
        }
    }
}

/** The first screen: enrolled or not, and enrolling with the code the supervisor gave. */
class Session(private val phone: Phone) {
    sealed interface State {
        data class Enrolled(val enumeratorName: String, val areas: List<Area>) : State
        data class NotEnrolled(val problem: Bilingual?, val code: String?) : State
    }

    fun state(): State = phone.enrollment()?.let(::enrolled) ?: State.NotEnrolled(null, null)

    /** Blocking: run it off the main thread. A wrong or used code comes back as the state. */
    fun enroll(serverUrl: String, code: String, deviceName: String): State = try {
        enrolled(phone.enroll(serverUrl.trim(), code.trim(), deviceName))
    } catch (e: PhoneException) {
        State.NotEnrolled(e.text, e.code)
    }

    /**
     * Blocking. Enrolls with the QR code the admin's page shows (`verivali:enroll?server=…&code=…`),
     * as the camera read it: no address to type. Another QR code comes back as `PHONE-QR`, asking
     * for the code to be typed.
     */
    fun enrollScanned(payload: String, deviceName: String): State = try {
        enrolled(phone.enrollScanned(payload, deviceName))
    } catch (e: PhoneException) {
        State.NotEnrolled(e.text, e.code)
    }

    private fun enrolled(info: EnrollmentInfo) =
        State.Enrolled(info.enumeratorName, info.areas.map(Area::parse))
}
