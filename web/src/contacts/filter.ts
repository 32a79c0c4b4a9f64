// The contacts screen's filters as a `ContactFilter`: every condition that is set must hold.
import type { ContactFilter, CustomFieldFilter, LifecycleStage } from '../gql/graphql'

export type CustomOperator = 'eq' | 'contains' | 'gt' | 'lt' | 'isEmpty'

export interface CustomCondition {
  key: string
  op: CustomOperator
  /** As typed; numbers and booleans are sent as such when the field's type says so. */
  value: string
  type?: string
}

export interface ContactFilters {
  search: string
  companyId: string | null
  lifecycle: LifecycleStage | null
  tag: string
  custom: CustomCondition[]
}

export const emptyFilters = (): ContactFilters => ({ search: '', companyId: null, lifecycle: null, tag: '', custom: [] })

function typed(condition: CustomCondition): unknown {
  const raw = condition.value.trim()
  if (condition.type === 'NUMBER' || condition.type === 'DECIMAL' || condition.type === 'CURRENCY') {
    const n = Number(raw)
    return Number.isFinite(n) ? n : raw
  }
  if (condition.type === 'BOOLEAN') return raw === 'true' || raw === 'yes'
  return raw
}

function custom(condition: CustomCondition): CustomFieldFilter | null {
  if (!condition.key) return null
  if (condition.op === 'isEmpty') return { key: condition.key, isNull: true }
  if (!condition.value.trim()) return null
  const value = typed(condition)
  switch (condition.op) {
    case 'eq':
      return { key: condition.key, eq: value }
    case 'contains':
      return { key: condition.key, contains: String(value) }
    case 'gt':
      return { key: condition.key, gt: value }
    case 'lt':
      return { key: condition.key, lt: value }
  }
}

/** The filter for the set conditions; null when nothing is set (every contact). */
export function buildFilter(filters: ContactFilters): ContactFilter | null {
  const filter: ContactFilter = {}
  if (filters.search.trim()) filter.search = filters.search.trim()
  if (filters.companyId) filter.companyId = { eq: filters.companyId }
  if (filters.lifecycle) filter.lifecycleStage = { eq: filters.lifecycle }
  if (filters.tag.trim()) filter.tags = { hasAny: [filters.tag.trim()] }
  const customs = filters.custom.map(custom).filter((c): c is CustomFieldFilter => c !== null)
  if (customs.length) filter.customFields = customs
  return Object.keys(filter).length ? filter : null
}
