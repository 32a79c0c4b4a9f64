// The signed-in session: its tokens, kept in storage so a reload stays signed in, and the
// refresh that keeps the access token fresh. A refresh token works once and reusing a spent one
// ends the login, so refreshes happen one at a time: within this tab through one shared
// promise, across tabs under a Web Lock, after which the tokens are read again (another tab may
// have refreshed already).

export interface Tokens {
  accessToken: string
  refreshToken: string
  /** Epoch milliseconds. */
  expiresAt: number
  subdomain: string
}

export interface RefreshResult {
  accessToken: string
  refreshToken: string
  expiresIn: number
}

/** Exchanges a refresh token for a new pair; rejects when the token is no longer good. */
export type Refresher = (refreshToken: string) => Promise<RefreshResult>

export interface KeyValue {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/** Runs `work` while holding the cross-tab lock, where there is one. */
export type WithLock = <T>(work: () => Promise<T>) => Promise<T>

const KEY = 'crm.session'
/** Refresh this long before expiry, so a request never leaves with a token about to lapse. */
const MARGIN_MS = 60_000

export function browserLock(): WithLock {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  if (!locks) return (work) => work()
  return (work) => locks.request('crm-refresh', work)
}

export class Session {
  private inFlight: Promise<string | null> | null = null
  private listeners = new Set<(signedIn: boolean) => void>()

  constructor(
    private readonly store: KeyValue,
    private readonly refresher: Refresher,
    private readonly withLock: WithLock = browserLock(),
    private readonly now: () => number = Date.now,
  ) {}

  tokens(): Tokens | null {
    const raw = this.store.getItem(KEY)
    if (!raw) return null
    try {
      return JSON.parse(raw) as Tokens
    } catch {
      return null
    }
  }

  get signedIn(): boolean {
    return this.tokens() !== null
  }

  start(result: RefreshResult, subdomain: string): void {
    this.save(result, subdomain)
    this.emit(true)
  }

  end(): void {
    this.store.removeItem(KEY)
    this.emit(false)
  }

  onChange(listener: (signedIn: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A usable access token, refreshed first when it is about to expire; null when signed out. */
  async accessToken(): Promise<string | null> {
    const tokens = this.tokens()
    if (!tokens) return null
    if (tokens.expiresAt - MARGIN_MS > this.now()) return tokens.accessToken
    return this.refresh()
  }

  /** One refresh however many callers ask at once. */
  refresh(): Promise<string | null> {
    if (!this.inFlight) {
      this.inFlight = this.withLock(() => this.refreshLocked()).finally(() => {
        this.inFlight = null
      })
    }
    return this.inFlight
  }

  private async refreshLocked(): Promise<string | null> {
    // Another tab may have refreshed while this one waited for the lock.
    const tokens = this.tokens()
    if (!tokens) return null
    if (tokens.expiresAt - MARGIN_MS > this.now()) return tokens.accessToken
    try {
      const result = await this.refresher(tokens.refreshToken)
      this.save(result, tokens.subdomain)
      return result.accessToken
    } catch {
      this.end()
      return null
    }
  }

  private save(result: RefreshResult, subdomain: string): void {
    const tokens: Tokens = {
      accessToken: result.accessToken,
      refreshToken: result.refreshToken,
      expiresAt: this.now() + result.expiresIn * 1000,
      subdomain,
    }
    this.store.setItem(KEY, JSON.stringify(tokens))
  }

  private emit(signedIn: boolean): void {
    for (const listener of this.listeners) listener(signedIn)
  }
}

/** What the access token says about its holder (read, not verified: the server verifies). */
export interface Claims {
  userId: string
  tenantId: string
  role: 'owner' | 'admin' | 'member' | 'viewer'
}

export function claimsOf(accessToken: string): Claims | null {
  const payload = accessToken.split('.')[1]
  if (!payload) return null
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, string>
    return { userId: json.sub ?? '', tenantId: json.tenant ?? '', role: json.role as Claims['role'] }
  } catch {
    return null
  }
}

/** Whether `role` may change CRM data (viewers only read). */
export function canWrite(role: Claims['role'] | undefined): boolean {
  return role === 'owner' || role === 'admin' || role === 'member'
}
