// Long lists of names in one message line.

/** The first `shown` names, then how many more: `a, b, and 3 more`. */
export function firstNames(names: readonly string[], shown: number): string {
  const rest = names.length - shown;
  return rest > 0 ? [...names.slice(0, shown), `and ${rest} more`].join(', ') : names.join(', ');
}
