// Types for build-binary.mjs (imported by the TypeScript tests).
export const SEA_FUSE: string;
export function buildBlob(main: string, blob: string, options: { codeCache: boolean }): Buffer;
export function injectBlob(binary: string, blob: Buffer, options?: { macho?: boolean }): Promise<void>;
