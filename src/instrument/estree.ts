/**
 * The slice of ESTree the loader reads. oxc-parser produces ESTree (with
 * TypeScript nodes) whose `start`/`end` are UTF-16 offsets into the source;
 * nodes are read structurally, so one loose type is enough.
 */
export interface Node {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly [key: string]: unknown;
}

export interface Program extends Node {
  readonly type: 'Program';
  readonly body: Node[];
}
