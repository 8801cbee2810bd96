// What a frame record costs an async function, piece by piece (2026-11-23).
// Instructions per call, counted under callgrind, N=20000 vs N=70000:
//
//   for v in plain tf gs tblonly full cnt; do
//     a=$(V=$v N=20000 valgrind --tool=callgrind --callgrind-out-file=/dev/null node --predictable bench/loader/micro/frame-record.mjs 2>&1 | grep -o 'Collected : [0-9]*')
//     b=$(V=$v N=70000 valgrind ... same ...); echo "$v: (b - a) / 50000"
//   done
//
// plain (an async function that awaits once) 1657; tf (a try/finally and two
// empty calls) +89; gs (getStore) +329; tblonly (the frame table, no task
// lookup) +274; full (what the loader does) +518; cnt (a count per function
// until the first patch, the full record after) +164. See docs/benchmarks.md.
import { AsyncLocalStorage } from 'node:async_hooks';
const als = new AsyncLocalStorage();
const variant = process.env.V;
const N = Number(process.env.N);
let frames = 0;
const task = { frameCount: 0 };
const noop = (a, b) => 0;
const noopX = (f) => {};
const getTask = () => als.getStore() ?? task;
const tbl = { slot: new Int32Array(1024), version: new Int32Array(1024), task: new Array(1024).fill(undefined), next: new Int32Array(1024), free: -1, used: 0, gen: 0 };
function enter(s, v, t) { let i = tbl.free; if (i !== -1) tbl.free = tbl.next[i]; else i = tbl.used++; tbl.slot[i] = s; tbl.version[i] = v; tbl.task[i] = t; t.frameCount++; tbl.gen++; return i; }
function exit(i) { const t = tbl.task[i]; if (t === undefined) return; tbl.task[i] = undefined; tbl.next[i] = tbl.free; tbl.free = i; t.frameCount--; tbl.gen++; }
async function plain(x) { await null; return x + 1; }
async function tf(x) { const f = noop(1, 0); try { await null; return x + 1; } finally { noopX(f); } }
async function gs(x) { const f = getTask(); try { await null; return x + 1; } finally { noopX(f); } }
async function full(x) { const f = enter(1, 0, getTask()); try { await null; return x + 1; } finally { exit(f); } }
async function tblonly(x) { const f = enter(1, 0, task); try { await null; return x + 1; } finally { exit(f); } }
let head = null;
function enterL(s, v, t) { const f = { s, v, t, prev: null, next: head }; if (head !== null) head.prev = f; head = f; t.frameCount++; return f; }
function exitL(f) { if (f.t === null) return; const t = f.t; f.t = null; if (f.prev !== null) f.prev.next = f.next; else head = f.next; if (f.next !== null) f.next.prev = f.prev; t.frameCount--; }
task.frames = [];
function enterA(s, v, t) { const a = t.frames; const f = { s, v, t, i: a.length }; a.push(f); return f; }
function exitA(f) { const t = f.t; if (t === null) return; f.t = null; const a = t.frames; const last = a.pop(); if (last !== f) { a[f.i] = last; last.i = f.i; } }
async function listonly(x) { const f = enterL(1, 0, task); try { await null; return x + 1; } finally { exitL(f); } }
async function arronly(x) { const f = enterA(1, 0, task); try { await null; return x + 1; } finally { exitA(f); } }
let fl = -1, used = 0; const nx = new Int32Array(1024), sl = new Int32Array(1024), tk = new Array(1024).fill(undefined);
function e1(s, v, t) { let i = fl; if (i !== -1) fl = nx[i]; else i = used++; return i; }
function x1(i) { nx[i] = fl; fl = i; }
function e2(s, v, t) { let i = fl; if (i !== -1) fl = nx[i]; else i = used++; sl[i] = s; tk[i] = t; return i; }
function x2(i) { const t = tk[i]; if (t === undefined) return; tk[i] = undefined; nx[i] = fl; fl = i; }
async function v1(x) { const f = e1(1, 0, task); try { await null; return x + 1; } finally { x1(f); } }
async function v2(x) { const f = e2(1, 0, task); try { await null; return x + 1; } finally { x2(f); } }
const counts = new Int32Array(1024);
let tracking = false;
const hnd = { base: 1 };
const enterC = (h, i) => { const s = h.base + i; if (!tracking) { counts[s]++; return ~s; } return enter(s, 0, getTask()); };
const exitC = (f) => { if (f < 0) counts[~f]--; else exit(f); };
async function cnt(x) { const f = enterC(hnd, 0); try { await null; return x + 1; } finally { exitC(f); } }
const fn = { plain, tf, gs, full, tblonly, listonly, arronly, v1, v2, cnt }[variant];
async function run() { for (let i = 0; i < N; i++) await fn(i); }
await als.run({ frameCount: 0 }, run);
