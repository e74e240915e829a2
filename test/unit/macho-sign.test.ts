// The ad-hoc Mach-O signer against signers that are not ours: Go's linker (darwin/arm64) byte
// for byte, and an independent checker (test/support/macho-signature.ts, over llvm-objdump)
// that first has to accept Go's and ld64.lld's own signatures. Fixtures: test/fixtures/macho.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeSignature, signAdHoc } from '../../scripts/macho-sign.mjs';
import { checkCodeSignature, objdumpLoadCommands, segment } from '../support/macho-signature.js';
import { missingOutsideCi } from '../support/run.js';

const fixture = (name: string) => readFileSync(path.join('test/fixtures/macho', name));
const dir = mkdtempSync(path.join(tmpdir(), 'tpa-macho-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function written(name: string, data: Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, data);
  return file;
}

const ADHOC_LINKER_SIGNED = 0x20002;

describe('signAdHoc, compared with Go’s linker', () => {
  const goSigned = fixture('go-darwin-arm64');

  it('re-signs a Go-linked darwin/arm64 binary to exactly the bytes Go wrote', () => {
    expect(signAdHoc(goSigned, { identifier: 'a.out' }).equals(goSigned)).toBe(true);
  });

  it('gives the same bytes after the signature was removed, as the release signs Node', () => {
    const unsigned = removeSignature(goSigned);
    expect(unsigned.length).toBeLessThan(goSigned.length);
    expect(unsigned.includes(Buffer.from([0xfa, 0xde, 0x0c, 0xc0]))).toBe(false);
    expect(signAdHoc(unsigned, { identifier: 'a.out' }).equals(goSigned)).toBe(true);
  });

  it('writes the identifier it is given, so the bytes differ from Go’s only by it', () => {
    const renamed = signAdHoc(goSigned, { identifier: 'kubectl-teleport_argocd' });
    expect(renamed.equals(goSigned)).toBe(false);
    expect(renamed.includes(Buffer.from('kubectl-teleport_argocd\0'))).toBe(true);
    expect(renamed.subarray(0, 4096).equals(goSigned.subarray(0, 4096))).toBe(false); // LC_CODE_SIGNATURE's size is in page 0
  });

  it('refuses what it cannot sign correctly', () => {
    expect(() => signAdHoc(Buffer.from('#!/bin/sh\n'), { identifier: 'x' })).toThrow('not a 64-bit little-endian Mach-O file');
    expect(() => signAdHoc(Buffer.concat([goSigned, Buffer.from('tail')]), { identifier: 'x' })).toThrow('the file goes on after its code signature');
    const unsigned = removeSignature(goSigned);
    expect(() => signAdHoc(Buffer.concat([unsigned, Buffer.alloc(16)]), { identifier: 'x' })).toThrow('the file goes on after __LINKEDIT');
  });
});

describe.skipIf(missingOutsideCi('llvm-objdump'))('the independent signature checker', () => {
  it('accepts the signatures Go’s linker (arm64) and ld64.lld (x86_64) wrote', () => {
    expect(checkCodeSignature(written('go-arm64', fixture('go-darwin-arm64')))).toMatchObject({ identifier: 'a.out', flags: ADHOC_LINKER_SIGNED, execSegFlags: 1, problems: [], badPages: [] });
    expect(checkCodeSignature(written('lld-amd64', fixture('lld-darwin-amd64')))).toMatchObject({ identifier: 'lld-darwin-amd64', flags: ADHOC_LINKER_SIGNED, execSegFlags: 1, problems: [], badPages: [] });
  });

  it('names the page of a changed byte, and a signature that no longer ends the file', () => {
    const tampered = Buffer.from(fixture('go-darwin-arm64'));
    tampered[5 * 4096 + 17]! ^= 0x01;
    expect(checkCodeSignature(written('tampered', tampered))).toMatchObject({ badPages: [5], problems: [] });
    const appended = checkCodeSignature(written('appended', Buffer.concat([fixture('go-darwin-arm64'), Buffer.alloc(8)])));
    expect(appended.problems).toContain('the signature does not end the file');
  });
});

describe.skipIf(missingOutsideCi('llvm-objdump'))('signAdHoc on darwin/amd64, which Go’s linker leaves unsigned', () => {
  const unsigned = fixture('go-darwin-amd64');

  it('adds LC_CODE_SIGNATURE after the load commands and the signature at the 16-byte aligned end of __LINKEDIT', () => {
    expect(objdumpLoadCommands(written('go-amd64', unsigned)).some((command) => command.cmd === 'LC_CODE_SIGNATURE')).toBe(false);
    const file = written('go-amd64-signed', signAdHoc(unsigned, { identifier: 'kubectl-teleport_argocd' }));
    const commands = objdumpLoadCommands(file);
    expect(commands.at(-1)!.cmd).toBe('LC_CODE_SIGNATURE');
    expect(Number(commands.at(-1)!.fields.dataoff)).toBe(Math.ceil(unsigned.length / 16) * 16);
    expect(segment(commands, '__TEXT')!.fields).toEqual(segment(objdumpLoadCommands(written('go-amd64', unsigned)), '__TEXT')!.fields);
    expect(checkCodeSignature(file)).toMatchObject({
      identifier: 'kubectl-teleport_argocd',
      flags: ADHOC_LINKER_SIGNED,
      execSegFlags: 1,
      codeLimit: Math.ceil(unsigned.length / 16) * 16,
      problems: [],
      badPages: [],
    });
  });

  it('starts the signature at the next 16-byte boundary when __LINKEDIT ends between two', () => {
    const grown = Buffer.concat([unsigned, Buffer.alloc(4)]);
    const linkeditFilesize = grown.indexOf('__LINKEDIT\0') + 40; // segname is at +8 of the command, filesize at +48
    grown.writeBigUInt64LE(grown.readBigUInt64LE(linkeditFilesize) + 4n, linkeditFilesize);
    const file = written('go-amd64-grown-signed', signAdHoc(grown, { identifier: 'x' }));
    expect(Number(objdumpLoadCommands(file).at(-1)!.fields.dataoff)).toBe(grown.length + 12);
    expect(checkCodeSignature(file)).toMatchObject({ problems: [], badPages: [] });
  });

  it('re-signs ld64.lld’s x86_64 binary so that the checker still accepts every page', () => {
    const file = written('lld-resigned', signAdHoc(fixture('lld-darwin-amd64'), { identifier: 'lld-darwin-amd64' }));
    expect(checkCodeSignature(file)).toMatchObject({ identifier: 'lld-darwin-amd64', flags: ADHOC_LINKER_SIGNED, problems: [], badPages: [] });
  });
});
