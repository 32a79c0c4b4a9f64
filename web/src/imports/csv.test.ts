import { describe, expect, it } from 'vitest'
import { csvHeader, errorsCsv } from './csv'

describe('csvHeader', () => {
  it('reads plain, quoted and escaped headers and stops at the first line', () => {
    expect(csvHeader('\uFEFFFirst name,"Last, name","Say ""hi""",Email\r\nAnn,Lee,x,y')).toEqual([
      'First name',
      'Last, name',
      'Say "hi"',
      'Email',
    ])
  })

  it('keeps a line break inside quotes in the header', () => {
    expect(csvHeader('"Two\nlines",b\n1,2')).toEqual(['Two\nlines', 'b'])
  })
})

describe('errorsCsv', () => {
  it('quotes what needs quoting', () => {
    expect(errorsCsv([{ line: 4, column: 'email', reason: 'not an address, "x"' }, { line: 9, reason: 'empty' }])).toBe(
      'line,column,reason\r\n4,email,"not an address, ""x"""\r\n9,,empty\r\n',
    )
  })
})
