/*
 * find-symbol.ts — klp_find_object_symbol (R3.5) and the oldHash extension.
 *
 * Invariant: a lookup either returns the slot of exactly the entry the
 * kernel would pick (by name, then by 1-based position when sympos > 0, or
 * the only one when sympos is 0) or logs the kernel's pr_err and throws
 * EINVAL. With `oldHash`, the picked entry must also carry that hash.
 */

import { KlpError } from './errors.ts';
import { EINVAL } from './errno.ts';
import type { KernelLog } from './log.ts';
import { symbolAmbiguous, symbolHashMismatch, symbolNotFound, symposNotFound } from './messages.ts';
import type { Slot, SymbolTable } from './types.ts';

export function findObjectSymbol(
  log: KernelLog,
  table: SymbolTable,
  objname: string | null,
  name: string,
  sympos: number,
  oldHash: string | undefined,
): Slot {
  const entries = table.lookup(name);
  // The kernel counts matches and stops at `sympos` (or at a second match
  // when sympos is 0); the table is already filtered by name and in order.
  let count = 0;
  for (const e of entries) if (e.name === name) count++;
  let text: string | null = null;
  if (count === 0) text = symbolNotFound(name);
  else if (sympos === 0 && count > 1) text = symbolAmbiguous(name, objname);
  else if (sympos > 0 && count < sympos) text = symposNotFound(sympos, name, objname);
  if (text !== null) {
    log.err(text);
    throw new KlpError(EINVAL, `livepatch: ${text}${count === 0 ? ` (object '${objname ?? 'vmlinux'}')` : ''}`);
  }
  const want = sympos === 0 ? 1 : sympos;
  let seen = 0;
  for (const e of entries) {
    if (e.name !== name) continue;
    if (++seen !== want) continue;
    if (oldHash !== undefined && e.hash !== oldHash) {
      const msg = symbolHashMismatch(name, objname, oldHash, e.hash);
      log.err(msg);
      throw new KlpError(EINVAL, `livepatch: ${msg}: the patch was built for different code`);
    }
    return e.slot;
  }
  /* c8 ignore next */
  throw new KlpError(EINVAL, `livepatch: symbol '${name}' vanished during lookup`);
}
