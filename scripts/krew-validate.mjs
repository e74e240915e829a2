// krew's manifest validation, ported rule by rule with krew's own error strings
// (kubectl-plugins.md §1.2: internal/index/validation/validate.go and
// internal/installation/semver/version.go; §1.3: cmd/validate-krew-manifest), plus the
// krew-index reviewers' rules (§1.5) that no code enforces.
import path from 'node:path';
import { parse } from 'yaml';

export const API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';
const SAFE_PLUGIN_NAME = /^[\w-]+$/;
const SHA256_PATTERN = '^[a-f0-9]{64}$';
const WINDOWS_FORBIDDEN = ['CON', 'PRN', 'AUX', 'NUL', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`])];

/** The os/arch pairs validate-krew-manifest accepts (`allPlatforms()`), in its order. */
export const SUPPORTED_PLATFORMS = [
  ['windows', '386'], ['windows', 'amd64'], ['windows', 'arm64'],
  ['linux', '386'], ['linux', 'amd64'], ['linux', 'arm'], ['linux', 'arm64'], ['linux', 'ppc64le'],
  ['darwin', '386'], ['darwin', 'amd64'], ['darwin', 'arm64'],
].map(([os, arch]) => ({ os, arch }));

/** Base names (case-insensitive) validate-krew-manifest accepts as the licence file. */
export const LICENSE_NAMES = ['license', 'license.txt', 'license.md', 'licenses', 'licenses.txt', 'licenses.md', 'copying', 'copying.txt'];

const fail = (message) => {
  throw new Error(message);
};
const quote = (value) => JSON.stringify(String(value ?? ''));

export function isSafePluginName(name) {
  return SAFE_PLUGIN_NAME.test(name) && !WINDOWS_FORBIDDEN.some((word) => word.toLowerCase() === name.toLowerCase());
}

/** k8s.io/apimachinery ParseSemantic behind krew's semver.Parse; throws its error text. */
export function parseVersion(version) {
  if (!version.startsWith('v')) fail(`version string ${quote(version)} not starting with 'v'`);
  const parts = /^\s*v?([0-9]+(?:\.[0-9]+)*)(.*)$/.exec(version);
  if (!parts) fail(`could not parse ${quote(version)} as version`);
  const components = parts[1].split('.');
  if (components.length !== 3) fail(`illegal version string ${quote(version)}`);
  for (const component of components) {
    if (component.startsWith('0') && component !== '0') fail(`illegal zero-prefixed version component ${quote(component)} in ${quote(version)}`);
  }
  const extra = /^(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\s*$/.exec(parts[2]);
  if (!extra) fail(`could not parse pre-release/metadata (${parts[2]}) in version ${quote(version)}`);
  const preRelease = extra[1] ? extra[1].split('.') : [];
  for (const component of preRelease) {
    if (/^[0-9]+$/.test(component) && component.startsWith('0') && component !== '0') {
      fail(`illegal zero-prefixed version component ${quote(component)} in ${quote(version)}`);
    }
  }
  return { major: Number(components[0]), minor: Number(components[1]), patch: Number(components[2]), preRelease, build: extra[2] ?? '' };
}

function formatSelector(selector) {
  if (selector == null) return '<nil>';
  const labels = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}: ${value},`).join('');
  const expressions = (selector.matchExpressions ?? [])
    .map((e) => `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(' ')}],},`)
    .join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${expressions}},}`;
}

/** Go's `%+v` of an index.Platform, as krew prints it in "badly constructed" errors. */
function formatPlatform(platform) {
  const files = (platform.files ?? []).map((op) => `{From:${op.from ?? ''} To:${op.to ?? ''}}`).join(' ');
  return `{URI:${platform.uri ?? ''} Sha256:${platform.sha256 ?? ''} Selector:${formatSelector(platform.selector)} Files:[${files}] Bin:${platform.bin ?? ''}}`;
}

function validateFiles(files) {
  if (files == null) return;
  if (files.length === 0) fail('`files` has to be unspecified or non-empty');
  for (const op of files) {
    if (!op?.from) fail('`from` field has to be set');
    if (!op.to) fail('`to` field has to be set');
  }
}

function validateSelector(selector) {
  if (selector == null) fail('nil selector is not supported');
  const { matchLabels, matchExpressions } = selector;
  if (matchLabels == null && (matchExpressions ?? []).length === 0) fail('empty selector is not supported');
  for (const key of [...Object.keys(matchLabels ?? {}), ...(matchExpressions ?? []).map((e) => e?.key)]) {
    if (key !== 'os' && key !== 'arch') fail(`key ${quote(key)} not supported`);
  }
  if (matchLabels != null && Object.keys(matchLabels).length === 0) fail('`matchLabels` specified but empty');
  if (matchExpressions != null && matchExpressions.length === 0) fail('`matchExpressions` specified but empty');
}

function wrap(context, action) {
  try {
    action();
  } catch (error) {
    fail(`${context}: ${error.message}`);
  }
}

function validatePlatform(platform) {
  if (!platform.uri) fail('`uri` has to be set');
  if (!platform.sha256) fail('`sha256` sum has to be set');
  if (!new RegExp(SHA256_PATTERN).test(platform.sha256)) fail(`\`sha256\` value ${platform.sha256} is not valid, must match pattern ${SHA256_PATTERN}`);
  if (!platform.bin) fail('`bin` has to be set');
  wrap('`files` is invalid', () => validateFiles(platform.files));
  wrap('invalid platform selector', () => validateSelector(platform.selector));
}

