// The report model shared by `check join` and `check impersonation` (product.md §6.3).
import { API_VERSION, renderJson, renderTable, type Column } from '../cli/output.js';
import { renderYaml } from '../cli/output-yaml.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable identifier, e.g. `jwks.fetch`, `argocd.impersonation-enabled`. */
  id: string;
  /** What was checked: a cluster, a project entry, a service account… */
  subject: string;
  status: CheckStatus;
  message: string;
}

export interface CheckReport {
  apiVersion: typeof API_VERSION;
  kind: 'CheckReport';
  check: 'join' | 'impersonation';
  results: CheckResult[];
  summary: Record<CheckStatus, number>;
}

export function buildCheckReport(check: CheckReport['check'], results: CheckResult[]): CheckReport {
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const result of results) summary[result.status] += 1;
  return { apiVersion: API_VERSION, kind: 'CheckReport', check, results, summary };
}

/** Exit 1 on any fail; with `strict`, also on any warn. */
export function checkReportFailed(report: CheckReport, strict = false): boolean {
  return report.summary.fail > 0 || (strict && report.summary.warn > 0);
}

export const CHECK_COLUMNS: Column<CheckResult>[] = [
  { header: 'CHECK', value: (result) => result.id },
  { header: 'SUBJECT', value: (result) => result.subject },
  { header: 'STATUS', value: (result) => result.status },
  { header: 'MESSAGE', value: (result) => result.message },
];

export function checkSummaryLine(report: CheckReport): string {
  const { pass, warn, fail, skip } = report.summary;
  return `${pass} passed, ${warn} warnings, ${fail} failed, ${skip} skipped`;
}

/** The report in the user's format: table (default), json or yaml. */
export function renderCheckReport(report: CheckReport, output: string, noHeaders: boolean): string {
  if (output === 'json') return renderJson(report);
  if (output === 'yaml') return renderYaml(report);
  return renderTable(report.results, CHECK_COLUMNS, { noHeaders });
}
