/**
 * Include/exclude filters over module ids: comma-separated globs where `*`
 * matches within a path segment and `**` across segments
 * (`LIVEPATCH_EXCLUDE=typescript/**,src/generated/*`).
 */

export type Filter = (id: string) => boolean;

export function compileFilter(spec: string | undefined, empty = false): Filter {
  if (spec === undefined || spec.trim() === '') return () => empty;
  const res = spec
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean)
    .map(globToRegExp);
  return (id) => res.some((re) => re.test(id));
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}
