// The app in Chromium against the whole product (`crm up`): sign up and work a deal across the
// board, live boards side by side (and after a dropped connection), viewers, offline GraphiQL.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { ORIGIN, SHOTS, gql, invitationLink, organization, resetLink, signIn, startProduct } from './harness.mjs'

let product

before(async () => {
  mkdirSync(SHOTS, { recursive: true })
  product = await startProduct()
})

after(async () => {
  await product?.stop()
})

const randomAddress = () => Array.from({ length: 3 }, () => Math.floor(Math.random() * 254) + 1).reduce((a, n) => `${a}.${n}`, '10')
const card = (page, title) => page.locator(`.deal[data-deal="${title}"]`)
const column = (page, stage) => page.locator(`.column[data-stage="${stage}"]`)

async function stages(token) {
  const data = await gql('{ pipelines { isDefault stages { id name } } }', {}, token)
  return data.pipelines.find((p) => p.isDefault).stages
}

async function createDeal(token, title) {
  const data = await gql('mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }', { i: { title, amount: '1000' } }, token)
  return data.createDeal.id
}

async function moveDeal(token, id, stageId) {
  await gql('mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { id } }', { id, s: stageId }, token)
}

test('sign up, add a contact with its company and a deal, drag the deal on, and it stays after a reload', async () => {
  // From an address of its own, so the per-address sign-up limit never couples runs.
  const context = await product.browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': randomAddress() } })
  const page = await context.newPage()
  const subdomain = `signup-${Date.now().toString(36)}`
  await page.goto(`${ORIGIN}/sign-up`)
  await page.getByLabel('Organization name').fill('Sign Up Inc')
  await page.getByLabel('Subdomain').fill(subdomain)
  await page.getByLabel('Your name').fill('Ada Owner')
  await page.getByLabel('Email').fill(`ada@${subdomain}.example.com`)
  await page.getByLabel('Password').fill('a long enough password')
  await page.getByRole('button', { name: 'Create organization' }).click()
  await page.waitForURL(/\/board$/)

  await page.getByRole('link', { name: 'Contacts' }).click()
  await page.getByLabel('First name').fill('Grace')
  await page.getByLabel('Last name').fill('Hopper')
  await page.getByLabel('Email', { exact: true }).fill('grace@example.com')
  await page.getByLabel('New company (optional)').fill('Navy Labs')
  await page.getByRole('button', { name: 'Add contact' }).click()
  await page.getByRole('link', { name: 'Grace Hopper' }).waitFor()
  assert.equal(await page.getByRole('cell', { name: 'Navy Labs' }).count(), 1)

  await page.getByRole('link', { name: 'Pipeline' }).click()
  await page.getByLabel('New deal title').fill('Compiler licence')
  await page.getByLabel('Amount').fill('12000')
  await page.getByRole('button', { name: 'Add deal' }).click()
  const deal = card(page, 'Compiler licence')
  await deal.waitFor()
  const firstStage = await page.locator('.column').nth(0).getAttribute('data-stage')
  const secondStage = await page.locator('.column').nth(1).getAttribute('data-stage')
  assert.equal(await column(page, firstStage).locator('.deal[data-deal="Compiler licence"]').count(), 1)

  await deal.dragTo(column(page, secondStage))
  await column(page, secondStage).locator('.deal[data-deal="Compiler licence"]:not(.pending)').waitFor()
  await page.reload()
  await column(page, secondStage).locator('.deal[data-deal="Compiler licence"]').waitFor()
  assert.equal(await column(page, firstStage).locator('.deal').count(), 0)
  await page.screenshot({ path: join(SHOTS, 'board.png'), fullPage: true })

  // The keyboard moves it too.
  await column(page, secondStage).locator('.deal').focus()
  await page.keyboard.press('ArrowLeft')
  await column(page, firstStage).locator('.deal[data-deal="Compiler licence"]:not(.pending)').waitFor()

  // Dropped on a LOST stage, it asks why, and the deal's page says so.
  page.once('dialog', (dialog) => dialog.accept('Too expensive'))
  await card(page, 'Compiler licence').dragTo(column(page, 'Closed Lost'))
  await column(page, 'Closed Lost').locator('.deal[data-deal="Compiler licence"]:not(.pending)').waitFor()
  await card(page, 'Compiler licence').getByRole('link').click()
  await page.getByText('Lost because: Too expensive').waitFor()

  await page.getByRole('link', { name: 'Contacts' }).click()
  await page.getByRole('link', { name: 'Grace Hopper' }).click()
  await page.getByRole('heading', { name: 'Grace Hopper' }).waitFor()
  await page.screenshot({ path: join(SHOTS, 'contact.png'), fullPage: true })
  await context.close()
})

