// Types for macho-sign.mjs (imported by the TypeScript tests).
export function removeSignature(data: Buffer): Buffer;
export function signAdHoc(data: Buffer, options: { identifier: string }): Buffer;
