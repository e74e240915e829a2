// The one template engine: Go text/template as tbot's Argo CD output uses it for the
// cluster name, secret labels and annotations (product.md §4).
import { describe, expect, it } from 'vitest';
import { parseTemplate, renderTemplate, TemplateSyntaxError, type TemplateData } from '../../src/argocd/template.js';

const data: TemplateData = {
  clusterName: 'example.teleport.sh',
  kubeName: 'prod-eu',
  labels: { region: 'eu', 'teleport.dev/origin': 'cloud', env_tier: 'gold' },
};
const render = (source: string, values: TemplateData = data) => renderTemplate(parseTemplate(source), values);

describe('parseTemplate / renderTemplate', () => {
  it('renders the cluster fields, with or without spaces inside the action', () => {
    expect(render('{{.ClusterName}}-{{.KubeName}}')).toBe('example.teleport.sh-prod-eu');
    expect(render('tp-{{ .KubeName }}')).toBe('tp-prod-eu');
    expect(render('{{\t.KubeName\n}}')).toBe('prod-eu');
  });

  it('reads labels with index (any key, both string forms) and as a field', () => {
    expect(render('{{index .Labels "region"}}')).toBe('eu');
    expect(render('{{ index .Labels "teleport.dev/origin" }}')).toBe('cloud');
    expect(render('{{index .Labels `region`}}')).toBe('eu');
    expect(render('{{index .Labels "\\u0072egion"}}')).toBe('eu');
    expect(render('{{.Labels.env_tier}}')).toBe('gold');
    expect(render('{{.KubeName}}-{{.Labels.region}}')).toBe('prod-eu-eu');
  });

  it('renders a label the cluster does not have as empty, even one named like an object property', () => {
    expect(render('{{index .Labels "cloud"}}')).toBe('');
    expect(render('{{.Labels.team}}')).toBe('');
    expect(render('{{.Labels.constructor}}{{index .Labels "__proto__"}}')).toBe('');
    expect(render('{{index .Labels "region"}}', { ...data, labels: {} })).toBe('');
  });

  it('says whether rendering needs the labels', () => {
    expect(parseTemplate('{{.ClusterName}}-{{.KubeName}}').usesLabels).toBe(false);
    expect(parseTemplate('team-a').usesLabels).toBe(false);
    expect(parseTemplate('{{.Labels.region}}').usesLabels).toBe(true);
    expect(parseTemplate('x-{{index .Labels "region"}}').usesLabels).toBe(true);
  });

  it("trims whitespace around actions with Go's {{- and -}} markers", () => {
    expect(render('a  {{- .KubeName -}}  b')).toBe('aprod-eub');
    expect(render('a \n{{- .KubeName}} b')).toBe('aprod-eu b');
    expect(render('a {{.KubeName -}}\n\t b')).toBe('a prod-eub');
    // A dash without the space is not a trim marker (Go reads a number and fails).
    expect(() => parseTemplate('{{-.KubeName}}')).toThrow(TemplateSyntaxError);
  });

  it('passes text through as it is, including braces that open no action', () => {
    expect(render('')).toBe('');
    expect(render('plain')).toBe('plain');
    expect(render('a}}b{c}')).toBe('a}}b{c}');
  });

  it('renders any text without actions unchanged', () => {
    const alphabet = 'ab-_.:/ {}\t\n"`\\';
    for (let run = 0; run < 500; run += 1) {
      const length = Math.floor(Math.random() * 12);
      const text = Array.from({ length }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
      if (text.includes('{{')) continue;
      expect(render(text)).toBe(text);
    }
  });

  it.each([
    ['{{.Labels}}'],
    ['{{.Namespace}}'],
    ['{{.KubeName.Foo}}'],
    ['{{.Labels.region.x}}'],
    ['{{.Labels.teleport.dev/origin}}'],
    ['{{range .Labels}}x{{end}}'],
    ['{{printf "%s" .KubeName}}'],
    ['{{.KubeName | upper}}'],
    ['{{/* comment */}}'],
    ['{{index .Labels region}}'],
    ['{{index .Labels "a" "b"}}'],
    ['{{index .Other "a"}}'],
    ['{{index .Labels "\\x72"}}'],
    ['{{}}'],
    ['{{ }}'],
    ['{{$x := .KubeName}}'],
  ])('rejects %s, naming what may be used', (source) => {
    expect(() => parseTemplate(source)).toThrow(TemplateSyntaxError);
    expect(() => parseTemplate(source)).toThrow(/only \{\{\.ClusterName\}\}, \{\{\.KubeName\}\}, \{\{index \.Labels "KEY"\}\} and \{\{\.Labels\.KEY\}\} may be used/);
  });

  it('rejects unclosed actions and unterminated strings', () => {
    expect(() => parseTemplate('{{.KubeName')).toThrow(/unclosed template action/);
    expect(() => parseTemplate('{{index .Labels "region}}')).toThrow(TemplateSyntaxError);
    expect(() => parseTemplate('{{index .Labels `region}}')).toThrow(TemplateSyntaxError);
  });

  it('finds the closing braces after a quoted key that contains them', () => {
    expect(render('{{index .Labels "a}}b"}}', { ...data, labels: { 'a}}b': 'odd' } })).toBe('odd');
  });
});
