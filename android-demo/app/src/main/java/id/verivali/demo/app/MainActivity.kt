package id.verivali.demo.app

import android.Manifest
import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.content.pm.PackageManager
import android.location.Location
import android.location.LocationListener
import android.location.LocationManager
import android.os.Bundle
import android.provider.MediaStore
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
import android.widget.Toast
import androidx.core.content.FileProvider
import com.google.mlkit.vision.codescanner.GmsBarcodeScanning
import id.verivali.core.Phone
import id.verivali.core.PhoneConfig
import id.verivali.core.choices
import id.verivali.core.preciseGpsAccuracyM
import id.verivali.demo.Bilingual
import id.verivali.demo.Bundles
import id.verivali.demo.Drafts
import id.verivali.demo.Gps
import id.verivali.demo.Households
import id.verivali.demo.StoreKeys
import id.verivali.demo.Inbox
import id.verivali.demo.Kind
import id.verivali.demo.Members
import id.verivali.demo.Outbox
import id.verivali.demo.Questions
import id.verivali.demo.Session
import id.verivali.demo.SyncRunner
import id.verivali.demo.SyncState
import id.verivali.demo.VisitForm
import java.io.File
import java.util.concurrent.Executors

/**
 * The demo's screens, built in code to stay small: enroll (typed or scanned), the RT list with
 * search, the visit form with GPS, photo and members, a new family, drafts, the outbox, sync with
 * progress, the inbox, and a bundle for the share sheet. Every decision is in `shared` (tested on
 * the JVM); this class only draws, talks to the camera and GPS, and moves calls off the main thread.
 */
class MainActivity : Activity() {
    private val background = Executors.newSingleThreadExecutor()
    private lateinit var phone: Phone
    /** The form the camera's photo is for, while the camera app is open. */
    private var photoFor: VisitForm? = null
    private var gpsListener: LocationListener? = null

