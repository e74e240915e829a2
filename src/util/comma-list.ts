// Argo CD's comma-separated settings (a cluster secret's `namespaces`,
// `application.namespaces`): entries trimmed, empty ones dropped.
export function splitCommaList(value: string | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
