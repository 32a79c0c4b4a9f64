// The pipeline board as data: columns of cards in board order, changed by the user's own moves
// (optimistically, undone when the server refuses) and by events from others. An event older
// than what a card already shows (by the deal's version) changes nothing, so replays after a
// reconnect are harmless.

export interface Card {
  id: string
  title: string
  stageId: string
  position: number
  version: number
  amount: string | null
  currency: string
  probability: number
  isRotten: boolean
  ownerName: string | null
}

export interface Stage {
  id: string
  name: string
  kind: 'OPEN' | 'WON' | 'LOST'
}

export interface Column {
  stage: Stage
  cards: Card[]
}

export interface Board {
  columns: Column[]
}

export function buildBoard(stages: Stage[], cards: Card[]): Board {
  return {
    columns: stages.map((stage) => ({
      stage,
      cards: cards.filter((c) => c.stageId === stage.id).sort((a, b) => a.position - b.position),
    })),
  }
}

function without(board: Board, id: string): Board {
  return { columns: board.columns.map((col) => ({ ...col, cards: col.cards.filter((c) => c.id !== id) })) }
}

export function findCard(board: Board, id: string): Card | undefined {
  for (const col of board.columns) {
    const card = col.cards.find((c) => c.id === id)
    if (card) return card
  }
  return undefined
}

/** The position a card gets when put before `beforeId` (or last) in `stageId`. */
export function positionBefore(board: Board, stageId: string, beforeId: string | null, movingId: string): number {
  const cards = board.columns.find((c) => c.stage.id === stageId)?.cards.filter((c) => c.id !== movingId) ?? []
  if (cards.length === 0) return 1
  const index = beforeId ? cards.findIndex((c) => c.id === beforeId) : -1
  if (index === -1) return (cards[cards.length - 1]?.position ?? 0) + 1
  const after = cards[index]!.position
  const previous = index > 0 ? cards[index - 1]!.position : after - 2
  return (previous + after) / 2
}

/** The user's own move, shown at once. */
export function moveCard(board: Board, id: string, stageId: string, beforeId: string | null): Board {
  const card = findCard(board, id)
  if (!card) return board
  const position = positionBefore(board, stageId, beforeId, id)
  return place(without(board, id), { ...card, stageId, position })
}

/** A card as the server now has it (an event or a mutation's answer); older versions are ignored. */
export function upsertCard(board: Board, card: Card): Board {
  const current = findCard(board, card.id)
  if (current && current.version > card.version) return board
  return place(without(board, card.id), card)
}

export function removeCard(board: Board, id: string, version: number): Board {
  const current = findCard(board, id)
  if (!current || current.version > version) return board
  return without(board, id)
}

function place(board: Board, card: Card): Board {
  return {
    columns: board.columns.map((col) =>
      col.stage.id === card.stageId
        ? { ...col, cards: [...col.cards, card].sort((a, b) => a.position - b.position) }
        : col,
    ),
  }
}

export interface ColumnTotals {
  count: number
  /** Per currency: sum of amounts, and sum weighted by probability. */
  amounts: { currency: string; sum: number; weighted: number }[]
}

export function totals(column: Column): ColumnTotals {
  const byCurrency = new Map<string, { sum: number; weighted: number }>()
  for (const card of column.cards) {
    if (card.amount === null) continue
    const amount = Number(card.amount)
    const entry = byCurrency.get(card.currency) ?? { sum: 0, weighted: 0 }
    entry.sum += amount
    entry.weighted += (amount * card.probability) / 100
    byCurrency.set(card.currency, entry)
  }
  return {
    count: column.cards.length,
    amounts: [...byCurrency.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, v]) => ({ currency, ...v })),
  }
}
