// Offline ad-hoc code signing of 64-bit Mach-O executables, in exactly the format Go's and
// Apple's linkers write (kubectl-plugins.md §4.7): an embedded-signature SuperBlob holding one
// CodeDirectory with the SHA-256 of every 4 KiB page before the signature, flags adhoc |
// linker-signed, no requirements and no CMS blob. Apple silicon runs such a binary; nothing
// on npm or Debian signs one (no codesign, rcodesign or ldid), hence this file.
import { createHash } from 'node:crypto';
import { unsign } from 'macho-unsign';

const MH_MAGIC_64 = 0xfeedfacf;
const MH_EXECUTE = 0x2;
const HEADER_SIZE = 32;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const SEGMENT_COMMAND_SIZE = 72;
const SECTION_SIZE = 80;
const LINKEDIT_COMMAND_SIZE = 16;

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSSLOT_CODEDIRECTORY = 0;
const CS_SUPPORTSEXECSEG = 0x20400;
const CS_ADHOC = 0x2;
const CS_LINKER_SIGNED = 0x20000;
const CS_HASHTYPE_SHA256 = 2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const SUPERBLOB_HEADER_SIZE = 12;
const BLOB_INDEX_SIZE = 8;
const CODE_DIRECTORY_SIZE = 88;
const HASH_SIZE = 32;
const PAGE_SHIFT = 12;
const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Where the linkers put the signature: __LINKEDIT's data end, rounded up to 16 bytes. */
const SIGNATURE_ALIGN = 16;
/** __LINKEDIT's vmsize, when it has to grow, rounds up to arm64's page size (a multiple of amd64's). */
const VM_PAGE_SIZE = 0x4000;

const roundUp = (value, alignment) => Math.ceil(value / alignment) * alignment;

function segmentName(data, offset) {
  const name = data.subarray(offset, offset + 16);
  const end = name.indexOf(0);
  return name.toString('latin1', 0, end === -1 ? 16 : end);
}

