package id.verivali.demo

import id.verivali.core.Phone
import id.verivali.core.PhoneException
import java.io.File
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter

/**
 * A bundle for a phone without signal (docs/bundles.md): the unsent visits and photos in one
 * sealed file, written where the app's share sheet can hand it to a chat app, Bluetooth or USB
 * (on Android, a FileProvider directory; the app sends it with `ACTION_SEND`). Writing it changes
 * nothing on the phone: the outbox keeps every visit until the server acknowledges it.
 */
class Bundles(private val phone: Phone) {
    sealed interface Outcome {
        data class Ready(val file: File, val mimeType: String, val summary: Bilingual) : Outcome
        /** Nothing waits to be sent: no file is written. */
        data object NothingToSend : Outcome
        data class Failed(val code: String, val message: Bilingual) : Outcome
    }

    fun write(shareDir: File): Outcome {
        if (phone.pendingCount() == 0UL) return Outcome.NothingToSend
        shareDir.mkdirs()
        val stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
        val file = File(shareDir, "verivali-$stamp.bundle")
        return try {
            val written = phone.exportBundle(file.path)
            Outcome.Ready(
                file, MIME_TYPE,
                Bilingual(
                    "${written.visits} kunjungan dan ${written.photos} foto (${written.bytes / 1024UL} KB) siap dibagikan",
                    "${written.visits} visits and ${written.photos} photos (${written.bytes / 1024UL} KB) ready to share",
                ),
            )
        } catch (e: PhoneException) {
            Outcome.Failed(e.code, e.text)
        }
    }

    companion object {
        /** Any app may carry it; only a Verivali server opens it. */
        const val MIME_TYPE = "application/octet-stream"
    }
}
