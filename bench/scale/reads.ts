// The read load operators' dashboards put on the API: `readers` clients, each looping over
// GET /v1/nodes/{id} and GET /v1/nodes (one page), back to back, until stopped.
import { Client, percentile } from "./http.ts"

export interface ReadFigures { readonly requests: number; readonly errors: number; readonly getP50: number; readonly getP99: number; readonly listP50: number; readonly listP99: number }

export const startReadLoad = (origin: URL, readers: number, ids: ReadonlyArray<string>, listLimit: number) => {
  const client = new Client(origin, readers)
  const gets: Array<number> = []
  const lists: Array<number> = []
  let errors = 0
  let stopped = false
  const reader = async (r: number) => {
    for (let i = r; !stopped; i++) {
      const list = i % 4 === 0
      const t0 = performance.now()
      const reply = await client.send("GET", list ? `/v1/nodes?limit=${listLimit}` : `/v1/nodes/${ids[(i * 7919) % ids.length]}`).catch(() => ({ status: 0 }))
      ;(list ? lists : gets).push(performance.now() - t0)
      if (reply.status !== 200) errors++
    }
  }
  const running = Promise.all(Array.from({ length: readers }, (_, r) => reader(r)))
  return {
    stop: async (): Promise<ReadFigures> => {
      stopped = true
      await running
      client.close()
      return {
        requests: gets.length + lists.length, errors,
        getP50: percentile(gets, 50), getP99: percentile(gets, 99), listP50: percentile(lists, 50), listP99: percentile(lists, 99),
      }
    },
  }
}
