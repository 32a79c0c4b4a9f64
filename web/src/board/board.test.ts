import { describe, expect, it } from 'vitest'
import { buildBoard, moveCard, positionBefore, removeCard, totals, upsertCard, type Card, type Stage } from './board'

const stages: Stage[] = [
  { id: 's1', name: 'Lead', kind: 'OPEN' },
  { id: 's2', name: 'Won', kind: 'WON' },
]

function card(id: string, stageId: string, position: number, version = 1, amount: string | null = '100'): Card {
  return { id, title: id, stageId, position, version, amount, currency: 'USD', probability: 50, isRotten: false, ownerName: null }
}

const ids = (b: ReturnType<typeof buildBoard>, i: number) => b.columns[i]!.cards.map((c) => c.id)

describe('board', () => {
  const board = buildBoard(stages, [card('b', 's1', 2), card('a', 's1', 1), card('c', 's2', 1)])

  it('orders cards by position within their stage', () => {
    expect(ids(board, 0)).toEqual(['a', 'b'])
    expect(ids(board, 1)).toEqual(['c'])
  })

  it('moves a card before another, or last, in any stage', () => {
    expect(ids(moveCard(board, 'b', 's1', 'a'), 0)).toEqual(['b', 'a'])
    const moved = moveCard(board, 'a', 's2', null)
    expect(ids(moved, 0)).toEqual(['b'])
    expect(ids(moved, 1)).toEqual(['c', 'a'])
    expect(ids(moveCard(board, 'a', 's2', 'c'), 1)).toEqual(['a', 'c'])
  })

  it('places between neighbours', () => {
    const three = buildBoard(stages, [card('a', 's1', 1), card('b', 's1', 2), card('c', 's1', 3)])
    expect(positionBefore(three, 's1', 'c', 'a')).toBe(2.5)
    expect(positionBefore(three, 's1', null, 'x')).toBe(4)
  })

  it('ignores events older than what a card shows, so replays change nothing', () => {
    const newer = upsertCard(board, { ...card('a', 's2', 5, 3) })
    expect(ids(newer, 1)).toEqual(['c', 'a'])
    const replayed = upsertCard(newer, card('a', 's1', 1, 2))
    expect(ids(replayed, 1)).toEqual(['c', 'a'])
    expect(ids(removeCard(replayed, 'a', 2), 1)).toEqual(['c', 'a'])
    expect(ids(removeCard(replayed, 'a', 4), 1)).toEqual(['c'])
  })

  it('sums amounts per currency, weighted by probability', () => {
    const mixed = buildBoard(stages, [card('a', 's1', 1), { ...card('b', 's1', 2), currency: 'EUR', amount: '40' }, card('n', 's1', 3, 1, null)])
    expect(totals(mixed.columns[0]!)).toEqual({
      count: 3,
      amounts: [
        { currency: 'EUR', sum: 40, weighted: 20 },
        { currency: 'USD', sum: 100, weighted: 50 },
      ],
    })
  })
})
