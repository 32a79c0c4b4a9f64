// GraphiQL, bundled (React, Monaco and its workers are all local files), signed in as the
// app's user: queries carry the session's token, subscriptions go over the app's websocket.
import { createElement } from 'react'
import { createRoot, type Root } from 'react-dom/client'
import { GraphiQL } from 'graphiql'
import { createGraphiQLFetcher } from '@graphiql/toolkit'
import { createClient } from 'graphql-ws'
import 'graphiql/setup-workers/vite'
import 'graphiql/style.css'

export interface PlaygroundOptions {
  httpUrl: string
  wsUrl: string
  token: () => Promise<string | null>
}

export function mountPlayground(element: HTMLElement, options: PlaygroundOptions): Root {
  const wsClient = createClient({
    url: options.wsUrl,
    lazy: true,
    connectionParams: async () => {
      const token = await options.token()
      return token ? { Authorization: `Bearer ${token}` } : {}
    },
  })
  const fetcher = createGraphiQLFetcher({
    url: options.httpUrl,
    wsClient,
    fetch: async (input, init) => {
      const token = await options.token()
      const headers = new Headers(init?.headers)
      if (token) headers.set('authorization', `Bearer ${token}`)
      return fetch(input, { ...init, headers })
    },
  })
  const root = createRoot(element)
  root.render(createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY }))
  return root
}

const DEFAULT_QUERY = `# MTenant CRM: the whole API in one graph. Run with Ctrl-Enter.
query Pipelines {
  pipelines {
    name
    stages { name kind }
  }
}
`