/** The header fields and load commands the signer needs, read from a thin little-endian 64-bit Mach-O. */
function readMachO(data) {
  if (data.length < HEADER_SIZE || data.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit little-endian Mach-O file');
  const commandCount = data.readUInt32LE(16);
  const commandsSize = data.readUInt32LE(20);
  const segments = new Map();
  let signature;
  let firstSectionData = data.length;
  let offset = HEADER_SIZE;
  for (let index = 0; index < commandCount; index += 1) {
    const command = data.readUInt32LE(offset);
    const size = data.readUInt32LE(offset + 4);
    if (size < 8 || offset + size > HEADER_SIZE + commandsSize) throw new Error(`load command ${index} overruns the load commands`);
    if (command === LC_SEGMENT_64) {
      const segment = {
        commandOffset: offset,
        vmsize: Number(data.readBigUInt64LE(offset + 32)),
        fileoff: Number(data.readBigUInt64LE(offset + 40)),
        filesize: Number(data.readBigUInt64LE(offset + 48)),
        sectionsStart: Infinity,
        sectionsEnd: 0,
      };
      const sections = data.readUInt32LE(offset + 64);
      for (let section = 0; section < sections; section += 1) {
        const header = offset + SEGMENT_COMMAND_SIZE + section * SECTION_SIZE;
        const start = data.readUInt32LE(header + 48);
        if (start === 0) continue; // zero-fill: no file data
        segment.sectionsStart = Math.min(segment.sectionsStart, start);
        segment.sectionsEnd = Math.max(segment.sectionsEnd, start + Number(data.readBigUInt64LE(header + 40)));
      }
      firstSectionData = Math.min(firstSectionData, segment.sectionsStart);
      segments.set(segmentName(data, offset + 8), segment);
    } else if (command === LC_CODE_SIGNATURE) {
      signature = { commandOffset: offset, dataoff: data.readUInt32LE(offset + 8), datasize: data.readUInt32LE(offset + 12) };
    }
    offset += size;
  }
  for (const name of ['__TEXT', '__LINKEDIT']) if (!segments.has(name)) throw new Error(`no ${name} segment`);
  if (segments.get('__TEXT').sectionsEnd === 0) throw new Error('__TEXT has no sections');
  return { fileType: data.readUInt32LE(12), commandCount, commandsSize, commandsEnd: offset, firstSectionData, segments, signature };
}

/**
 * Node's own signature taken off (`codesign --remove-signature`), before the blob goes in:
 * macho-unsign drops LC_CODE_SIGNATURE and the signature data. Unsigned input comes back as is.
 */
export function removeSignature(data) {
  const unsigned = unsign(data);
  return unsigned ? Buffer.from(unsigned) : data;
}

/** Bytes of the embedded signature for `codeLimit` bytes of code and `identifier`. */
function signatureSize(codeLimit, identifier) {
  const pages = Math.ceil(codeLimit / PAGE_SIZE);
  return SUPERBLOB_HEADER_SIZE + BLOB_INDEX_SIZE + CODE_DIRECTORY_SIZE + Buffer.byteLength(identifier) + 1 + pages * HASH_SIZE;
}

/** Where the signature goes and, for an unsigned file, where its load command goes. */
function signatureSlot(data, macho) {
  if (macho.signature) {
    const { dataoff, datasize, commandOffset } = macho.signature;
    if (dataoff + datasize !== data.length) throw new Error('the file goes on after its code signature');
    return { codeLimit: dataoff, commandOffset, addCommand: false };
  }
  const linkedit = macho.segments.get('__LINKEDIT');
  if (linkedit.fileoff + linkedit.filesize !== data.length) throw new Error('the file goes on after __LINKEDIT');
  if (macho.commandsEnd + LINKEDIT_COMMAND_SIZE > macho.firstSectionData) throw new Error('no room for an LC_CODE_SIGNATURE load command');
  if (data.subarray(macho.commandsEnd, macho.commandsEnd + LINKEDIT_COMMAND_SIZE).some((byte) => byte !== 0)) {
    throw new Error('the space after the load commands is not free');
  }
  return { codeLimit: roundUp(data.length, SIGNATURE_ALIGN), commandOffset: macho.commandsEnd, addCommand: true };
}

/**
 * `data` (a Mach-O executable, signed or not) signed ad-hoc as `identifier`: a new buffer whose
 * LC_CODE_SIGNATURE (added after the load commands if missing), __LINKEDIT sizes and length
 * fit the new signature. Re-signing a Go-linked darwin binary as "a.out" gives back its bytes.
 */
export function signAdHoc(data, { identifier }) {
  const macho = readMachO(data);
  const { codeLimit, commandOffset, addCommand } = signatureSlot(data, macho);
  if (codeLimit > 0xffffffff) throw new Error('code over 4 GiB needs codeLimit64, which this signer does not write');
  const size = signatureSize(codeLimit, identifier);
  const signed = Buffer.alloc(codeLimit + size);
  data.copy(signed, 0, 0, Math.min(data.length, codeLimit));

  // The load commands first: they are in page 0, which the signature hashes.
  if (addCommand) {
    signed.writeUInt32LE(macho.commandCount + 1, 16);
    signed.writeUInt32LE(macho.commandsSize + LINKEDIT_COMMAND_SIZE, 20);
    signed.writeUInt32LE(LC_CODE_SIGNATURE, commandOffset);
    signed.writeUInt32LE(LINKEDIT_COMMAND_SIZE, commandOffset + 4);
  }
  signed.writeUInt32LE(codeLimit, commandOffset + 8);
  signed.writeUInt32LE(size, commandOffset + 12);
  const linkedit = macho.segments.get('__LINKEDIT');
  const linkeditSize = codeLimit + size - linkedit.fileoff;
  signed.writeBigUInt64LE(BigInt(linkeditSize), linkedit.commandOffset + 48);
  if (linkedit.vmsize < linkeditSize) signed.writeBigUInt64LE(BigInt(roundUp(linkeditSize, VM_PAGE_SIZE)), linkedit.commandOffset + 32);

  const text = macho.segments.get('__TEXT');
  const identifierOffset = CODE_DIRECTORY_SIZE;
  const hashOffset = identifierOffset + Buffer.byteLength(identifier) + 1;
  const pages = Math.ceil(codeLimit / PAGE_SIZE);
  const superBlob = signed.subarray(codeLimit);
  superBlob.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, 0);
  superBlob.writeUInt32BE(size, 4);
  superBlob.writeUInt32BE(1, 8);
  superBlob.writeUInt32BE(CSSLOT_CODEDIRECTORY, 12);
  superBlob.writeUInt32BE(SUPERBLOB_HEADER_SIZE + BLOB_INDEX_SIZE, 16);
  const directory = superBlob.subarray(SUPERBLOB_HEADER_SIZE + BLOB_INDEX_SIZE);
  directory.writeUInt32BE(CSMAGIC_CODEDIRECTORY, 0);
  directory.writeUInt32BE(directory.length, 4);
  directory.writeUInt32BE(CS_SUPPORTSEXECSEG, 8);
  directory.writeUInt32BE(CS_ADHOC | CS_LINKER_SIGNED, 12);
  directory.writeUInt32BE(hashOffset, 16);
  directory.writeUInt32BE(identifierOffset, 20);
  directory.writeUInt32BE(0, 24); // no special slots: no Info.plist, requirements or entitlements
  directory.writeUInt32BE(pages, 28);
  directory.writeUInt32BE(codeLimit, 32);
  directory.writeUInt8(HASH_SIZE, 36);
  directory.writeUInt8(CS_HASHTYPE_SHA256, 37);
  directory.writeUInt8(PAGE_SHIFT, 39);
  // 40..63: spare, scatter, team and codeLimit64 offsets, all zero
  // The executable range as Go's linker gives it: __TEXT's section data. (ld64 gives the whole
  // segment, header included; macOS runs both.)
  directory.writeBigUInt64BE(BigInt(text.sectionsStart), 64);
  directory.writeBigUInt64BE(BigInt(text.sectionsEnd - text.sectionsStart), 72);
  directory.writeBigUInt64BE(BigInt(macho.fileType === MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0), 80);
  directory.write(identifier, identifierOffset, 'utf8');
  for (let page = 0; page < pages; page += 1) {
    const start = page * PAGE_SIZE;
    createHash('sha256')
      .update(signed.subarray(start, Math.min(start + PAGE_SIZE, codeLimit)))
      .digest()
      .copy(directory, hashOffset + page * HASH_SIZE);
  }
  return signed;
}
