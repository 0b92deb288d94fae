// Reads a Prometheus text exposition with the official parser (the prometheus_client Python
// package, Debian's python3-prometheus-client): the npm parsers mangle labelled histograms.
import { execFile } from "node:child_process"

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Family {
  readonly name: string
  readonly type: string
  readonly samples: ReadonlyArray<Sample>
}

const program = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = [{"name": f.name, "type": f.type, "samples": [
  {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else str(s.value)} for s in f.samples]}
  for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(out))
`

/** The families of `text`; rejects when the parser refuses it. */
export const parsePrometheusText = (text: string): Promise<ReadonlyArray<Family>> =>
  new Promise((resolve, reject) => {
    const child = execFile("/usr/bin/python3", ["-c", program], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`the Prometheus parser refused the exposition: ${stderr || err.message}`))
      else resolve(JSON.parse(stdout) as ReadonlyArray<Family>)
    })
    child.stdin!.end(text)
  })
