// The printed result: one row per figure, with the note that says how it was taken.
export class Table {
  private readonly rows: Array<readonly [string, string, string]> = []
  row(what: string, value: string, note: string): void { this.rows.push([what, value, note]) }
  render(title: string): string {
    const w0 = Math.max(...this.rows.map((r) => r[0].length)), w1 = Math.max(...this.rows.map((r) => r[1].length))
    return [title, ...this.rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`)].join("\n")
  }
}
