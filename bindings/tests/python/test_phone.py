"""The generated Python bindings, loaded for real (ctypes), against a real server process.

Run by scripts/test-bindings.sh, which builds the library and the server, generates the module and
sets VERIVALI_BINDINGS_DIR (module and library) and VERIVALI_SERVER_BIN.
"""

import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.environ["VERIVALI_BINDINGS_DIR"])
import verivali_ffi as v  # noqa: E402


class DemoServer:
    """`verivali-server demo` on a free loopback port, with its printed codes and token."""

    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="verivali-py-server-")
        self.process = subprocess.Popen(
            [os.environ["VERIVALI_SERVER_BIN"], "demo", "--no-phones", "--bind", "127.0.0.1:0",
             "--data-dir", self.data_dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            if "listening on" in line:
                break
        text = "".join(lines)
        self.url = re.search(r"listening on (http://\S+)", text).group(1)
        self.codes = re.findall(r"^  (\S+)  .+, area (\S+)$", text, re.M)
        self.supervisor_token = re.search(r"API token: (\S+)", text).group(1)

    def household(self, household_id):
        request = urllib.request.Request(
            f"{self.url}/api/v1/households/{household_id}",
            headers={"Authorization": f"Bearer {self.supervisor_token}"})
        with urllib.request.urlopen(request) as answer:
            return json.load(answer)

    def admin_page_payload(self):
        """Signs in as an admin of the kabupaten (added by the CLI, as an IT officer would) and
        issues an enrollment code on /team: the QR code's payload as the page shows it."""
        server = os.environ["VERIVALI_SERVER_BIN"]
        added = subprocess.run(
            [server, "supervisor", "add", "--name", "admin-py", "--region", "16.04",
             "--role", "admin", "--data-dir", self.data_dir],
            capture_output=True, text=True, check=True)
        supervisor = added.stdout.split()[1]
        subprocess.run(
            [server, "supervisor", "set-password", "--supervisor", supervisor, "--login",
             "admin-py", "--data-dir", self.data_dir],
            input="Admin-py-Lahat-26\n", text=True, check=True, capture_output=True)
        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        # The session cookie is `Secure`, which a cookie jar keeps from plain HTTP (a browser
        # allows it on loopback): it is carried by hand.
        try:
            urllib.request.build_opener(Stay).open(f"{self.url}/signin", urllib.parse.urlencode(
                {"login": "admin-py", "password": "Admin-py-Lahat-26"}).encode())
            raise AssertionError("the sign-in did not redirect")
        except urllib.error.HTTPError as answer:
            cookie = answer.headers["Set-Cookie"].split(";")[0]

        def page(path, form=None):
            request = urllib.request.Request(
                f"{self.url}{path}", data=form and urllib.parse.urlencode(form).encode(),
                headers={"Cookie": cookie})
            with urllib.request.urlopen(request) as answer:
                return answer.read().decode()

        team = page("/team")
        csrf = re.search(r'name="csrf" value="([^"]+)"', team).group(1)
        enumerator = re.search(r'data-enumerator="([^"]+)"', team).group(1)
        code_page = page(f"/team/enumerators/{enumerator}/code", {"csrf": csrf})
        payload = re.search(r'data-payload="([^"]+)"', code_page).group(1)
        return html.unescape(payload)

    def stop(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class Progress(v.SyncProgress):
    def __init__(self):
        self.seen = []

    def on_progress(self, phase, done, total):
        self.seen.append((phase, done, total))


def fill_found_visit(phone, visit_id):
    """The answers a complete FOUND visit needs, as the form sets them, by wire path."""
    answers = {
        "outcome": "FOUND",
        "consent": "INFORMED",
        "respondent_relation": "HEAD",
        "members_reviewed": True,
        "location": {"lat": -3.79, "lon": 103.54, "accuracy_m": 9.0, "source": "GPS"},
        "housing.tenure": "OWNED",
        "housing.floor_area_m2": 24.0,
        "housing.floor": "EARTH",
        "housing.wall": "BAMBOO",
        "housing.roof": "ASBESTOS_ZINC",
        "housing.lighting": "PLN_METERED",
        "housing.power_rating": "W450",
        "housing.cooking_fuel": "FIREWOOD",
        "housing.drinking_water": "PROTECTED_WELL",
        "housing.sanitation": "SHARED",
        "welfare.monthly_expenditure_rp": 950000,
        "assessment": "EXTREME_POOR",
        "recommendation": "KEEP",
    }
    for path, value in answers.items():
        phone.set_answer(visit_id, path, json.dumps(value))


class PhoneAgainstServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = DemoServer()
        cls.phone_dir = tempfile.mkdtemp(prefix="verivali-py-phone-")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.phone_dir, ignore_errors=True)

    def test_enroll_pull_record_sync_and_the_server_merges(self):
        key = v.new_store_key()
        self.assertEqual(len(key), 32)
        store_path = os.path.join(self.phone_dir, "phone.db")
        phone = v.Phone.open(v.PhoneConfig(
            store_path=store_path, store_key=key, ca_certificate_pem=None))

        # A wrong code: one exception type, a stable code and both languages.
        with self.assertRaises(v.PhoneError.Sync) as wrong:
            phone.enroll(self.server.url, "SALAH-KODE", "HP Ani")
        self.assertEqual(wrong.exception.code, "ENR-01")
        self.assertTrue(wrong.exception.message_id and wrong.exception.message_en)

        code, area = self.server.codes[0]
        enrollment = phone.enroll(self.server.url, code, "HP Ani")
        self.assertEqual(enrollment.areas, ["16.04.01.2001/001"])
        self.assertEqual(phone.enrollment().device_id, enrollment.device_id)

        progress = Progress()
        first = phone.sync(progress)
        self.assertEqual(first.households_pulled, 34)
        self.assertIn((v.SyncPhase.PULL, 34, 34), progress.seen)

        rows = phone.households_in_rt("16.04.01.2001", "1", "1")
        self.assertGreater(len(rows), 3)
        self.assertTrue(all(r.status == "NOT_VISITED" for r in rows))
        head = rows[0].head_name
        found = phone.search_households(head.split()[0].lower())
        self.assertIn(rows[0].household_id, [r.household_id for r in found])
        detail = phone.household(rows[0].household_id)
        self.assertTrue(detail.members)
        for member in detail.members:
            if member.nik_masked:
                self.assertIn("********", member.nik_masked)

        # A visit with validation errors: they come back as data, and nothing is queued.
        incomplete = phone.start_visit(rows[0].household_id)
        phone.set_text(incomplete, "outcome", "FOUND")
        result = phone.finish_visit(incomplete)
        self.assertFalse(result.finished)
        self.assertIn("VIS-01", {i.code for i in result.issues})
        self.assertTrue(all(i.message_id and i.message_en for i in result.issues))
        self.assertEqual(phone.pending_count(), 0)
        with self.assertRaises(v.PhoneError.Input) as bad:
            phone.set_answer(incomplete, "welfare.monthly_expenditure_rp", '"banyak"')
        self.assertEqual(bad.exception.code, "PHONE-ANSWER")

        # Completed, with the reason for the warning the form showed: it finishes.
        fill_found_visit(phone, incomplete)
        result = phone.finish_visit(incomplete)
        if not result.finished:
            reasons = {i.key: "Keluarga sudah didata minggu lalu" for i in result.issues
                       if i.severity == "WARNING"}
            self.assertTrue(reasons, [i.code for i in result.issues])
            phone.set_answer(incomplete, "warning_reasons", json.dumps(reasons))
            result = phone.finish_visit(incomplete)
        self.assertTrue(result.finished, [(i.code, i.field) for i in result.issues])

        nobody = phone.start_visit(rows[1].household_id)
        phone.set_text(nobody, "outcome", "NOBODY_HOME")
        self.assertTrue(phone.finish_visit(nobody).finished)
        self.assertEqual(phone.pending_count(), 2)

        # No signal for days: the two visits go into a bundle file; the outbox still waits.
        bundle_path = os.path.join(self.phone_dir, "hp-ani.bundle")
        written = phone.export_bundle(bundle_path)
        self.assertEqual((written.visits, written.photos), (2, 0))
        self.assertEqual(os.path.getsize(bundle_path), written.bytes)
        self.assertEqual(phone.pending_count(), 2)

        progress = Progress()
        report = phone.sync(progress)
        self.assertEqual((report.accepted, report.duplicates, report.rejected), (2, 0, []))
        self.assertIn((v.SyncPhase.PUSH, 2, 2), progress.seen)
        self.assertEqual(phone.pending_count(), 0)
        self.assertEqual({line.state for line in phone.outbox(10)}, {"ACCEPTED"})
        self.assertEqual(phone.household(rows[0].household_id).status, "VISITED")

        # The server merged both visits into their households.
        on_server = self.server.household(rows[0].household_id)
        self.assertEqual(on_server["state"]["visits_used"], [incomplete])
        self.assertEqual(on_server["state"]["outcome"], "FOUND")
        self.assertEqual(on_server["state_hash"], phone.household(rows[0].household_id).state_hash)
        self.assertEqual(self.server.household(rows[1].household_id)["state"]["visits_used"], [nobody])

        # Encryption at rest (issue 15): the store's files hold no name the phone shows, nor the
        # device's token; another key is refused and changes nothing; the app's key opens it.
        names = {r.head_name for r in rows} | {m.name for m in detail.members}
        self.assertGreater(len(names), 3)
        store_files = [os.path.join(self.phone_dir, f) for f in os.listdir(self.phone_dir)
                       if f.startswith("phone.db")]
        for path in store_files:
            with open(path, "rb") as f:
                data = f.read()
            for name in names:
                self.assertNotIn(name.encode(), data, f"{name} readable in {path}")
        del phone
        with open(store_path, "rb") as f:
            before = f.read()
        with self.assertRaises(v.PhoneError.Storage) as wrong_key:
            v.Phone.open(v.PhoneConfig(store_path=store_path, store_key=bytes(32),
                                       ca_certificate_pem=None))
        self.assertEqual(wrong_key.exception.code, "PHONE-KEY")
        self.assertTrue(wrong_key.exception.message_id and wrong_key.exception.message_en)
        with open(store_path, "rb") as f:
            self.assertEqual(f.read(), before)
        with self.assertRaises(v.PhoneError.Input) as short_key:
            v.Phone.open(v.PhoneConfig(store_path=store_path, store_key=b"pendek",
                                       ca_certificate_pem=None))
        self.assertEqual(short_key.exception.code, "PHONE-KEY")
        reopened = v.Phone.open(v.PhoneConfig(store_path=store_path, store_key=key,
                                              ca_certificate_pem=None))
        self.assertEqual(reopened.household(rows[0].household_id).status, "VISITED")

    def test_enrolls_with_the_qr_code_as_scanned(self):
        """The admin's page shows a QR code of the server's address and the code (issue 14): the
        payload taken from that page enrolls the phone as the camera would read it."""
        phone = v.Phone.open(v.PhoneConfig(
            store_path=os.path.join(self.phone_dir, "scanned.db"), store_key=v.new_store_key(),
            ca_certificate_pem=None,
            app_version="2.0.0-uji"))
        with self.assertRaises(v.PhoneError.Input) as not_ours:
            phone.enroll_scanned("https://wa.me/6281234567890", "HP Citra")
        self.assertEqual(not_ours.exception.code, "PHONE-QR")
        self.assertTrue(not_ours.exception.message_id and not_ours.exception.message_en)

        scanned = self.server.admin_page_payload()
        enrollment = phone.enroll_scanned(scanned, "HP Citra")
        self.assertEqual(phone.enrollment().device_id, enrollment.device_id)
        self.assertGreater(phone.sync(Progress()).households_pulled, 0)
        # The sync said which app the phone runs; the admin's list of phones shows it.
        server_db = sqlite3.connect(f"file:{self.server.data_dir}/verivali.db?mode=ro", uri=True)
        reported = server_db.execute(
            "SELECT app_version, unsent_visits FROM devices WHERE device_id = ?",
            (enrollment.device_id,)).fetchone()
        server_db.close()
        self.assertEqual(reported, ("2.0.0-uji", 0))

    def test_pick_lists_carry_both_labels(self):
        outcomes = v.choices("outcome")
        self.assertIn("FOUND", [c.code for c in outcomes])
        self.assertTrue(all(c.label_id and c.label_en for c in outcomes))
        self.assertEqual(v.choices("no.such.question"), [])
        self.assertTrue(any(r.code == "NIK-03" for r in v.validation_rules()))


if __name__ == "__main__":
    unittest.main()