    companion object {
        private const val FILES = "id.verivali.demo.files"
        private const val TAKE_PHOTO = 1
    }

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
                work({ Session(phone).enroll(url.text.toString(), code.text.toString(), android.os.Build.MODEL) }, ::enrolledOrNot)
            },
            // The admin's page shows a QR code of the server's address and the code: nothing to type.
            button(Bilingual("Pindai kode QR", "Scan the QR code")) {
                GmsBarcodeScanning.getClient(this).startScan().addOnSuccessListener { barcode ->
                    val payload = barcode.rawValue ?: return@addOnSuccessListener
                    work({ Session(phone).enrollScanned(payload, android.os.Build.MODEL) }, ::enrolledOrNot)
                }
            },
            text(problem ?: Bilingual("", "")),
        )
    }

    private fun enrolledOrNot(state: Session.State) = when (state) {
        is Session.State.Enrolled -> showHome(state)
        is Session.State.NotEnrolled -> showEnroll(state.problem)
    }

    private fun toast(t: Bilingual) = Toast.makeText(this, t.toString(), Toast.LENGTH_LONG).show()

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
            button(Bilingual("Draf", "Drafts")) { showDrafts(session) },
            button(Bilingual("Kotak keluar", "Outbox")) { showOutbox(session) },
            button(Bilingual("Keluarga baru (tidak ada di daftar)", "New family (not on the list)")) {
                showProposal(area.village, rw.text.toString(), rt.text.toString())
            },
            button(Bilingual("Kirim lewat berkas (tanpa sinyal)", "Send as a file (no signal)")) { shareBundle() },
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
        val gps = text(Gps.describe(null))
        views += gps
        views += button(Bilingual("Ambil titik GPS", "Take the GPS point")) { locate(form, gps) }
        views += TextView(this).also { problems["location"] = it }
        views += button(Bilingual("Foto rumah tampak depan", "Photo of the house front")) { takePhoto(form) }
        views += TextView(this).also { problems["photos"] = it }
        views += button(Bilingual("Anggota keluarga", "Family members")) { showMembers(form) }
        views += TextView(this).also { problems["members"] = it }
        views += button(Bilingual("Selesai", "Finish")) { finish(form, problems) }
        screen(*views.toTypedArray())
    }

    /** GPS fixes until one is precise enough (VIS-03), each saved and shown with its accuracy. */
    private fun locate(form: VisitForm, label: TextView) {
        if (checkSelfPermission(Manifest.permission.ACCESS_FINE_LOCATION) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(arrayOf(Manifest.permission.ACCESS_FINE_LOCATION), 0)
            return
        }
        val manager = getSystemService(LocationManager::class.java)
        gpsListener?.let { manager.removeUpdates(it) }
        val listener = object : LocationListener {
            override fun onLocationChanged(fix: Location) {
                val accuracy = fix.accuracy.toDouble()
                label.text = Gps.describe(accuracy).toString()
                work({ form.location(fix.latitude, fix.longitude, accuracy) }) { problem -> problem?.let(::toast) }
                if (accuracy <= preciseGpsAccuracyM()) manager.removeUpdates(this)
            }
            @Deprecated("Needed below API 29")
            override fun onStatusChanged(provider: String?, status: Int, extras: Bundle?) = Unit
            override fun onProviderEnabled(provider: String) = Unit
            override fun onProviderDisabled(provider: String) = Unit
        }
        gpsListener = listener
        manager.requestLocationUpdates(LocationManager.GPS_PROVIDER, 1000L, 0f, listener, mainLooper)
    }

    /** The camera app writes its photo into the cache; the core keeps it upright, shrunk, without metadata. */
    private fun takePhoto(form: VisitForm) {
        if (checkSelfPermission(Manifest.permission.CAMERA) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(arrayOf(Manifest.permission.CAMERA), 0)
            return
        }
        val file = File(cacheDir, "camera/photo.jpg").also { it.parentFile?.mkdirs() }
        photoFor = form
        val capture = Intent(MediaStore.ACTION_IMAGE_CAPTURE)
            .putExtra(MediaStore.EXTRA_OUTPUT, FileProvider.getUriForFile(this, FILES, file))
            .addFlags(Intent.FLAG_GRANT_WRITE_URI_PERMISSION)
        startActivityForResult(capture, TAKE_PHOTO)
    }

    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        val form = photoFor ?: return
        if (requestCode != TAKE_PHOTO || resultCode != RESULT_OK) return
        val file = File(cacheDir, "camera/photo.jpg")
        work({ form.photo("HOUSE_FRONT", file.readBytes()).also { file.delete() } }) { problem ->
            toast(problem ?: Bilingual("Foto tersimpan", "Photo kept"))
        }
    }

    /** The family as listed, each member moved out, deceased or corrected; a member added. */
    private fun showMembers(form: VisitForm) {
        work({ form.members.listed() }) { family ->
            val views = mutableListOf<View>(text(Bilingual("Anggota keluarga", "Family members"), 22f))
            val date = input(Bilingual("Tanggal (TTTT-BB-HH), bila tahu", "Date (YYYY-MM-DD), if known"))
            views += date
            family.forEach { m ->
                views += text(Bilingual("${m.name} — ${m.nikMasked ?: "tanpa NIK"} — ${m.presence.id}", m.presence.en))
                views += button(Bilingual("Pindah", "Moved out")) { memberChange { form.members.movedOut(m.memberId, date.text.toString().ifBlank { null }) } }
                views += button(Bilingual("Meninggal", "Deceased")) { memberChange { form.members.deceased(m.memberId, date.text.toString().ifBlank { null }) } }
                views += button(Bilingual("Koreksi nama", "Correct the name")) {
                    val name = input(Bilingual("Nama", "Name"), m.name)
                    AlertDialog.Builder(this).setView(name)
                        .setPositiveButton("Simpan / Save") { _, _ -> memberChange { form.members.correct(m.memberId, name = name.text.toString()) } }
                        .show()
                }
            }
            val name = input(Bilingual("Nama anggota baru", "New member's name"))
            val nik = input(Bilingual("NIK (bila ada)", "NIK (if any)"))
            val born = input(Bilingual("Tanggal lahir (TTTT-BB-HH)", "Birth date (YYYY-MM-DD)"))
            val sex = picker("member.sex")
            val relation = picker("member.relation")
            val noNik = picker("member.nik_missing_reason")
            views += listOf(name, nik, born, sex, relation, text(Bilingual("Bila tanpa NIK, alasannya", "Without a NIK, why")), noNik)
            views += button(Bilingual("Tambah anggota", "Add the member")) {
                memberChange {
                    form.members.add(
                        name.text.toString(), nik.text.toString().ifBlank { null }, picked(sex, "member.sex") ?: "",
                        born.text.toString().ifBlank { null }, picked(relation, "member.relation") ?: "",
                        picked(noNik, "member.nik_missing_reason"),
                    ).exceptionOrNull()?.let { (it as? Members.Refused)?.text ?: Bilingual(it.message ?: "", it.message ?: "") }
                }
            }
            views += button(Bilingual("Kembali ke formulir", "Back to the form")) { showForm(form) }
            screen(*views.toTypedArray())
        }
    }

    private fun memberChange(change: () -> Bilingual?) =
        work(change) { problem -> toast(problem ?: Bilingual("Tersimpan", "Saved")) }

    private fun picker(path: String) = Spinner(this).apply {
        adapter = ArrayAdapter(context, android.R.layout.simple_spinner_dropdown_item, listOf("—") + choices(path).map { "${it.labelId} / ${it.labelEn}" })
    }

    private fun picked(spinner: Spinner, path: String): String? =
        spinner.selectedItemPosition.takeIf { it > 0 }?.let { choices(path)[it - 1].code }

    /** A family on no list: where it lives and its head, then the form (a house-front photo is required). */
    private fun showProposal(village: String, rw: String, rt: String) {
        val address = input(Bilingual("Alamat", "Address"))
        val head = input(Bilingual("Nama kepala keluarga", "Head of the family"))
        screen(
            text(Bilingual("Keluarga baru di RW $rw RT $rt", "New family in RW $rw RT $rt"), 22f),
            address, head,
            button(Bilingual("Lanjut ke formulir", "On to the form")) {
                work({ VisitForm.propose(phone, village, rw, rt, address.text.toString(), head.text.toString()) }, ::showForm)
            },
        )
    }

    private fun showDrafts(session: Session.State.Enrolled) {
        work({ Drafts(phone).let { it to it.lines() } }) { (drafts, lines) ->
            val views = mutableListOf<View>(text(Bilingual("Draf", "Drafts"), 22f))
            if (lines.isEmpty()) views += text(Bilingual("Tidak ada draf.", "No drafts."))
            lines.forEach { line ->
                val why = line.reasons.joinToString("\n") { it.toString() }
                views += text(Bilingual("${line.title.id}${if (line.rejected) " — ditolak server:\n$why" else ""}", line.title.en)).apply {
                    setPadding(0, 16, 0, 16)
                    setOnClickListener { showForm(drafts.resume(line)) }
                    setOnLongClickListener {
                        AlertDialog.Builder(context)
                            .setTitle("Buang draf ini? / Discard this draft?")
                            .setPositiveButton("Buang / Discard") { _, _ -> work({ drafts.discard(line) }) { showDrafts(session) } }
                            .setNegativeButton("Batal / Cancel", null)
                            .show()
                        true
                    }
                }
            }
            views += button(Bilingual("Kembali", "Back")) { showHome(session) }
            screen(*views.toTypedArray())
        }
    }

    private fun showOutbox(session: Session.State.Enrolled) {
        work({ Outbox(phone).lines() }) { lines ->
            val views = mutableListOf<View>(text(Bilingual("Kotak keluar", "Outbox"), 22f))
            if (lines.isEmpty()) views += text(Bilingual("Belum ada kunjungan selesai.", "No finished visits yet."))
            lines.forEach { line ->
                val why = line.reasons.joinToString("\n") { it.toString() }
                views += text(Bilingual("#${line.deviceSeq} ${line.label.id}\n$why", line.label.en)).apply { setPadding(0, 16, 0, 16) }
            }
            views += button(Bilingual("Kembali", "Back")) { showHome(session) }
            screen(*views.toTypedArray())
        }
    }

    /** Writes the bundle into the cache and hands it to the share sheet (WhatsApp, Bluetooth, USB). */
    private fun shareBundle() {
        work({ Bundles(phone).write(File(cacheDir, "bundles")) }) { outcome ->
            when (outcome) {
                is Bundles.Outcome.Ready -> {
                    val send = Intent(Intent.ACTION_SEND)
                        .setType(outcome.mimeType)
                        .putExtra(Intent.EXTRA_STREAM, FileProvider.getUriForFile(this, FILES, outcome.file))
                        .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
                    startActivity(Intent.createChooser(send, outcome.summary.toString()))
                }
                Bundles.Outcome.NothingToSend -> toast(Bilingual("Tidak ada kunjungan yang menunggu.", "No visits are waiting."))
                is Bundles.Outcome.Failed -> toast(Bilingual("${outcome.message.id} (${outcome.code})", "${outcome.message.en} (${outcome.code})"))
            }
        }
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
        work({ Inbox(phone).let { inbox -> Triple(inbox, inbox.entries(), inbox.notices()) } }) { (inbox, entries, notices) ->
            val views = mutableListOf<View>(text(Bilingual("Kotak masuk", "Inbox"), 22f))
            if (entries.isEmpty() && notices.isEmpty()) views += text(Bilingual("Tidak ada pesan.", "No messages."))
            notices.forEach { notice ->
                views += text(Bilingual("${notice.title.id}\n${notice.message.id}", "${notice.title.en}\n${notice.message.en}")).apply {
                    setPadding(0, 16, 0, 16)
                    setOnClickListener { work({ inbox.act(notice) }) { form -> if (form != null) showForm(form) } }
                }
            }
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
