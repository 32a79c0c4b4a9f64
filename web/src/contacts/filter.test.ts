import { describe, expect, it } from 'vitest'
import { buildFilter, emptyFilters } from './filter'

describe('buildFilter', () => {
  it('is null when nothing is set', () => {
    expect(buildFilter(emptyFilters())).toBeNull()
    expect(buildFilter({ ...emptyFilters(), search: '   ', tag: ' ' })).toBeNull()
  })

  it('combines every set condition', () => {
    expect(
      buildFilter({ search: ' ann ', companyId: 'c1', lifecycle: 'CUSTOMER', tag: 'vip', custom: [] }),
    ).toEqual({ search: 'ann', companyId: { eq: 'c1' }, lifecycleStage: { eq: 'CUSTOMER' }, tags: { hasAny: ['vip'] } })
  })

  it('types custom field values by the field and skips unfinished conditions', () => {
    const filter = buildFilter({
      ...emptyFilters(),
      custom: [
        { key: 'score', op: 'gt', value: '40', type: 'NUMBER' },
        { key: 'tier', op: 'eq', value: 'gold', type: 'SELECT' },
        { key: 'active', op: 'eq', value: 'yes', type: 'BOOLEAN' },
        { key: 'notes', op: 'contains', value: '' },
        { key: 'region', op: 'isEmpty', value: '' },
        { key: '', op: 'eq', value: 'x' },
      ],
    })
    expect(filter).toEqual({
      customFields: [
        { key: 'score', gt: 40 },
        { key: 'tier', eq: 'gold' },
        { key: 'active', eq: true },
        { key: 'region', isNull: true },
      ],
    })
  })
})
