// The whole product for browser tests: `crm up` on a database of its own (dropped afterwards),
// serving the built app at http://127.0.0.1:3000, mail written as .eml files into a temp folder,
// and Debian's Chromium driven by playwright-core (never a downloaded browser).
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'

const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const TARGET = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target')
const CRM = process.env.CRM_BIN ?? join(TARGET, 'debug', 'crm')
const ADMIN = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
// The name `crm up` prints and puts into upload links (same origin as the page).
export const ORIGIN = 'http://localhost:3000'
const ROUTER = 'http://127.0.0.1:4000'
export const SHOTS = join(ROOT, 'web', 'test-results')

export async function startProduct() {
  const database = `crm_web_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const mail = mkdtempSync(join(tmpdir(), 'crm-web-mail-'))
  const url = new URL(ADMIN)
  url.pathname = `/${database}`
  if (!existsSync(CRM)) throw new Error(`${CRM} is missing: cargo build -p crm (or set CRM_BIN)`)
  const child = spawn(CRM, ['up'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: url.toString(),
      WEB_DIST: join(ROOT, 'web', 'dist'),
      MAIL_DIR: mail,
      LOG_LEVEL: 'warn',
      APP_BASE_URL: ORIGIN,
      // The webhook test's receiver listens on loopback.
      WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`crm up exited: ${output}`)
    if (output.includes('Press Ctrl-C')) break
    await new Promise((r) => setTimeout(r, 200))
  }
  if (!output.includes('Press Ctrl-C')) throw new Error(`crm up did not start: ${output}`)
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] })
  return {
    browser,
    mail,
    async stop() {
      await browser.close()
      child.kill('SIGINT')
      await new Promise((r) => child.once('exit', r))
      rmSync(mail, { recursive: true, force: true })
      execFileSync('psql', [ADMIN, '-qc', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`])
    },
  }
}

/** A GraphQL call for setting a test up, straight to the router, from an address of its own
 *  (so per-address limits such as registrations never couple runs). */
export async function gql(query, variables = {}, token = null) {
  const octet = () => Math.floor(Math.random() * 254) + 1
  const headers = { 'content-type': 'application/json', 'x-forwarded-for': `10.${octet()}.${octet()}.${octet()}` }
  if (token) headers.authorization = `Bearer ${token}`
  const response = await fetch(`${ROUTER}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) })
  const body = await response.json()
  if (body.errors) throw new Error(JSON.stringify(body.errors))
  return body.data
}

let organizations = 0

/** A new organization (through the API), its owner signed in: `{ subdomain, email, password, token }`. */
export async function organization(name) {
  organizations++
  const subdomain = `web-${process.pid}-${organizations}-${Math.random().toString(36).slice(2, 6)}`
  const email = `owner@${subdomain}.example.com`
  const password = 'a long enough password'
  await gql('mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }', {
    i: { name, subdomain, owner: { email, password, name: `${name} Owner` } },
  })
  const token = await login(email, password, subdomain)
  return { subdomain, email, password, token }
}

export async function login(email, password, subdomain) {
  const data = await gql('mutation($i: LoginInput!) { login(input: $i) { accessToken } }', { i: { email, password, subdomain } })
  return data.login.accessToken
}

/** The newest accept link mailed to `address` (from the .eml files `crm up` writes). */
export async function invitationLink(mailDir, address) {
  return mailedLink(mailDir, address, /https?:\/\/\S*accept-invitation\?token=[A-Za-z0-9_-]+/)
}

/** The newest password-reset link mailed to `address`. */
export async function resetLink(mailDir, address) {
  return mailedLink(mailDir, address, /https?:\/\/\S*reset-password\?token=[A-Za-z0-9_-]+/)
}

async function mailedLink(mailDir, address, pattern) {
  for (let i = 0; i < 100; i++) {
    for (const name of readdirSync(mailDir).sort().reverse()) {
      const text = readFileSync(join(mailDir, name), 'utf8')
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
      if (!text.includes(address)) continue
      const link = text.match(pattern)
      if (link) return link[0]
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no mail to ${address} with ${pattern}`)
}

/** Signs `page` in through the sign-in form. */
export async function signIn(page, { subdomain, email, password }) {
  await page.goto(`${ORIGIN}/sign-in`)
  await page.getByLabel('Organization (subdomain)').fill(subdomain)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(/\/board$/)
}
