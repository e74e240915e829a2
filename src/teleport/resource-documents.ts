// Teleport resources as `tctl get` prints them: YAML or JSON, one document, a `---` stream,
// a list (`--format=json`) or `{items: […]}`.
import { parseAllDocuments } from 'yaml';

export class ResourceDocumentError extends Error {}

/** Every object in the text, in order; throws ResourceDocumentError when it is not YAML. */
export function parseResourceDocuments(text: string): Array<Record<string, unknown>> {
  const objects: Array<Record<string, unknown>> = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new ResourceDocumentError(`not YAML: ${document.errors[0]!.message.split('\n')[0]}`);
    const value: unknown = document.toJS();
    const listed = (value as { items?: unknown } | null)?.items;
    for (const item of Array.isArray(value) ? value : Array.isArray(listed) ? listed : [value]) {
      if (typeof item === 'object' && item !== null && !Array.isArray(item) && Object.keys(item).length > 0) {
        objects.push(item as Record<string, unknown>);
      }
    }
  }
  return objects;
}

/** The kinds found, for messages when the expected one is missing. */
export function kindsOf(objects: Array<Record<string, unknown>>): string[] {
  return objects.map((object) => (typeof object.kind === 'string' ? object.kind : '<no kind>'));
}