/** krew's ValidatePlugin: throws the first problem, with krew's message. */
export function validatePlugin(name, plugin) {
  const spec = plugin?.spec ?? {};
  if (plugin?.apiVersion !== API_VERSION) {
    fail(`plugin manifest has apiVersion=${quote(plugin?.apiVersion)}, not supported in this version of krew (try updating plugin index or install a newer version of krew)`);
  }
  if (plugin.kind !== 'Plugin') fail(`plugin manifest has kind=${quote(plugin.kind)}, but only "Plugin" is supported`);
  if (!isSafePluginName(name)) fail(`the plugin name ${quote(name)} is not allowed, must match ${quote(SAFE_PLUGIN_NAME.source)}`);
  if (plugin.metadata?.name !== name) fail(`plugin should be named ${quote(name)}, not ${quote(plugin.metadata?.name)}`);
  if (!spec.shortDescription) fail('should have a short description');
  if (/[\r\n]/.test(spec.shortDescription)) fail('should not have line breaks in short description');
  if (!spec.platforms?.length) fail('should have a platform specified');
  if (!spec.version) fail('should have a version specified');
  wrap('failed to parse plugin version', () => parseVersion(spec.version));
  for (const platform of spec.platforms) wrap(`platform (${formatPlatform(platform)}) is badly constructed`, () => validatePlatform(platform));
}

/** metav1.LabelSelectorAsSelector(selector).Matches({os, arch}); an invalid selector matches nothing. */
export function selectorMatches(selector, { os, arch }) {
  if (selector == null) return false;
  const labels = { os, arch };
  const labelsMatch = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const expressionsMatch = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const value = labels[key];
    switch (operator) {
      case 'In':
        return values.length > 0 && value !== undefined && values.includes(value);
      case 'NotIn':
        return values.length > 0 && (value === undefined || !values.includes(value));
      case 'Exists':
        return values.length === 0 && value !== undefined;
      case 'DoesNotExist':
        return values.length === 0 && value === undefined;
      default:
        return false;
    }
  });
  return labelsMatch && expressionsMatch;
}

/** The platform entry krew installs for os/arch: the first whose selector matches. */
export function matchingPlatform(plugin, target) {
  return (plugin.spec?.platforms ?? []).find((platform) => selectorMatches(platform.selector, target));
}

function longLines(text, maxLength) {
  return (text ?? '').split('\n').some((line) => line.length > maxLength && line.trim().includes(' '));
}

/**
 * validate-krew-manifest without its install step (the e2e test installs): file name,
 * ValidatePlugin, every platform supported, no os/arch selected twice. Returns the parsed
 * plugin and the tool's line-length warnings; throws the first error with the tool's message.
 */
export function validateManifestFile(file, text) {
  const plugin = parse(text);
  const extension = path.extname(file);
  if (extension !== '.yaml') fail(`expected manifest extension ".yaml" but found ${quote(extension)}`);
  wrap('plugin validation error', () => validatePlugin(path.basename(file, extension), plugin));
  plugin.spec.platforms.forEach((platform, index) => {
    if (!SUPPORTED_PLATFORMS.some((target) => selectorMatches(platform.selector, target))) {
      fail(`spec.platform[${index}]'s selector (${formatSelector(platform.selector)}) doesn't match any supported platforms`);
    }
  });
  for (const target of SUPPORTED_PLATFORMS) {
    const indexes = plugin.spec.platforms.flatMap((platform, index) => (selectorMatches(platform.selector, target) ? [index] : []));
    if (indexes.length > 1) {
      fail(`overlapping platform selectors found: multiple spec.platforms (at indexes [${indexes.join(' ')}]) have overlapping selectors that select ${target.os}/${target.arch}`);
    }
  }
  const warnings = [];
  if (longLines(plugin.spec.description, 80)) warnings.push('line length in `description` exceeds 80 characters');
  if (longLines(plugin.spec.shortDescription, 70)) warnings.push('line length in `shortDescription` exceeds 70 characters');
  if (longLines(plugin.spec.caveats, 80)) warnings.push('line length in `caveats` exceeds 80 characters');
  return { plugin, warnings };
}

/** What krew-index reviewers ask for beyond the code (§1.1, §1.5); an empty list when all is well. */
export function reviewProblems(plugin) {
  const spec = plugin.spec ?? {};
  const problems = [];
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(plugin.metadata?.name ?? '')) problems.push('metadata.name should be lowercase kebab-case');
  if (!spec.homepage) problems.push('spec.homepage should point at the project');
  if ((spec.shortDescription ?? '').length > 50) problems.push('spec.shortDescription should be at most 50 characters');
  if (!spec.description?.trim()) problems.push('spec.description should explain what the plugin does');
  if (longLines(spec.description, 80)) problems.push('spec.description should be wrapped at about 80 characters');
  if (/^\s*(\$ |kubectl\s)/m.test(spec.description ?? '')) problems.push('spec.description should not contain usage examples');
  return problems;
}
