import { DatabaseSync } from "node:sqlite"
const db = new DatabaseSync(process.argv[2]!, { readOnly: true })
const tables = db.prepare("select name from sqlite_master where type='table'").all()
console.log(tables.map((t: any) => t.name).join(","))
for (const t of tables as any[]) {
  const cols = db.prepare(`pragma table_info(${t.name})`).all().map((c: any) => c.name)
  if (cols.includes("type") && cols.includes("data")) {
    const rows = db.prepare(`select * from ${t.name} where type like '%Failed%' or type like '%TimedOut%' limit 20`).all()
    for (const r of rows as any[]) console.log(t.name, r.type, String(r.data).slice(0, 400))
  }
}
