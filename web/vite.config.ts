import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// In development the app talks to `crm up`'s services through Vite's proxy, the same paths the
// production origin (`crm up` on :3000, or an ingress) routes.
const router = process.env.CRM_ROUTER ?? 'http://127.0.0.1:4000'

export default defineConfig({
  plugins: [vue()],
  server: {
    port: 5173,
    proxy: {
      '/graphql': { target: router, ws: true, changeOrigin: true },
      '/files': { target: process.env.CRM_FILES ?? 'http://127.0.0.1:8082' },
      '/track': { target: process.env.CRM_TRACKING ?? 'http://127.0.0.1:8084' },
    },
  },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 600 },
  worker: { format: 'es' },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
})
