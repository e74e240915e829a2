// Types for bundle.mjs (imported by the TypeScript tests).
export function chunkFiles(main: string): string[];
export function bundle(outfile?: string): Promise<string>;
export function lazyBuiltinSource(name: string): Promise<string>;
