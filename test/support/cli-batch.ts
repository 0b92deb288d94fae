// Runs several ironledger command lines in one process (the CLI's own main, as bin/ironledger
// runs it), capturing each one's stdout and stderr: a test can walk every command without paying
// a process start for each. Input (stdin): a JSON array of argv arrays. Output: a JSON array of
// { argv, code, stdout, stderr } on the real stdout.
import { readFileSync } from "node:fs"
import { main } from "../../src/cli/main.ts"

type Write = typeof process.stdout.write
const capture = (stream: NodeJS.WriteStream, into: Array<string>): (() => void) => {
  const original = stream.write
  stream.write = ((chunk: string | Uint8Array, ...rest: Array<unknown>) => {
    into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString())
    const done = rest.find((r) => typeof r === "function") as (() => void) | undefined
    if (done !== undefined) process.nextTick(done)
    return true
  }) as Write
  return () => { stream.write = original }
}

const runs = JSON.parse(readFileSync(0, "utf8")) as Array<Array<string>>
const results: Array<{ argv: Array<string>; code: number; stdout: string; stderr: string }> = []
for (const argv of runs) {
  const out: Array<string> = []
  const err: Array<string> = []
  const restoreOut = capture(process.stdout, out)
  const restoreErr = capture(process.stderr, err)
  let code: number
  try {
    code = await main(argv)
  } catch (e) {
    code = 99
    err.push(String((e as Error)?.stack ?? e))
  } finally {
    restoreOut()
    restoreErr()
  }
  results.push({ argv, code, stdout: out.join(""), stderr: err.join("") })
}
process.stdout.write(JSON.stringify(results))
