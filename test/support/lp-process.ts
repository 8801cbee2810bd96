/**
 * A real process under the loader, driven like an operator would: started
 * with `livepatch run`, fed commands on stdin, patched with the `livepatch`
 * CLI over its control socket. Each test gets a private socket directory.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { repoRoot, runNode, type RunResult } from './node.ts';

export const cliPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export class LpProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly env: Record<string, string>;
  readonly pid: number;
  /** the program's `{"ready": pid, ...}` line */
  readonly ready: Record<string, unknown> = {};
  private readonly lines: unknown[] = [];
  private readonly waiters: {
    match: (o: Record<string, unknown>) => boolean;
    resolve: (o: Record<string, unknown>) => void;
  }[] = [];
  stderr = '';
  private readonly dir: string;

  private constructor(child: ChildProcessWithoutNullStreams, env: Record<string, string>, dir: string) {
    this.child = child;
    this.env = env;
    this.dir = dir;
    this.pid = -1;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      this.lines.push(o);
      for (let i = 0; i < this.waiters.length; i++) {
        if (this.waiters[i]!.match(o)) {
          this.waiters[i]!.resolve(o);
          this.waiters.splice(i, 1);
          i--;
        }
      }
    });
  }

  /** Start `entry` with `livepatch run` and wait for its `{"ready": pid}` line. */
  static async start(
    entry: string,
    opts: { env?: Record<string, string>; nodeArgs?: string[] } = {},
  ): Promise<LpProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'lp-sock-'));
    const env = { ...process.env, NODE_OPTIONS: '', LIVEPATCH_SOCKET_DIR: dir, ...opts.env } as Record<string, string>;
    const child = spawn(process.execPath, [cliPath, 'run', ...(opts.nodeArgs ?? []), entry], {
      cwd: repoRoot,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const p = new LpProcess(child, env, dir);
    const ready = await p.waitFor((o) => 'ready' in o, 20_000);
    (p as { pid: number }).pid = ready.ready as number;
    (p as { ready: Record<string, unknown> }).ready = ready;
    return p;
  }

  send(line: string): void {
    this.child.stdin.write(line + '\n');
  }

  /** The next line matching `match` (already received ones count). */
  waitFor(match: (o: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const seen = this.lines.find((o) => match(o as Record<string, unknown>));
    if (seen !== undefined) {
      this.lines.splice(this.lines.indexOf(seen), 1);
      return Promise.resolve(seen as Record<string, unknown>);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting; stderr:\n${this.stderr}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (o) => {
          clearTimeout(t);
          this.lines.splice(this.lines.indexOf(o), 1);
          resolve(o);
        },
      });
    });
  }

  /** `call fn arg` and its result. */
  async call(fn: string, arg = ''): Promise<unknown> {
    this.send(`call ${fn} ${arg}`);
    const r = await this.waitFor((o) => o.call === fn || 'error' in o);
    if ('error' in r) throw new Error(String(r.error));
    return r.result;
  }

  /** Run the CLI against this process. */
  cli(...args: string[]): Promise<RunResult> {
    return runNode([cliPath, ...args, ...(args.includes('--pid') ? [] : ['--pid', String(this.pid)])], {
      env: this.env,
    });
  }

  /** Run the CLI and parse its --json output; throws with stderr if it failed. */
  async json(...args: string[]): Promise<unknown> {
    const r = await this.cli(...args, '--json');
    if (r.code !== 0) throw new Error(`livepatch ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
