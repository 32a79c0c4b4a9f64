import { computed, ref } from 'vue'
import { claimsOf, canWrite } from './api/session'
import { session } from './api/client'

const token = ref(session.tokens()?.accessToken ?? null)
session.onChange(() => (token.value = session.tokens()?.accessToken ?? null))

/** Who is signed in, as the token says; `writer` is false for viewers. */
export function useViewer() {
  const claims = computed(() => (token.value ? claimsOf(token.value) : null))
  return {
    claims,
    writer: computed(() => canWrite(claims.value?.role)),
    refresh: () => (token.value = session.tokens()?.accessToken ?? null),
  }
}
