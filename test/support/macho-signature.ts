// A reader of Mach-O code signatures that shares nothing with scripts/macho-sign.mjs: the load
// commands come from LLVM's llvm-objdump, the signature blobs are parsed here, and every page
// hash is recomputed. Checked against signatures from Go's linker, ld64.lld and Apple's codesign.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface LoadCommand {
  cmd: string;
  fields: Record<string, string>;
  sections: Record<string, string>[];
}

/** `llvm-objdump --macho --private-headers`, one entry per load command, key/value lines as printed. */
export function objdumpLoadCommands(file: string): LoadCommand[] {
  const text = execFileSync('llvm-objdump', ['--macho', '--private-headers', file], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const commands: LoadCommand[] = [];
  let target: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    if (/^Load command \d+$/.test(line)) {
      const command: LoadCommand = { cmd: '', fields: {}, sections: [] };
      commands.push(command);
      target = command.fields;
    } else if (line === 'Section' && commands.length > 0) {
      target = {};
      commands.at(-1)!.sections.push(target);
    } else if (target) {
      const match = /^\s*(\S+) (.*)$/.exec(line);
      if (match) target[match[1]!] ??= match[2]!.trim();
    }
  }
  for (const command of commands) command.cmd = command.fields.cmd ?? '';
  return commands;
}

export function segment(commands: LoadCommand[], name: string): LoadCommand | undefined {
  return commands.find((command) => command.cmd === 'LC_SEGMENT_64' && command.fields.segname === name);
}

const number = (value: string | undefined): number => Number(value);

export interface SignatureCheck {
  identifier: string;
  /** CodeDirectory flags: 0x2 ad-hoc, 0x10000 hardened runtime, 0x20000 linker-signed. */
  flags: number;
  execSegFlags: number;
  codeLimit: number;
  pages: number;
  /** Indexes of the 4 KiB pages whose SHA-256 does not match their hash slot. */
  badPages: number[];
  /** Layout rules the file breaks; empty for a well-formed signature. */
  problems: string[];
}

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;

/** Checks the embedded signature of a thin Mach-O `file` the way the kernel reads it. */
export function checkCodeSignature(file: string): SignatureCheck {
  const data = readFileSync(file);
  const commands = objdumpLoadCommands(file);
  const problems: string[] = [];
  const signature = commands.find((command) => command.cmd === 'LC_CODE_SIGNATURE');
  const linkedit = segment(commands, '__LINKEDIT');
  const text = segment(commands, '__TEXT');
  if (!signature || !linkedit || !text) throw new Error(`${file}: no LC_CODE_SIGNATURE, __LINKEDIT or __TEXT`);
  const dataoff = number(signature.fields.dataoff);
  const datasize = number(signature.fields.datasize);
  const linkeditStart = number(linkedit.fields.fileoff);
  const linkeditEnd = linkeditStart + number(linkedit.fields.filesize);
  if (dataoff + datasize !== data.length) problems.push('the signature does not end the file');
  if (dataoff < linkeditStart || dataoff + datasize > linkeditEnd) problems.push('the signature is not inside __LINKEDIT');
  if (linkeditEnd !== data.length) problems.push('__LINKEDIT does not end at the end of the file');
  if (number(linkedit.fields.vmsize) < number(linkedit.fields.filesize)) problems.push('__LINKEDIT vmsize is smaller than its filesize');

  const blob = data.subarray(dataoff, dataoff + datasize);
  if (blob.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) problems.push('no embedded-signature SuperBlob');
  if (blob.readUInt32BE(4) > datasize) problems.push('the SuperBlob is longer than LC_CODE_SIGNATURE says');
  const slots = Array.from({ length: blob.readUInt32BE(8) }, (_, index) => ({ type: blob.readUInt32BE(12 + 8 * index), offset: blob.readUInt32BE(16 + 8 * index) }));
  const directorySlot = slots.find((slot) => slot.type === 0);
  if (!directorySlot) throw new Error(`${file}: no CodeDirectory in the signature`);
  const directory = blob.subarray(directorySlot.offset, directorySlot.offset + blob.readUInt32BE(directorySlot.offset + 4));
  if (directory.readUInt32BE(0) !== CSMAGIC_CODEDIRECTORY) problems.push('slot 0 is not a CodeDirectory');
  const hashOffset = directory.readUInt32BE(16);
  const identifierOffset = directory.readUInt32BE(20);
  const pages = directory.readUInt32BE(28);
  const codeLimit = directory.readUInt32BE(32);
  const [hashSize, hashType, pageShift] = [directory[36]!, directory[37]!, directory[39]!];
  if (hashSize !== 32 || hashType !== 2 || pageShift !== 12) problems.push(`not SHA-256 over 4 KiB pages (size ${hashSize}, type ${hashType}, page 2^${pageShift})`);
  if (codeLimit !== dataoff) problems.push(`codeLimit ${codeLimit} is not where the signature starts (${dataoff})`);
  if (pages !== Math.ceil(codeLimit / 4096)) problems.push(`${pages} hash slots for ${codeLimit} bytes`);
  const execSegBase = Number(directory.readBigUInt64BE(64));
  const execSegLimit = Number(directory.readBigUInt64BE(72));
  const textStart = number(text.fields.fileoff);
  if (execSegBase < textStart || execSegBase + execSegLimit > textStart + number(text.fields.filesize)) problems.push('the executable segment range is not inside __TEXT');

  const badPages: number[] = [];
  for (let page = 0; page < pages; page += 1) {
    const actual = createHash('sha256').update(data.subarray(page * 4096, Math.min((page + 1) * 4096, codeLimit))).digest();
    if (!actual.equals(directory.subarray(hashOffset + page * 32, hashOffset + (page + 1) * 32))) badPages.push(page);
  }
  return {
    identifier: directory.toString('utf8', identifierOffset, directory.indexOf(0, identifierOffset)),
    flags: directory.readUInt32BE(12),
    execSegFlags: Number(directory.readBigUInt64BE(80)),
    codeLimit,
    pages,
    badPages,
    problems,
  };
}
