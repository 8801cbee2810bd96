#!/usr/bin/env node
/**
 * The `livepatch` command.
 *
 *   livepatch run [node options] <entry> [args]
 *   livepatch ps
 *   livepatch load <patch-file> [--wait] [--timeout S] [--allow-pending]
 *   livepatch unload <name>
 *   livepatch enable|disable|force <name>
 *   livepatch list
 *   livepatch status [<name>]
 *   livepatch sysfs read|write|ls <path> [<value>]
 *   livepatch dmesg [-C] [--follow]
 *   livepatch symbols <module-id>
 *
 * Every command that talks to a process takes `--pid N` (optional when one
 * process is under the loader) and `--json`. Exit codes: 0 success; the
 * kernel's errno for an error the process reports (22 EINVAL, 16 EBUSY,
 * 2 ENOENT, 17 EEXIST, 13 EACCES); 64 usage; 69 no such process or not a
 * livepatch socket; 75 `--wait` timed out with the transition still open;
 * `build`'s own (src/cli/build.ts); 1 anything else. An error's status
 * comes from its code, through the one table in src/cli/errors.ts.
 */

import { isKlpError } from '../core/index.ts';
import { CONTROL_CODES } from '../control/errors.ts';
import { commands, type Context } from './commands.ts';
import { errorCode, exitStatus, EXIT, UsageError } from './errors.ts';
import { run } from './run.ts';

const USAGE = `usage: livepatch <command> [options]

commands:
  run [node options] <entry> [args]    run a program under the loader
  ps                                   processes under the loader
  load <patch-file> [--wait] [--timeout S] [--allow-pending]
                                       load a patch module and enable its patch (insmod); refused (ENOENT)
                                       when no module it patches is loaded or in the application, unless
                                       --allow-pending
  unload <name>                        unload a patch module (rmmod)
  enable|disable|force <name>          write 1 / 0 to <name>/enabled, 1 to <name>/force
  list                                 patches and patch modules
  status [<name>]                      transition progress and what blocks it
  sysfs read <path> | write <path> <value> | ls [<path>]
                                       the /sys/kernel/livepatch tree
  dmesg [-C] [-c] [--follow]           the process's livepatch log
  symbols <module-id>                  a module's symbol table
  packages [<name>]                    the npm packages the process has loaded, with their versions
  build --old <dir|rev> --new <dir|rev> | --diff <file>  [-o out.mjs] [--root dir] [--hold <module>:<fn>]
                                       a patch module from a source change (docs/build.md)
  build --package <name>@<version> [--root app]
                                       a patch module from a dependency's fix release

options:
  --pid N     the process (optional when only one runs under the loader)
  --json      machine-readable output
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd === undefined ? EXIT.usage : 0;
  }
  if (cmd === 'run') return run(rest);
  if (cmd === 'build') return (await import('./build.ts')).buildCommand(rest);
  const command = commands[cmd];
  if (command === undefined) throw new UsageError(`unknown command '${cmd}'`);
  const ctx: Context = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };
  return command(rest, ctx);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(report(error));
    process.exitCode = exitStatus(error);
  },
);

/**
 * What an error prints: its message, after who reports it where the message does not say it, and the
 * usage after a usage error.
 */
function report(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (isKlpError(error)) return `${message} (${error.code})\n`;
  const code = errorCode(error);
  if (code === 'LP_ERR_USAGE') return `livepatch: ${message}\n\n${USAGE}`;
  // the control layer's messages start with 'livepatch: ' themselves
  if (code !== null && Object.hasOwn(CONTROL_CODES, code)) return message + '\n';
  if (code === 'LP_ERR_BUILD_INPUT' || code === 'LP_ERR_TARBALL') return `livepatch build: ${message}\n`;
  return `livepatch: ${message}\n`;
}
