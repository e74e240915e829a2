// plugin.yaml against every krew rule (kubectl-plugins.md §1.2, §1.3, §1.5), and the
// validator against each broken variant, with krew's own messages.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { sha256 } from '../../scripts/archive.mjs';
import {
  archiveName,
  binaryName,
  buildManifest,
  COMPLETION_HELPER,
  HOMEPAGE,
  PLATFORMS,
  PLUGIN_BINARY,
  PLUGIN_NAME,
  releaseUri,
  renderManifest,
} from '../../scripts/krew-manifest.mjs';
import {
  matchingPlatform,
  parseVersion,
  reviewProblems,
  selectorMatches,
  SUPPORTED_PLATFORMS,
  validateManifestFile,
  validatePlugin,
  type KrewPlugin,
} from '../../scripts/krew-validate.mjs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
const MANIFEST_TEXT = readFileSync('plugin.yaml', 'utf8');
const FILE = `${PLUGIN_NAME}.yaml`;
const manifest = (): KrewPlugin => parse(MANIFEST_TEXT) as KrewPlugin;
const platformsOf = (plugin: KrewPlugin) => plugin.spec!.platforms!;
const validateText = (plugin: KrewPlugin, file = FILE) => validateManifestFile(file, stringify(plugin));

describe('plugin.yaml', () => {
  it('passes krew validation and validate-krew-manifest without warnings', () => {
    const { plugin, warnings } = validateManifestFile(FILE, MANIFEST_TEXT);
    expect(warnings).toEqual([]);
    expect(reviewProblems(plugin)).toEqual([]);
  });

  it('names the plugin, its version and homepage as the project does', () => {
    const plugin = manifest();
    expect(plugin.metadata?.name).toBe('teleport-argocd');
    expect(plugin.spec?.version).toBe(`v${version}`);
    expect(plugin.spec?.homepage).toBe(HOMEPAGE);
    expect(plugin.spec!.shortDescription!.length).toBeLessThanOrEqual(50);
  });

  it('offers every release platform once, with the release URL, a lowercase sha256 and the right bin', () => {
    const plugin = manifest();
    expect(platformsOf(plugin).map((platform) => platform.selector!.matchLabels)).toEqual(PLATFORMS.map(({ os, arch }) => ({ os, arch })));
    for (const platform of platformsOf(plugin)) {
      const { os, arch } = platform.selector!.matchLabels!;
      expect(PLATFORMS.some((p) => p.os === os && p.arch === arch), `${os}/${arch}`).toBe(true);
      expect(SUPPORTED_PLATFORMS).toContainEqual({ os, arch });
      expect(platform.uri).toBe(releaseUri(version, archiveName(version, { os: os!, arch: arch! })));
      expect(platform.uri).toMatch(/^https:\/\/github\.com\/kubectl-teleport-argocd\/kubectl-teleport-argocd\/releases\/download\/v/);
      expect(platform.sha256).toMatch(/^[a-f0-9]{64}$/);
      expect(platform.bin).toBe(os === 'windows' ? 'kubectl-teleport_argocd.exe' : 'kubectl-teleport_argocd');
      expect(platform.files).toBeUndefined();
    }
    expect(matchingPlatform(plugin, { os: 'linux', arch: 'amd64' })?.bin).toBe(PLUGIN_BINARY);
  });

  it('is exactly what the generator writes for its archives (so it is regenerated, not hand-edited)', () => {
    const archives = platformsOf(manifest()).map((platform) => ({
      ...(platform.selector!.matchLabels as { os: string; arch: string }),
      archive: path.basename(platform.uri!),
      sha256: platform.sha256!,
    }));
    expect(renderManifest(buildManifest(version, archives))).toBe(MANIFEST_TEXT);
  });

  it('explains the completion helper krew cannot install, and says no platform is missing', () => {
    const { caveats } = manifest().spec!;
    expect(caveats).toContain(COMPLETION_HELPER);
    expect(caveats).toContain(`exec ${PLUGIN_BINARY} __complete "$@"`);
    expect(caveats).not.toContain('does not include');
  });

  it('matches the archives in dist/release when a release was built here', () => {
    const archives = platformsOf(manifest()).map((platform) => path.join('dist/release', path.basename(platform.uri!)));
    const present = archives.filter((file) => existsSync(file));
    for (const file of present) {
      const platform = platformsOf(manifest()).find((p) => p.uri!.endsWith(`/${path.basename(file)}`))!;
      expect(sha256(readFileSync(file)), file).toBe(platform.sha256);
    }
  });
});

