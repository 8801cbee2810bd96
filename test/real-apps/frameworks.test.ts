/**
 * Real frameworks serving real requests (issue 15: "the loader on real
 * apps"). Each app in apps/ is started twice, plain and under the loader, on
 * an ephemeral port of 127.0.0.1; the same fixed sequence of requests goes to
 * both — routes that succeed, a JSON body, a handler that throws, a 404 from
 * the handler and one from the framework, a body that does not parse,
 * request headers echoed back — and every response must be the same: status,
 * headers (but `date`) and body. Under the loader every function of the app
 * and of the framework has an entry check and every async function records
 * its frames, so hooks, middleware chains, async handlers, decorators and
 * dependency injection all run through instrumented code; a program must not
 * be able to tell. The error responses carry the error's stack frames
 * (function names and line numbers, which the loader keeps).
 */

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cliPath } from '../support/lp-process.ts';
import { registerPath, repoRoot, runNode } from '../support/node.ts';

const work = mkdtempSync(join(tmpdir(), 'lp-real-frameworks-'));
const cache = join(work, 'cache');
const sockets = join(work, 'sockets');
const children = new Set<ChildProcess>();
// Every app process is killed, whatever happened to the test that started it.
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

interface App {
  readonly child: ChildProcess;
  readonly port: number;
  stderr(): string;
}

/** Start an app, plain or under the loader, and wait for its `listening <port>` line. */
function start(file: string, armed: boolean): Promise<App> {
  const args = [...(armed ? ['--import', registerPath] : []), join('test/real-apps/apps', file)];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', LIVEPATCH_CACHE_DIR: cache, LIVEPATCH_SOCKET_DIR: sockets },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('did not print its port in 30 s'), 30_000);
    function fail(why: string) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${file} ${armed ? 'under the loader' : 'plain'} ${why}\n${stderr}`));
    }
    child.on('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.on('exit', () => children.delete(child));
      resolve({ child, port: Number(m[1]), stderr: () => stderr });
    });
  });
}

interface Req {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

interface Res {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: unknown;
}

/** One request on its own connection; the response with every header but `date`, a JSON body parsed. */
function send(port: number, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers = {
      ...req.headers,
      ...(req.body !== undefined ? { 'content-length': Buffer.byteLength(req.body) } : {}),
    };
    const r = request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('error', reject);
      res.on('end', () => {
        const kept = Object.entries(res.headers)
          .filter(([k]) => k !== 'date')
          .sort(([a], [b]) => (a < b ? -1 : 1));
        let body: unknown = text;
        if (/json/.test(String(res.headers['content-type']))) body = JSON.parse(text);
        resolve({ status: res.statusCode!, headers: Object.fromEntries(kept) as Res['headers'], body });
      });
    });
    r.setTimeout(20_000, () => r.destroy(new Error(`${req.method} ${req.path}: no response in 20 s`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

async function exchange(port: number, reqs: readonly Req[]): Promise<Res[]> {
  const out: Res[] = [];
  for (const req of reqs) out.push(await send(port, req)); // in order: the requests change the app's state
  return out;
}

/** `livepatch symbols <module> --pid`: proof that the process under the loader runs instrumented code. */
async function symbols(pid: number, moduleId: string): Promise<unknown[]> {
  const r = await runNode([cliPath, 'symbols', moduleId, '--pid', String(pid), '--json'], {
    env: { LIVEPATCH_SOCKET_DIR: sockets },
  });
  assert.equal(r.code, 0, `livepatch symbols ${moduleId}: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[];
}

const json = { 'content-type': 'application/json', accept: 'application/json' };

/** The REST apps' contract: the same routes in fastify, express, koa and NestJS. */
const rest: readonly Req[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/users' },
  { method: 'GET', path: '/users/1' },
  { method: 'GET', path: '/users/42' }, // not found, from the handler
  { method: 'POST', path: '/users', headers: json, body: '{"name":"Grace","email":"grace@example.com"}' },
  { method: 'GET', path: '/users/3' }, // what the POST created
  { method: 'POST', path: '/users', headers: json, body: '{"email":"nobody@example.com"}' }, // fails validation
  { method: 'POST', path: '/users', headers: json, body: '{"name": ' }, // the framework's JSON parser refuses it
  { method: 'DELETE', path: '/users/2' },
  { method: 'GET', path: '/users' },
  { method: 'GET', path: '/headers', headers: { 'x-request-id': 'req-42', accept: 'text/plain', 'x-custom': 'a, b' } },
  { method: 'GET', path: '/boom' }, // an async handler throws: 500
  { method: 'GET', path: '/no/such/route' }, // the framework's own 404
  { method: 'PUT', path: '/health', headers: json, body: '{}' },
];

