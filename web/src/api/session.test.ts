import { describe, expect, it } from 'vitest'
import { Session, type KeyValue, type RefreshResult } from './session'

class Memory implements KeyValue {
  private values = new Map<string, string>()
  getItem(key: string) {
    return this.values.get(key) ?? null
  }
  setItem(key: string, value: string) {
    this.values.set(key, value)
  }
  removeItem(key: string) {
    this.values.delete(key)
  }
}

const noLock = <T>(work: () => Promise<T>) => work()

function signedIn(refresher: (token: string) => Promise<RefreshResult>, clock: { now: number }) {
  const session = new Session(new Memory(), refresher, noLock, () => clock.now)
  session.start({ accessToken: 'a1', refreshToken: 'r1', expiresIn: 900 }, 'acme')
  return session
}

describe('Session', () => {
  it('hands out the access token while it is fresh', async () => {
    let calls = 0
    const session = signedIn(async () => {
      calls++
      return { accessToken: 'a2', refreshToken: 'r2', expiresIn: 900 }
    }, { now: 0 })
    expect(await session.accessToken()).toBe('a1')
    expect(calls).toBe(0)
  })

  it('refreshes once for many concurrent callers, with the single-use token once', async () => {
    const clock = { now: 0 }
    const used: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const session = signedIn(async (token) => {
      used.push(token)
      await gate
      return { accessToken: 'a2', refreshToken: 'r2', expiresIn: 900 }
    }, clock)
    clock.now = 900_000 // expired
    const waiting = Array.from({ length: 5 }, () => session.accessToken())
    release()
    expect(await Promise.all(waiting)).toEqual(['a2', 'a2', 'a2', 'a2', 'a2'])
    expect(used).toEqual(['r1'])
    expect(session.tokens()?.refreshToken).toBe('r2')
    // The next refresh uses the new token.
    clock.now += 900_000
    await session.accessToken()
    expect(used).toEqual(['r1', 'r2'])
  })

  it('signs out when the refresh is refused', async () => {
    const clock = { now: 0 }
    const session = signedIn(async () => {
      throw new Error('UNAUTHENTICATED')
    }, clock)
    const changes: boolean[] = []
    session.onChange((state) => changes.push(state))
    clock.now = 10_000_000
    expect(await session.accessToken()).toBeNull()
    expect(session.signedIn).toBe(false)
    expect(changes).toEqual([false])
  })

  it('uses what another tab refreshed while it waited for the lock', async () => {
    const store = new Memory()
    const clock = { now: 0 }
    let calls = 0
    const refresher = async () => {
      calls++
      return { accessToken: 'a3', refreshToken: 'r3', expiresIn: 900 }
    }
    const first = new Session(store, refresher, noLock, () => clock.now)
    first.start({ accessToken: 'a1', refreshToken: 'r1', expiresIn: 900 }, 'acme')
    clock.now = 900_000
    // Another tab, sharing the storage, refreshes first.
    const other = new Session(store, refresher, noLock, () => clock.now)
    expect(await other.accessToken()).toBe('a3')
    expect(await first.accessToken()).toBe('a3')
    expect(calls).toBe(1)
  })
})