describe('buildManifest', () => {
  it('lists platforms in release order with per-OS binary names', () => {
    const sum = 'a'.repeat(64);
    const plugin = buildManifest('1.2.3', [
      { os: 'windows', arch: 'amd64', archive: 'w.zip', sha256: sum },
      { os: 'linux', arch: 'amd64', archive: 'l.tar.gz', sha256: sum },
    ]);
    expect(platformsOf(plugin).map((p) => [p.selector!.matchLabels, p.bin])).toEqual([
      [{ os: 'linux', arch: 'amd64' }, binaryName('linux')],
      [{ os: 'windows', arch: 'amd64' }, 'kubectl-teleport_argocd.exe'],
    ]);
    expect(plugin.spec?.caveats).toContain('linux/arm64, darwin/arm64, darwin/amd64');
    expect(() => buildManifest('1.2.3', [{ os: 'linux', arch: 's390x', archive: 'x', sha256: sum }])).toThrow('not a release platform: linux/s390x');
  });
});

type Mutation = [string, (plugin: KrewPlugin) => void, string];
const firstPlatform = (plugin: KrewPlugin) => platformsOf(plugin)[0]!;
const BADLY_CONSTRUCTED = 'plugin validation error: platform ({URI:';

describe('validateManifestFile rejects each broken manifest with krew’s message', () => {
  const cases: Mutation[] = [
    [
      'apiVersion',
      (p) => (p.apiVersion = 'krew.googlecontainertools.github.com/v1alpha1'),
      'plugin validation error: plugin manifest has apiVersion="krew.googlecontainertools.github.com/v1alpha1", not supported in this version of krew (try updating plugin index or install a newer version of krew)',
    ],
    ['kind', (p) => (p.kind = 'PluginList'), 'plugin validation error: plugin manifest has kind="PluginList", but only "Plugin" is supported'],
    ['metadata.name', (p) => (p.metadata = { name: 'teleport_argocd' }), 'plugin validation error: plugin should be named "teleport-argocd", not "teleport_argocd"'],
    ['missing shortDescription', (p) => delete p.spec!.shortDescription, 'plugin validation error: should have a short description'],
    [
      'misspelt shortDescription (krew decodes leniently)',
      (p) => {
        (p.spec as Record<string, unknown>).shortdescription = p.spec!.shortDescription;
        delete p.spec!.shortDescription;
      },
      'plugin validation error: should have a short description',
    ],
    ['shortDescription with a line break', (p) => (p.spec!.shortDescription = 'two\nlines'), 'plugin validation error: should not have line breaks in short description'],
    ['shortDescription with a CR', (p) => (p.spec!.shortDescription = 'two\rlines'), 'plugin validation error: should not have line breaks in short description'],
    ['no platforms', (p) => (p.spec!.platforms = []), 'plugin validation error: should have a platform specified'],
    ['no version', (p) => delete p.spec!.version, 'plugin validation error: should have a version specified'],
    ['version without v', (p) => (p.spec!.version = version), `plugin validation error: failed to parse plugin version: version string "${version}" not starting with 'v'`],
    ['two-part version', (p) => (p.spec!.version = 'v1.2'), 'plugin validation error: failed to parse plugin version: illegal version string "v1.2"'],
    ['zero-prefixed version', (p) => (p.spec!.version = 'v1.02.3'), 'plugin validation error: failed to parse plugin version: illegal zero-prefixed version component "02" in "v1.02.3"'],
    ['garbled pre-release', (p) => (p.spec!.version = 'v1.2.3_rc1'), 'plugin validation error: failed to parse plugin version: could not parse pre-release/metadata (_rc1) in version "v1.2.3_rc1"'],
    ['no uri', (p) => delete firstPlatform(p).uri, 'is badly constructed: `uri` has to be set'],
    ['no sha256', (p) => delete firstPlatform(p).sha256, 'is badly constructed: `sha256` sum has to be set'],
    [
      'uppercase sha256',
      (p) => (firstPlatform(p).sha256 = 'A'.repeat(64)),
      `is badly constructed: \`sha256\` value ${'A'.repeat(64)} is not valid, must match pattern ^[a-f0-9]{64}$`,
    ],
    ['short sha256', (p) => (firstPlatform(p).sha256 = 'abc'), 'is badly constructed: `sha256` value abc is not valid, must match pattern ^[a-f0-9]{64}$'],
    ['no bin', (p) => delete firstPlatform(p).bin, 'is badly constructed: `bin` has to be set'],
    ['empty files', (p) => (firstPlatform(p).files = []), 'is badly constructed: `files` is invalid: `files` has to be unspecified or non-empty'],
    ['files without from', (p) => (firstPlatform(p).files = [{ to: '.' }]), 'is badly constructed: `files` is invalid: `from` field has to be set'],
    ['files without to', (p) => (firstPlatform(p).files = [{ from: '*' }]), 'is badly constructed: `files` is invalid: `to` field has to be set'],
    ['no selector', (p) => delete firstPlatform(p).selector, 'is badly constructed: invalid platform selector: nil selector is not supported'],
    ['empty selector', (p) => (firstPlatform(p).selector = {}), 'is badly constructed: invalid platform selector: empty selector is not supported'],
    [
      'selector key other than os/arch',
      (p) => (firstPlatform(p).selector = { matchLabels: { os: 'linux', distro: 'debian' } }),
      'is badly constructed: invalid platform selector: key "distro" not supported',
    ],
    [
      'expression key other than os/arch',
      (p) => (firstPlatform(p).selector = { matchExpressions: [{ key: 'libc', operator: 'In', values: ['glibc'] }] }),
      'is badly constructed: invalid platform selector: key "libc" not supported',
    ],
    ['empty matchLabels', (p) => (firstPlatform(p).selector = { matchLabels: {} }), 'is badly constructed: invalid platform selector: `matchLabels` specified but empty'],
    [
      'empty matchExpressions',
      (p) => (firstPlatform(p).selector = { matchLabels: { os: 'linux' }, matchExpressions: [] }),
      'is badly constructed: invalid platform selector: `matchExpressions` specified but empty',
    ],
    [
      'unsupported platform',
      (p) => (firstPlatform(p).selector = { matchLabels: { os: 'linux', arch: 's390x' } }),
      "spec.platform[0]'s selector (&LabelSelector{MatchLabels:map[string]string{os: linux,arch: s390x,},MatchExpressions:[]LabelSelectorRequirement{},}) doesn't match any supported platforms",
    ],
    [
      'overlapping selectors',
      (p) => platformsOf(p).push({ ...firstPlatform(p), selector: { matchExpressions: [{ key: 'os', operator: 'In', values: ['linux', 'darwin'] }] } }),
      `overlapping platform selectors found: multiple spec.platforms (at indexes [0 ${platformsOf(manifest()).length}]) have overlapping selectors that select linux/amd64`,
    ],
  ];

  it.each(cases)('%s', (_name, mutate, message) => {
    const plugin = manifest();
    mutate(plugin);
    expect(() => validateText(plugin)).toThrow(message);
  });

  it('wraps platform errors with the platform as krew prints it', () => {
    const plugin = manifest();
    delete firstPlatform(plugin).uri;
    expect(() => validateText(plugin)).toThrow(`${BADLY_CONSTRUCTED} Sha256:${firstPlatform(manifest()).sha256} Selector:&LabelSelector{`);
  });

  it('takes the plugin name from the file name', () => {
    expect(() => validateText(manifest(), 'teleport-argocd.yml')).toThrow('expected manifest extension ".yaml" but found ".yml"');
    expect(() => validateText(manifest(), 'dir/other.yaml')).toThrow('plugin validation error: plugin should be named "other", not "teleport-argocd"');
    expect(() => validateText(manifest(), 'teleport argocd.yaml')).toThrow('the plugin name "teleport argocd" is not allowed, must match "^[\\\\w-]+$"');
    expect(() => validateText({ ...manifest(), metadata: { name: 'Com1' } }, 'Com1.yaml')).toThrow('the plugin name "Com1" is not allowed');
  });

  it('accepts semver pre-releases and build metadata, as krew does', () => {
    for (const good of ['v1.0.0-rc.1', 'v1.0.0+build.5', 'v0.0.0', 'v10.20.30-alpha-1.0']) {
      expect(() => parseVersion(good), good).not.toThrow();
      const plugin = manifest();
      plugin.spec!.version = good;
      expect(() => validatePlugin(PLUGIN_NAME, plugin), good).not.toThrow();
    }
    expect(() => parseVersion('v1.0.0-01')).toThrow('illegal zero-prefixed version component "01" in "v1.0.0-01"');
    expect(() => parseVersion('vx')).toThrow('could not parse "vx" as version');
  });

  it('warns about long lines as validate-krew-manifest does', () => {
    const plugin = manifest();
    plugin.spec!.caveats = `${'word '.repeat(20)}\n${'x'.repeat(120)}\n`;
    plugin.spec!.description = `${'y'.repeat(120)}\n`;
    expect(validateText(plugin).warnings).toEqual(['line length in `caveats` exceeds 80 characters']);
  });
});