const gql = (query: string, variables?: unknown): Req => ({
  method: 'POST',
  path: '/graphql',
  headers: json,
  body: JSON.stringify({ query, variables }),
});

const graphqlRequests: readonly Req[] = [
  gql('{ users { id name postCount posts { title author { name } } friends { name friends { name } } } }'),
  gql('query One($id: ID!) { user(id: $id) { name posts { id title } } }', { id: '2' }),
  gql('{ user(id: "1") { name secret friends { name secret } } }'), // resolvers that throw: partial data
  gql('mutation { addPost(authorId: "3", title: "COBOL") { id title author { name postCount } } }'),
  gql('mutation { addPost(authorId: "9", title: "nobody") { id } }'),
  gql('{ user(id: "3") { posts { title } } }'), // sees the mutation
  gql('{ users { name '), // a syntax error
  gql('{ users { nope } }'), // a validation error
  { method: 'GET', path: `/graphql?query=${encodeURIComponent('{ user(id: "1") { name friends { name } } }')}` },
  { method: 'POST', path: '/graphql', headers: json, body: '{"query": ' },
  { method: 'PUT', path: '/graphql', headers: json, body: '{}' },
  { method: 'GET', path: '/elsewhere' },
];

interface Case {
  readonly file: string;
  readonly requests: readonly Req[];
  /** the statuses plain Node gives: the apps really serve these routes, so the comparison is not empty */
  readonly statuses: readonly number[];
  /** a module of the framework, which must be instrumented in the process under the loader */
  readonly frameworkModule: string;
}

const cases: Record<string, Case> = {
  'fastify 5 (async onRequest hook, async handlers)': {
    file: 'fastify.mjs',
    requests: rest,
    statuses: [200, 200, 200, 404, 201, 200, 422, 400, 204, 200, 200, 500, 404, 404],
    frameworkModule: 'fastify/fastify.js',
  },
  'express 5 (async middleware and handlers, a router, an error handler)': {
    file: 'express.cjs',
    requests: rest,
    statuses: [200, 200, 200, 404, 201, 200, 422, 400, 204, 200, 200, 500, 404, 404],
    frameworkModule: 'express/lib/application.js',
  },
  'koa 3 (async middleware around await next(), @koa/router, koa-bodyparser)': {
    file: 'koa.mjs',
    requests: rest,
    statuses: [200, 200, 200, 404, 201, 200, 422, 400, 204, 200, 200, 500, 404, 405],
    frameworkModule: 'koa/lib/application.js',
  },
  'NestJS 11 (tsc-emitted decorators, a service injected into a controller, middleware)': {
    file: 'nest.cjs',
    requests: rest,
    statuses: [200, 200, 200, 404, 201, 200, 422, 400, 204, 200, 200, 500, 404, 404],
    frameworkModule: '@nestjs/core/injector/injector.js',
  },
  'graphql-js 16.11.0 over node:http (async resolvers: users, posts, authors, friends)': {
    file: 'graphql.cjs',
    requests: graphqlRequests,
    statuses: [200, 200, 200, 200, 200, 200, 400, 400, 200, 400, 405, 404],
    frameworkModule: 'graphql/execution/execute.js',
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`${name}: the same responses plain and under the loader`, async () => {
    const [plain, armed] = await Promise.all([start(c.file, false), start(c.file, true)]);
    try {
      const [expected, actual] = await Promise.all([
        exchange(plain.port, c.requests),
        exchange(armed.port, c.requests),
      ]);
      assert.deepEqual(
        expected.map((r) => r.status),
        c.statuses,
        `plain statuses\n${plain.stderr()}`,
      );
      c.requests.forEach((req, i) =>
        assert.deepEqual(actual[i], expected[i], `${req.method} ${req.path}${req.body ? ` ${req.body}` : ''}`),
      );
      // The comparison means something only if the loader was there: the app and its framework are instrumented.
      assert.ok((await symbols(armed.child.pid!, `test/real-apps/apps/${c.file}`)).length > 0, c.file);
      assert.ok((await symbols(armed.child.pid!, c.frameworkModule)).length > 0, c.frameworkModule);
    } finally {
      plain.child.kill('SIGKILL');
      armed.child.kill('SIGKILL');
    }
  });
}
