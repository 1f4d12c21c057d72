// The district data team's pages in a real headless Chromium, driven by playwright-core, against the
// same `verivali-server demo` process as supervisor.mjs (tests/tests/browser.rs runs both).
// PHASE=team: the admin adds a reviewer who signs in and is made a viewer; creates a campaign
//   that the demo's visits count toward; adds an enumerator with an area and issues an enrollment code (prints
//   `ENROLL <payload>` for the Rust side to enroll a phone with, as its camera would read the QR
//   code); imports a DTKS family file with its individual file through the column page, watches the
//   progress and reads the report and its XLSX; a file without a family id column fails with its
//   reason and stores nothing; a newer list leaves a family out, which the admin removes from the
//   removal queue.
// PHASE=bundle: the admin imports the bundle at BUNDLE (made by the Rust side on that phone) and
//   reads what was stored. Prints `BUNDLE stored=<n> held=<n> photos=<n>`.
// Env: BASE_URL, TOKEN, ADMIN_LOGIN, TEAM_PASSWORD, OUT_DIR, PLAYWRIGHT_DIR, CHROMIUM.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';

const { chromium } = createRequire(`${process.env.PLAYWRIGHT_DIR}/`)('playwright-core');
const base = process.env.BASE_URL;
const out = process.env.OUT_DIR;
const check = (ok, what) => { if (!ok) { throw new Error(`check failed: ${what}`); } };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

async function signIn() {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })).newPage();
  await page.goto(`${base}/signin`);
  await page.fill('input[name=login]', process.env.ADMIN_LOGIN);
  await page.fill('input[name=password]', process.env.TEAM_PASSWORD);
  await Promise.all([page.waitForURL('**/dashboard'), page.click('form[action="/signin"] button')]);
  return page;
}

async function targets() {
  const overview = await (await fetch(`${base}/api/v1/reports/overview`,
    { headers: { authorization: `Bearer ${process.env.TOKEN}` } })).json();
  return overview.progress.total.targets;
}

const count = async (page, name) => Number(await page.textContent(`[data-count="${name}"]`));

// Uploads a list from the import page, keeps or sets the columns, and waits for the report.
async function importList(page, files, columns = {}) {
  await Promise.all([page.waitForURL('**/imports'), page.click('nav a[href="/imports"]')]);
  await page.selectOption('select[name=source]', 'DTKS');
  await page.setInputFiles('input[name=family]', files.family);
  if (files.individuals) { await page.setInputFiles('input[name=individuals]', files.individuals); }
  await Promise.all([page.waitForURL('**/columns'), page.click('form[data-form="upload-list"] button')]);
  for (const [field, header] of Object.entries(columns)) {
    await page.selectOption(`select[name="map.${field}"]`, header);
  }
  await Promise.all([page.waitForURL(/\/imports\/[0-9a-f-]+$/), page.click('form[data-form="columns"] button')]);
  // The progress bar is replaced by the report when the import ends (htmx reloads the page).
  await page.waitForSelector('[data-outcome]', { timeout: 60000 });
}

function list(name, text) {
  const path = `${out}/${name}`;
  writeFileSync(path, text);
  return path;
}

