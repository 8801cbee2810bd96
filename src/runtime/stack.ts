/**
 * The current task's synchronous stack, as the core's stack check needs it
 * (the kernel's reliable stack trace). Suspended frames are recorded as they
 * happen (frames.ts); synchronous frames exist only while the task runs, so
 * they matter only when the check runs inside the task: at a safepoint, or
 * when a program enables a patch from its own code.
 *
 * V8's call sites give file and line; lines are the original lines (the
 * loader never moves them). A line can hold several functions: all of them
 * are reported, which can only make the check more careful. Replacement
 * code is known from the dispatcher's own record of the calls it made; the
 * original function's frame that called the dispatcher (sitting at its entry
 * check) runs no original code and is left out.
 */

import { fileURLToPath } from 'node:url';
import type { Frame } from '../core/index.ts';
import { ENTRY_NAME, dispatchStack } from './dispatch.ts';
import type { ProgramObjects } from './objects.ts';
import type { SlotTable } from './slots.ts';

export function syncFrames(slots: SlotTable, objects: ProgramObjects): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < dispatchStack.length; i += 2) {
    const cs = objects.bySlotId.get(dispatchStack[i]!);
    if (cs !== undefined) out.push({ slot: cs, version: dispatchStack[i + 1]! });
  }
  let skipNext = false;
  for (const site of callSites()) {
    let file = site.getFileName() ?? '';
    if (file.startsWith('file:')) file = fileURLToPath(file);
    // the dispatcher's entry (by name: bundled, it shares its file with the rest of livepatch)
    if (site.getFunctionName() === ENTRY_NAME) {
      skipNext = true;
      continue;
    }
    if (skipNext) {
      skipNext = false;
      continue;
    }
    const line = site.getLineNumber();
    if (line === null) continue;
    for (const record of slots.byFile(file)) {
      const symbols = record.plan().symbols.symbols;
      // innermost functions whose lines contain the frame's line
      let best = Infinity;
      for (const s of symbols)
        if (s.line <= line && line <= s.endLine && s.endLine - s.line < best) best = s.endLine - s.line;
      for (const s of symbols) {
        if (s.line > line || line > s.endLine || s.endLine - s.line !== best) continue;
        const cs = objects.bySlotId.get(record.handle.base + s.index);
        if (cs !== undefined) out.push({ slot: cs, version: 0 });
      }
    }
  }
  return out;
}

function callSites(): NodeJS.CallSite[] {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.stackTraceLimit = 1000;
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.captureStackTrace(holder, callSites);
    return holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}
