package id.verivali.demo.app

import android.app.Activity
import android.app.AlertDialog
import android.os.Bundle
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ProgressBar
import android.widget.ScrollView
import android.widget.Spinner
import android.widget.TextView
import id.verivali.core.Phone
import id.verivali.core.PhoneConfig
import id.verivali.demo.Bilingual
import id.verivali.demo.Households
import id.verivali.demo.StoreKeys
import id.verivali.demo.Inbox
import id.verivali.demo.Kind
import id.verivali.demo.Questions
import id.verivali.demo.Session
import id.verivali.demo.SyncRunner
import id.verivali.demo.SyncState
import id.verivali.demo.VisitForm
import java.io.File
import java.util.concurrent.Executors

/**
 * The demo's screens, built in code to stay small: enroll, the RT list with search, the visit
 * form, sync with progress, the inbox. Every decision is in `shared` (tested on the JVM); this
 * class only draws and moves calls off the main thread.
 */
class MainActivity : Activity() {
    private val background = Executors.newSingleThreadExecutor()
    private lateinit var phone: Phone

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        // The key is unwrapped on the main thread once (a few milliseconds); the wrapped copy lives
        // in noBackupFilesDir, out of cloud backups, and never in the database's file.
        val key = StoreKeys(File(noBackupFilesDir, "store-key.wrapped"), AndroidKeystoreVault()).key()
        phone = Phone.open(PhoneConfig(File(filesDir, "verivali.db").path, key, null))
        work({ Session(phone).state() }) { state ->
            if (state is Session.State.Enrolled) showHome(state) else showEnroll(null)
        }
    }

    override fun onDestroy() {
        background.shutdown()
        super.onDestroy()
    }

    /** Runs a blocking call off the main thread and shows its result on it. */
    private fun <T> work(call: () -> T, show: (T) -> Unit) {
        background.execute {
            val result = call()
            runOnUiThread { show(result) }
        }
    }

    private fun screen(vararg views: View) {
        val column = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(32, 32, 32, 32)
            views.forEach(::addView)
        }
        setContentView(ScrollView(this).apply { addView(column) })
    }

    private fun text(t: Bilingual, size: Float = 16f) = TextView(this).apply {
        text = t.toString()
        textSize = size
    }

    private fun button(t: Bilingual, onClick: () -> Unit) = Button(this).apply {
        text = t.toString()
        setOnClickListener { onClick() }
    }

    private fun input(hint: Bilingual, value: String = "") = EditText(this).apply {
        this.hint = hint.toString()
        setText(value)
    }

    private fun showEnroll(problem: Bilingual?) {
        // 10.0.2.2 is the computer running `verivali-server demo`, seen from the emulator.
        val url = input(Bilingual("Alamat server", "Server address"), "http://10.0.2.2:8080")
        val code = input(Bilingual("Kode pendaftaran", "Enrollment code"))
        screen(
            text(Bilingual("Daftarkan HP ini", "Enroll this phone"), 22f),
            url, code,
            button(Bilingual("Daftar", "Enroll")) {
                work({ Session(phone).enroll(url.text.toString(), code.text.toString(), android.os.Build.MODEL) }) {
                    when (it) {
                        is Session.State.Enrolled -> showHome(it)
                        is Session.State.NotEnrolled -> showEnroll(it.problem)
                    }
                }
            },
            text(problem ?: Bilingual("", "")),
        )
    }

    private fun showHome(session: Session.State.Enrolled) {
        val area = session.areas.first()
        val rw = input(Bilingual("RW", "RW"), area.rw ?: "1")
        val rt = input(Bilingual("RT", "RT"), area.rt ?: "1")
        val search = input(Bilingual("Cari nama atau NIK", "Search name or NIK"))
        val list = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        val households = Households(phone)
        fun fill(lines: List<id.verivali.demo.HouseholdLine>) {
            list.removeAllViews()
            lines.forEach { line ->
                list.addView(text(Bilingual("${line.title} — ${line.place} — ${line.status.id}", line.status.en)).apply {
                    setPadding(0, 16, 0, 16)
                    setOnClickListener { work({ VisitForm(phone, phone.startVisit(line.householdId)) }, ::showForm) }
                })
            }
        }
        val pending = text(Bilingual("", ""))
        work({ phone.pendingCount() to Inbox(phone).unread() }) { (waiting, unread) ->
            pending.text = Bilingual("$waiting kunjungan menunggu dikirim; $unread pesan baru", "$waiting visits waiting; $unread new messages").toString()
        }
        screen(
            text(Bilingual("Halo, ${session.enumeratorName}", "Hello, ${session.enumeratorName}"), 22f),
            pending,
            button(Bilingual("Sinkronkan", "Sync")) { showSync(session) },
            button(Bilingual("Kotak masuk", "Inbox")) { showInbox(session) },
            rw, rt,
            button(Bilingual("Tampilkan RT", "Show RT")) {
                work({ households.inRt(area.village, rw.text.toString(), rt.text.toString()) }, ::fill)
            },
            search,
            button(Bilingual("Cari", "Search")) { work({ households.search(search.text.toString()) }, ::fill) },
            list,
        )
    }

    private fun showForm(form: VisitForm) {
        val problems = mutableMapOf<String, TextView>()
        val views = mutableListOf<View>(text(Bilingual("Kunjungan", "Visit"), 22f))
        for (q in Questions.all) {
            views += text(q.label)
            views += if (q.kind == Kind.CHOICE) {
                Spinner(this).apply {
                    val labels = listOf("—") + q.choices.map { "${it.labelId} / ${it.labelEn}" }
                    adapter = ArrayAdapter(context, android.R.layout.simple_spinner_dropdown_item, labels)
                    onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
                        override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) {
                            if (position > 0) save(form, q.path, q.choices[position - 1].code, problems)
                        }
                        override fun onNothingSelected(parent: AdapterView<*>?) = Unit
                    }
                }
            } else {
                input(Bilingual("", "")).apply {
                    setOnFocusChangeListener { _, focused -> if (!focused) save(form, q.path, text.toString(), problems) }
                }
            }
            views += TextView(this).also { problems[q.path] = it }
        }
        views += button(Bilingual("Selesai", "Finish")) { finish(form, problems) }
        screen(*views.toTypedArray())
    }

    private fun save(form: VisitForm, path: String, value: String, problems: Map<String, TextView>) {
        if (value.isBlank()) return
        work({ form.answer(path, value) }) { problems[path]?.text = it?.toString() ?: "" }
    }

    private fun finish(form: VisitForm, problems: Map<String, TextView>) {
        work({ form.finish() }) { end ->
            when (end) {
                is VisitForm.Finish.Done -> work({ Session(phone).state() }) { s ->
                    if (s is Session.State.Enrolled) showHome(s)
                }
                is VisitForm.Finish.NeedsAttention -> {
                    problems.values.forEach { it.text = "" }
                    end.errors.forEach { (path, issues) ->
                        problems[path]?.text = issues.joinToString("\n") { "${it.messageId} / ${it.messageEn}" }
                    }
                    end.warnings.firstOrNull()?.let { warning ->
                        val reason = input(Bilingual("Alasan", "Reason"))
                        AlertDialog.Builder(this)
                            .setTitle("${warning.messageId} / ${warning.messageEn}")
                            .setView(reason)
                            .setPositiveButton("Lanjut / Go on") { _, _ ->
                                work({ form.reason(warning, reason.text.toString()) }) { finish(form, problems) }
                            }
                            .show()
                    }
                }
            }
        }
    }

    private fun showSync(session: Session.State.Enrolled) {
        val label = text(Bilingual("Menyiapkan…", "Starting…"))
        val bar = ProgressBar(this, null, android.R.attr.progressBarStyleHorizontal).apply { max = 100 }
        screen(text(Bilingual("Sinkronisasi", "Sync"), 22f), label, bar,
            button(Bilingual("Kembali", "Back")) { showHome(session) })
        SyncRunner(phone, background).start { state ->
            runOnUiThread {
                when (state) {
                    is SyncState.Running -> {
                        label.text = "${state.label} (${state.done}/${state.total})"
                        bar.progress = state.percent
                    }
                    is SyncState.Done -> label.text = state.summary.toString()
                    is SyncState.Failed -> label.text = "${state.message}\n(${state.code})"
                }
            }
        }
    }

    private fun showInbox(session: Session.State.Enrolled) {
        work({ Inbox(phone).let { inbox -> inbox to inbox.entries() } }) { (inbox, entries) ->
            val views = mutableListOf<View>(text(Bilingual("Kotak masuk", "Inbox"), 22f))
            if (entries.isEmpty()) views += text(Bilingual("Tidak ada pesan.", "No messages."))
            entries.forEach { entry ->
                views += text(Bilingual("${entry.title.id}\n${entry.comment ?: ""}", entry.title.en)).apply {
                    setPadding(0, 16, 0, 16)
                    setOnClickListener { work({ inbox.act(entry) }) { form -> if (form != null) showForm(form) else showInbox(session) } }
                }
            }
            views += button(Bilingual("Kembali", "Back")) { showHome(session) }
            screen(*views.toTypedArray())
        }
    }
}
