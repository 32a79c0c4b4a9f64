// Just enough CSV for the import screen: the header row of a file (quotes, escaped quotes,
// commas and line breaks inside quotes, a BOM) and the rows-not-taken report.

/** The fields of the first record of `text`. */
export function csvHeader(text: string): string[] {
  const fields: string[] = []
  let field = ''
  let quoted = false
  const input = text.replace(/^\uFEFF/, '')
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      fields.push(field.trim())
      field = ''
    } else if (c === '\n' || c === '\r') break
    else field += c
  }
  fields.push(field.trim())
  return fields.filter((f, i) => f !== '' || i < fields.length - 1)
}

function cell(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** The rows an import did not take, as a CSV: line, column, reason. */
export function errorsCsv(rows: { line: number; column?: string | null; reason: string }[]): string {
  return ['line,column,reason', ...rows.map((r) => [r.line, r.column, r.reason].map(cell).join(','))].join('\r\n') + '\r\n'
}
