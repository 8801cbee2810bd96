/**
 * `livepatch run [node options] <entry> [args]`: run a program under the
 * loader, with the Node that runs this command. Signals are passed on; the
 * exit code is the program's.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.ts';

/** Node options that take their value as the next argument. */
const WITH_VALUE = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '-C',
  '--conditions',
  '--inspect-port',
  '--input-type',
  '--env-file',
  '--title',
  '--stack-size',
  '--max-old-space-size',
  '--watch-path',
]);

export function splitRunArgs(args: readonly string[]): { node: string[]; entry: string; rest: string[] } {
  const node: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) break;
    node.push(a);
    if (WITH_VALUE.has(a) && i + 1 < args.length) node.push(args[++i]!);
  }
  const entry = args[i];
  if (entry === undefined)
    throw new UsageError('run needs the program to run: livepatch run [node options] <entry> [args]');
  return { node, entry, rest: args.slice(i + 1) };
}

export const registerUrl = new URL('../register.' + (import.meta.url.endsWith('.ts') ? 'ts' : 'js'), import.meta.url);

export function run(args: string[]): Promise<number> {
  const { node, entry, rest } = splitRunArgs(args);
  const child = spawn(process.execPath, ['--import', fileURLToPath(registerUrl), ...node, entry, ...rest], {
    stdio: 'inherit',
  });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward(sig));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 + signalNumber(signal) : 1)));
  });
}

function signalNumber(sig: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig] ?? 1;
}
