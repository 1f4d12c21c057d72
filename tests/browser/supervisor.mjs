// The supervisors' pages in a real headless Chromium (Debian's), driven by playwright-core, against
// a real `verivali-server demo` process (tests/tests/browser.rs starts it and checks the phone side).
// Env: BASE_URL, LOGIN, PASSWORD, TOKEN (the same supervisor's API token), ADMIN_LOGIN and VIEWER_LOGIN
// with TEAM_PASSWORD (an admin and a viewer of the district), OUT_DIR (screenshots), PLAYWRIGHT_DIR (holds node_modules),
// CHROMIUM (default /usr/bin/chromium).
// Prints `RETURNED <household_id> <visit_id>` for the Rust side; exits 1 on a failed check.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

// playwright-core lives where scripts/browser-deps.sh installed it, not beside this file.
const { chromium } = createRequire(`${process.env.PLAYWRIGHT_DIR}/`)('playwright-core');
const base = process.env.BASE_URL;
const out = process.env.OUT_DIR;
const check = (ok, what) => { if (!ok) { throw new Error(`check failed: ${what}`); } };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  // playwright gives each launch a new empty profile.
});

async function signIn(context, login = process.env.LOGIN, password = process.env.PASSWORD) {
  const page = await context.newPage();
  let firstLoad = 0;
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes().catch(() => null);
    if (sizes) { firstLoad += sizes.responseBodySize + sizes.responseHeadersSize; }
  });
  await page.goto(`${base}/`);
  check(page.url().endsWith('/signin'), 'an anonymous visitor is sent to the sign-in form');
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL('**/dashboard'), page.click('form[action="/signin"] button')]);
  await page.waitForLoadState('networkidle');
  return { page, firstLoad: () => firstLoad };
}

// A role without whole NIKs finds no 16-digit number (NIK or KK) in any page's HTML; ids are
// UUIDs, taken out first.
async function noWholeNumbers(page, what) {
  const html = (await page.content()).replace(/[0-9a-f-]{36}/g, '');
  check(!/\b\d{16}\b/.test(html), `no whole NIK or KK number in ${what}`);
}

async function overview() {
  return (await fetch(`${base}/api/v1/reports/overview`, { headers: { authorization: `Bearer ${process.env.TOKEN}` } })).json();
}

