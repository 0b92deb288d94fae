// Every registered command explains itself under --help (a description and examples), and the
// option declarations parse as people type them, through commander.
import { describe, test } from "node:test"
import assert from "node:assert/strict"
import type { Command as Commander } from "commander"
import { parseArgs, UsageError } from "../../../src/cli/args.ts"
import { commands } from "../../../src/cli/main.ts"
import { buildProgram } from "../../../src/cli/program.ts"
import { changeLine, liveLine, span } from "../../../src/cli/wait.ts"

const leafOf = (program: Commander, words: ReadonlyArray<string>): Commander =>
  words.reduce((cmd, word) => cmd.commands.find((c) => c.name() === word)!, program)

describe("the registered commands", () => {
  test("each has a description and examples that use it, and its own words", () => {
    const seen = new Set<string>()
    for (const c of commands) {
      const name = c.words.join(" ")
      assert.ok(!seen.has(name), `two commands are called "${name}"`)
      seen.add(name)
      assert.ok((c.description ?? "").trim().length >= 20, `"${name}" has no description`)
      assert.ok((c.examples ?? []).length > 0, `"${name}" has no examples`)
      for (const e of c.examples!) assert.ok(e.startsWith(`${name} `) || e === name, `an example of "${name}" runs something else: ${e}`)
    }
  })

  test("COMMAND --help shows its usage, description and examples", () => {
    const program = buildProgram(commands)
    for (const c of commands) {
      const leaf = leafOf(program, c.words)
      let help = ""
      leaf.configureOutput({ writeOut: (s) => { help += s } })
      leaf.outputHelp()
      assert.match(help, new RegExp(`^Usage: ironledger ${c.words.join(" ")} `), c.words.join(" "))
      assert.ok(help.includes(c.description!.split(" ").slice(0, 4).join(" ")), `${c.words.join(" ")} --help lacks its description:\n${help}`)
      for (const e of c.examples!) assert.ok(help.includes(`$ ironledger ${e}`), `${c.words.join(" ")} --help lacks the example ${e}`)
      assert.match(help, /--url <URL>[\s\S]*--json[\s\S]*--token-file <FILE>/, "the global options are listed")
    }
  })
})

describe("option parsing", () => {
  const spec = { name: "string", extra: "list", long: "flag", wait: "optional-number", "no-conductor": "flag" } as const

  test("options go before, between or after positionals, in both --name VALUE and --name=VALUE", () => {
    const p = parseArgs(["--extra", "a=1", "n1", "--name=x", "n2", "--extra=b=2", "--long", "--no-conductor"], spec)
    assert.deepEqual(p.positionals, ["n1", "n2"])
    assert.deepEqual(p.strings, { name: "x" })
    assert.deepEqual(p.lists, { extra: ["a=1", "b=2"] })
    assert.deepEqual([...p.flags].sort(), ["long", "no-conductor"])
    assert.deepEqual(p.numbers, {})
  })

  test("--wait takes a number of seconds or none", () => {
    assert.deepEqual(parseArgs(["n1", "--wait"], spec).numbers, { wait: null })
    assert.deepEqual(parseArgs(["n1", "--wait", "600"], spec).numbers, { wait: 600 })
    assert.deepEqual(parseArgs(["--wait=1.5", "n1"], spec).numbers, { wait: 1.5 })
    assert.deepEqual(parseArgs(["--wait", "--long", "n1"], spec).numbers, { wait: null })
    assert.throws(() => parseArgs(["--wait", "n1"], spec), /--wait.*number of seconds.*NODE before it/)
  })

  test("a typo is an error, not ignored; so is a missing value", () => {
    assert.throws(() => parseArgs(["--nmae", "x"], spec), (e) => e instanceof UsageError && /unknown option '--nmae'/.test(e.message))
    assert.throws(() => parseArgs(["--name"], spec), (e) => e instanceof UsageError && /--name <VALUE>.*argument missing/.test(e.message))
    assert.deepEqual(parseArgs(["--", "--name"], spec).positionals, ["--name"])
  })
})

describe("the --wait progress lines", () => {
  const at = Date.parse("2026-11-30T10:00:00Z")
  const base = {
    node: "rack1-07", state: "wait call-back", now: at + 16_000, waitStarted: at, stateEntered: at + 4_000,
    serviceDeadline: at + 1_804_000, waitDeadline: at + 600_000,
  }

  test("the live line has the state, how long it has lasted, and both deadlines", () => {
    assert.equal(liveLine(base),
      "rack1-07: wait call-back for 12.0s, 16.0s in all; service deadline 10:30:04Z, in 29m48s; --wait deadline 10:10:00Z, in 9m44s")
    assert.equal(liveLine({ ...base, state: "deploying", serviceDeadline: null, waitDeadline: null, written: { bytes_written: 512 * 1024 * 1024, total_bytes: 2 * 1024 ** 3 } }),
      "rack1-07: deploying for 12.0s, 16.0s in all; writing image: 512.0 MiB of 2.0 GiB (25%)")
  })

  test("a state change is one plain line", () => {
    assert.equal(changeLine(base, "deploying"),
      "[16.0s] rack1-07: deploying -> wait call-back; service deadline 10:30:04Z, in 29m48s; --wait deadline 10:10:00Z, in 9m44s")
    assert.equal(changeLine({ ...base, state: "verifying", now: at, serviceDeadline: null, waitDeadline: null }, null), "[0.0s] rack1-07: verifying")
    assert.deepEqual([span(59_949), span(61_000), span(3_725_000)], ["59.9s", "1m01s", "1h02m"])
  })
})
