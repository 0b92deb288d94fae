// ironledger: the command line. `serve` runs the service; the other commands talk to its API
// (--url, default $IRONLEDGER_URL or http://127.0.0.1:6385), or read the log directly with --db.
import type { Command } from "./command.ts"
import { auditCommands } from "./commands/audit.ts"
import { certifyCommand } from "./commands/certify.ts"
import { conductorCommand } from "./commands/conductor.ts"
import { importCommand } from "./commands/import.ts"
import { migrateCommand } from "./commands/migrate.ts"
import { nodeCommands } from "./commands/nodes.ts"
import { portCommands } from "./commands/ports.ts"
import { provisionCommands } from "./commands/provision.ts"
import { ramdiskBuildCommand } from "./commands/ramdisk.ts"
import { serveCommand } from "./commands/serve.ts"
import { runCli } from "./program.ts"
import { verifyCommands } from "./commands/verify.ts"
import { fleetExportCommands } from "./commands/fleet-export.ts"
import { instanceCommands } from "./commands/instance.ts"

export const commands: ReadonlyArray<Command> = [
  serveCommand, conductorCommand, ...nodeCommands, importCommand, ...portCommands, ...provisionCommands, ...auditCommands,
  ...verifyCommands, ...fleetExportCommands, certifyCommand, migrateCommand, ramdiskBuildCommand, ...instanceCommands,
]

export const main = (argv: ReadonlyArray<string>): Promise<number> => runCli(commands, argv)

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code })
}