async function figures(page) {
  return page.$$eval('[data-figure]', (els) => Object.fromEntries(els.map((e) => [e.dataset.figure, Number(e.textContent)])));
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const { page, firstLoad } = await signIn(context);
  console.log(`dashboard first load: ${firstLoad()} bytes on the wire`);
  check(firstLoad() < 150 * 1024, 'the first load stays under 150 KB');
  await page.screenshot({ path: `${out}/dashboard.png`, fullPage: true });

  // The map: the demo's six village outlines shaded, and the visits clustered by the server.
  await page.waitForSelector('#map[data-villages][data-clusters]');
  const map = await page.$eval('#map', (e) => ({ ...e.dataset }));
  check(map.villages === '6', `six village outlines: ${map.villages}`);
  check(Number(map.clusters) >= 1 && Number(map.clusters) <= Number(map.visits), `clusters ${map.clusters} of ${map.visits} visits`);
  check((await page.locator('#map path.leaflet-interactive').count()) >= 6 + Number(map.clusters), 'outlines and cluster markers drawn');

  // The dashboard's numbers are the JSON report's. The demo's phones keep syncing: compare a
  // page read between two equal reports.
  let json;
  let shown;
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const before = JSON.stringify((await overview()).progress.total);
    await page.goto(`${base}/dashboard`);
    shown = await figures(page);
    json = await overview();
    if (JSON.stringify(json.progress.total) === before) { break; }
  }
  for (const name of ['targets', 'visited', 'found', 'needs_review', 'approved']) {
    check(shown[name] === json.progress.total[name], `${name}: page ${shown[name]}, JSON ${json.progress.total[name]}`);
  }
  check(shown.queue_conflicts === json.queues.conflicts && shown.queue_flagged === json.queues.flagged_visits, 'queue counts');

  // Drill down: a kecamatan, then a village.
  await Promise.all([page.waitForURL('**/dashboard?region=*'), page.click('table.progress tbody tr a')]);
  await Promise.all([page.waitForURL(/region=\d+\.\d+\.\d+\.\d+/), page.click('table.progress tbody tr a')]);
  check((await page.textContent('h1')).includes('Desa'), 'a village dashboard');
  // …then an RW, whose rows are its RTs.
  await Promise.all([page.waitForURL('**&rw=*'), page.click('table.progress tbody tr a')]);
  check((await page.textContent('h1')).includes('RW'), 'an RW dashboard');
  const rtRows = await page.$$eval('table.progress tbody tr', (rows) => rows.map((r) => r.dataset.key));
  check(rtRows.length > 0 && rtRows.every((k) => k.startsWith('RT ')), `the RW's rows are RTs: ${rtRows}`);
  await page.screenshot({ path: `${out}/rw.png`, fullPage: true });
  await page.goBack();

  // English one click away, and back.
  await page.click('a.language');
  check((await page.textContent('h1')).includes('Verification progress'), 'English headings');
  await page.click('a.language');

  // A conflict, opened from its queue.
  await page.goto(`${base}/queues/conflicts`);
  await Promise.all([page.waitForURL('**/households/*'), page.click('table.list tbody tr a')]);
  const household = page.url().split('/households/')[1];
  await page.screenshot({ path: `${out}/household.png`, fullPage: true });
  const visits = await page.$$eval('article.visit', (els) => els.map((e) => e.dataset.visit));
  check(visits.length >= 2, 'the conflict shows both visits');
  // Each visit's point on its small map, and its house-front photo as a thumbnail.
  check((await page.locator('article.visit figure.minimap circle.here').count()) === visits.length, 'a small map per visit');
  // Thumbnails load lazily, as they come into view.
  for (const img of await page.locator('ul.photos img').all()) { await img.scrollIntoViewIfNeeded(); }
  await page.waitForFunction(() => [...document.querySelectorAll('ul.photos img')].every((i) => i.complete));
  const thumbs = await page.$$eval('ul.photos img', (els) => els.map((e) => e.naturalWidth));
  check(thumbs.length >= 1 && thumbs.some((w) => w === 320), `photo thumbnails shown: ${thumbs}`);
  await noWholeNumbers(page, 'the household page');
  // The two visits side by side, what they disagree on marked; choose the second, then return
  // the first with a comment for its enumerator.
  check((await page.locator('table.compare td.differs').count()) >= 2, 'the differing fields are marked');
  await Promise.all([
    page.waitForURL('**saved=1**'),
    page.click(`table.compare button[name=resolve][value="${visits[1]}"]`),
  ]);
  const after = await (await page.request.get(`${base}/api/v1/households/${household}`)).json();
  check(after.state.status !== 'NEEDS_REVIEW', 'the conflict is resolved');
  const first = page.locator(`article[data-visit="${visits[0]}"]`);
  await first.locator('form.return input[name=comment]').fill('Foto rumah kurang jelas, mohon ulangi');
  await Promise.all([page.waitForURL('**saved=1**'), first.locator('form.return button').click()]);
  check((await page.textContent('#reviews + table')).includes('Foto rumah kurang jelas'), 'the return is listed');
  console.log(`RETURNED ${household} ${visits[0]}`);

  // A suspected duplicate pair, side by side, merged: it leaves the queue, and the merged
  // household the targets.
  const before = await overview();
  check(before.queues.duplicates > 0, 'the demo has suspected duplicates');
  await page.goto(`${base}/queues/duplicates`);
  await noWholeNumbers(page, 'the duplicates queue');
  await Promise.all([page.waitForURL('**/queues/duplicates/*/*'), page.click('a.compare')]);
  check((await page.$$('section.side')).length === 2, 'the pair side by side');
  await noWholeNumbers(page, 'the pair page');
  await page.screenshot({ path: `${out}/duplicate.png`, fullPage: true });
  await Promise.all([page.waitForURL(/\/queues\/duplicates$/), page.click('button[name=merge] >> nth=0')]);
  const merged = await overview();
  check(merged.queues.duplicates < before.queues.duplicates, `the pair left the queue (${before.queues.duplicates} → ${merged.queues.duplicates})`);
  check(merged.progress.total.targets === before.progress.total.targets - 1, 'the merged household left the targets');

  // Visits ticked in the queue and approved in one action.
  await page.goto(`${base}/queues/visits`);
  await noWholeNumbers(page, 'the visits queue');
  const boxes = page.locator('#bulk input[type=checkbox]');
  const ticked = Math.min(3, await boxes.count());
  check(ticked > 0, 'visits wait for a decision');
  const chosen = [];
  for (let i = 0; i < ticked; i += 1) {
    await boxes.nth(i).check();
    chosen.push(await boxes.nth(i).getAttribute('value'));
  }
  await page.screenshot({ path: `${out}/visits.png`, fullPage: true });
  await Promise.all([page.waitForURL('**approved=**'), page.click('button[name=approve_selected]')]);
  check(await page.getAttribute('[data-approved]', 'data-approved') === String(ticked), 'the selection is approved');
  for (const id of chosen) {
    const detail = await (await page.request.get(`${base}/api/v1/households/${id}`)).json();
    check(detail.reviews.some((r) => r.decision === 'APPROVE'), `household ${id} has its approval`);
  }
  for (const path of ['/households', '/queues/visits?flagged=true', '/queues/proposals', '/queues/conflicts']) {
    await page.goto(`${base}${path}`);
    await noWholeNumbers(page, path);
    await page.screenshot({ path: `${out}/${path.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '')}.png`, fullPage: true });
  }

  // Reporting upward: the region's CSV export, with masked numbers, and the printable recap.
  await page.goto(`${base}/dashboard`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[data-export=csv]')]);
  const csv = readFileSync(await download.path(), 'utf8');
  check(csv.split('\n').filter((l) => l.trim()).length > 100, 'the CSV export holds the households');
  const whole = csv.replace(/[0-9a-f-]{36}/g, '').match(/^.*\b\d{16}\b.*$/m);
  check(!whole, `no whole NIK or KK number in the export: ${whole && whole[0]}`);
  await Promise.all([page.waitForURL('**/recap?*'), page.click('a[data-export=recap]')]);
  const recapTargets = Number(await page.textContent('[data-recap=targets]'));
  check(recapTargets === (await overview()).progress.total.targets, `the recap's targets: ${recapTargets}`);
  await page.emulateMedia({ media: 'print' });
  check(!(await page.isVisible('header.top')) && !(await page.isVisible('[data-print]')), 'the navigation is not printed');
  await page.screenshot({ path: `${out}/recap.png`, fullPage: true });
  await page.pdf({ path: `${out}/recap.pdf`, format: 'A4' });
  await page.emulateMedia({ media: 'screen' });

  // Completeness per phone.
  await page.goto(`${base}/completeness`);
  check((await page.locator('table.completeness tbody tr').count()) >= 4, 'a row per demo phone');
  await page.screenshot({ path: `${out}/completeness.png`, fullPage: true });

  // Outside the supervisor's region: 403.
  const outside = await page.goto(`${base}/dashboard?region=17.01`);
  check(outside.status() === 403, `an out-of-region page answers ${outside.status()}`);

  // JavaScript off: signing in and reading work.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const { page: noJs } = await signIn(plain);
  const now = (await overview()).progress.total.targets;
  check((await figures(noJs)).targets === now, 'the dashboard reads without JavaScript');

  // A viewer (a camat's office) reads, finds no decision form and no export, and is refused one.
  const { page: viewer } = await signIn(await browser.newContext(), process.env.VIEWER_LOGIN, process.env.TEAM_PASSWORD);
  check((await viewer.textContent('[data-role]')).includes('Pemantau'), "the viewer's role stands beside the name");
  check(await viewer.locator('a[data-export="csv"]').count() === 0, 'no export link for a viewer');
  check(await viewer.locator('nav a[href="/audit"]').count() === 0, 'no audit log in a viewer\'s menu');
  await viewer.goto(`${base}/households`);
  const someHousehold = await viewer.getAttribute('table a[href^="/households/"]', 'href');
  await viewer.goto(`${base}${someHousehold}`);
  check(await viewer.locator('form[action$="/decisions"]').count() === 0, 'no decision form for a viewer');
  const refused = await viewer.request.get(`${base}/api/v1/exports/households?format=csv`);
  check(refused.status() === 403 && (await refused.json()).code === 'AUTH-04', `a viewer's export answers ${refused.status()}`);

  // The admin reads the audit log, where the reviewer's return and the viewer's refusal stand,
  // filters it by action, and downloads what the filter shows.
  const { page: admin } = await signIn(await browser.newContext({ viewport: { width: 1280, height: 900 } }),
    process.env.ADMIN_LOGIN, process.env.TEAM_PASSWORD);
  await Promise.all([admin.waitForURL('**/audit'), admin.click('nav a[href="/audit"]')]);
  const actions = async () => admin.$$eval('tr[data-action]', (rows) => rows.map((r) => r.dataset.action));
  const logged = await actions();
  check(logged.includes('review:RETURN'), "the reviewer's return stands in the audit log");
  check(logged.includes('access:denied'), "the viewer's refused export stands in the audit log");
  await admin.selectOption('select[name=action]', 'review:RETURN');
  await Promise.all([admin.waitForURL('**/audit?**'), admin.click('form.filters button')]);
  const returns = await actions();
  check(returns.length >= 1 && returns.every((a) => a === 'review:RETURN'), `the filter shows returns only: ${returns}`);
  await admin.screenshot({ path: `${out}/audit.png`, fullPage: true });
  const [logFile] = await Promise.all([admin.waitForEvent('download'), admin.click('a[data-export="audit"]')]);
  const logText = readFileSync(await logFile.path(), 'utf8');
  const rows = logText.split('\n').filter((l) => l.includes('review:RETURN'));
  check(rows.length === returns.length, `the download holds the ${returns.length} entries shown, not ${rows.length}`);
  console.log('browser checks passed');
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
