// bench:boot-scale — the boot services and real hardware paths at fleet scale (ADR 0120):
//   pxe:    one node's PXE config written and removed with 100 vs 20,000 nodes in the TFTP tree,
//           through the real configurator and a real dnsmasq told each change of MAC links;
//   ipmi:   one power sync round (power status of every BMC) through the IPMI adapter, real
//           ipmitool against N real ipmi_sim BMCs, CPU of ipmitool children and of the BMCs;
//   deploy: N parallel deploys of a raw image through tgtd and qemu-img, aggregate MiB/s.
// CPU time is read from /proc beside wall time: the machine is shared and its load varies.
// Usage: npm run bench:boot-scale -- [--quick] [--parts pxe,ipmi,deploy] [--pxe-sizes 100,20000]
//        [--ops 20] [--bmcs 100,300] [--ipmi-concurrency 8,32] [--deploys 1,4,16] [--image-mib 64]
import { parseArgs } from "node:util"
import { loadAverage, printRows, type Row } from "./boot-scale-measure.ts"
import { benchDeploys } from "./boot-scale-deploy.ts"
import { benchIpmi } from "./boot-scale-ipmi.ts"
import { benchPxe } from "./boot-scale-pxe.ts"

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    parts: { type: "string", default: "pxe,ipmi,deploy" },
    "pxe-sizes": { type: "string" },
    ops: { type: "string" },
    bmcs: { type: "string" },
    "ipmi-concurrency": { type: "string" },
    deploys: { type: "string" },
    "image-mib": { type: "string" },
    "listen-address": { type: "string", default: "127.0.93.1" },
  },
})
const numbers = (text: string | undefined, fallback: string) => (text ?? fallback).split(",").map((s) => {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${JSON.stringify(s)} is not a positive integer`)
  return n
})
const quick = values.quick
const parts = new Set(values.parts.split(","))
for (const p of parts) if (!["pxe", "ipmi", "deploy"].includes(p)) throw new Error(`unknown part ${p}: pxe, ipmi or deploy`)

const rows: Row[] = []
console.log(`load average at start: ${loadAverage()}`)
if (parts.has("pxe")) {
  rows.push(...await benchPxe({
    sizes: numbers(values["pxe-sizes"], quick ? "100,5000" : "100,20000"), ops: numbers(values.ops, quick ? "10" : "40")[0]!,
    listenAddress: values["listen-address"], dhcpPort: 1167,
  }))
  console.log(`pxe done, load average ${loadAverage()}`)
  printRows(rows)
}
if (parts.has("ipmi")) {
  rows.push(...await benchIpmi({
    counts: numbers(values.bmcs, quick ? "20,50" : "100,300"), concurrency: numbers(values["ipmi-concurrency"], "8,32"),
    firstPort: 19_300, address: "127.0.0.1",
  }))
  console.log(`ipmi done, load average ${loadAverage()}`)
  printRows(rows)
}
if (parts.has("deploy")) {
  rows.push(...await benchDeploys({
    counts: numbers(values.deploys, quick ? "1,4" : "1,4,16"), imageMib: numbers(values["image-mib"], quick ? "32" : "128")[0]!,
  }))
  console.log(`deploy done, load average ${loadAverage()}`)
  printRows(rows)
}
console.log(`load average at end: ${loadAverage()}`)