test('moves appear live on another board of the organization, never on another organization’s, and none is lost to a dropped connection', async () => {
  const org = await organization('Live Boards')
  const other = await organization('Elsewhere')
  const [lead, next] = await stages(org.token)
  const first = await createDeal(org.token, 'First live deal')
  const second = await createDeal(org.token, 'Second live deal')

  const watcherContext = await product.browser.newContext()
  // The watcher's websockets pass through here, so the test can cut them.
  const sockets = []
  let cut = false
  await watcherContext.routeWebSocket(/\/graphql$/, (ws) => {
    if (cut) {
      ws.close()
      return
    }
    ws.connectToServer()
    sockets.push(ws)
  })
  const watcher = await watcherContext.newPage()
  await signIn(watcher, org)
  await watcher.locator('[data-test=live]', { hasText: 'live' }).waitFor()
  const outsiderContext = await product.browser.newContext()
  const outsider = await outsiderContext.newPage()
  await signIn(outsider, other)
  await outsider.locator('[data-test=live]', { hasText: 'live' }).waitFor()

  const started = Date.now()
  await moveDeal(org.token, first, next.id)
  await column(watcher, next.name).locator('.deal[data-deal="First live deal"]').waitFor({ timeout: 5000 })
  const seenAfter = Date.now() - started
  assert.ok(seenAfter < 1000, `the move appeared after ${seenAfter} ms`)
  assert.equal(await outsider.locator('.deal').count(), 0, 'another organization sees nothing')

  // Cut the connection, move both deals, restore: both moves arrive.
  cut = true
  for (const ws of sockets) await ws.close()
  await watcher.locator('[data-test=live]', { hasText: 'connecting' }).waitFor()
  await moveDeal(org.token, first, lead.id)
  await moveDeal(org.token, second, next.id)
  cut = false
  await column(watcher, lead.name).locator('.deal[data-deal="First live deal"]').waitFor({ timeout: 10_000 })
  await column(watcher, next.name).locator('.deal[data-deal="Second live deal"]').waitFor({ timeout: 10_000 })
  assert.equal(await outsider.locator('.deal').count(), 0)
  await watcherContext.close()
  await outsiderContext.close()
})

test('a viewer sees no write controls and cannot move a card', async () => {
  const org = await organization('Viewers')
  await createDeal(org.token, 'Look but do not touch')
  const viewerEmail = `viewer@${org.subdomain}.example.com`
  await gql('mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }', { i: { email: viewerEmail, role: 'VIEWER' } }, org.token)
  const link = await invitationLink(product.mail, viewerEmail)
  const context = await product.browser.newContext()
  const page = await context.newPage()
  await page.goto(link.replace(/^https?:\/\/[^/]+/, ORIGIN))
  await page.getByLabel('Your name (for a new account)').fill('Vera Viewer')
  await page.getByLabel(/Password/).fill('a long enough password')
  await page.getByRole('button', { name: 'Accept invitation' }).click()
  await page.waitForURL(/\/board$/)
  const deal = card(page, 'Look but do not touch')
  await deal.waitFor()
  assert.equal(await page.locator('[data-test=role]').textContent(), 'viewer')
  assert.equal(await page.getByRole('button', { name: 'Add deal' }).count(), 0)
  assert.equal(await deal.getAttribute('draggable'), 'false')
  const before = await deal.evaluate((el) => el.closest('.column').dataset.stage)
  await deal.dragTo(page.locator('.column').nth(1))
  await deal.focus()
  await page.keyboard.press('ArrowRight')
  await page.waitForTimeout(500)
  assert.equal(await card(page, 'Look but do not touch').evaluate((el) => el.closest('.column').dataset.stage), before)
  await page.getByRole('link', { name: 'Contacts' }).click()
  await page.getByRole('heading', { name: 'Contacts' }).waitFor()
  assert.equal(await page.getByRole('button', { name: 'Add contact' }).count(), 0)
  await context.close()
})

