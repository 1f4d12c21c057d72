package id.verivali.demo

import id.verivali.core.Phone
import id.verivali.core.PhoneException
import id.verivali.core.SyncPhase
import id.verivali.core.SyncProgress
import id.verivali.core.SyncReport
import java.util.concurrent.Executor

/** What the sync screen shows. */
sealed interface SyncState {
    data class Running(val phase: SyncPhase, val label: Bilingual, val done: ULong, val total: ULong) : SyncState {
        val percent: Int get() = if (total == 0UL) 0 else (done * 100UL / total).toInt()
    }
    data class Done(val report: SyncReport, val summary: Bilingual) : SyncState
    /** Nothing is lost: what was sent stays sent, the rest goes on the next sync. */
    data class Failed(val code: String, val message: Bilingual) : SyncState
}

/** The sync button: runs a sync on `background` and reports each step to `onState`. */
class SyncRunner(private val phone: Phone, private val background: Executor) {
    fun start(onState: (SyncState) -> Unit) {
        background.execute { run(onState) }
    }

    /** Blocking; gives the final state after reporting every step. */
    fun run(onState: (SyncState) -> Unit): SyncState {
        val progress = object : SyncProgress {
            override fun onProgress(phase: SyncPhase, done: ULong, total: ULong) {
                onState(SyncState.Running(phase, label(phase), done, total))
            }
        }
        val end = try {
            val report = phone.sync(progress)
            SyncState.Done(report, summary(report))
        } catch (e: PhoneException) {
            SyncState.Failed(e.code, e.text)
        }
        onState(end)
        return end
    }

    private fun label(phase: SyncPhase) = when (phase) {
        SyncPhase.PUSH -> Bilingual("Mengirim kunjungan", "Sending visits")
        SyncPhase.PHOTOS -> Bilingual("Mengirim foto", "Sending photos")
        SyncPhase.PULL -> Bilingual("Mengambil data keluarga", "Receiving households")
    }

    private fun summary(r: SyncReport) = Bilingual(
        "${r.accepted} kunjungan terkirim, ${r.duplicates} sudah ada, ${r.rejected.size} ditolak; " +
            "${r.householdsPulled} keluarga diperbarui, ${r.reviewsPulled} pesan baru",
        "${r.accepted} visits sent, ${r.duplicates} already there, ${r.rejected.size} rejected; " +
            "${r.householdsPulled} households updated, ${r.reviewsPulled} new messages",
    )
}
