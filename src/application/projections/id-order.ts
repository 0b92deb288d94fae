// A set of ids kept sorted as they are added: the fleet's UUID order, for paging GET /v1/nodes.
// Kept at each add rather than at the next list, so that no list sorts what a bulk enroll or a
// start-up added (101,500 ids took one list 319 ms, ADR 0196). Held in blocks of at most 512 ids:
// an add searches the blocks' first ids, then shifts at most one block's, never the whole set (a
// single sorted array copies all of it per merge: 26-60 us per add at 100,000 nodes, ADR 0111).

/** The longest a block grows before it is split in two. */
const blockMost = 512
/** How full the blocks of a bulk load are left: room for adds before the first split. */
const blockLoad = 384

/** First index whose id is >= `id`. */
export const lowerBound = (ids: ReadonlyArray<string>, id: string): number => {
  let lo = 0, hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ids[mid]! < id) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Two sorted runs as one (equal ids both kept). */
const merged = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): Array<string> => {
  const out = new Array<string>(a.length + b.length)
  let i = 0, j = 0, k = 0
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!
  while (i < a.length) out[k++] = a[i++]!
  while (j < b.length) out[k++] = b[j++]!
  return out
}

export class IdOrder {
  /** Sorted, none empty, each block's ids all below the next block's. */
  private blocks: Array<Array<string>> = []
  private count = 0

  get size(): number {
    return this.count
  }

  add(id: string): void {
    if (this.blocks.length === 0) {
      this.blocks.push([id])
      this.count = 1
      return
    }
    const b = this.blockOf(id)
    const block = this.blocks[b]!
    const at = lowerBound(block, id)
    if (block[at] === id) return
    block.splice(at, 0, id)
    this.count++
    if (block.length > blockMost) this.blocks.splice(b + 1, 0, block.splice(blockMost >>> 1))
  }

  /**
   * Many ids at once (a fleet restored or caught up at start-up): when they are many against the
   * set, one sort and one merge instead of an add each. Ids already held are kept once.
   */
  addAll(ids: ReadonlyArray<string>): void {
    if (ids.length < 64 || ids.length * 8 < this.count) {
      for (const id of ids) this.add(id)
      return
    }
    // The default sort compares strings by UTF-16 code units, as `<` does, and costs less than a
    // comparator (a checkpoint stays in the fleet map's order: walking the map by this order to
    // write it would cost ~60 ms of the loop at 200,000 nodes, against 6 ms for the map's own walk).
    const added = [...ids].sort()
    const all = this.count === 0 ? added : merged(this.blocks.flat(), added)
    this.blocks = []
    this.count = 0
    let block: Array<string> = []
    for (let i = 0; i < all.length; i++) {
      if (i > 0 && all[i] === all[i - 1]) continue
      if (block.length === blockLoad) {
        this.blocks.push(block)
        block = []
      }
      block.push(all[i]!)
      this.count++
    }
    if (block.length > 0) this.blocks.push(block)
  }

  /** Calls `visit` with each id after `after` (from the first when undefined), in order, until it returns false. */
  walk(after: string | undefined, visit: (id: string) => boolean): void {
    let b = 0, i = 0
    if (after !== undefined && this.blocks.length > 0) {
      b = this.blockOf(after)
      const block = this.blocks[b]!
      i = lowerBound(block, after)
      if (block[i] === after) i++
    }
    for (; b < this.blocks.length; b++, i = 0) {
      const block = this.blocks[b]!
      for (; i < block.length; i++) if (!visit(block[i]!)) return
    }
  }

  /** The block `id` belongs in: the last one whose first id is <= `id` (the first when none is). */
  private blockOf(id: string): number {
    let lo = 0, hi = this.blocks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.blocks[mid]![0]! <= id) lo = mid
      else hi = mid - 1
    }
    return lo
  }
}
