/**
 * The symbol table of one module: the kernel's kallsyms for the functions the
 * loader armed. Identities are stable across edits that only move code: a
 * function is named by where it sits in the program (`Router.prototype.handle`,
 * `makeServer/onRequest`), duplicates are told apart by `sympos` (R3.5), and a
 * hash of its source text — not its line — says whether it changed.
 */

import type { FunctionKind } from './analysis-types.ts';

export interface SymbolInfo {
  /** the function's index in the module: its slot is `$lp<key>_<index in base 36>` */
  readonly index: number;
  /** qualified name inside the module */
  readonly name: string;
  /** 1-based occurrence of `name` in the module, in source order */
  readonly sympos: number;
  readonly kind: FunctionKind;
  readonly async: boolean;
  readonly generator: boolean;
  /** 1-based line and 0-based column of the function's start in the original source */
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  /** hash of the function's original source text (and its kind) */
  readonly hash: string;
  /** index of the enclosing function, or -1 */
  readonly parent: number;
  /** variables of enclosing functions the replacement can reach through the closure accessor, in its order */
  readonly captures: readonly string[];
  /** those of them the accessor can write */
  readonly writable: readonly string[];
  /** functions that run once whose scopes this function reaches (their variables are captures too), nearest first */
  readonly scopes: readonly number[];
  /** for a function that runs once: the variables of its scope that nested functions capture, and the writable ones */
  readonly scope?: readonly string[];
  readonly scopeWritable?: readonly string[];
  /** how many values the entry check forwards after the receiver (and accessor); -1: all of `arguments` */
  readonly arity: number;
  /** the last forwarded value is a rest parameter (or `arguments`) */
  readonly rest: boolean;
  /** why it cannot be patched, or null */
  readonly unpatchable: string | null;
}

export interface ModuleSymbols {
  readonly moduleId: string;
  readonly key: string;
  readonly symbols: readonly SymbolInfo[];
  /** the module's bindings its scope accessor reaches, in its order, and those it can write */
  readonly scope: readonly string[];
  readonly scopeWritable: readonly string[];
}