test('GraphiQL runs a query and a subscription with every request off this machine blocked', async () => {
  const org = await organization('Playground')
  const context = await product.browser.newContext()
  const outside = []
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname
    if (host === '127.0.0.1' || host === 'localhost') return route.continue()
    outside.push(route.request().url())
    return route.abort()
  })
  const page = await context.newPage()
  await signIn(page, org)
  // The API's URL, opened in a browser, leads to the playground.
  await page.goto(`${ORIGIN}/graphql`)
  await page.waitForURL(/\/graphiql$/)
  const editor = page.locator('.graphiql-query-editor .monaco-editor').first()
  await editor.waitFor({ timeout: 30_000 })
  await page.getByRole('button', { name: /Execute query/ }).click()
  await page.locator('.graphiql-response', { hasText: '"pipelines"' }).waitFor({ timeout: 15_000 })

  // A subscription: start it, move a deal, see the event.
  const deal = await createDeal(org.token, 'Played with')
  const [, next] = await stages(org.token)
  await editor.click()
  await page.keyboard.press('ControlOrMeta+A')
  // Named: GraphiQL's fetcher recognises a subscription by its operation.
  await page.keyboard.insertText('subscription Watch { dealChanged { kind deal { title } } }')
  // GraphiQL reads the operation from the editor a moment later; its tab is named after it then.
  await page.locator('.graphiql-tab', { hasText: 'Watch' }).waitFor()
  await page.getByRole('button', { name: /Execute query/ }).click()
  await page.waitForTimeout(1000)
  await page.screenshot({ path: join(SHOTS, 'graphiql-subscribed.png') })
  await moveDeal(org.token, deal, next.id)
  await page.locator('.graphiql-response', { hasText: 'MOVED' }).waitFor({ timeout: 15_000 })
  await page.screenshot({ path: join(SHOTS, 'graphiql.png') })
  assert.deepEqual(outside, [], 'nothing was asked of another machine')
  await context.close()
})