try {
  const page = await signIn();
  if (process.env.PHASE === 'team') {
    // A kecamatan's reviewer, added with a first password, signs in; made a viewer, they lose
    // the decision forms at their next page.
    await Promise.all([page.waitForURL('**/people'), page.click('nav a[href="/people"]')]);
    await page.fill('form[data-form="add-person"] input[name=name]', 'Kasi Kesos Merapi');
    await page.fill('form[data-form="add-person"] input[name=login]', 'kesos-merapi');
    await page.fill('form[data-form="add-person"] input[name=region]', '16.04.01');
    await page.fill('form[data-form="add-person"] input[name=password]', 'Kesos-Merapi-2026');
    await Promise.all([page.waitForURL('**/people?saved=1'), page.click('form[data-form="add-person"] button')]);
    const kesos = page.locator('tr[data-person]', { hasText: 'kesos-merapi' });
    check(await kesos.getAttribute('data-role-code') === 'REVIEWER', 'added as a reviewer');
    const other = await (await browser.newContext()).newPage();
    await other.goto(`${base}/signin`);
    await other.fill('input[name=login]', 'kesos-merapi');
    await other.fill('input[name=password]', 'Kesos-Merapi-2026');
    await Promise.all([other.waitForURL('**/dashboard'), other.click('form[action="/signin"] button')]);
    check((await other.textContent('[data-role]')).includes('Pemeriksa'), 'they sign in as a reviewer');
    await kesos.locator('select[name=role]').selectOption('VIEWER');
    await Promise.all([page.waitForURL('**/people?saved=1'), kesos.locator('form[action$="/role"] button').click()]);
    await other.reload();
    check((await other.textContent('[data-role]')).includes('Pemantau'), 'now a viewer');

    // A campaign of the kabupaten from a week ago: the demo's visits of today count toward it.
    await Promise.all([page.waitForURL('**/campaigns'), page.click('nav a[href="/campaigns"]')]);
    const today = await page.inputValue('form[data-form="add-campaign"] input[name=starts_on]');
    const shift = (days) => new Date(Date.parse(today) + days * 86400000).toISOString().slice(0, 10);
    await page.fill('form[data-form="add-campaign"] input[name=name]', 'Verval Desember');
    await page.fill('form[data-form="add-campaign"] input[name=starts_on]', shift(-7));
    await page.fill('form[data-form="add-campaign"] input[name=ends_on]', shift(23));
    await Promise.all([page.waitForURL('**/campaigns'), page.click('form[data-form="add-campaign"] button')]);
    const campaign = page.locator('tr[data-campaign]', { hasText: 'Verval Desember' });
    check(await campaign.count() === 1, 'the campaign is listed');
    check(Number(await campaign.locator('[data-count="visited"]').textContent()) > 0, 'the demo visits count toward it');
    await page.screenshot({ path: `${out}/campaigns.png` });

    // An enumerator with a first area, and an enrollment code shown with its QR code.
    await Promise.all([page.waitForURL('**/team'), page.click('nav a[href="/team"]')]);
    // The village is picked from the region tree, narrowed by a search of its name.
    await page.fill('form[data-form="find-village"] input[name=find]', 'sukamaju');
    await Promise.all([page.waitForURL('**/team?**'), page.click('form[data-form="find-village"] button')]);
    const picker = 'form[data-form="add-enumerator"] select[name=village]';
    const villages = await page.$$eval(`${picker} option`, (os) => os.map((o) => o.value));
    check(villages.length === 1, `the search leaves one village: ${villages}`);
    const village = villages[0];
    await page.fill('form[data-form="add-enumerator"] input[name=name]', 'Rina (kader baru)');
    await page.selectOption(picker, village);
    await Promise.all([page.waitForURL('**/team?saved=1'), page.click('form[data-form="add-enumerator"] button')]);
    // By the heading: every other enumerator's move list names her too.
    const rina = page.locator('article[data-enumerator]', { has: page.locator('h2', { hasText: 'Rina (kader baru)' }) });
    check(await rina.locator(`li[data-area="${village}"]`).count() === 1, 'the new enumerator holds the area');
    await Promise.all([page.waitForURL('**/code'), rina.locator('form[action$="/code"] button').click()]);
    check(await page.locator('figure.qr svg').count() === 1, 'the code is shown as a QR code');
    const payload = await page.getAttribute('figure.qr', 'data-payload');
    check(payload.startsWith('verivali:enroll?server='), `the QR payload: ${payload}`);
    await page.screenshot({ path: `${out}/enrollment-code.png` });
    console.log(`ENROLL ${payload}`);
    console.log(`VILLAGE ${village}`);

    // A DTKS list of two families, with members, in the demo's village.
    const before = await targets();
    const families = 'ID DTKS;Kode Wilayah;Nama Kepala Keluarga;Alamat\n'
      + `DT-0001;${village};SUMARNI;DUSUN II\nDT-0002;${village};ahmad  yani;DUSUN III\nDT-0003;99.99.99.9999;SALAH;\n`;
    const people = 'ID DTKS;ID Individu;Nama;NIK;Jenis Kelamin;Hubungan\n'
      + 'DT-0001;1;SUMARNI;1604015505800001;P;KEPALA KELUARGA\nDT-0002;2;AHMAD YANI;1604010101700002;L;KEPALA KELUARGA\n'
      + 'DT-0002;3;SITI;1604014101750003;P;ISTRI\n';
    const files = { family: list('dtks-keluarga.csv', families), individuals: list('dtks-individu.csv', people) };
    await importList(page, files, { family_id: 'ID DTKS' });
    check(await page.getAttribute('[data-outcome]', 'data-outcome') === 'done', 'the import ended');
    check(await count(page, 'added') === 2, 'two families added');
    check(await count(page, 'left-out') === 1, 'the row of an unknown village is left out');
    check((await page.textContent('table[data-notes="flagged"]')).includes('IMP-08'), 'the name with stray spaces is flagged');
    check(!(await page.content()).includes('1604015505800001'), 'no NIK in the report');
    await page.screenshot({ path: `${out}/import-report.png`, fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[data-export="import-report"]')]);
    const xlsx = readFileSync(await download.path());
    check(xlsx.subarray(0, 2).toString() === 'PK' && xlsx.length > 2000, 'the report downloads as an XLSX');
    check(await targets() === before + 2, 'the two families count as targets');

    // The same files again change nothing.
    await importList(page, files, { family_id: 'ID DTKS' });
    check(await count(page, 'unchanged') === 2 && await count(page, 'added') === 0, 'importing again changes nothing');

    // A file without a family id column: its reason is shown, and nothing is stored.
    await importList(page, { family: list('tanpa-id.csv', 'Nama;Kode Wilayah\nJOKO;' + village + '\n') });
    check(await page.getAttribute('[data-outcome]', 'data-outcome') === 'failed', 'the import failed');
    check((await page.textContent('[data-outcome="failed"]')).includes('IMP-21'), 'with its code');
    check(await targets() === before + 2, 'the failed import stored nothing');

    // A newer list without SUMARNI's family: she waits in the removal queue, and is removed there.
    await importList(page, { family: list('dtks-2026.csv', families.split('\n').filter((l) => !l.startsWith('DT-0001')).join('\n')) },
      { family_id: 'ID DTKS' });
    check(await count(page, 'candidates') === 1, 'one family left out of the newer list');
    await Promise.all([page.waitForURL('**/queues/removals'), page.click('[data-count="candidates"] a')]);
    const row = page.locator('tr[data-household]', { hasText: 'SUMARNI' });
    check(await row.count() === 1, 'she waits in the queue');
    await Promise.all([page.waitForURL('**/queues/removals'), row.locator('button[value="remove"]').click()]);
    check(await page.locator('tr[data-household]', { hasText: 'SUMARNI' }).count() === 0, 'removed, she leaves the queue');
    check(await targets() === before + 1, 'and no longer counts as a target');
  } else {
    await Promise.all([page.waitForURL('**/bundles'), page.click('nav a[href="/bundles"]')]);
    await page.setInputFiles('input[name=bundle]', process.env.BUNDLE);
    await Promise.all([page.waitForURL('**/bundles'), page.click('form[data-form="upload-bundle"] button')]);
    await page.waitForSelector('[data-outcome="bundle"]');
    await page.screenshot({ path: `${out}/bundle.png`, fullPage: true });
    console.log(`BUNDLE stored=${await count(page, 'stored')} held=${await count(page, 'held')} photos=${await count(page, 'photos')}`);
  }
  console.log('data team checks passed');
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
