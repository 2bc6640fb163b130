// Query-protocol XML from plain data, by template strings (no builder): an object's keys become
// elements in insertion order, arrays become <member> lists, Dates become ISO-8601 seconds.

import { isoSeconds } from '../time.js';
import type { Fault } from './errors.js';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escape the five XML special characters; safe for element text and attribute values. */
export function escapeXml(text: string): string {
  return /[&<>"']/.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c) : text;
}

export type XmlScalar = string | number | boolean | Date;
export type XmlValue = XmlScalar | XmlObject | readonly XmlValue[] | null | undefined;
export interface XmlObject {
  readonly [element: string]: XmlValue;
}

/** `2014-10-24T23:00:23Z`: AWS Query timestamps carry whole seconds. */
export const isoTimestamp = isoSeconds;

function scalar(value: XmlScalar): string {
  if (typeof value === 'string') return escapeXml(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return isoTimestamp(value);
}

/** The content of one element (not the element itself). */
export function renderContent(value: XmlValue): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    let out = '';
    for (const item of value as readonly XmlValue[]) out += `<member>${renderContent(item)}</member>`;
    return out;
  }
  if (typeof value === 'object' && !(value instanceof Date)) {
    let out = '';
    const obj = value as XmlObject;
    for (const name in obj) {
      const child = obj[name];
      // Absent optional members are omitted, as AWS omits them.
      if (child === undefined || child === null) continue;
      out += `<${name}>${renderContent(child)}</${name}>`;
    }
    return out;
  }
  return scalar(value as XmlScalar);
}

export interface ResponseEnvelope {
  action: string;
  namespace: string;
  requestId: string;
  /** Content of `<ActionResult>`; undefined for actions without a result element. */
  result?: XmlObject | undefined;
}

export function renderResponse(r: ResponseEnvelope): string {
  const result =
    r.result === undefined ? '' : `<${r.action}Result>${renderContent(r.result)}</${r.action}Result>`;
  return (
    `<${r.action}Response xmlns="${escapeXml(r.namespace)}">${result}` +
    `<ResponseMetadata><RequestId>${escapeXml(r.requestId)}</RequestId></ResponseMetadata>` +
    `</${r.action}Response>`
  );
}

export interface ErrorEnvelope {
  namespace: string;
  type: Fault;
  code: string;
  message: string;
  requestId: string;
}

export function renderError(e: ErrorEnvelope): string {
  return (
    `<ErrorResponse xmlns="${escapeXml(e.namespace)}"><Error><Type>${e.type}</Type>` +
    `<Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error>` +
    `<RequestId>${escapeXml(e.requestId)}</RequestId></ErrorResponse>`
  );
}