test('importing 1,000 rows with 3 bad ones shows progress, takes 997 and lists the 3 by line', async () => {
  const org = await organization('Importers')
  const lines = ['First name,Last name,Email,Company']
  const bad = new Set([10, 500, 999])
  for (let i = 1; i <= 1000; i++) {
    const email = bad.has(i) ? `broken-address-${i}` : `person${i}@import.example`
    lines.push(`Person${i},Imported,${email},Company ${i % 25}`)
  }
  const context = await product.browser.newContext()
  const page = await context.newPage()
  await signIn(page, org)
  await page.getByRole('link', { name: 'Import' }).click()
  await page.getByLabel('CSV file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) })
  await page.getByRole('cell', { name: 'Company', exact: true }).waitFor()
  await page.getByRole('button', { name: 'Import', exact: true }).click()
  await page.getByLabel('Import progress').waitFor()
  await page.locator('[data-test=import-result] h3', { hasText: 'DONE' }).waitFor({ timeout: 60_000 })
  assert.equal(await page.locator('[data-test=imported]').textContent(), '997')
  assert.equal(await page.locator('[data-test=failed]').textContent(), '3')
  const rows = await page.locator('[data-test=row-error] td:first-child').allTextContents()
  // Line 1 is the header, so person i is on line i + 1.
  assert.deepEqual(rows, ['11', '501', '1000'])
  assert.equal(await page.getByRole('link', { name: /Download the rows not taken/ }).count(), 1)
  const total = await gql('{ contacts { totalCount } }', {}, org.token)
  assert.equal(total.contacts.totalCount, 997)
  await context.close()
})

test('analytics charts the forecast and shows win rate, cycle, conversion and time in stage', async () => {
  const org = await organization('Analysts')
  const month = (offset) => {
    const d = new Date()
    d.setUTCMonth(d.getUTCMonth() + offset, 15)
    return d.toISOString().slice(0, 10)
  }
  const create = 'mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }'
  for (let i = 0; i < 6; i++) {
    await gql(create, { i: { title: `Open ${i}`, amount: `${(i + 1) * 1000}`, expectedCloseDate: month(i % 3) } }, org.token)
  }
  const close = 'mutation($id: ID!, $o: DealOutcome!) { closeDeal(id: $id, outcome: $o) { id } }'
  for (const [title, outcome] of [['Won A', 'WON'], ['Won B', 'WON'], ['Lost C', 'LOST']]) {
    const data = await gql(create, { i: { title, amount: '5000' } }, org.token)
    await gql(close, { id: data.createDeal.id, o: outcome }, org.token)
  }
  const context = await product.browser.newContext()
  const page = await context.newPage()
  await signIn(page, org)
  await page.getByRole('link', { name: 'Analytics' }).click()
  await page.locator('[data-test=win-rate]').waitFor()
  assert.match(await page.locator('[data-test=win-rate]').textContent(), /67% of closed deals \(2 won, 1 lost\)/)
  await page.locator('canvas[aria-label="Forecast by month"]').waitFor()
  await page.screenshot({ path: join(SHOTS, 'analytics.png'), fullPage: true })
  await context.close()
})

test('templates show their mistakes in place; a contact is emailed from one; tasks are completed', async () => {
  const org = await organization('Correspondents')
  const contact = await gql('mutation($i: CreateContactInput!) { createContact(input: $i) { id } }',
    { i: { firstName: 'Mia', lastName: 'Reader', email: 'mia.reader@example.com' } }, org.token)
  const context = await product.browser.newContext()
  const page = await context.newPage()
  await signIn(page, org)

  await page.getByRole('link', { name: 'Templates' }).click()
  await page.getByLabel('Name').fill('Hello')
  await page.getByLabel('Subject').fill('Hello {{ contact.first_name }}')
  await page.getByLabel('Text', { exact: true }).fill('Line one\n{{ contact.nickname }}')
  await page.getByRole('button', { name: 'Save' }).click()
  const mistake = page.locator('[data-test=error-text]')
  await mistake.waitFor()
  assert.match(await mistake.textContent(), /line 2/)
  await page.getByLabel('Text', { exact: true }).fill('Dear {{ contact.first_name }}, welcome.')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.getByText('Saved.').waitFor()

  await page.goto(`${ORIGIN}/contacts/${contact.createContact.id}`)
  await page.getByLabel('Template').selectOption({ label: 'Hello' })
  await page.locator('[data-test=preview]', { hasText: 'Dear Mia, welcome.' }).waitFor()
  await page.getByRole('button', { name: 'Send' }).click()
  await page.getByText(/Queued/).waitFor()
  // Sent by the sender (into .eml files here), then on the timeline.
  for (let i = 0; i < 50; i++) {
    await page.reload()
    if (await page.getByText('Email sent').count()) break
    await page.waitForTimeout(300)
  }
  await page.getByText('Email sent').first().waitFor()

  await gql('mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }', { i: { title: 'Call Mia', dueAt: '2020-01-01T09:00:00Z' } }, org.token)
  await page.getByRole('link', { name: 'Tasks' }).click()
  const row = page.locator('tr[data-task="Call Mia"]')
  await row.getByText('overdue').waitFor()
  await row.getByRole('checkbox').check()
  await row.waitFor({ state: 'detached' })
  await context.close()
})

test('a deal is closed as lost with its reason and reopened; settings invite a member and save preferences', async () => {
  const org = await organization('Closers')
  const id = await createDeal(org.token, 'Tough one')
  const context = await product.browser.newContext()
  const page = await context.newPage()
  await signIn(page, org)
  await card(page, 'Tough one').getByRole('link').click()
  await page.getByRole('heading', { name: 'Tough one' }).waitFor()
  await page.getByLabel('Lost reason').fill('Budget cut')
  await page.getByRole('button', { name: 'Lost' }).click()
  await page.getByText('Lost because: Budget cut').waitFor()
  const closed = await gql('query($id: ID!) { deal(id: $id) { status lostReason } }', { id }, org.token)
  assert.deepEqual(closed.deal, { status: 'LOST', lostReason: 'Budget cut' })
  await page.getByRole('button', { name: 'Reopen' }).click()
  await page.getByRole('button', { name: 'Won' }).waitFor()

  await page.getByRole('link', { name: 'Settings' }).click()
  await page.getByLabel('Invite email').fill(`new.member@${org.subdomain}.example.com`)
  await page.getByRole('button', { name: 'Invite' }).click()
  await page.getByText(`new.member@${org.subdomain}.example.com as member`).waitFor()
  await page.getByLabel('Email me reminders and notifications').uncheck()
  await page.getByRole('button', { name: 'Save preferences' }).click()
  await page.locator('[data-test=notice]', { hasText: 'Preferences saved.' }).waitFor()
  const prefs = await gql('{ myPreferences { emailNotifications } }', {}, org.token)
  assert.equal(prefs.myPreferences.emailNotifications, false)
  await context.close()
})

test('contacts filter by company and custom field, go to the trash and back, and duplicates merge', async () => {
  const org = await organization('Filters')
  await gql('mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { id } }',
    { i: { object: 'CONTACT', key: 'score', label: 'Score', type: 'NUMBER', required: false, unique: false } }, org.token)
  const company = await gql('mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }', { i: { name: 'Acme Filters' } }, org.token)
  const create = 'mutation($i: CreateContactInput!) { createContact(input: $i) { id } }'
  const ann = await gql(create, { i: { firstName: 'Ann', lastName: 'Able', email: 'ann@filters.example', companyId: company.createCompany.id, customFields: { score: 70 } } }, org.token)
  await gql(create, { i: { firstName: 'Bob', lastName: 'Baker', customFields: { score: 10 } } }, org.token)
  await gql(create, { i: { firstName: 'Anne', lastName: 'Able', email: 'ann@filters.example' } }, org.token)

  const context = await product.browser.newContext()
  const page = await context.newPage()
  await signIn(page, org)
  await page.getByRole('link', { name: 'Contacts', exact: true }).click()
  await page.getByText('3 contacts').waitFor()
  await page.getByLabel('Filter by company').selectOption({ label: 'Acme Filters' })
  await page.getByRole('button', { name: 'Search' }).click()
  await page.getByText('1 contacts').waitFor()
  await page.getByLabel('Filter by company').selectOption({ label: 'any company' })
  await page.getByRole('button', { name: '+ custom field condition' }).click()
  await page.getByLabel('Condition').selectOption({ label: 'more than' })
  await page.getByLabel('Value').fill('40')
  await page.getByRole('button', { name: 'Search' }).click()
  await page.getByText('1 contacts').waitFor()
  assert.equal(await page.getByRole('link', { name: 'Ann Able' }).count(), 1)
  await page.getByRole('button', { name: 'remove' }).click()
  await page.getByRole('button', { name: 'Search' }).click()
  await page.getByText('3 contacts').waitFor()

  await page.getByRole('button', { name: 'Delete Bob Baker' }).click()
  await page.getByText('2 contacts').waitFor()
  await page.getByLabel('trash').check()
  await page.getByText('1 in the trash').waitFor()
  await page.getByRole('button', { name: 'Restore' }).click()
  await page.getByText('0 in the trash').waitFor()
  await page.getByLabel('trash').uncheck()
  await page.getByText('3 contacts').waitFor()

  await page.goto(`${ORIGIN}/contacts/${ann.createContact.id}`)
  const duplicates = page.locator('[data-test=duplicates]')
  await duplicates.getByRole('link', { name: 'Anne Able' }).waitFor()
  await duplicates.getByRole('button', { name: 'Merge into this contact' }).click()
  await duplicates.waitFor({ state: 'detached' })
  const left = await gql('{ contacts { totalCount } }', {}, org.token)
  assert.equal(left.contacts.totalCount, 2)

  // Fields are edited in place, custom fields too.
  await page.getByRole('button', { name: 'Edit' }).click()
  await page.getByLabel('Job title').fill('Chief Filter Officer')
  await page.getByLabel('Score').fill('88')
  await page.getByRole('button', { name: 'Save' }).click()
  await page.getByText('Job title: Chief Filter Officer').waitFor()
  await page.getByText('Score: 88').waitFor()

  // Companies as a tree: a subsidiary sits under its parent.
  await gql('mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }', { i: { name: 'Acme Filters East', parentId: company.createCompany.id } }, org.token)
  await page.getByRole('link', { name: 'Companies' }).click()
  await page.locator('li', { hasText: 'Acme Filters' }).getByRole('link', { name: 'Acme Filters East' }).waitFor()
  await context.close()
})

test('a forgotten password is reset from the mailed link, and one person switches between organizations', async () => {
  const org = await organization('Forgetful')
  // The same person founds a second organization.
  const second = `second-${org.subdomain}`
  await gql('mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }', {
    i: { name: 'Second Home', subdomain: second, owner: { email: org.email, password: org.password, name: 'Ignored' } },
  })
  // From an address of its own: reset requests are limited per address.
  const context = await product.browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': randomAddress() } })
  const page = await context.newPage()
  await page.goto(`${ORIGIN}/sign-in`)
  await page.getByRole('link', { name: 'Forgot your password?' }).click()
  await page.getByLabel('Organization (subdomain)').fill(org.subdomain)
  await page.getByLabel('Email').fill(org.email)
  await page.getByRole('button', { name: 'Send a reset link' }).click()
  await page.getByText('If that account exists').waitFor()
  const link = await resetLink(product.mail, org.email)
  await page.goto(link.replace(/^https?:\/\/[^/]+/, ORIGIN))
  await page.getByLabel('New password').fill('a brand new password 2')
  await page.getByRole('button', { name: 'Set password' }).click()
  await page.getByText('Your password is changed.').waitFor()

  await signIn(page, { ...org, password: 'a brand new password 2' })
  const picker = page.getByLabel('Organization', { exact: true })
  await picker.waitFor()
  // Switching reloads the app in the other organization.
  const reloaded = page.waitForEvent('load')
  await picker.selectOption({ label: 'Second Home' })
  await reloaded
  await page.locator('[data-test=live]', { hasText: 'live' }).waitFor()
  await page.getByRole('link', { name: 'Settings' }).click()
  await page.getByRole('heading', { name: `Organization (${second})` }).waitFor()
  await context.close()
})

test('an admin adds a webhook, sees its secret once, sends a test, and finds a signed delivery in the log', async () => {
  // A receiver on loopback that keeps what it got.
  const received = []
  const receiver = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      received.push({ headers: request.headers, body })
      response.writeHead(200).end('ok')
    })
  })
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${receiver.address().port}/hook`
  const org = await organization('Hooked')
  const context = await product.browser.newContext()
  const page = await context.newPage()
  await signIn(page, org)
  await page.getByRole('link', { name: 'Webhooks' }).click()
  await page.getByLabel('Endpoint URL').fill('http://169.254.169.254/latest')
  await page.getByRole('button', { name: 'Add webhook' }).click()
  await page.locator('[data-test=error-url]', { hasText: 'not a public address' }).waitFor()
  await page.getByLabel('Endpoint URL').fill(url)
  await page.getByLabel(/^Events/).fill('contact.*')
  await page.getByRole('button', { name: 'Add webhook' }).click()
  const secret = (await page.locator('[data-test=secret] code').textContent()).trim()
  assert.match(secret, /^whsec_/)
  const entry = page.locator(`[data-webhook="${url}"]`)
  await entry.getByRole('button', { name: 'Send test' }).click()
  await page.locator('[data-test=notice]', { hasText: 'Test succeeded: HTTP 200' }).waitFor()

  await gql('mutation { createContact(input: { firstName: "Hooked" }) { id } }', {}, org.token)
  await entry.getByRole('button', { name: 'Deliveries' }).click()
  const row = entry.locator('tr[data-event="contact.created"]')
  for (let i = 0; i < 50 && !(await row.filter({ hasText: 'SUCCEEDED' }).count()); i++) {
    await new Promise((r) => setTimeout(r, 200))
    await entry.getByRole('button', { name: 'Deliveries' }).click()
    await entry.getByRole('button', { name: 'Deliveries' }).click()
  }
  await row.filter({ hasText: 'SUCCEEDED' }).waitFor()
  await page.screenshot({ path: join(SHOTS, 'webhooks.png'), fullPage: true })

  // Every delivery is signed with the secret the page showed.
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  assert.equal(received.length, 2, 'the test and the contact')
  for (const { headers, body } of received) {
    const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`
    const expected = `v1,${createHmac('sha256', key).update(signed).digest('base64')}`
    assert.equal(headers['webhook-signature'], expected)
  }
  assert.deepEqual(received.map((r) => JSON.parse(r.body).type), ['webhook.test', 'contact.created'])
  receiver.close()
  await context.close()
})
