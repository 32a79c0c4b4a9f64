// One GraphQL client for the app: HTTP through `/graphql` with the session's token (refreshed
// before it lapses), subscriptions over graphql-transport-ws on the same path.
import { Client, cacheExchange, fetchExchange, type CombinedError } from '@urql/core'
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws'
import { print } from 'graphql'
import { graphql } from '../gql'
import { Session, type RefreshResult } from './session'

const Refresh = graphql(`
  mutation Refresh($token: String!) {
    refreshToken(token: $token) {
      accessToken
      refreshToken
      expiresIn
    }
  }
`)

export const GRAPHQL_PATH = '/graphql'

export function wsUrl(): string {
  const { protocol, host } = window.location
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${GRAPHQL_PATH}`
}

async function refresh(token: string): Promise<RefreshResult> {
  const response = await fetch(GRAPHQL_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: print(Refresh), variables: { token } }),
  })
  const body = (await response.json()) as { data?: { refreshToken: RefreshResult }; errors?: unknown[] }
  if (!body.data?.refreshToken) throw new Error('the refresh was refused')
  return body.data.refreshToken
}

export const session = new Session(window.localStorage, refresh)

export const client = new Client({
  url: GRAPHQL_PATH,
  exchanges: [cacheExchange, fetchExchange],
  requestPolicy: 'cache-and-network',
  // POST only: the router refuses GET operations without a CSRF header.
  preferGetMethod: false,
  fetch: async (input, init) => {
    const token = await session.accessToken()
    const headers = new Headers(init?.headers)
    if (token) headers.set('authorization', `Bearer ${token}`)
    return fetch(input, { ...init, headers })
  },
})

/** A socket for subscriptions. It does not retry by itself: whoever subscribes reconnects
 *  and resumes from the last event it saw. */
export function subscriptions(onConnected?: (connected: boolean) => void): WsClient {
  return createWsClient({
    url: wsUrl(),
    lazy: true,
    retryAttempts: 0,
    on: {
      connected: () => onConnected?.(true),
      closed: () => onConnected?.(false),
    },
    connectionParams: async () => {
      const token = await session.accessToken()
      return token ? { Authorization: `Bearer ${token}` } : {}
    },
  })
}

/** `CODE: message` for an error, as screens show it. */
export function describeError(error: CombinedError | undefined | null): string | null {
  if (!error) return null
  const first = error.graphQLErrors[0]
  if (first) {
    const code = (first.extensions?.code as string | undefined) ?? 'ERROR'
    return `${code}: ${first.message}`
  }
  return error.networkError ? `NETWORK: ${error.networkError.message}` : error.message
}

/** The field the first error is about (BAD_USER_INPUT names it), to show the message beside it. */
export function fieldError(error: CombinedError | undefined | null): { field: string; message: string } | null {
  const first = error?.graphQLErrors[0]
  const field = first?.extensions?.field as string | undefined
  return first && field ? { field, message: first.message } : null
}

/** The first error's code, for deciding what to show (FORBIDDEN, NOT_FOUND…). */
export function errorCode(error: CombinedError | undefined | null): string | null {
  return (error?.graphQLErrors[0]?.extensions?.code as string | undefined) ?? null
}