describe('reviewProblems (krew-index reviewers)', () => {
  it('flags a long short description, unwrapped or example-laden descriptions and a non-kebab name', () => {
    const plugin = manifest();
    plugin.spec!.shortDescription = 'x'.repeat(51);
    plugin.spec!.description = `Does things.\n  $ kubectl teleport-argocd sync\n${'long words '.repeat(10)}\n`;
    plugin.metadata = { name: 'Teleport_Argocd' };
    delete plugin.spec!.homepage;
    expect(reviewProblems(plugin)).toEqual([
      'metadata.name should be lowercase kebab-case',
      'spec.homepage should point at the project',
      'spec.shortDescription should be at most 50 characters',
      'spec.description should be wrapped at about 80 characters',
      'spec.description should not contain usage examples',
    ]);
  });
});

describe('selectorMatches (metav1.LabelSelector semantics)', () => {
  const linux = { os: 'linux', arch: 'amd64' };
  it.each([
    [{ matchLabels: { os: 'linux' } }, true],
    [{ matchLabels: { os: 'linux', arch: 'arm64' } }, false],
    [{ matchExpressions: [{ key: 'os', operator: 'In', values: ['darwin', 'linux'] }] }, true],
    [{ matchExpressions: [{ key: 'os', operator: 'NotIn', values: ['linux'] }] }, false],
    [{ matchExpressions: [{ key: 'arch', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'arch', operator: 'DoesNotExist' }] }, false],
    [{ matchExpressions: [{ key: 'os', operator: 'In', values: [] }] }, false],
    [{ matchExpressions: [{ key: 'os', operator: 'Equals', values: ['linux'] }] }, false],
    [{ matchLabels: { os: 'linux' }, matchExpressions: [{ key: 'arch', operator: 'In', values: ['amd64'] }] }, true],
    [null, false],
  ])('%j → %s', (selector, expected) => {
    expect(selectorMatches(selector, linux)).toBe(expected);
  });
});
