// A tiny targeted reader for the few AWS Query XML responses the agent parses: the text of the first
// element with a given name, optionally inside another element. AWS responses are flat enough and
// never carry CDATA or attributes on these elements; anything else is not our concern.

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

/** The raw inner XML of the first `<name>` element (attributes allowed), or undefined. */
export function innerXml(xml: string, name: string): string | undefined {
  const open = new RegExp(`<${name}(?:\\s[^>]*)?>`).exec(xml);
  if (!open) return undefined;
  const start = open.index + open[0].length;
  const end = xml.indexOf(`</${name}>`, start);
  return end < 0 ? undefined : xml.slice(start, end);
}

/** The decoded, trimmed text of `<name>` inside the first `<within>` (or anywhere). */
export function xmlText(xml: string, name: string, within?: string): string | undefined {
  const scope = within === undefined ? xml : innerXml(xml, within);
  if (scope === undefined) return undefined;
  const inner = innerXml(scope, name);
  return inner === undefined ? undefined : decodeXmlText(inner.trim());
}
