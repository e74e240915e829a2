// Types for release.mjs (imported by the TypeScript tests).
export function removePeSignature(file: string): void;
