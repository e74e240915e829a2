// The YAML printer, apart from the others: the yaml library is most of what the printers
// load, so `list` imports this module only when it is asked for `-o yaml`.
import { stringify } from 'yaml';

export function renderYaml(document: unknown): string {
  return stringify(document, { lineWidth: 0 });
}
